package store

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// identityProviderRow is an identity provider with its sealed client secret,
// which no other read selects.
type identityProviderRow struct {
	bun.BaseModel `bun:"table:identity_providers,alias:idp"`

	cairn.IdentityProvider `bun:",extend"`
	ClientSecret           []byte `bun:",notnull"`
}

// scopeTenantRows is the read scope of rows that belong to a tenant: the
// tenant's tree.
func scopeTenantRows(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
	return q.Where("?TableAlias.tenant_id IN "+treeSQL, ids(p, cairn.RoleReader))
}

var identityProviders = kind[cairn.IdentityProvider, cairn.IdentityProviderFilter]{name: "identity provider", scope: scopeTenantRows,
	filter: func(q *bun.SelectQuery, f *cairn.IdentityProviderFilter) *bun.SelectQuery {
		return eq(eq(q, "tenant_id", f.TenantID), "disabled", f.Disabled)
	}}

// IdentityProviders returns a page of the identity providers the caller can
// see. Returns UNAUTHENTICATED when not signed in and BAD_USER_INPUT for bad
// pagination arguments.
func (s *Store) IdentityProviders(ctx context.Context, args cairn.PageArgs, f *cairn.IdentityProviderFilter) (*cairn.IdentityProviderConnection, error) {
	return listKind(ctx, s, identityProviders, args, f, nil)
}

// IdentityProvider returns one identity provider. Returns UNAUTHENTICATED when
// not signed in and NOT_FOUND when it does not exist or is outside the
// caller's scope.
func (s *Store) IdentityProvider(ctx context.Context, id string) (*cairn.IdentityProvider, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	idp := new(cairn.IdentityProvider)
	if err := identityProviders.scope(s.db.NewSelect().Model(idp), p).Where("?TableAlias.id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err, "identity provider "+quote(id))
	}
	return idp, nil
}

// CreateIdentityProvider registers an identity provider for in.TenantID.
// sealedSecret is in.ClientSecret sealed by the caller; in.ClientSecret itself
// is not stored. Returns UNAUTHENTICATED when not signed in; BAD_USER_INPUT
// for a blank name, type or client ID, an issuer or endpoint that is not an
// http(s) URL, a malformed email domain or a default role of ROOT; NOT_FOUND
// when the tenant does not exist or is outside the caller's scope; FORBIDDEN
// without ADMIN on the tenant or for a default role higher than the caller
// holds there; CONFLICT when the tenant's tree already has a provider with the
// same issuer and client ID.
func (s *Store) CreateIdentityProvider(ctx context.Context, in cairn.CreateIdentityProviderInput, sealedSecret []byte) (*cairn.IdentityProvider, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	row := &identityProviderRow{IdentityProvider: cairn.IdentityProvider{
		ID: cairn.NewID(cairn.PrefixIdentityProvider), Name: strings.TrimSpace(in.Name), Type: strings.TrimSpace(in.Type),
		IssuerURL: strings.TrimSpace(in.IssuerURL), AuthorizationEndpoint: in.AuthorizationEndpoint, TokenEndpoint: in.TokenEndpoint,
		UserInfoEndpoint: in.UserInfoEndpoint, ClientID: strings.TrimSpace(in.ClientID), DefaultRole: cairn.RoleReader,
		LoginButtonIconURL: in.LoginButtonIconURL, Status: cairn.IdentityProviderPending, Version: 1,
	}, ClientSecret: sealedSecret}
	idp := &row.IdentityProvider
	if in.DefaultRole != nil {
		idp.DefaultRole = *in.DefaultRole
	}
	if in.LoginButtonText != nil {
		idp.LoginButtonText = strings.TrimSpace(*in.LoginButtonText)
	}
	if in.Disabled != nil {
		idp.Disabled = *in.Disabled
	}
	if idp.Scopes, err = normalScopes(in.Scopes); err != nil {
		return nil, err
	}
	if idp.EmailIdentifiers, err = normalDomains(in.EmailIdentifiers); err != nil {
		return nil, err
	}
	if err := checkIdentityProvider(idp); err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := scopedTenantShared(ctx, tx, p, in.TenantID)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, t.ID, "Registering an identity provider"); err != nil {
			return err
		}
		if err := requireGrantable(ctx, tx, p, idp.DefaultRole, t.ID); err != nil {
			return err
		}
		idp.TenantID = t.ID
		idp.CreatedAt, idp.UpdatedAt = s.Now(), s.Now()
		_, err = tx.NewInsert().Model(row).Exec(ctx)
		return identityProviderConflict(interpretError(err, "register identity provider"), idp)
	})
	if err != nil {
		return nil, err
	}
	return idp, nil
}

