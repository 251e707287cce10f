package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/auth/oidctest"
	"github.com/cairn-dev/cairn/server"
	"github.com/go-jose/go-jose/v4"
)

// identitySetup is setup with a secret key, so that identity providers can
// be registered.
func identitySetup(t *testing.T) *env {
	t.Helper()
	e := setup(t)
	key := make([]byte, auth.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := auth.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{idKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: e.store, Tokens: tokens, Introspection: true, Secrets: box}))
	t.Cleanup(srv.Close)
	e.srv = srv
	for name, id := range map[string]string{"owner": e.demo.Owner, "alice": e.demo.Alice, "bob": e.demo.Bob} {
		tok, _, err := tokens.Sign(id)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = tok
	}
	return e
}

// bearer runs a GraphQL operation with an arbitrary bearer token.
func (e *env) bearer(token, query string, vars map[string]any) response {
	e.t.Helper()
	e.tokens["\x00bearer"] = token
	return e.do("\x00bearer", query, vars)
}

const createIdP = `mutation($in: CreateIdentityProviderInput!) { createIdentityProvider(input: $in) {
	identityProvider { id status tenantId clientId scopes emailIdentifiers defaultRole disabled loginPath } } }`

// registerIdP registers a provider of op for customer A as alice, with the
// client registered at op too, and returns its ID.
func registerIdP(t *testing.T, e *env, op *oidctest.Provider, clientID string, extra map[string]any) string {
	t.Helper()
	in := map[string]any{"tenantId": e.demo.CustomerA, "name": "Test OP", "type": "OIDC", "issuerURL": op.Issuer,
		"clientId": clientID, "clientSecret": "secret-of-" + clientID}
	for k, v := range extra {
		in[k] = v
	}
	r := e.do("alice", createIdP, map[string]any{"in": in})
	if len(r.Errors) > 0 {
		t.Fatalf("createIdentityProvider: %+v", r.Errors)
	}
	id := get(r.Data, "createIdentityProvider", "identityProvider", "id").(string)
	op.AddClient(clientID, "secret-of-"+clientID, e.srv.URL+"/auth/"+id+"/callback", e.srv.URL+"/spa/callback")
	return id
}

