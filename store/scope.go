package store

import (
	"context"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Tenant scoping happens here, in SQL, for every read and write. A grant on a
// tenant covers its subtree: the tenants whose ancestors include it.
//
// An object outside the caller's scope is simply not selected, so it answers
// NOT_FOUND exactly like one that does not exist.

// treeSQL selects the tenants in the subtrees of an array of tenant IDs.
const treeSQL = "(SELECT id FROM tenants WHERE ancestors && ?)"

// ids returns the tenants on which p holds role as a SQL array; never NULL.
func ids(p *cairn.Principal, role cairn.Role) any {
	t := p.TenantsWith(role)
	if t == nil {
		t = []string{}
	}
	return pgdialect.Array(t)
}

// scopeFunc adds the read scope of a table for a principal to a query.
type scopeFunc func(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery

func scopeTenants(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
	return q.Where("?TableAlias.ancestors && ?", ids(p, cairn.RoleReader))
}

func scopeUsers(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("?TableAlias.tenant_id IN "+treeSQL, ids(p, cairn.RoleReader)).
			WhereOr("?TableAlias.id = ?", p.UserID)
	})
}

func scopeRoleBindings(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("?TableAlias.tenant_id IN "+treeSQL, ids(p, cairn.RoleReader)).
			WhereOr("?TableAlias.user_id = ?", p.UserID)
	})
}

// scopeCatalog is the read scope of a catalog table: the provider's tree,
// every signed-in user for PUBLIC environments, and the subscribers of a tier
// for the environment that tier belongs to (not the service's other, private
// environments). public and subscribed are predicates on the row.
func scopeCatalog(public, subscribed string) scopeFunc {
	return func(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
		readers := ids(p, cairn.RoleReader)
		return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("?TableAlias.provider_tenant_id IN "+treeSQL, readers).
				WhereOr(public).
				WhereOr(subscribed, readers)
		})
	}
}

// subscribedEnvs selects the environments of the tiers the subtrees of an
// array of tenant IDs subscribe to.
const subscribedEnvs = "(SELECT pt.environment_id FROM service_subscriptions AS ss JOIN product_tiers AS pt ON pt.id = ss.tier_id WHERE ss.tenant_id IN " + treeSQL + ")"

var (
	scopeServices = scopeCatalog(
		"?TableAlias.id IN (SELECT service_id FROM service_environments WHERE visibility = 'PUBLIC')",
		"?TableAlias.id IN (SELECT service_id FROM service_subscriptions WHERE tenant_id IN "+treeSQL+")")
	scopeEnvironments = scopeCatalog("?TableAlias.visibility = 'PUBLIC'", "?TableAlias.id IN "+subscribedEnvs)
	scopeBelowEnv     = scopeCatalog(
		"?TableAlias.environment_id IN (SELECT id FROM service_environments WHERE visibility = 'PUBLIC')",
		"?TableAlias.environment_id IN "+subscribedEnvs)
)

// scopeOwned is the read scope of subscriptions and instances: the owning
// customer's tree and the provider's tree.
func scopeOwned(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
	readers := ids(p, cairn.RoleReader)
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("?TableAlias.tenant_id IN "+treeSQL, readers).
			WhereOr("?TableAlias.provider_tenant_id IN "+treeSQL, readers)
	})
}

// can reports whether p holds role (or a higher one) on tenantID, directly or
// through an ancestor.
func can(ctx context.Context, db bun.IDB, p *cairn.Principal, role cairn.Role, tenantID string) (bool, error) {
	if p == nil || len(p.TenantsWith(role)) == 0 {
		return false, nil
	}
	var ok bool
	err := db.NewSelect().ColumnExpr("EXISTS (SELECT 1 FROM tenants WHERE id = ? AND ancestors && ?)", tenantID, ids(p, role)).Scan(ctx, &ok)
	return ok, err
}

// require returns FORBIDDEN unless p holds role on tenantID.
func require(ctx context.Context, db bun.IDB, p *cairn.Principal, role cairn.Role, tenantID, action string) error {
	ok, err := can(ctx, db, p, role, tenantID)
	if err != nil {
		return interpretError(err, "check role")
	}
	if !ok {
		return cairn.Errorf(cairn.EFORBIDDEN, "%s needs the %s role (or higher) on tenant %s; ask an admin of that tenant to grant it.", action, role, tenantID)
	}
	return nil
}
