package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

// loginCookie carries the sealed state of a sign-in from /auth/{idp}/login to
// its callback.
const loginCookie = "cairn_oidc_login"

// newFederation returns the OIDC federation of cfg's store.
func newFederation(cfg Config) *auth.OIDC {
	return auth.NewOIDC(cfg.Store, cfg.Tokens, cfg.Secrets)
}

// authenticate is the bearer middleware: API keys, then tokens of registered
// identity providers, then Cairn's session tokens (which claim the rest).
// A session token verified before goes first (server/identity_cache.go).
func authenticate(cfg Config, federation *auth.OIDC) func(http.Handler) http.Handler {
	known, session := sessionAuthenticators(cfg.Tokens, cfg.Store.Principal)
	return auth.Authenticate(
		known,
		auth.APIKeyAuthenticator(cfg.Store.APIKeyPrincipal),
		federation.Authenticator(),
		session) // auth.SessionAuthenticator, verifying each token once
}

// mountIdentity mounts the browser's way in through an identity provider:
// the authorization-code flow with PKCE.
func mountIdentity(mux *http.ServeMux, cfg Config, federation *auth.OIDC) {
	mux.HandleFunc("GET /auth/{idp}/login", func(w http.ResponseWriter, r *http.Request) {
		idp := r.PathValue("idp")
		authURL, state, err := federation.StartLogin(r.Context(), idp, callbackURL(r, idp))
		if err != nil {
			writeIdentityError(w, r, cfg, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: state, Path: "/auth/" + idp + "/",
			MaxAge: int(auth.LoginStateTTL / time.Second), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, authURL, http.StatusFound)
	})
	mux.HandleFunc("GET /auth/{idp}/callback", func(w http.ResponseWriter, r *http.Request) {
		idp := r.PathValue("idp")
		q := r.URL.Query()
		http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/auth/" + idp + "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		if e := q.Get("error"); e != "" {
			writeIdentityError(w, r, cfg, cairn.Errorf(cairn.EUNAUTHENTICATED, "The identity provider did not sign you in (%s); start again at /auth/%s/login.", e, idp))
			return
		}
		c, err := r.Cookie(loginCookie)
		state := ""
		if err == nil {
			state = c.Value
		}
		u, err := federation.FinishLogin(r.Context(), idp, state, q.Get("state"), q.Get("code"))
		if err != nil {
			writeIdentityError(w, r, cfg, err)
			return
		}
		// The principal's checks (disabled user or tenant) apply here too.
		if _, err := cfg.Store.Principal(r.Context(), u.ID); err != nil {
			writeIdentityError(w, r, cfg, err)
			return
		}
		token, exp, err := cfg.Tokens.Sign(u.ID)
		if err != nil {
			writeIdentityError(w, r, cfg, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "expiresAt": exp.UTC().Format(time.RFC3339),
			"user": map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "tenantId": u.TenantID}})
	})
}

// callbackURL is Cairn's callback for idp as the browser reaches Cairn; it
// must be registered with the provider as a redirect URI.
func callbackURL(r *http.Request, idp string) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/auth/" + idp + "/callback"
}

func writeIdentityError(w http.ResponseWriter, r *http.Request, cfg Config, err error) {
	status := map[string]int{
		cairn.EUNAUTHENTICATED: http.StatusUnauthorized, cairn.EFORBIDDEN: http.StatusForbidden, cairn.ENOTFOUND: http.StatusNotFound,
		cairn.EBADINPUT: http.StatusBadRequest, cairn.EFAILEDPRECONDITION: http.StatusPreconditionFailed,
	}[cairn.ErrorCode(err)]
	if status == 0 {
		cfg.Logger.ErrorContext(r.Context(), "identity provider sign-in", "path", r.URL.Path, "err", err)
		status = http.StatusBadGateway
		err = cairn.Errorf(cairn.EINTERNAL, "Cairn could not complete the sign-in with identity provider %s (it may be unreachable); try again later, or ask an admin to run verifyIdentityProvider.", r.PathValue("idp"))
	}
	auth.WriteError(w, status, err)
}