func claims(op *oidctest.Provider, aud, sub, email string, mod func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": op.Issuer, "aud": aud, "sub": sub, "email": email, "email_verified": true, "name": "Fed User",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

const viewerQ = `{ viewer { user { email tenantId activated } tenant { id } roleBindings { tenantId role } } }`

func TestIdentityProviderRegistration(t *testing.T) {
	t.Parallel()
	e := identitySetup(t)
	op := oidctest.Start(t)
	id := registerIdP(t, e, op, "reg-client", map[string]any{"emailIdentifiers": []string{"@Customer-A.example"}})

	r := e.do("alice", `query($id: ID!) { identityProvider(id: $id) { status scopes emailIdentifiers defaultRole loginPath tenant { id } } }`, map[string]any{"id": id})
	if got := get(r.Data, "identityProvider", "status"); got != "PENDING" {
		t.Errorf("status before verifying = %v, want PENDING", got)
	}
	if got := fmt.Sprint(get(r.Data, "identityProvider", "emailIdentifiers")); got != "[customer-a.example]" {
		t.Errorf("emailIdentifiers = %s, want [customer-a.example]", got)
	}
	if got := fmt.Sprint(get(r.Data, "identityProvider", "scopes")); got != "[openid email profile]" {
		t.Errorf("scopes = %s", got)
	}

	// The secret is write-only: the schema has no field for it, and the row holds it sealed.
	if r := e.do("alice", `query($id: ID!) { identityProvider(id: $id) { clientSecret } }`, map[string]any{"id": id}); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Cannot query field \"clientSecret\"") {
		t.Errorf("clientSecret is readable: %+v", r)
	}
	var sealed []byte
	if err := e.store.DB().NewSelect().TableExpr("identity_providers").Column("client_secret").Where("id = ?", id).Scan(context.Background(), &sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "secret-of-reg-client") || len(sealed) < 28 {
		t.Errorf("client secret is not sealed at rest: %q", sealed)
	}

	verify := `mutation($id: ID!) { verifyIdentityProvider(input: {id: $id}) { identityProvider { status statusReason verifiedAt } } }`
	r = e.do("alice", verify, map[string]any{"id": id})
	if got := get(r.Data, "verifyIdentityProvider", "identityProvider", "status"); got != "READY" {
		t.Fatalf("verify = %v (%+v), want READY", got, r)
	}

	bad := registerIdP(t, e, op, "bad-client", map[string]any{"issuerURL": op.Issuer + "nowhere/"})
	r = e.do("alice", verify, map[string]any{"id": bad})
	if got := get(r.Data, "verifyIdentityProvider", "identityProvider", "status"); got != "FAILED" {
		t.Errorf("verify of a wrong issuer = %v, want FAILED", got)
	}
	if reason, _ := get(r.Data, "verifyIdentityProvider", "identityProvider", "statusReason").(string); !strings.Contains(reason, "discovery failed") {
		t.Errorf("statusReason = %q, want the discovery failure", reason)
	}

	for _, tc := range []struct {
		name, who, code, msg string
		in                   map[string]any
	}{
		{"ErrOtherTenant", "bob", "NOT_FOUND", "not found", nil},
		{"ErrRootDefaultRole", "alice", "BAD_USER_INPUT", "defaultRole", map[string]any{"defaultRole": "ROOT"}},
		{"ErrIssuerNotURL", "alice", "BAD_USER_INPUT", "not an http(s) URL", map[string]any{"issuerURL": "login.example.com"}},
		{"ErrDuplicate", "alice", "CONFLICT", "already registered", map[string]any{"clientId": "reg-client"}},
		{"ErrBadDomain", "alice", "BAD_USER_INPUT", "not an email domain", map[string]any{"emailIdentifiers": []string{"nodot"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{"tenantId": e.demo.CustomerA, "name": "X", "type": "OIDC", "issuerURL": op.Issuer, "clientId": "c-" + tc.name, "clientSecret": "x"}
			for k, v := range tc.in {
				in[k] = v
			}
			r := e.do(tc.who, createIdP, map[string]any{"in": in})
			if r.code() != tc.code || !strings.Contains(r.Errors[0].Message, tc.msg) {
				t.Errorf("got %s %+v, want %s containing %q", r.code(), r.Errors, tc.code, tc.msg)
			}
		})
	}
	if r := e.do("bob", `query($id: ID!) { identityProvider(id: $id) { id } }`, map[string]any{"id": id}); get(r.Data, "identityProvider") != nil {
		t.Errorf("bob sees alice's identity provider: %+v", r.Data)
	}
}

func TestIdentityProviderNeedsSecretKey(t *testing.T) {
	t.Parallel()
	e := setup(t) // no secret key
	r := e.do("alice", createIdP, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "name": "X", "type": "OIDC",
		"issuerURL": "https://login.example.com/", "clientId": "c", "clientSecret": "s"}})
	if r.code() != "FAILED_PRECONDITION" || !strings.Contains(r.Errors[0].Message, "--secret-key") {
		t.Errorf("got %+v, want FAILED_PRECONDITION naming --secret-key", r.Errors)
	}
}

