package store

import (
	"context"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// kind describes one type of the graph to the generic list and load
// functions: its name in messages, its read scope and its filter.
type kind[T, F any] struct {
	name   string
	gql    string // the GraphQL type; "" fetches every column and cursor
	scope  scopeFunc
	filter func(q *bun.SelectQuery, f *F) *bun.SelectQuery
	// jsonCols are columns a page leaves out unless the selection asks for
	// one of jsonFields (the GraphQL fields that read them).
	jsonCols, jsonFields []string
	// owned kinds (tenant_id and provider_tenant_id, scopeOwned) list
	// through listOwned.
	owned bool
	// plain maps the GraphQL fields that read one column and nothing else
	// to it: a page whose nodes ask only for these selects only them.
	plain map[string]string
}

// filtered returns the filter f alone, without the scope.
func (k kind[T, F]) filtered(f *F) filterFunc {
	return func(q *bun.SelectQuery) *bun.SelectQuery {
		if f != nil && k.filter != nil {
			q = k.filter(q, f)
		}
		return q
	}
}

// objectView returns what a single object of k (not a page) fetches for the
// selection under ctx: every column but the JSON ones nobody reads.
func (k kind[T, F]) objectView(ctx context.Context) view {
	if len(k.jsonCols) == 0 || shapeOf(ctx, k.gql, nil, k.jsonFields...).json {
		return view{}
	}
	return view{omit: k.jsonCols}
}

// view returns what a page of k fetches for the selection under ctx.
func (k kind[T, F]) view(ctx context.Context) view {
	sh := shapeOf(ctx, k.gql+"Connection", k.plain, k.jsonFields...)
	v := view{cursors: sh.cursors, cols: sh.cols}
	if !sh.json {
		v.omit = k.jsonCols
	}
	return v
}

// where returns the scope of p plus the filter f (nil: no filter).
func (k kind[T, F]) where(p *cairn.Principal, f *F) filterFunc {
	return func(q *bun.SelectQuery) *bun.SelectQuery {
		q = k.scope(q, p)
		if f != nil && k.filter != nil {
			q = k.filter(q, f)
		}
		return q
	}
}

// listKind returns a page of k's objects visible to the caller. Returns
// UNAUTHENTICATED when not signed in and BAD_USER_INPUT for bad arguments.
func listKind[T, F any](ctx context.Context, s *Store, k kind[T, F], args cairn.PageArgs, f *F, o *cairn.Order) (*cairn.Connection[T], error) {
	p, err := cairn.RequirePrincipal(ctx)
	if err != nil {
		return nil, err
	}
	v := k.view(ctx)
	var c *cairn.Connection[T]
	if k.owned {
		c, err = listOwned[T](ctx, s, p, args, o, k.filtered(f), k.where(p, f), v, k.name+"s")
	} else {
		c, err = list[T](ctx, s.db, args, o, k.where(p, f), v, k.name+"s")
	}
	if err == nil && v.cols == nil { // partial rows make no cohort
		remember(loadersIn(ctx), c.Nodes())
	}
	return c, err
}

// eq adds "column = value" when value is set.
func eq[V any](q *bun.SelectQuery, col string, v *V) *bun.SelectQuery {
	if v == nil {
		return q
	}
	return q.Where("?TableAlias.? = ?", bun.Ident(col), *v)
}

// contains adds a case-insensitive substring match when s is set.
func contains(q *bun.SelectQuery, col string, s *string) *bun.SelectQuery {
	if s == nil || *s == "" {
		return q
	}
	return q.Where("strpos(lower(?TableAlias.?), lower(?)) > 0", bun.Ident(col), *s)
}

var (
	tenants = kind[cairn.Tenant, cairn.TenantFilter]{gql: "Tenant", name: "tenant", scope: scopeTenants,
		filter: func(q *bun.SelectQuery, f *cairn.TenantFilter) *bun.SelectQuery {
			q = eq(eq(eq(q, "kind", f.Kind), "state", f.State), "parent_id", f.ParentID)
			return contains(q, "name", f.NameContains)
		}}
	users = kind[cairn.User, cairn.UserFilter]{gql: "User", name: "user", scope: scopeUsers,
		filter: func(q *bun.SelectQuery, f *cairn.UserFilter) *bun.SelectQuery {
			return contains(eq(q, "tenant_id", f.TenantID), "email", f.EmailContains)
		}}
	roleBindings = kind[cairn.RoleBinding, cairn.RoleBindingFilter]{gql: "RoleBinding", name: "role binding", scope: scopeRoleBindings,
		filter: func(q *bun.SelectQuery, f *cairn.RoleBindingFilter) *bun.SelectQuery {
			return eq(eq(eq(q, "tenant_id", f.TenantID), "user_id", f.UserID), "role", f.Role)
		}}
	services = kind[cairn.Service, cairn.ServiceFilter]{gql: "Service", name: "service", scope: scopeServices,
		filter: func(q *bun.SelectQuery, f *cairn.ServiceFilter) *bun.SelectQuery {
			return contains(eq(q, "provider_tenant_id", f.ProviderTenantID), "name", f.NameContains)
		}}
	environments = kind[cairn.ServiceEnvironment, cairn.ServiceEnvironmentFilter]{gql: "ServiceEnvironment", name: "service environment", scope: scopeEnvironments,
		filter: func(q *bun.SelectQuery, f *cairn.ServiceEnvironmentFilter) *bun.SelectQuery {
			return eq(eq(eq(q, "service_id", f.ServiceID), "type", f.Type), "visibility", f.Visibility)
		}}
	models = kind[cairn.ServiceModel, cairn.ServiceModelFilter]{gql: "ServiceModel", name: "service model", scope: scopeBelowEnv,
		filter: func(q *bun.SelectQuery, f *cairn.ServiceModelFilter) *bun.SelectQuery {
			return eq(eq(eq(q, "service_id", f.ServiceID), "environment_id", f.EnvironmentID), "model_type", f.ModelType)
		}}
	tiers = kind[cairn.ProductTier, cairn.ProductTierFilter]{gql: "ProductTier", name: "product tier", scope: scopeBelowEnv,
		jsonCols: []string{"pricing", "features"}, jsonFields: []string{"pricing", "features"},
		filter: func(q *bun.SelectQuery, f *cairn.ProductTierFilter) *bun.SelectQuery {
			return eq(eq(eq(eq(q, "service_id", f.ServiceID), "model_id", f.ModelID), "tier_type", f.TierType), "disabled", f.Disabled)
		}}
	resources = kind[cairn.Resource, cairn.ResourceFilter]{gql: "Resource", name: "resource", scope: scopeBelowEnv,
		jsonCols: []string{"input_parameters", "output_parameters"}, jsonFields: []string{"inputParameters", "outputParameters"},
		filter: func(q *bun.SelectQuery, f *cairn.ResourceFilter) *bun.SelectQuery {
			return contains(eq(eq(q, "service_id", f.ServiceID), "tier_id", f.TierID), "name", f.NameContains)
		}}
	subscriptions = kind[cairn.ServiceSubscription, cairn.ServiceSubscriptionFilter]{gql: "ServiceSubscription", name: "service subscription", scope: scopeOwned, owned: true,
		filter: func(q *bun.SelectQuery, f *cairn.ServiceSubscriptionFilter) *bun.SelectQuery {
			return eq(eq(eq(eq(q, "tenant_id", f.TenantID), "service_id", f.ServiceID), "tier_id", f.TierID), "status", f.Status)
		}}
	instances = kind[cairn.ResourceInstance, cairn.ResourceInstanceFilter]{gql: "ResourceInstance", name: "instance", scope: scopeOwned, owned: true,
		jsonCols: []string{"request_params", "result_params"}, jsonFields: []string{"requestParams", "resultParams"},
		plain: map[string]string{"id": "id", "status": "status", "cloudProvider": "cloud_provider", "region": "region",
			"networkType": "network_type", "resultParams": "result_params", "replicas": "replicas", "resourceId": "resource_id",
			"subscriptionId": "subscription_id", "tenantId": "tenant_id", "createdByUserId": "created_by_user_id",
			"createdAt": "created_at", "updatedAt": "updated_at", "version": "version", "quarantinedAt": "quarantined_at"},
		filter: func(q *bun.SelectQuery, f *cairn.ResourceInstanceFilter) *bun.SelectQuery {
			q = eq(eq(eq(q, "tenant_id", f.TenantID), "service_id", f.ServiceID), "tier_id", f.TierID)
			q = eq(eq(eq(eq(q, "resource_id", f.ResourceID), "subscription_id", f.SubscriptionID), "cloud_provider", f.CloudProvider), "region", f.Region)
			if len(f.Status) > 0 {
				q = q.Where("?TableAlias.status IN (?)", bun.List(f.Status))
			}
			return q
		}}
)
