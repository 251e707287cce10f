package store

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// CreateUser creates a user in in.TenantID and, when in.Role is set, grants
// it that role on the tenant in the same transaction. passwordHash is the
// hash of in.Password made by the caller, or "" when there is none: the user
// is then created unactivated. Returns UNAUTHENTICATED when not signed in;
// BAD_USER_INPUT for a malformed email, a blank name or an unknown role;
// NOT_FOUND when the tenant does not exist or is outside the caller's scope;
// FORBIDDEN without ADMIN on the tenant or when granting a role higher than
// the caller holds there; FAILED_PRECONDITION when the tenant is DISABLED;
// CONFLICT when a user with the email exists.
func (s *Store) CreateUser(ctx context.Context, in cairn.CreateUserInput, passwordHash string) (*cairn.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	email, err := normalUserEmail(in.Email, "input.email")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	if in.Role != nil && !in.Role.Valid() {
		return nil, cairn.FieldError("input.role", "%q is not a role; use ROOT, ADMIN, EDITOR or READER", *in.Role)
	}
	var u *cairn.User
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := scopedTenantShared(ctx, tx, p, in.TenantID)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, t.ID, "Creating a user"); err != nil {
			return err
		}
		if in.Role != nil {
			if err := requireGrantable(ctx, tx, p, *in.Role, t.ID); err != nil {
				return err
			}
		}
		if t.State == cairn.TenantDisabled {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s is DISABLED; enable it before adding users to it", t.ID)
		}
		now := s.Now()
		u = &cairn.User{ID: cairn.NewID(cairn.PrefixUser), Email: email, Name: strings.TrimSpace(in.Name), TenantID: t.ID,
			PasswordHash: passwordHash, Activated: passwordHash != "", CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := insertUserRow(ctx, tx, u); err != nil {
			return err
		}
		if in.Role != nil {
			_, err := insertRoleBinding(ctx, tx, u.ID, t.ID, *in.Role, now)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser renames, disables or enables a user. Returns UNAUTHENTICATED
// when not signed in; NOT_FOUND when the user does not exist or is outside
// the caller's scope; CONFLICT for a stale expectedVersion; FORBIDDEN without
// ADMIN on the user's tenant; BAD_USER_INPUT for a blank name;
// FAILED_PRECONDITION when the caller disables themselves.
func (s *Store) UpdateUser(ctx context.Context, in cairn.UpdateUserInput) (*cairn.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	var u *cairn.User
	err = s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, users, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, row.TenantID, "Changing a user"); err != nil {
			return err
		}
		if in.Disabled != nil && *in.Disabled && row.ID == p.UserID {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "you cannot disable yourself; ask another admin of tenant %s", row.TenantID)
		}
		if in.Name != nil {
			row.Name = strings.TrimSpace(*in.Name)
		}
		if in.Disabled != nil {
			row.Disabled = *in.Disabled
		}
		if err := saveVersioned(ctx, tx, row, s.Now()); err != nil {
			return interpretError(err, "update user "+quote(row.ID))
		}
		u = row
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser deletes a user and their role bindings. Returns UNAUTHENTICATED
// when not signed in; NOT_FOUND when the user does not exist or is outside
// the caller's scope; CONFLICT for a stale expectedVersion; FORBIDDEN without
// ADMIN on the user's tenant; FAILED_PRECONDITION when the caller deletes
// themselves.
func (s *Store) DeleteUser(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, users, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, row.TenantID, "Deleting a user"); err != nil {
			return err
		}
		if row.ID == p.UserID {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "you cannot delete yourself; ask another admin of tenant %s", row.TenantID)
		}
		_, err = tx.NewDelete().Model(row).WherePK().Exec(ctx)
		return interpretError(err, "delete user "+quote(row.ID))
	})
}

