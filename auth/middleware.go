package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cairn-dev/cairn"
)

// LookupFunc loads the user a session token was issued to, with their grants.
// It returns UNAUTHENTICATED if the user no longer exists, is disabled or is
// not activated; any non-cairn error is taken for an outage.
type LookupFunc func(ctx context.Context, userID string) (*cairn.Principal, error)

// Authenticator turns a bearer token into a principal. It returns nil, nil if
// the token is not of its kind, so that the next Authenticator may try; a
// cairn error (UNAUTHENTICATED, usually) if the token is of its kind but not
// accepted; and any other error for an outage.
type Authenticator func(ctx context.Context, token string) (*cairn.Principal, error)

// SessionAuthenticator accepts Cairn session tokens: it verifies the token with
// tokens and loads the principal with lookup. It claims every token, so it
// must come last among Authenticators until it learns to decline others.
// Returns UNAUTHENTICATED as Tokens.Verify does, and whatever lookup returns.
func SessionAuthenticator(tokens *Tokens, lookup LookupFunc) Authenticator {
	return func(ctx context.Context, token string) (*cairn.Principal, error) {
		userID, err := tokens.Verify(token)
		if err != nil {
			return nil, err
		}
		p, err := lookup(ctx, userID)
		if err != nil {
			return nil, err
		} else if p == nil {
			return nil, fmt.Errorf("auth: lookup of user %q returned neither a principal nor an error", userID)
		}
		return p, nil
	}
}

// Middleware authenticates requests that carry a Cairn session token; it is
// Authenticate(SessionAuthenticator(tokens, lookup)).
func Middleware(tokens *Tokens, lookup LookupFunc) func(http.Handler) http.Handler {
	return Authenticate(SessionAuthenticator(tokens, lookup))
}

// msgNotAccepted answers a token that every Authenticator declined.
const msgNotAccepted = "The bearer token is not one Cairn accepts. Sign in again to get a new token."

// Authenticate returns middleware that reads "Authorization: Bearer <token>"
// (scheme case-insensitive), tries auths in order, and puts the first principal
// returned in the request's context (cairn.NewContextWithPrincipal). A request
// without the header, or with an empty one, passes through without a principal.
//
// It answers, without calling the next handler: 401 UNAUTHENTICATED, with
// WWW-Authenticate: Bearer error="invalid_token", if the header repeats, uses
// another scheme or carries no token, or if no Authenticator accepts the token;
// 403 FORBIDDEN or 429 RESOURCE_EXHAUSTED if an Authenticator returns those
// codes; and 503 INTERNAL, with a generic message, if an Authenticator fails
// with a non-cairn error (which is logged with slog, never sent).
func Authenticate(auths ...Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, present, err := bearerToken(r.Header)
			if !present {
				next.ServeHTTP(w, r)
				return
			} else if err != nil {
				writeAuthError(w, r, err)
				return
			}
			for _, a := range auths {
				p, err := a(r.Context(), token)
				if err != nil {
					writeAuthError(w, r, err)
					return
				} else if p != nil {
					next.ServeHTTP(w, r.WithContext(cairn.NewContextWithPrincipal(r.Context(), p)))
					return
				}
			}
			writeAuthError(w, r, cairn.Errorf(cairn.EUNAUTHENTICATED, msgNotAccepted))
		})
	}
}

// bearerToken returns the token of h's Authorization header and whether a
// non-empty header is present. Returns UNAUTHENTICATED if the header repeats,
// uses another scheme than Bearer or has no token.
func bearerToken(h http.Header) (token string, present bool, err error) {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "":
		return "", false, nil
	case len(values) > 1:
		return "", true, cairn.Errorf(cairn.EUNAUTHENTICATED,
			"The request has %d Authorization headers: send one, Authorization: Bearer <token>.", len(values))
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// The scheme is not quoted: a client that forgot it would see its token.
		return "", true, cairn.Errorf(cairn.EUNAUTHENTICATED,
			"The Authorization header does not use the Bearer scheme: send Authorization: Bearer <token> (signIn returns one).")
	}
	if token = strings.TrimSpace(token); token == "" {
		return "", true, cairn.Errorf(cairn.EUNAUTHENTICATED,
			"The Authorization header has no token after Bearer: send Authorization: Bearer <token> (signIn returns one).")
	}
	return token, true, nil
}

// writeAuthError answers a request whose credentials were not accepted.
func writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	switch cairn.ErrorCode(err) {
	case cairn.EINTERNAL:
		slog.ErrorContext(r.Context(), "auth: authenticating request", "err", err)
		WriteError(w, http.StatusServiceUnavailable, err)
	case cairn.EFORBIDDEN:
		WriteError(w, http.StatusForbidden, err)
	case cairn.ERESOURCEEXHAUSTED:
		WriteError(w, http.StatusTooManyRequests, err)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		WriteError(w, http.StatusUnauthorized, err)
	}
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string          `json:"message"`
	Extensions errorExtensions `json:"extensions"`
}

type errorExtensions struct {
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
}

// WriteError answers with status and a GraphQL-shaped body,
// {"errors":[{"message":…,"extensions":{"code":…}}]}, as application/json.
// Code, message and field come from cairn.ErrorCode, cairn.ErrorMessage and
// cairn.ErrorField, so a non-cairn error (or nil) is sent as INTERNAL with a
// generic message and never with its own text.
func WriteError(w http.ResponseWriter, status int, err error) {
	if err == nil {
		err = fmt.Errorf("auth: WriteError called with a nil error")
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // keep "<token>" readable in messages
	_ = enc.Encode(errorBody{Errors: []errorEntry{{
		Message:    cairn.ErrorMessage(err),
		Extensions: errorExtensions{Code: cairn.ErrorCode(err), Field: cairn.ErrorField(err)},
	}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}
