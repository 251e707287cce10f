package store

import (
	"context"

	"github.com/cairn-dev/cairn"
)

// Objects by ID, through the request's loaders. Each returns NOT_FOUND when the
// object does not exist or is outside the caller's scope, and UNAUTHENTICATED
// when the request is not signed in.

func (l *Loaders) Tenant(ctx context.Context, id string) (*cairn.Tenant, error) {
	return loadByID(ctx, l, tenants, id)
}
func (l *Loaders) User(ctx context.Context, id string) (*cairn.User, error) {
	return loadByID(ctx, l, users, id)
}
func (l *Loaders) RoleBinding(ctx context.Context, id string) (*cairn.RoleBinding, error) {
	return loadByID(ctx, l, roleBindings, id)
}
func (l *Loaders) Service(ctx context.Context, id string) (*cairn.Service, error) {
	return loadByID(ctx, l, services, id)
}
func (l *Loaders) ServiceEnvironment(ctx context.Context, id string) (*cairn.ServiceEnvironment, error) {
	return loadByID(ctx, l, environments, id)
}
func (l *Loaders) ServiceModel(ctx context.Context, id string) (*cairn.ServiceModel, error) {
	return loadByID(ctx, l, models, id)
}
func (l *Loaders) ProductTier(ctx context.Context, id string) (*cairn.ProductTier, error) {
	return loadByID(ctx, l, tiers, id)
}
func (l *Loaders) Resource(ctx context.Context, id string) (*cairn.Resource, error) {
	return loadByID(ctx, l, resources, id)
}
func (l *Loaders) ServiceSubscription(ctx context.Context, id string) (*cairn.ServiceSubscription, error) {
	return loadByID(ctx, l, subscriptions, id)
}
func (l *Loaders) Instance(ctx context.Context, id string) (*cairn.ResourceInstance, error) {
	return loadByID(ctx, l, instances, id)
}

// Node loads any object by its prefixed ID. Returns NOT_FOUND for an unknown
// prefix too.
func (l *Loaders) Node(ctx context.Context, id string) (cairn.Node, error) {
	switch cairn.IDPrefix(id) {
	case cairn.PrefixTenant:
		return l.Tenant(ctx, id)
	case cairn.PrefixUser:
		return l.User(ctx, id)
	case cairn.PrefixRoleBinding:
		return l.RoleBinding(ctx, id)
	case cairn.PrefixService:
		return l.Service(ctx, id)
	case cairn.PrefixEnvironment:
		return l.ServiceEnvironment(ctx, id)
	case cairn.PrefixModel:
		return l.ServiceModel(ctx, id)
	case cairn.PrefixTier:
		return l.ProductTier(ctx, id)
	case cairn.PrefixResource:
		return l.Resource(ctx, id)
	case cairn.PrefixSubscription:
		return l.ServiceSubscription(ctx, id)
	case cairn.PrefixInstance:
		return l.Instance(ctx, id)
	case cairn.PrefixIdentityProvider:
		return l.s.IdentityProvider(ctx, id)
	case cairn.PrefixOperation:
		return l.s.Operation(ctx, id)
	case cairn.PrefixCredential:
		return l.s.InstanceCredential(ctx, id)
	case cairn.PrefixAPIKey:
		return l.s.APIKey(ctx, id)
	case cairn.PrefixEvent:
		return l.s.Event(ctx, id)
	case cairn.PrefixSnapshot:
		return l.s.Snapshot(ctx, id)
	}
	return nil, cairn.NotFound("object", id)
}

// Nested connections, batched across parents.

