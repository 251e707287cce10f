package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// OIDC federates sign-in to the identity providers tenants register: it
// verifies their tokens (sent as bearer tokens, or obtained through the
// authorization-code flow with PKCE) and maps them to Cairn users. Discovery
// documents and key sets are cached per issuer; go-oidc's remote key set
// fetches the keys again when a token names a key it has not seen, which is
// how a provider's key rotation reaches Cairn. An OIDC is safe for concurrent
// use; set its exported fields before first use.
type OIDC struct {
	Store   *store.Store
	Tokens  *Tokens    // Cairn's own session tokens: their issuer is not federated
	Secrets *SecretBox // opens client secrets and seals sign-in state; nil disables the code flow

	// Client makes the requests to providers; nil means http.DefaultClient.
	Client *http.Client
	// Now returns the current time; tests replace it. Never nil.
	Now func() time.Time

	mu        sync.Mutex
	providers map[string]*oidc.Provider // by issuer URL
}

// NewOIDC returns an OIDC over the store.
func NewOIDC(s *store.Store, tokens *Tokens, secrets *SecretBox) *OIDC {
	return &OIDC{Store: s, Tokens: tokens, Secrets: secrets, Now: time.Now, providers: map[string]*oidc.Provider{}}
}

// Messages of the refusals of provider tokens. None quotes the token.
const (
	msgOIDCAlgorithm   = "The identity provider's token is signed with %s, which Cairn does not accept from this provider (it accepts %s). Sign in with the provider again."
	msgOIDCSignature   = "The identity provider's token is not signed by a key the provider publishes (it was altered, forged, or signed with a key the provider has rotated out). Sign in with the provider again."
	msgOIDCAudience    = "The identity provider's token is meant for another client (audience %s), not for Cairn's client of this provider. Request a token for the client ID registered with Cairn."
	msgOIDCIssuer      = "The bearer token was issued by %q, which is neither this Cairn server nor an identity provider registered with it. Register the provider first, or sign in to get a Cairn token."
	msgOIDCExpired     = "The identity provider's token expired at %s. Sign in with the provider again."
	msgOIDCNotYetValid = "The identity provider's token is not valid yet (valid from %s; the provider's clock may be ahead). Try again shortly."
	msgOIDCNoSubject   = "The identity provider's token has no subject or no expiry: it is not an ID token. Send the ID token the provider issued."
	msgOIDCDisabled    = "Identity provider %s is disabled: its users cannot sign in through it. Ask an admin of its tenant to enable it."
	msgOIDCNonce       = "The identity provider's token answers another sign-in (its nonce does not match). Start the sign-in again."
)

// asymmetric lists the algorithms Cairn accepts from a provider: never none,
// and never an HMAC, which a forger could key with the provider's public key.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func (o *OIDC) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *OIDC) clientContext(ctx context.Context) context.Context {
	if o.Client != nil {
		return oidc.ClientContext(ctx, o.Client)
	}
	return ctx
}

