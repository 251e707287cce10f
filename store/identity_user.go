package store

import (
	"context"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// CheckLogin tells whether email is free for a new user (seed 003's
// check_login). Only admins ask: it answers for the whole installation.
// Returns UNAUTHENTICATED when not signed in; FORBIDDEN without ADMIN on some
// tenant; BAD_USER_INPUT for a malformed email.
func (s *Store) CheckLogin(ctx context.Context, email string) (*cairn.LoginAvailability, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if len(p.TenantsWith(cairn.RoleAdmin)) == 0 {
		return nil, cairn.Errorf(cairn.EFORBIDDEN, "Checking whether an email is free needs the ADMIN role on some tenant.")
	}
	e, err := normalUserEmail(email, "email")
	if err != nil {
		return nil, err
	}
	taken, err := s.db.NewSelect().TableExpr("users").Where("lower(email) = ?", e).Exists(ctx)
	if err != nil {
		return nil, interpretError(err, "check email")
	}
	return &cairn.LoginAvailability{Email: e, Available: !taken}, nil
}

// SetUserPassword sets a user's password to passwordHash (the caller's hash
// of the new password) and activates the user, as seed 003's POST
// /users/{id}/password does. Users set their own; admins set those of their
// tenant's users. Returns UNAUTHENTICATED when not signed in; BAD_USER_INPUT
// for an empty hash; NOT_FOUND when the user does not exist or is outside the
// caller's scope; FORBIDDEN without ADMIN on the user's tenant.
func (s *Store) SetUserPassword(ctx context.Context, userID, passwordHash string) (*cairn.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if passwordHash == "" {
		return nil, cairn.FieldError("input.password", "a password is required")
	}
	var u *cairn.User
	err = s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, users, userID, nil)
		if err != nil {
			return err
		}
		if row.ID != p.UserID {
			if err := require(ctx, tx, p, cairn.RoleAdmin, row.TenantID, "Setting another user's password"); err != nil {
				return err
			}
		}
		row.PasswordHash, row.Activated, row.UpdatedAt = passwordHash, true, s.Now()
		row.Version++
		_, err = tx.NewUpdate().Model(row).Column("password_hash", "activated", "updated_at", "version").WherePK().Exec(ctx)
		u = row
		return interpretError(err, "set password of user "+quote(row.ID))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