func TestOIDCBearer(t *testing.T) {
	t.Parallel()
	e := identitySetup(t)
	op := oidctest.Start(t)
	registerIdP(t, e, op, "bearer-client", map[string]any{"emailIdentifiers": []string{"customer-a.example"}})
	disabled := registerIdP(t, e, op, "disabled-client", nil)
	if r := e.do("alice", `mutation($id: ID!) { updateIdentityProvider(input: {id: $id, disabled: true}) { identityProvider { disabled } } }`,
		map[string]any{"id": disabled}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}

	// A valid token provisions the user on first sight, with the default role.
	good := op.Sign(t, claims(op, "bearer-client", "sub-carol", "carol@customer-a.example", nil))
	r := e.bearer(good, viewerQ, nil)
	if r.Status != 200 || get(r.Data, "viewer", "user", "email") != "carol@customer-a.example" {
		t.Fatalf("valid token: %d %+v %+v", r.Status, r.Data, r.Errors)
	}
	if got := fmt.Sprint(get(r.Data, "viewer", "roleBindings")); got != fmt.Sprintf("[map[role:READER tenantId:%s]]", e.demo.CustomerA) {
		t.Errorf("provisioned roles = %s, want READER on customer A", got)
	}
	if r := e.bearer(good, viewerQ, nil); get(r.Data, "viewer", "user", "email") != "carol@customer-a.example" {
		t.Errorf("second use: %+v", r)
	}
	var users int
	_ = e.store.DB().NewSelect().TableExpr("users").ColumnExpr("count(*)").Where("email = 'carol@customer-a.example'").Scan(context.Background(), &users)
	if users != 1 {
		t.Errorf("%d users for carol, want 1", users)
	}

	now := time.Now()
	for _, tc := range []struct {
		name, token, msg string
	}{
		{"ErrExpired", op.Sign(t, claims(op, "bearer-client", "s1", "a@customer-a.example", func(c map[string]any) {
			c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		})), "expired"},
		{"ErrNotYetValid", op.Sign(t, claims(op, "bearer-client", "s1", "a@customer-a.example", func(c map[string]any) {
			c["nbf"] = now.Add(time.Hour).Unix()
		})), "not valid yet"},
		{"ErrWrongIssuer", op.Sign(t, claims(op, "bearer-client", "s1", "a@customer-a.example", func(c map[string]any) {
			c["iss"] = "https://evil.example/"
		})), "neither this Cairn server nor an identity provider"},
		{"ErrWrongAudience", op.Sign(t, claims(op, "another-client", "s1", "a@customer-a.example", nil)), "meant for another client"},
		{"ErrAlgNone", oidctest.Unsigned(claims(op, "bearer-client", "s1", "a@customer-a.example", nil)), "signed with none"},
		{"ErrHMACWithPublicKey", oidctest.SignWith(t, jose.HS256, op.PublicKeyPEM(t), op.CurrentKeyID(),
			claims(op, "bearer-client", "s1", "a@customer-a.example", nil)), "signed with HS256"},
		{"ErrForeignKey", oidctest.SignWith(t, jose.RS256, mustRSA(t), op.CurrentKeyID(),
			claims(op, "bearer-client", "s1", "a@customer-a.example", nil)), "not signed by a key the provider publishes"},
		{"ErrDisabledProvider", op.Sign(t, claims(op, "disabled-client", "s1", "a@customer-a.example", nil)), "is disabled"},
		{"ErrEmailDomain", op.Sign(t, claims(op, "bearer-client", "s2", "eve@elsewhere.example", nil)), "admits only emails of customer-a.example"},
		{"ErrEmailUnverified", op.Sign(t, claims(op, "bearer-client", "s3", "dan@customer-a.example", func(c map[string]any) {
			c["email_verified"] = false
		})), "not verified"},
		{"ErrOtherTenantsEmail", op.Sign(t, claims(op, "bearer-client", "s4", "alice@customer-a.example", func(c map[string]any) {
			c["email"] = "bob@customer-b.example"
		})), "admits only emails"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.bearer(tc.token, viewerQ, nil)
			if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, tc.msg) {
				t.Errorf("got %d %s %+v, want 401 UNAUTHENTICATED containing %q", r.Status, r.code(), r.Errors, tc.msg)
			}
		})
	}
}

