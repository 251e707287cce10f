package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// lookup stands in for the store: user-ok exists, user-disabled is disabled,
// user-outage hits a database outage, anything else is gone.
func lookup(_ context.Context, userID string) (*cairn.Principal, error) {
	switch userID {
	case "user-ok":
		return &cairn.Principal{UserID: userID, TenantID: "org-1", Email: "ok@example.com",
			Grants: []cairn.Grant{{TenantID: "org-1", Role: cairn.RoleAdmin}}}, nil
	case "user-disabled":
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Your account is disabled. Ask an administrator of your tenant to enable it.")
	case "user-outage":
		return nil, fmt.Errorf("store: loading user %q: dial tcp 10.0.0.5:5432: connection refused", userID)
	}
	return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Your account no longer exists. Sign up again or ask your administrator.")
}

// serve runs the middleware over a handler that records the principal it saw.
func serve(t *testing.T, mw func(http.Handler) http.Handler, header http.Header) (rec *httptest.ResponseRecorder, called bool, p *cairn.Principal) {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called, p = true, cairn.PrincipalFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ viewer { id } }"}`))
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec = httptest.NewRecorder()
	mw(next).ServeHTTP(rec, req)
	return rec, called, p
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestMiddleware_PassThrough(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyNew)
	mw := auth.Middleware(tokens, lookup)
	for _, tt := range []struct {
		name   string
		header http.Header
	}{
		{"NoHeader", nil},
		{"EmptyHeader", http.Header{"Authorization": {""}}},
		{"BlankHeader", http.Header{"Authorization": {"   "}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, called, p := serve(t, mw, tt.header)
			if !called || p != nil || rec.Code != http.StatusNoContent {
				t.Errorf("called %v, principal %v, status %d; want next called without a principal", called, p, rec.Code)
			}
		})
	}
}

func TestMiddleware_Authenticated(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyNew)
	mw := auth.Middleware(tokens, lookup)
	token := sign(t, tokens, "user-ok")
	for _, header := range []string{"Bearer " + token, "bearer " + token, "BEARER  " + token + " "} {
		rec, called, p := serve(t, mw, http.Header{"Authorization": {header}})
		if !called || rec.Code != http.StatusNoContent {
			t.Fatalf("%.8s…: called %v, status %d, body %s; want next called", header, called, rec.Code, rec.Body)
		}
		if p == nil || p.UserID != "user-ok" || p.TenantID != "org-1" || len(p.Grants) != 1 {
			t.Errorf("%.8s…: principal = %+v, want user-ok's from lookup", header, p)
		}
	}
}

func TestMiddleware_Refused(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyNew)
	mw := auth.Middleware(tokens, lookup)
	expired := newTokens(t, issuer, keyNew)
	expired.Now = func() time.Time { return t0.Add(-2 * time.Hour) }

	for _, tt := range []struct {
		name    string
		header  http.Header
		status  int
		code    string
		message string
	}{
		{
			name:    "ErrBasicScheme",
			header:  http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}},
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "The Authorization header does not use the Bearer scheme: send Authorization: Bearer <token> (signIn returns one).",
		},
		{
			name:    "ErrTokenWithoutScheme",
			header:  http.Header{"Authorization": {sign(t, tokens, "user-ok")}},
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "The Authorization header does not use the Bearer scheme: send Authorization: Bearer <token> (signIn returns one).",
		},
		{
			name:    "ErrEmptyToken",
			header:  http.Header{"Authorization": {"Bearer   "}},
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "The Authorization header has no token after Bearer: send Authorization: Bearer <token> (signIn returns one).",
		},
		{
			name:    "ErrTwoHeaders",
			header:  http.Header{"Authorization": {"Bearer a", "Bearer b"}},
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "The request has 2 Authorization headers: send one, Authorization: Bearer <token>.",
		},
		{
			name:    "ErrGarbageToken",
			header:  bearer("garbage"),
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
		{
			name:    "ErrExpiredToken",
			header:  bearer(sign(t, expired, "user-ok")),
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "The bearer token has expired. Sign in again to get a new token.",
		},
		{
			name:    "ErrUserDisabled",
			header:  bearer(sign(t, tokens, "user-disabled")),
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "Your account is disabled. Ask an administrator of your tenant to enable it.",
		},
		{
			name:    "ErrUserGone",
			header:  bearer(sign(t, tokens, "user-gone")),
			status:  http.StatusUnauthorized,
			code:    cairn.EUNAUTHENTICATED,
			message: "Your account no longer exists. Sign up again or ask your administrator.",
		},
		{
			name:    "ErrLookupOutage",
			header:  bearer(sign(t, tokens, "user-outage")),
			status:  http.StatusServiceUnavailable,
			code:    cairn.EINTERNAL,
			message: "Internal error.",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, called, _ := serve(t, mw, tt.header)
			if called {
				t.Error("next was called")
			}
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			wantChallenge := ""
			if tt.status == http.StatusUnauthorized {
				wantChallenge = `Bearer error="invalid_token"`
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
			}
			var body struct {
				Errors []struct {
					Message    string
					Extensions map[string]string
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s is not one GraphQL error (%v)", rec.Body, err)
			}
			if got := body.Errors[0].Extensions["code"]; got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
			if got := body.Errors[0].Message; got != tt.message {
				t.Errorf("message = %q, want %q", got, tt.message)
			}
			for _, secret := range []string{"10.0.0.5", "connection refused", "store:"} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("body %s leaks %q", rec.Body, secret)
				}
			}
			if _, token, ok := strings.Cut(tt.header.Get("Authorization"), " "); ok && len(token) > 8 && strings.Contains(rec.Body.String(), token) {
				t.Errorf("body %s quotes the token", rec.Body)
			}
		})
	}
}