// CreateRoleBinding grants in.Role on in.TenantID (and its descendants) to
// in.UserID. Returns UNAUTHENTICATED when not signed in; BAD_USER_INPUT for
// an unknown role; NOT_FOUND when the tenant or the user does not exist or is
// outside the caller's scope; FORBIDDEN without ADMIN on the tenant or when
// the role is higher than any the caller holds there (ROOT only by ROOT);
// CONFLICT when the user already holds that role there.
func (s *Store) CreateRoleBinding(ctx context.Context, in cairn.CreateRoleBindingInput) (*cairn.RoleBinding, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !in.Role.Valid() {
		return nil, cairn.FieldError("input.role", "%q is not a role; use ROOT, ADMIN, EDITOR or READER", in.Role)
	}
	var rb *cairn.RoleBinding
	err = s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := scopedTenantShared(ctx, tx, p, in.TenantID)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, t.ID, "Granting a role"); err != nil {
			return err
		}
		if err := requireGrantable(ctx, tx, p, in.Role, t.ID); err != nil {
			return err
		}
		u := new(cairn.User)
		err = users.scope(tx.NewSelect().Model(u), p).Where("?TableAlias.id = ?", in.UserID).For("SHARE").Scan(ctx)
		if err != nil {
			return interpretError(err, "user "+quote(in.UserID))
		}
		rb, err = insertRoleBinding(ctx, tx, u.ID, t.ID, in.Role, s.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return rb, nil
}

// DeleteRoleBinding revokes a role binding. Role bindings have no version, so
// in.ExpectedVersion is ignored. Returns UNAUTHENTICATED when not signed in;
// NOT_FOUND when it does not exist or is outside the caller's scope;
// FORBIDDEN without ADMIN on its tenant or when its role is higher than any
// the caller holds there; FAILED_PRECONDITION when it is the last ADMIN or
// ROOT binding of its tenant.
func (s *Store) DeleteRoleBinding(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Lock the tenant first: two revocations on one tenant then run one
		// after the other, so together they cannot remove its last admin.
		rb := new(cairn.RoleBinding)
		err := roleBindings.scope(tx.NewSelect().Model(rb), p).Where("?TableAlias.id = ?", in.ID).Scan(ctx)
		if err != nil {
			return interpretError(err, "role binding "+quote(in.ID))
		}
		if _, err := tx.NewSelect().TableExpr("tenants").Column("id").Where("id = ?", rb.TenantID).For("NO KEY UPDATE").Exec(ctx); err != nil {
			return interpretError(err, "lock tenant "+quote(rb.TenantID))
		}
		rb, err = lockForWrite(ctx, tx, p, roleBindings, in.ID, nil)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, rb.TenantID, "Revoking a role"); err != nil {
			return err
		}
		if ok, err := can(ctx, tx, p, rb.Role, rb.TenantID); err != nil {
			return interpretError(err, "check role")
		} else if !ok {
			return cairn.Errorf(cairn.EFORBIDDEN, "Revoking %s on tenant %s needs the %s role on it or an ancestor: you cannot revoke a role higher than one you hold", rb.Role, rb.TenantID, rb.Role)
		}
		if rb.Role == cairn.RoleAdmin || rb.Role == cairn.RoleRoot {
			others, err := tx.NewSelect().TableExpr("role_bindings").
				Where("tenant_id = ? AND role IN ('ADMIN', 'ROOT') AND id <> ?", rb.TenantID, rb.ID).Count(ctx)
			if err != nil {
				return interpretError(err, "count admins of tenant "+quote(rb.TenantID))
			}
			if others == 0 {
				return cairn.Errorf(cairn.EFAILEDPRECONDITION, "role binding %s is the last ADMIN or ROOT binding of tenant %s; grant ADMIN to someone else first", rb.ID, rb.TenantID)
			}
		}
		_, err = tx.NewDelete().Model(rb).WherePK().Exec(ctx)
		return interpretError(err, "delete role binding "+quote(rb.ID))
	})
}

