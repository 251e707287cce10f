package store

import (
	"context"

	"github.com/cairn-dev/cairn"
)

// Principal loads the principal of a signed-in user: the user and the roles
// they hold. Returns UNAUTHENTICATED when the user no longer exists, is
// disabled or unactivated, or their home tenant is disabled.
func (s *Store) Principal(ctx context.Context, userID string) (*cairn.Principal, error) {
	var row struct {
		cairn.User  `bun:",extend"`
		TenantState cairn.TenantState `bun:"tenant_state"`
	}
	err := s.db.NewSelect().Model(&row).ModelTableExpr("users AS u").
		ColumnExpr("u.*, t.state AS tenant_state").
		Join("JOIN tenants AS t ON t.id = u.tenant_id").
		Where("u.id = ?", userID).Scan(ctx)
	if err != nil {
		if cairn.ErrorCode(interpretError(err, "")) == cairn.ENOTFOUND {
			return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "The account of this token no longer exists; sign in again.")
		}
		return nil, interpretError(err, "load principal")
	}
	switch {
	case row.Disabled:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Your account is disabled; ask an admin of your tenant to enable it.")
	case !row.Activated:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Your account is not activated yet; set a password first.")
	case row.TenantState == cairn.TenantDisabled:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Your tenant is disabled; its users can no longer act.")
	}
	var grants []cairn.Grant
	err = s.db.NewSelect().TableExpr("role_bindings AS rb").ColumnExpr("rb.tenant_id, rb.role").
		Join("JOIN tenants AS t ON t.id = rb.tenant_id AND t.state = 'ENABLED'").
		Where("rb.user_id = ?", userID).Scan(ctx, &grants)
	if err != nil {
		return nil, interpretError(err, "load roles")
	}
	return &cairn.Principal{UserID: row.ID, TenantID: row.TenantID, Email: row.Email, Grants: grants}, nil
}