// UpdateIdentityProvider changes an identity provider. sealedSecret, when not
// nil, replaces the client secret. A change of issuer, client or endpoints
// sets the status back to PENDING. Returns what CreateIdentityProvider
// returns, and NOT_FOUND for an unknown ID and CONFLICT for a stale
// expectedVersion.
func (s *Store) UpdateIdentityProvider(ctx context.Context, in cairn.UpdateIdentityProviderInput, sealedSecret []byte) (*cairn.IdentityProvider, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *cairn.IdentityProvider
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		idp, err := lockForWrite(ctx, tx, p, identityProviders, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, idp.TenantID, "Changing an identity provider"); err != nil {
			return err
		}
		reverify := in.IssuerURL != nil || in.ClientID != nil || in.AuthorizationEndpoint != nil || in.TokenEndpoint != nil || sealedSecret != nil
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = strings.TrimSpace(*src)
			}
		}
		set(&idp.Name, in.Name)
		set(&idp.IssuerURL, in.IssuerURL)
		set(&idp.ClientID, in.ClientID)
		set(&idp.LoginButtonText, in.LoginButtonText)
		for _, f := range []struct{ dst, src **string }{{&idp.AuthorizationEndpoint, &in.AuthorizationEndpoint}, {&idp.TokenEndpoint, &in.TokenEndpoint},
			{&idp.UserInfoEndpoint, &in.UserInfoEndpoint}, {&idp.LoginButtonIconURL, &in.LoginButtonIconURL}} {
			if *f.src != nil {
				*f.dst = *f.src
				if **f.src == "" {
					*f.dst = nil
				}
			}
		}
		if in.Scopes != nil {
			if idp.Scopes, err = normalScopes(in.Scopes); err != nil {
				return err
			}
		}
		if in.EmailIdentifiers != nil {
			if idp.EmailIdentifiers, err = normalDomains(in.EmailIdentifiers); err != nil {
				return err
			}
		}
		if in.DefaultRole != nil {
			idp.DefaultRole = *in.DefaultRole
			if err := requireGrantable(ctx, tx, p, idp.DefaultRole, idp.TenantID); err != nil {
				return err
			}
		}
		if in.Disabled != nil {
			idp.Disabled = *in.Disabled
		}
		if err := checkIdentityProvider(idp); err != nil {
			return err
		}
		if reverify {
			idp.Status, idp.StatusReason, idp.VerifiedAt = cairn.IdentityProviderPending, "", nil
		}
		idp.Version++
		idp.UpdatedAt = s.Now()
		q := tx.NewUpdate().Model(idp).WherePK()
		if sealedSecret != nil {
			q = q.Set("client_secret = ?", sealedSecret)
		}
		_, err = q.Exec(ctx)
		out = idp
		return identityProviderConflict(interpretError(err, "update identity provider "+quote(idp.ID)), idp)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteIdentityProvider deletes an identity provider; the users it
// provisioned stay, but can no longer sign in through it. Returns
// UNAUTHENTICATED when not signed in; NOT_FOUND when it does not exist or is
// outside the caller's scope; CONFLICT for a stale expectedVersion; FORBIDDEN
// without ADMIN on its tenant.
func (s *Store) DeleteIdentityProvider(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		idp, err := lockForWrite(ctx, tx, p, identityProviders, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, idp.TenantID, "Deleting an identity provider"); err != nil {
			return err
		}
		_, err = tx.NewDelete().Model(idp).WherePK().Exec(ctx)
		return interpretError(err, "delete identity provider "+quote(idp.ID))
	})
}

