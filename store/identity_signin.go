package store

import (
	"context"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// userIdentity links an issuer's subject to a Cairn user.
type userIdentity struct {
	bun.BaseModel `bun:"table:user_identities"`

	Issuer             string `bun:",pk"`
	Subject            string `bun:",pk"`
	UserID             string `bun:",notnull"`
	IdentityProviderID string `bun:",notnull"`
	Email              string `bun:",notnull"`
	CreatedAt          bun.NullTime
	LastSignInAt       bun.NullTime
}

// SignInFederated maps a verified identity of idp to a Cairn user by (issuer,
// subject). On first sight it links the identity to the user with the same
// email in idp's tenant tree (activating an invited user), or provisions a
// new activated user in idp's tenant with idp's default role. It needs no
// principal: the caller has verified the token. Returns UNAUTHENTICATED when
// the identity has no email or an unverified one, when the email's domain is
// not among idp's email identifiers, when the email belongs to a user outside
// idp's tenant tree, and when idp's tenant is DISABLED.
func (s *Store) SignInFederated(ctx context.Context, idp *cairn.IdentityProvider, id cairn.FederatedIdentity) (*cairn.User, error) {
	email := strings.ToLower(strings.TrimSpace(id.Email))
	if err := EmailDomainAllowed(idp, email); err != nil {
		return nil, err
	}
	var u *cairn.User
	err := s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now()
		link := new(userIdentity)
		err := tx.NewSelect().Model(link).Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).For("UPDATE").Scan(ctx)
		if err == nil {
			if _, err := tx.NewUpdate().Model(link).Set("last_sign_in_at = ?, email = ?", now, email).WherePK().Exec(ctx); err != nil {
				return interpretError(err, "record sign-in")
			}
			u = new(cairn.User)
			return interpretError(tx.NewSelect().Model(u).Where("?TableAlias.id = ?", link.UserID).Scan(ctx), "user "+quote(link.UserID))
		} else if cairn.ErrorCode(interpretError(err, "")) != cairn.ENOTFOUND {
			return interpretError(err, "look up identity")
		}
		if email == "" || !userEmailPattern.MatchString(email) {
			return cairn.Errorf(cairn.EUNAUTHENTICATED, "The identity provider's token carries no email address, so Cairn cannot provision a user for it; request the email scope.")
		}
		if id.EmailVerified != nil && !*id.EmailVerified {
			return cairn.Errorf(cairn.EUNAUTHENTICATED, "The identity provider says the email %s is not verified; verify it with the provider, then sign in again.", email)
		}
		var t cairn.Tenant
		if err := tx.NewSelect().Model(&t).Where("?TableAlias.id = ?", idp.TenantID).For("SHARE").Scan(ctx); err != nil {
			return interpretError(err, "tenant "+quote(idp.TenantID))
		}
		if t.State == cairn.TenantDisabled {
			return cairn.Errorf(cairn.EUNAUTHENTICATED, "Tenant %s of this identity provider is disabled; its users can no longer act.", t.ID)
		}
		existing := new(cairn.User)
		err = tx.NewSelect().Model(existing).Where("lower(?TableAlias.email) = ?", email).For("UPDATE").Scan(ctx)
		switch {
		case err == nil:
			var inTree bool
			if err := tx.NewSelect().ColumnExpr("EXISTS (SELECT 1 FROM tenants WHERE id = ? AND ? = ANY(ancestors))", existing.TenantID, t.ID).Scan(ctx, &inTree); err != nil {
				return interpretError(err, "check tenant")
			}
			if !inTree {
				return cairn.Errorf(cairn.EUNAUTHENTICATED, "The email %s belongs to a Cairn user outside tenant %s of this identity provider; sign in with that user's password instead.", email, t.ID)
			}
			if !existing.Activated {
				existing.Activated, existing.UpdatedAt = true, now
				existing.Version++
				if _, err := tx.NewUpdate().Model(existing).Column("activated", "updated_at", "version").WherePK().Exec(ctx); err != nil {
					return interpretError(err, "activate user")
				}
			}
			u = existing
		case cairn.ErrorCode(interpretError(err, "")) == cairn.ENOTFOUND:
			name := strings.TrimSpace(id.Name)
			if name == "" {
				name = email
			}
			u = &cairn.User{ID: cairn.NewID(cairn.PrefixUser), Email: email, Name: name, TenantID: t.ID,
				Activated: true, CreatedAt: now, UpdatedAt: now, Version: 1}
			if err := insertUserRow(ctx, tx, u); err != nil {
				return err
			}
			if _, err := insertRoleBinding(ctx, tx, u.ID, t.ID, idp.DefaultRole, now); err != nil {
				return err
			}
		default:
			return interpretError(err, "look up user")
		}
		link = &userIdentity{Issuer: id.Issuer, Subject: id.Subject, UserID: u.ID, IdentityProviderID: idp.ID, Email: email}
		link.CreatedAt.Time, link.LastSignInAt.Time = now, now
		_, err = tx.NewInsert().Model(link).Exec(ctx)
		return interpretError(err, "link identity")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// EmailDomainAllowed returns UNAUTHENTICATED unless email's domain is among
// idp's email identifiers; a provider with none allows every domain.
func EmailDomainAllowed(idp *cairn.IdentityProvider, email string) error {
	if len(idp.EmailIdentifiers) == 0 {
		return nil
	}
	_, domain, _ := strings.Cut(strings.ToLower(email), "@")
	if domain == "" || !slices.Contains(idp.EmailIdentifiers, domain) {
		return cairn.Errorf(cairn.EUNAUTHENTICATED, "Identity provider %s admits only emails of %s; %q is not one. Sign in with an allowed account.",
			idp.ID, strings.Join(idp.EmailIdentifiers, ", "), email)
	}
	return nil
}