// SignUp creates a CUSTOMER tenant named in.TenantName under the ROOT tenant
// and its first user, activated, with passwordHash (the caller's hash of
// in.Password) and the ADMIN role on it, in one transaction. It needs no
// principal. Returns BAD_USER_INPUT for a malformed email, a blank name or
// tenant name, or an empty passwordHash; FAILED_PRECONDITION when there is no
// ROOT tenant; CONFLICT when a user with the email exists.
func (s *Store) SignUp(ctx context.Context, in cairn.SignUpInput, passwordHash string) (*cairn.User, error) {
	email, err := normalUserEmail(in.Email, "input.email")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	if err := nonEmpty(in.TenantName, "input.tenantName"); err != nil {
		return nil, err
	}
	if passwordHash == "" {
		return nil, cairn.FieldError("input.password", "a password is required to sign up")
	}
	var u *cairn.User
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		root := new(cairn.Tenant)
		err := tx.NewSelect().Model(root).Where("?TableAlias.kind = ?", cairn.TenantRoot).
			OrderExpr("?TableAlias.created_at, ?TableAlias.id").Limit(1).For("SHARE").Scan(ctx)
		if err != nil {
			if cairn.ErrorCode(interpretError(err, "")) == cairn.ENOTFOUND {
				return cairn.Errorf(cairn.EFAILEDPRECONDITION, "Cairn has no root tenant yet; run cairn seed or create one")
			}
			return interpretError(err, "find the root tenant")
		}
		now := s.Now()
		t := newChildTenant(root, strings.TrimSpace(in.TenantName), cairn.TenantCustomer, now)
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return interpretError(err, "create tenant")
		}
		u = &cairn.User{ID: cairn.NewID(cairn.PrefixUser), Email: email, Name: strings.TrimSpace(in.Name), TenantID: t.ID,
			PasswordHash: passwordHash, Activated: true, CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := insertUserRow(ctx, tx, u); err != nil {
			return err
		}
		_, err = insertRoleBinding(ctx, tx, u.ID, t.ID, cairn.RoleAdmin, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UserForSignIn returns the user with the email (compared trimmed and
// case-insensitively), password hash included, whatever the scope: it is for
// signing in only. Returns NOT_FOUND when there is none.
func (s *Store) UserForSignIn(ctx context.Context, email string) (*cairn.User, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	u := new(cairn.User)
	if err := s.db.NewSelect().Model(u).Where("lower(?TableAlias.email) = ?", e).Scan(ctx); err != nil {
		return nil, interpretError(err, "user with email "+quote(e))
	}
	return u, nil
}

// userEmailPattern is deliberately loose: one @, no spaces, a dot in the domain.
var userEmailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// normalUserEmail returns email trimmed and lower-cased. Returns
// BAD_USER_INPUT naming field unless it looks like an email address.
func normalUserEmail(email, field string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) > 254 || !userEmailPattern.MatchString(e) {
		return "", cairn.FieldError(field, "%q is not an email address; use the form name@example.com", email)
	}
	return e, nil
}

// insertUserRow inserts u. Returns CONFLICT when a user with its email exists.
func insertUserRow(ctx context.Context, db bun.IDB, u *cairn.User) error {
	_, err := db.NewInsert().Model(u).Exec(ctx)
	if err = interpretError(err, "create user"); cairn.ErrorCode(err) == cairn.ECONFLICT {
		return cairn.Errorf(cairn.ECONFLICT, "a user with email %s already exists; sign in, or use another email", u.Email)
	}
	return err
}

// insertRoleBinding grants role on tenantID to userID. Returns CONFLICT when
// the user already holds that role there.
func insertRoleBinding(ctx context.Context, db bun.IDB, userID, tenantID string, role cairn.Role, now time.Time) (*cairn.RoleBinding, error) {
	rb := &cairn.RoleBinding{ID: cairn.NewID(cairn.PrefixRoleBinding), UserID: userID, TenantID: tenantID, Role: role, CreatedAt: now}
	_, err := db.NewInsert().Model(rb).Exec(ctx)
	if err = interpretError(err, "grant role"); cairn.ErrorCode(err) == cairn.ECONFLICT {
		return nil, cairn.Errorf(cairn.ECONFLICT, "user %s already holds %s on tenant %s", userID, role, tenantID)
	} else if err != nil {
		return nil, err
	}
	return rb, nil
}

// requireGrantable returns FORBIDDEN unless p holds role (or a higher one)
// on tenantID: nobody grants more than they hold, and only ROOT grants ROOT.
func requireGrantable(ctx context.Context, db bun.IDB, p *cairn.Principal, role cairn.Role, tenantID string) error {
	ok, err := can(ctx, db, p, role, tenantID)
	if err != nil {
		return interpretError(err, "check role")
	}
	if !ok {
		return cairn.Errorf(cairn.EFORBIDDEN, "Granting %s on tenant %s needs the %s role on it or an ancestor: you cannot grant a role higher than one you hold", role, tenantID, role)
	}
	return nil
}