// discover returns the provider of issuer, from the cache or its discovery
// document. Errors are the discovery's own, without a code.
func (o *OIDC) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	o.mu.Lock()
	p, ok := o.providers[issuer]
	o.mu.Unlock()
	if ok {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(o.clientContext(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if cached, ok := o.providers[issuer]; ok {
		return cached, nil
	}
	if o.providers == nil {
		o.providers = map[string]*oidc.Provider{}
	}
	o.providers[issuer] = p
	return p, nil
}

// provider returns the discovered provider of idp. Returns INTERNAL-coded
// errors (an outage) when discovery fails.
func (o *OIDC) provider(ctx context.Context, idp *cairn.IdentityProvider) (*oidc.Provider, error) {
	p, err := o.discover(ctx, idp.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("auth: discovery of identity provider %s (%s): %w", idp.ID, idp.IssuerURL, err)
	}
	return p, nil
}

// Verify checks a token of idp: its algorithm (asymmetric, among those the
// provider advertises), its signature against the provider's key set, its
// issuer, that its audience holds idp's client ID, its validity period (with
// Leeway), and, when nonce is not empty, its nonce. Returns UNAUTHENTICATED
// naming what was wrong, and an error without a code when the provider cannot
// be reached.
func (o *OIDC) Verify(ctx context.Context, idp *cairn.IdentityProvider, raw, nonce string) (*cairn.FederatedIdentity, error) {
	fail := func(format string, args ...any) (*cairn.FederatedIdentity, error) {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, format, args...)
	}
	if idp.Disabled {
		return fail(msgOIDCDisabled, idp.ID)
	}
	p, err := o.provider(ctx, idp)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	_ = p.Claims(&meta)
	algs := []string{}
	for _, a := range meta.Algs {
		if slices.Contains(asymmetric, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	joseAlgs := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		joseAlgs[i] = jose.SignatureAlgorithm(a)
	}
	if _, err := jose.ParseSignedCompact(raw, joseAlgs); err != nil {
		if alg := headerAlg(raw); alg != "" && !slices.Contains(algs, alg) {
			return fail(msgOIDCAlgorithm, alg, strings.Join(algs, ", "))
		}
		return fail(msgOIDCSignature)
	}
	// Provider.Verifier shares the provider's one remote key set: keys are
	// fetched once and again only for a key ID not seen yet.
	v := p.Verifier(&oidc.Config{
		ClientID: idp.ClientID, SupportedSigningAlgs: algs, SkipClientIDCheck: true, SkipExpiryCheck: true, Now: o.now,
	})
	tok, err := v.Verify(o.clientContext(ctx), raw)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return fail(msgOIDCSignature)
	}
	var c struct {
		NotBefore     *float64 `json:"nbf"`
		Email         string   `json:"email"`
		EmailVerified any      `json:"email_verified"`
		Name          string   `json:"name"`
		Exp           *float64 `json:"exp"`
	}
	if err := tok.Claims(&c); err != nil || tok.Subject == "" || c.Exp == nil {
		return fail(msgOIDCNoSubject)
	}
	now := o.now()
	switch {
	case !slices.Contains(tok.Audience, idp.ClientID):
		return fail(msgOIDCAudience, strings.Join(tok.Audience, ", "))
	case now.After(tok.Expiry.Add(Leeway)):
		return fail(msgOIDCExpired, tok.Expiry.UTC().Format(time.RFC3339))
	case c.NotBefore != nil && now.Add(Leeway).Before(unixTime(*c.NotBefore)):
		return fail(msgOIDCNotYetValid, unixTime(*c.NotBefore).UTC().Format(time.RFC3339))
	case !tok.IssuedAt.IsZero() && now.Add(Leeway).Before(tok.IssuedAt):
		return fail(msgOIDCNotYetValid, tok.IssuedAt.UTC().Format(time.RFC3339))
	case nonce != "" && tok.Nonce != nonce:
		return fail(msgOIDCNonce)
	}
	id := &cairn.FederatedIdentity{Issuer: tok.Issuer, Subject: tok.Subject, Email: c.Email, Name: c.Name}
	switch ev := c.EmailVerified.(type) {
	case bool:
		id.EmailVerified = &ev
	case string: // some providers send "true"/"false"
		b := ev == "true"
		id.EmailVerified = &b
	}
	return id, nil
}

func unixTime(f float64) time.Time { return time.Unix(int64(f), 0) }

// headerAlg returns the alg of a compact JWS's header, or "".
func headerAlg(raw string) string {
	var h struct {
		Alg string `json:"alg"`
	}
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// peekClaims returns the issuer and audience of a compact JWT without
// verifying it, to choose who verifies it; ok is false when raw is not a JWT.
func peekClaims(raw string) (iss string, aud []string, ok bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", nil, false
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(b, &c) != nil || c.Iss == "" {
		return "", nil, false
	}
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		aud = []string{one}
	} else {
		_ = json.Unmarshal(c.Aud, &aud)
	}
	return c.Iss, aud, true
}

// Authenticator accepts tokens of registered identity providers as bearer
// tokens: it finds the provider by the token's issuer and audience, verifies
// the token (see Verify), maps it to a user (provisioning one on first sight,
// see store.Store.SignInFederated) and loads that user's principal. It
// declines tokens that are not JWTs and Cairn's own session tokens, and
// refuses, UNAUTHENTICATED, JWTs of any other issuer.
func (o *OIDC) Authenticator() Authenticator {
	return func(ctx context.Context, token string) (*cairn.Principal, error) {
		iss, aud, ok := peekClaims(token)
		if !ok || (o.Tokens != nil && iss == o.Tokens.issuer) {
			return nil, nil
		}
		idps, err := o.Store.IdentityProvidersByIssuer(ctx, iss)
		if err != nil {
			return nil, err
		}
		if len(idps) == 0 {
			return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, msgOIDCIssuer, iss)
		}
		var idp *cairn.IdentityProvider
		for i := range idps {
			if slices.Contains(aud, idps[i].ClientID) {
				idp = &idps[i]
				break
			}
		}
		if idp == nil {
			return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, msgOIDCAudience, strings.Join(aud, ", "))
		}
		return o.principalFor(ctx, idp, token, "")
	}
}

// principalFor verifies raw as a token of idp and returns the principal of
// the user it maps to.
func (o *OIDC) principalFor(ctx context.Context, idp *cairn.IdentityProvider, raw, nonce string) (*cairn.Principal, error) {
	u, err := o.userFor(ctx, idp, raw, nonce)
	if err != nil {
		return nil, err
	}
	return o.Store.Principal(ctx, u.ID)
}

func (o *OIDC) userFor(ctx context.Context, idp *cairn.IdentityProvider, raw, nonce string) (*cairn.User, error) {
	id, err := o.Verify(ctx, idp, raw, nonce)
	if err != nil {
		return nil, err
	}
	return o.Store.SignInFederated(ctx, idp, *id)
}

// CheckProvider fetches idp's discovery document and key set, afresh, and
// returns READY, or FAILED with the reason.
func (o *OIDC) CheckProvider(ctx context.Context, idp *cairn.IdentityProvider) (cairn.IdentityProviderStatus, string) {
	o.mu.Lock()
	delete(o.providers, idp.IssuerURL)
	o.mu.Unlock()
	p, err := o.discover(ctx, idp.IssuerURL)
	if err != nil {
		return cairn.IdentityProviderFailed, "discovery failed: " + clip(err.Error())
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return cairn.IdentityProviderFailed, "the discovery document names no jwks_uri"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.JWKSURI, nil)
	if err != nil {
		return cairn.IdentityProviderFailed, "the jwks_uri is not a URL: " + clip(err.Error())
	}
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return cairn.IdentityProviderFailed, "fetching the key set failed: " + clip(err.Error())
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return cairn.IdentityProviderFailed, fmt.Sprintf("the key set answered %s", res.Status)
	}
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
		return cairn.IdentityProviderFailed, "the key set holds no keys"
	}
	return cairn.IdentityProviderReady, ""
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