// IdentityProviderForAdmin returns an identity provider the caller
// administers, for verifying it. Returns UNAUTHENTICATED when not signed in;
// NOT_FOUND when it does not exist or is outside the caller's scope;
// FORBIDDEN without ADMIN on its tenant.
func (s *Store) IdentityProviderForAdmin(ctx context.Context, id string) (*cairn.IdentityProvider, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	idp, err := s.IdentityProvider(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := require(ctx, s.db, p, cairn.RoleAdmin, idp.TenantID, "Verifying an identity provider"); err != nil {
		return nil, err
	}
	return idp, nil
}

// SetIdentityProviderStatus records the outcome of a verification. It needs
// no principal: call it after IdentityProviderForAdmin. Returns NOT_FOUND
// when the provider no longer exists.
func (s *Store) SetIdentityProviderStatus(ctx context.Context, id string, status cairn.IdentityProviderStatus, reason string) (*cairn.IdentityProvider, error) {
	idp := new(cairn.IdentityProvider)
	now := s.Now()
	_, err := s.db.NewUpdate().Model(idp).
		Set("status = ?, status_reason = ?, verified_at = ?, updated_at = ?, version = version + 1", status, reason, now, now).
		Where("id = ?", id).Returning("*").Exec(ctx, idp)
	if err != nil {
		return nil, interpretError(err, "identity provider "+quote(id))
	}
	if idp.ID == "" {
		return nil, cairn.NotFound("identity provider", id)
	}
	return idp, nil
}

// IdentityProviderForLogin returns an identity provider and its sealed
// client secret, whatever the scope: it is for signing in only. Returns
// NOT_FOUND when there is none with the ID.
func (s *Store) IdentityProviderForLogin(ctx context.Context, id string) (*cairn.IdentityProvider, []byte, error) {
	row := new(identityProviderRow)
	if err := s.db.NewSelect().Model(row).Where("?TableAlias.id = ?", id).Scan(ctx); err != nil {
		return nil, nil, interpretError(err, "identity provider "+quote(id))
	}
	return &row.IdentityProvider, row.ClientSecret, nil
}

// IdentityProvidersByIssuer returns the identity providers registered with
// the issuer URL, whatever the scope: it is for verifying bearer tokens.
func (s *Store) IdentityProvidersByIssuer(ctx context.Context, issuer string) ([]cairn.IdentityProvider, error) {
	var idps []cairn.IdentityProvider
	err := s.db.NewSelect().Model(&idps).Where("?TableAlias.issuer_url = ?", issuer).OrderExpr("?TableAlias.created_at, ?TableAlias.id").Scan(ctx)
	if err != nil {
		return nil, interpretError(err, "identity providers of an issuer")
	}
	return idps, nil
}

func identityProviderConflict(err error, idp *cairn.IdentityProvider) error {
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		return cairn.Errorf(cairn.ECONFLICT, "an identity provider with issuer %s and client ID %s is already registered; update that one instead", idp.IssuerURL, idp.ClientID)
	}
	return err
}

// checkIdentityProvider returns BAD_USER_INPUT naming the first field of idp
// that is not acceptable.
func checkIdentityProvider(idp *cairn.IdentityProvider) error {
	switch {
	case idp.Name == "":
		return cairn.FieldError("input.name", "name must not be empty")
	case idp.Type == "":
		return cairn.FieldError("input.type", "type must not be empty: name the provider's kind, e.g. Google, Okta or OIDC")
	case idp.ClientID == "":
		return cairn.FieldError("input.clientId", "clientId must not be empty: use the client ID the provider issued for Cairn")
	case !idp.DefaultRole.Valid() || idp.DefaultRole == cairn.RoleRoot:
		return cairn.FieldError("input.defaultRole", "defaultRole %q is not ADMIN, EDITOR or READER", idp.DefaultRole)
	}
	if err := checkHTTPURL(idp.IssuerURL, "input.issuerURL"); err != nil {
		return err
	}
	for _, f := range []struct {
		v     *string
		field string
	}{{idp.AuthorizationEndpoint, "input.authorizationEndpoint"}, {idp.TokenEndpoint, "input.tokenEndpoint"}, {idp.UserInfoEndpoint, "input.userInfoEndpoint"}, {idp.LoginButtonIconURL, "input.loginButtonIconUrl"}} {
		if f.v != nil {
			if err := checkHTTPURL(*f.v, f.field); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkHTTPURL(s, field string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return cairn.FieldError(field, "%q is not an http(s) URL; use the form https://login.example.com/", s)
	}
	return nil
}

// normalScopes returns the scopes to request, openid first; none given means
// openid, email and profile.
func normalScopes(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{"openid", "email", "profile"}, nil
	}
	out := []string{"openid"}
	for _, sc := range in {
		sc = strings.TrimSpace(sc)
		if sc == "" || strings.ContainsAny(sc, " \t\"\\") {
			return nil, cairn.FieldError("input.scopes", "scope %q is not a scope name", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// normalDomains returns email domains lower-cased, without a leading @.
func normalDomains(in []string) ([]string, error) {
	out := []string{}
	for _, d := range in {
		d = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "@")
		if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "@ \t/") {
			return nil, cairn.FieldError("input.emailIdentifiers", "%q is not an email domain; use the form example.com", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}