func (l *Loaders) ChildrenOf(ctx context.Context, tenantID string, a cairn.PageArgs, f *cairn.TenantFilter, o *cairn.Order) (*cairn.TenantConnection, error) {
	return loadConn(ctx, l, tenants, "parent_id", tenantID, a, f, o)
}
func (l *Loaders) UsersOf(ctx context.Context, tenantID string, a cairn.PageArgs, f *cairn.UserFilter, o *cairn.Order) (*cairn.UserConnection, error) {
	return loadConn(ctx, l, users, "tenant_id", tenantID, a, f, o)
}
func (l *Loaders) ServicesOf(ctx context.Context, tenantID string, a cairn.PageArgs, f *cairn.ServiceFilter, o *cairn.Order) (*cairn.ServiceConnection, error) {
	return loadConn(ctx, l, services, "provider_tenant_id", tenantID, a, f, o)
}
func (l *Loaders) SubscriptionsOfTenant(ctx context.Context, tenantID string, a cairn.PageArgs, f *cairn.ServiceSubscriptionFilter, o *cairn.Order) (*cairn.ServiceSubscriptionConnection, error) {
	return loadConn(ctx, l, subscriptions, "tenant_id", tenantID, a, f, o)
}
func (l *Loaders) InstancesOfTenant(ctx context.Context, tenantID string, a cairn.PageArgs, f *cairn.ResourceInstanceFilter, o *cairn.Order) (*cairn.ResourceInstanceConnection, error) {
	return loadConn(ctx, l, instances, "tenant_id", tenantID, a, f, o)
}
func (l *Loaders) RoleBindingsOf(ctx context.Context, userID string, a cairn.PageArgs) (*cairn.RoleBindingConnection, error) {
	return loadConn(ctx, l, roleBindings, "user_id", userID, a, nil, nil)
}
func (l *Loaders) EnvironmentsOf(ctx context.Context, serviceID string, a cairn.PageArgs, f *cairn.ServiceEnvironmentFilter, o *cairn.Order) (*cairn.ServiceEnvironmentConnection, error) {
	return loadConn(ctx, l, environments, "service_id", serviceID, a, f, o)
}
func (l *Loaders) SubscriptionsOfService(ctx context.Context, serviceID string, a cairn.PageArgs, f *cairn.ServiceSubscriptionFilter, o *cairn.Order) (*cairn.ServiceSubscriptionConnection, error) {
	return loadConn(ctx, l, subscriptions, "service_id", serviceID, a, f, o)
}
func (l *Loaders) InstancesOfService(ctx context.Context, serviceID string, a cairn.PageArgs, f *cairn.ResourceInstanceFilter, o *cairn.Order) (*cairn.ResourceInstanceConnection, error) {
	return loadConn(ctx, l, instances, "service_id", serviceID, a, f, o)
}
func (l *Loaders) ModelsOf(ctx context.Context, environmentID string, a cairn.PageArgs, f *cairn.ServiceModelFilter, o *cairn.Order) (*cairn.ServiceModelConnection, error) {
	return loadConn(ctx, l, models, "environment_id", environmentID, a, f, o)
}
func (l *Loaders) TiersOf(ctx context.Context, modelID string, a cairn.PageArgs, f *cairn.ProductTierFilter, o *cairn.Order) (*cairn.ProductTierConnection, error) {
	return loadConn(ctx, l, tiers, "model_id", modelID, a, f, o)
}
func (l *Loaders) ResourcesOf(ctx context.Context, tierID string, a cairn.PageArgs, f *cairn.ResourceFilter, o *cairn.Order) (*cairn.ResourceConnection, error) {
	return loadConn(ctx, l, resources, "tier_id", tierID, a, f, o)
}
func (l *Loaders) SubscriptionsOfTier(ctx context.Context, tierID string, a cairn.PageArgs, f *cairn.ServiceSubscriptionFilter, o *cairn.Order) (*cairn.ServiceSubscriptionConnection, error) {
	return loadConn(ctx, l, subscriptions, "tier_id", tierID, a, f, o)
}
func (l *Loaders) InstancesOfResource(ctx context.Context, resourceID string, a cairn.PageArgs, f *cairn.ResourceInstanceFilter, o *cairn.Order) (*cairn.ResourceInstanceConnection, error) {
	return loadConn(ctx, l, instances, "resource_id", resourceID, a, f, o)
}
func (l *Loaders) InstancesOfSubscription(ctx context.Context, subscriptionID string, a cairn.PageArgs, f *cairn.ResourceInstanceFilter, o *cairn.Order) (*cairn.ResourceInstanceConnection, error) {
	return loadConn(ctx, l, instances, "subscription_id", subscriptionID, a, f, o)
}
