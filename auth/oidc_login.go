package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// LoginStateTTL bounds how long a browser may take between /auth/{idp}/login
// and the callback.
const LoginStateTTL = 10 * time.Minute

// sealing contexts, so that a sealed value of one kind never opens as another.
const (
	sealClientSecret = "cairn identity provider client secret"
	sealLoginState   = "cairn oidc login state"
)

// SealClientSecret seals an identity provider's client secret for the store.
// Returns FAILED_PRECONDITION when the server has no secret key.
func (o *OIDC) SealClientSecret(secret string) ([]byte, error) {
	return o.Secrets.Seal([]byte(secret), sealClientSecret)
}

// loginState is what the browser carries, sealed, from login to callback.
type loginState struct {
	IdP      string    `json:"idp"`
	State    string    `json:"state"`
	Verifier string    `json:"verifier"`
	Nonce    string    `json:"nonce"`
	Redirect string    `json:"redirect"`
	Expires  time.Time `json:"exp"`
}

// oauthConfig returns the OAuth 2 client of idp with its client secret
// opened, and its discovered provider.
func (o *OIDC) oauthConfig(ctx context.Context, idpID, redirectURI string) (*cairn.IdentityProvider, *oauth2.Config, error) {
	idp, sealed, err := o.Store.IdentityProviderForLogin(ctx, idpID)
	if err != nil {
		return nil, nil, err
	}
	if idp.Disabled {
		return nil, nil, cairn.Errorf(cairn.EFORBIDDEN, msgOIDCDisabled, idp.ID)
	}
	secret, err := o.Secrets.Open(sealed, sealClientSecret)
	if err != nil {
		return nil, nil, err
	}
	p, err := o.provider(ctx, idp)
	if err != nil {
		return nil, nil, err
	}
	ep := p.Endpoint()
	if idp.AuthorizationEndpoint != nil {
		ep.AuthURL = *idp.AuthorizationEndpoint
	}
	if idp.TokenEndpoint != nil {
		ep.TokenURL = *idp.TokenEndpoint
	}
	return idp, &oauth2.Config{ClientID: idp.ClientID, ClientSecret: string(secret), Endpoint: ep, RedirectURL: redirectURI, Scopes: idp.Scopes}, nil
}

// StartLogin begins the authorization-code flow with PKCE for idp: it returns
// the provider's authorization URL to redirect the browser to, and the sealed
// state the browser must bring back to FinishLogin (a cookie). redirectURI is
// Cairn's callback URL, as registered with the provider. Returns NOT_FOUND
// for an unknown provider, FORBIDDEN for a disabled one, and
// FAILED_PRECONDITION when the server has no secret key.
func (o *OIDC) StartLogin(ctx context.Context, idpID, redirectURI string) (authURL, state string, err error) {
	idp, cfg, err := o.oauthConfig(ctx, idpID, redirectURI)
	if err != nil {
		return "", "", err
	}
	st := loginState{IdP: idp.ID, State: randomString(), Verifier: oauth2.GenerateVerifier(), Nonce: randomString(),
		Redirect: redirectURI, Expires: o.now().Add(LoginStateTTL)}
	raw, _ := json.Marshal(st)
	sealed, err := o.Secrets.Seal(raw, sealLoginState)
	if err != nil {
		return "", "", err
	}
	authURL = cfg.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	return authURL, base64.RawURLEncoding.EncodeToString(sealed), nil
}

// FinishLogin completes the flow StartLogin began: it checks the state the
// browser brought back against the state parameter, exchanges the code with
// the PKCE verifier, verifies the ID token (nonce included) and returns the
// user it maps to. Returns UNAUTHENTICATED for a missing, expired or
// mismatched state, a code the provider refuses, or a token Verify refuses.
func (o *OIDC) FinishLogin(ctx context.Context, idpID, sealedState, stateParam, code string) (*cairn.User, error) {
	var st loginState
	raw, err := base64.RawURLEncoding.DecodeString(sealedState)
	if err == nil {
		raw, err = o.Secrets.Open(raw, sealLoginState)
	}
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	switch {
	case err != nil:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "This sign-in has no valid state (cookies blocked, or the sign-in began on another server); start again at /auth/%s/login.", idpID)
	case st.IdP != idpID || st.State != stateParam:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "The sign-in's state does not match the one it began with; start again at /auth/%s/login.", idpID)
	case o.now().After(st.Expires):
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "This sign-in began more than %s ago and has expired; start again at /auth/%s/login.", LoginStateTTL, idpID)
	}
	return o.Exchange(ctx, idpID, code, st.Redirect, st.Verifier, st.Nonce)
}

// Exchange trades an authorization code of idp for its ID token (with the
// PKCE verifier, when not empty), verifies it and returns the user it maps
// to (see store.Store.SignInFederated). It serves SPAs that run the
// authorization-code flow themselves (signInWithIdentityProvider). Returns
// NOT_FOUND for an unknown provider; FORBIDDEN for a disabled one;
// UNAUTHENTICATED for a code the provider refuses or a token Verify refuses;
// FAILED_PRECONDITION when the server has no secret key.
func (o *OIDC) Exchange(ctx context.Context, idpID, code, redirectURI, verifier, nonce string) (*cairn.User, error) {
	idp, cfg, err := o.oauthConfig(ctx, idpID, redirectURI)
	if err != nil {
		return nil, err
	}
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	xctx, cancel := context.WithTimeout(o.clientContext(ctx), 15*time.Second)
	defer cancel()
	tok, err := cfg.Exchange(xctx, code, opts...)
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Identity provider %s refused the authorization code (%s); start the sign-in again.", idp.ID, re.ErrorCode)
	} else if err != nil {
		return nil, fmt.Errorf("auth: exchanging the code with identity provider %s: %w", idp.ID, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Identity provider %s answered without an ID token; make sure the openid scope is requested.", idp.ID)
	}
	id, err := o.Verify(ctx, idp, rawID, nonce)
	if err != nil {
		return nil, err
	}
	if id.Email == "" {
		// Many providers put the email only in the user info, not the ID token.
		if err := o.userInfo(ctx, idp, tok, id); err != nil {
			return nil, err
		}
	}
	return o.Store.SignInFederated(ctx, idp, *id)
}

// userInfo completes id with the email and name of the provider's user-info
// endpoint, if it has one and it answers for the same subject.
func (o *OIDC) userInfo(ctx context.Context, idp *cairn.IdentityProvider, tok *oauth2.Token, id *cairn.FederatedIdentity) error {
	p, err := o.provider(ctx, idp)
	if err != nil || p.UserInfoEndpoint() == "" {
		return err
	}
	ui, err := p.UserInfo(o.clientContext(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("auth: user info of identity provider %s: %w", idp.ID, err)
	}
	if ui.Subject != id.Subject {
		return cairn.Errorf(cairn.EUNAUTHENTICATED, "Identity provider %s answered user info for another subject than its ID token's; start the sign-in again.", idp.ID)
	}
	var extra struct {
		Name string `json:"name"`
	}
	_ = ui.Claims(&extra)
	id.Email, id.EmailVerified = ui.Email, &ui.EmailVerified
	if id.Name == "" {
		id.Name = extra.Name
	}
	return nil
}

func randomString() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