func mustRSA(t *testing.T) any {
	t.Helper()
	k, err := jwkRSA()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOIDCKeyRotation(t *testing.T) {
	t.Parallel()
	e := identitySetup(t)
	op := oidctest.Start(t)
	registerIdP(t, e, op, "rot-client", nil)
	c := claims(op, "rot-client", "sub-rot", "rot@customer-a.example", nil)
	for range 3 {
		if r := e.bearer(op.Sign(t, c), viewerQ, nil); r.Status != 200 {
			t.Fatalf("before rotation: %+v", r)
		}
	}
	if n := op.KeyFetches(); n != 1 {
		t.Errorf("the key set was fetched %d times for three tokens, want once (cached)", n)
	}
	// The provider rotates and publishes only the new key: Cairn fetches the
	// key set again for the new kid, and refuses the retired key.
	old, oldID := op.Rotate(t, true)
	if r := e.bearer(op.Sign(t, c), viewerQ, nil); r.Status != 200 || get(r.Data, "viewer", "user", "email") != "rot@customer-a.example" {
		t.Fatalf("token of the new key: %d %+v", r.Status, r.Errors)
	}
	if n := op.KeyFetches(); n != 2 {
		t.Errorf("the key set was fetched %d times, want twice (once more for the new key)", n)
	}
	r := e.bearer(oidctest.SignWith(t, jose.RS256, old, oldID, c), viewerQ, nil)
	if r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "rotated out") {
		t.Errorf("token of the rotated-out key: %+v", r.Errors)
	}
}

func TestOIDCAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	e := identitySetup(t)
	op := oidctest.Start(t)
	op.AddUser("sub-erin", "erin", "erin-password", "erin@customer-a.example", true)
	id := registerIdP(t, e, op, "code-client", map[string]any{"defaultRole": "EDITOR"})

	jar, _ := cookiejar.New(nil)
	var visited []string
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		visited = append(visited, req.URL.String())
		return nil
	}}
	res := op.Login(t, browser, e.srv.URL+"/auth/"+id+"/login", "erin", "erin-password")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("callback answered %d: %s", res.StatusCode, body)
	}
	authorize, _ := url.Parse(visited[0])
	if q := authorize.Query(); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Errorf("the authorization request lacks PKCE, nonce or state: %s", authorize)
	}
	var session struct {
		Token string
		User  struct{ Email string }
	}
	if err := json.Unmarshal(body, &session); err != nil || session.Token == "" {
		t.Fatalf("callback body %s: %v", body, err)
	}
	if session.User.Email != "erin@customer-a.example" {
		t.Errorf("signed in as %q", session.User.Email)
	}
	r := e.bearer(session.Token, viewerQ, nil)
	if got := fmt.Sprint(get(r.Data, "viewer", "roleBindings")); got != fmt.Sprintf("[map[role:EDITOR tenantId:%s]]", e.demo.CustomerA) {
		t.Errorf("provisioned roles = %s, want the provider's default EDITOR", got)
	}

	t.Run("ErrUnknownOrDisabledProvider", func(t *testing.T) {
		off := registerIdP(t, e, op, "code-client-off", map[string]any{"disabled": true})
		for path, want := range map[string]int{"/auth/idp-nosuch/login": 404, "/auth/" + off + "/login": 403} {
			res, err := http.Get(e.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != want || !strings.Contains(string(b), `"code":`) {
				t.Errorf("GET %s = %d %s, want %d", path, res.StatusCode, b, want)
			}
		}
	})
	t.Run("ErrStateMismatch", func(t *testing.T) {
		res := op.Login(t, browser, e.srv.URL+"/auth/"+id+"/login", "erin", "erin-password")
		res.Body.Close()
		res, err := browser.Get(e.srv.URL + "/auth/" + id + "/callback?code=x&state=forged")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 401 || !strings.Contains(string(b), "no valid state") {
			t.Errorf("forged callback: %d %s", res.StatusCode, b)
		}
	})
	t.Run("ErrWrongPasswordNeverReachesCairn", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		res := op.Login(t, b, e.srv.URL+"/auth/"+id+"/login", "erin", "wrong")
		res.Body.Close()
		if strings.HasPrefix(res.Request.URL.String(), e.srv.URL) {
			t.Errorf("a wrong password reached Cairn's callback: %s", res.Request.URL)
		}
	})
	t.Run("SignInWithIdentityProvider", func(t *testing.T) {
		// An SPA runs the flow itself, with its own PKCE verifier, and hands
		// Cairn the code.
		verifier := "spa-verifier-0123456789012345678901234567890123456789"
		code := func() string {
			jar, _ := cookiejar.New(nil)
			spa := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
				if strings.HasPrefix(req.URL.String(), e.srv.URL+"/spa/callback") {
					return http.ErrUseLastResponse
				}
				return nil
			}}
			q := url.Values{"client_id": {"code-client"}, "response_type": {"code"}, "scope": {"openid email"},
				"redirect_uri": {e.srv.URL + "/spa/callback"}, "state": {"s"}, "code_challenge_method": {"S256"},
				"code_challenge": {s256(verifier)}}
			res := op.Login(t, spa, op.Issuer+"auth?"+q.Encode(), "erin", "erin-password")
			res.Body.Close()
			loc, _ := url.Parse(res.Header.Get("Location"))
			if loc.Query().Get("code") == "" {
				t.Fatalf("no code in %s (status %d)", res.Header.Get("Location"), res.StatusCode)
			}
			return loc.Query().Get("code")
		}
		m := `mutation($in: SignInWithIdentityProviderInput!) { signInWithIdentityProvider(input: $in) { token user { email } } }`
		in := map[string]any{"identityProviderId": id, "authorizationCode": code(), "redirectUri": e.srv.URL + "/spa/callback", "codeVerifier": "wrong-" + verifier}
		if r := e.do("", m, map[string]any{"in": in}); r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "refused the authorization code") {
			t.Errorf("a wrong verifier: %+v", r.Errors)
		}
		in["authorizationCode"], in["codeVerifier"] = code(), verifier
		r := e.do("", m, map[string]any{"in": in})
		if get(r.Data, "signInWithIdentityProvider", "user", "email") != "erin@customer-a.example" {
			t.Fatalf("signInWithIdentityProvider: %+v", r.Errors)
		}
		tok := get(r.Data, "signInWithIdentityProvider", "token").(string)
		if r := e.bearer(tok, viewerQ, nil); get(r.Data, "viewer", "user", "email") != "erin@customer-a.example" {
			t.Errorf("the session of signInWithIdentityProvider: %+v", r.Errors)
		}
	})
}

