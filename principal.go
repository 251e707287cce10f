package cairn

import (
	"context"
	"slices"
)

// Role is a level of access granted on a tenant and all its descendants.
type Role string

const (
	RoleRoot   Role = "ROOT"
	RoleAdmin  Role = "ADMIN"
	RoleEditor Role = "EDITOR"
	RoleReader Role = "READER"
)

// rank orders roles: a higher rank includes every right of a lower one.
func (r Role) rank() int {
	switch r {
	case RoleRoot:
		return 4
	case RoleAdmin:
		return 3
	case RoleEditor:
		return 2
	case RoleReader:
		return 1
	}
	return 0
}

// Includes reports whether r grants at least the rights of other.
func (r Role) Includes(other Role) bool { return r.rank() >= other.rank() && other.rank() > 0 }

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Grant is one role on one tenant, as held by a principal.
type Grant struct {
	TenantID string
	Role     Role
}

// Principal is who a request acts as: a user signed in with a Cairn or OIDC
// token, or an API key. It is built once per request by the HTTP middleware and
// read everywhere else with PrincipalFromContext.
type Principal struct {
	UserID   string // the user, or "" for an API key
	APIKeyID string // the API key, or "" for a user
	TenantID string // the home tenant of the user or key
	Email    string
	Grants   []Grant
}

// TenantsWith returns the IDs of the tenants on which p holds role or a higher
// one. A grant covers the tenant's whole subtree; the store expands it in SQL.
func (p *Principal) TenantsWith(role Role) []string {
	if p == nil {
		return nil
	}
	var ids []string
	for _, g := range p.Grants {
		if g.Role.Includes(role) && !slices.Contains(ids, g.TenantID) {
			ids = append(ids, g.TenantID)
		}
	}
	return ids
}

type principalKey struct{}

// NewContextWithPrincipal returns a copy of ctx that carries p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal of ctx, or nil if the request is
// not signed in.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// RequirePrincipal returns the principal of ctx. Returns UNAUTHENTICATED if
// the request is not signed in.
func RequirePrincipal(ctx context.Context) (*Principal, error) {
	if p := PrincipalFromContext(ctx); p != nil {
		return p, nil
	}
	return nil, Errorf(EUNAUTHENTICATED, "Sign in first: send Authorization: Bearer <token> (signIn returns one).")
}
