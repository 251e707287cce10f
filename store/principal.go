package store

import (
	"context"
	"strings"

	"github.com/cairn-dev/cairn"
)

// principalSQL loads a user, whether their tenant (or any ancestor of it) is
// disabled, and the grants they hold on tenants none of whose ancestors is
// disabled: one statement, run on every request.
const principalSQL = `
SELECT u.id, u.tenant_id, u.email, u.disabled, u.activated,
       EXISTS (SELECT 1 FROM tenants AS a WHERE a.id = ANY (t.ancestors) AND a.state = 'DISABLED') AS tenant_disabled,
       ARRAY (SELECT rb.tenant_id || ' ' || rb.role FROM role_bindings AS rb JOIN tenants AS bt ON bt.id = rb.tenant_id
              WHERE rb.user_id = u.id
                AND NOT EXISTS (SELECT 1 FROM tenants AS a WHERE a.id = ANY (bt.ancestors) AND a.state = 'DISABLED')) AS grants
FROM users AS u JOIN tenants AS t ON t.id = u.tenant_id
WHERE u.id = ?`

// Principal loads the principal of a signed-in user: the user and the roles
// they hold. Returns UNAUTHENTICATED when the user no longer exists, is
// disabled or unactivated, or their home tenant or one above it is disabled.
// With CachePrincipals, a principal read before comes from this replica's
// cache, which every committed change to it empties (principal_cache.go).
func (s *Store) Principal(ctx context.Context, userID string) (*cairn.Principal, error) {
	c := s.principals.Load()
	if c == nil {
		return s.loadPrincipal(ctx, userID)
	}
	p, gen, ok := c.get(userID)
	if ok {
		return clonePrincipal(p), nil
	}
	p, err := s.loadPrincipal(ctx, userID)
	if err != nil {
		return nil, err
	}
	c.put(userID, clonePrincipal(p), gen)
	return p, nil
}

// loadPrincipal reads the principal of userID from the database.
func (s *Store) loadPrincipal(ctx context.Context, userID string) (*cairn.Principal, error) {
	var row struct {
		ID             string   `bun:"id"`
		TenantID       string   `bun:"tenant_id"`
		Email          string   `bun:"email"`
		Disabled       bool     `bun:"disabled"`
		Activated      bool     `bun:"activated"`
		TenantDisabled bool     `bun:"tenant_disabled"`
		Grants         []string `bun:"grants,array"`
	}
	if err := s.db.NewRaw(principalSQL, userID).Scan(ctx, &row); err != nil {
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
	case row.TenantDisabled:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Your tenant is disabled; its users can no longer act.")
	}
	p := &cairn.Principal{UserID: row.ID, TenantID: row.TenantID, Email: row.Email, Grants: make([]cairn.Grant, 0, len(row.Grants))}
	for _, g := range row.Grants {
		tenant, role, _ := strings.Cut(g, " ")
		p.Grants = append(p.Grants, cairn.Grant{TenantID: tenant, Role: cairn.Role(role)})
	}
	return p, nil
}