// The chain tries Authenticators in order: nil, nil passes to the next, the
// first principal or error wins, and a token nobody claims is refused.
func TestAuthenticate_Chain(t *testing.T) {
	t.Parallel()
	decline := func(context.Context, string) (*cairn.Principal, error) { return nil, nil }
	apiKey := func(_ context.Context, token string) (*cairn.Principal, error) {
		if !strings.HasPrefix(token, "ck_") {
			return nil, nil
		}
		return &cairn.Principal{APIKeyID: "key-1", TenantID: "org-1"}, nil
	}
	limited := func(context.Context, string) (*cairn.Principal, error) {
		return nil, cairn.Errorf(cairn.ERESOURCEEXHAUSTED, "Too many requests with this API key: wait a minute.")
	}

	rec, called, p := serve(t, auth.Authenticate(decline, apiKey), bearer("ck_123"))
	if !called || p == nil || p.APIKeyID != "key-1" {
		t.Errorf("API key: called %v, principal %+v, status %d; want key-1", called, p, rec.Code)
	}

	rec, called, _ = serve(t, auth.Authenticate(decline, apiKey), bearer("other"))
	want := `{"errors":[{"message":"The bearer token is not one Cairn accepts. Sign in again to get a new token.","extensions":{"code":"UNAUTHENTICATED"}}]}` + "\n"
	if called || rec.Code != http.StatusUnauthorized || rec.Body.String() != want {
		t.Errorf("unclaimed token: called %v, status %d, body %s; want 401 and %s", called, rec.Code, rec.Body, want)
	}

	rec, called, _ = serve(t, auth.Authenticate(limited, apiKey), bearer("ck_123"))
	want = `{"errors":[{"message":"Too many requests with this API key: wait a minute.","extensions":{"code":"RESOURCE_EXHAUSTED"}}]}` + "\n"
	if called || rec.Code != http.StatusTooManyRequests || rec.Body.String() != want {
		t.Errorf("rate limited: called %v, status %d, body %s; want 429 and %s", called, rec.Code, rec.Body, want)
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status int
		err    error
	}{
		{"bad_input", http.StatusBadRequest, cairn.FieldError("input.name", "Name is required: give the service a name.")},
		{"body_too_large", http.StatusRequestEntityTooLarge, cairn.Errorf(cairn.EBADINPUT, "The request body is larger than 1 MiB: send a smaller <query>.")},
		{"internal", http.StatusInternalServerError, errors.New("pq: relation \"users\" does not exist")},
		{"wrapped", http.StatusForbidden, fmt.Errorf("resolvers: %w", cairn.Errorf(cairn.EFORBIDDEN, "You need ADMIN on org-1."))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			auth.WriteError(rec, tt.status, tt.err)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("status %d, Content-Type %q; want %d, application/json", rec.Code, rec.Header().Get("Content-Type"), tt.status)
			}
			golden(t, filepath.Join("testdata", "write_error_"+tt.name+".json"), rec.Body.Bytes())
		})
	}
}

// golden compares got with the file at path, or rewrites the file with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("body differs from %s:\ngot  %s\nwant %s", path, got, want)
	}
}