func TestOIDCDisabledTenantUsers(t *testing.T) {
	t.Parallel()
	e := identitySetup(t)
	op := oidctest.Start(t)
	registerIdP(t, e, op, "dis-client", nil)
	tok := op.Sign(t, claims(op, "dis-client", "sub-x", "x@customer-a.example", nil))
	if r := e.bearer(tok, viewerQ, nil); r.Status != 200 {
		t.Fatalf("%+v", r)
	}
	if r := e.do("owner", `mutation($id: ID!) { updateTenant(input: {id: $id, state: DISABLED}) { tenant { state } } }`, map[string]any{"id": e.demo.CustomerA}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if r := e.bearer(tok, viewerQ, nil); r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "disabled") {
		t.Errorf("a disabled tenant's federated user: %+v", r.Errors)
	}
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func jwkRSA() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

func idKey(t *testing.T) auth.Key {
	k, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOIDCLinksInvitedUser(t *testing.T) {
	t.Parallel()
	e := identitySetup(t)
	op := oidctest.Start(t)
	registerIdP(t, e, op, "link-client", nil)
	r := e.do("alice", `mutation($t: ID!) { createUser(input: {tenantId: $t, email: "frank@customer-a.example", name: "Frank", role: ADMIN}) { user { id activated } } }`,
		map[string]any{"t": e.demo.CustomerA})
	uid, _ := get(r.Data, "createUser", "user", "id").(string)
	if uid == "" {
		t.Fatal(r.Errors)
	}
	r = e.bearer(op.Sign(t, claims(op, "link-client", "sub-frank", "Frank@Customer-A.example", nil)), `{ viewer { user { id activated } roleBindings { role } } }`, nil)
	if get(r.Data, "viewer", "user", "id") != uid || get(r.Data, "viewer", "user", "activated") != true {
		t.Errorf("the invited user was not linked and activated: %+v %+v", r.Data, r.Errors)
	}
	if got := fmt.Sprint(get(r.Data, "viewer", "roleBindings")); got != "[map[role:ADMIN]]" {
		t.Errorf("roles = %s, want the invitation's ADMIN only", got)
	}
}
