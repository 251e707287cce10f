package store

import (
	"context"

	"github.com/cairn-dev/cairn"
)

// The child → parent edges. Each loads the parent for the child's whole
// cohort in one statement, and returns NOT_FOUND when the parent is outside
// the caller's scope.

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (l *Loaders) ParentOfTenant(ctx context.Context, t *cairn.Tenant) (*cairn.Tenant, error) {
	return loadParent(ctx, l, "tenant.parent", t.ID, t, tenants, func(t *cairn.Tenant) string { return deref(t.ParentID) })
}
func (l *Loaders) TenantOfUser(ctx context.Context, u *cairn.User) (*cairn.Tenant, error) {
	return loadParent(ctx, l, "user.tenant", u.ID, u, tenants, func(u *cairn.User) string { return u.TenantID })
}
func (l *Loaders) UserOfRoleBinding(ctx context.Context, b *cairn.RoleBinding) (*cairn.User, error) {
	return loadParent(ctx, l, "roleBinding.user", b.ID, b, users, func(b *cairn.RoleBinding) string { return b.UserID })
}
func (l *Loaders) TenantOfRoleBinding(ctx context.Context, b *cairn.RoleBinding) (*cairn.Tenant, error) {
	return loadParent(ctx, l, "roleBinding.tenant", b.ID, b, tenants, func(b *cairn.RoleBinding) string { return b.TenantID })
}
func (l *Loaders) ProviderOfService(ctx context.Context, s *cairn.Service) (*cairn.Tenant, error) {
	return loadParent(ctx, l, "service.provider", s.ID, s, tenants, func(s *cairn.Service) string { return s.ProviderTenantID })
}
func (l *Loaders) ServiceOfEnvironment(ctx context.Context, e *cairn.ServiceEnvironment) (*cairn.Service, error) {
	return loadParent(ctx, l, "environment.service", e.ID, e, services, func(e *cairn.ServiceEnvironment) string { return e.ServiceID })
}
func (l *Loaders) SourceOfEnvironment(ctx context.Context, e *cairn.ServiceEnvironment) (*cairn.ServiceEnvironment, error) {
	return loadParent(ctx, l, "environment.source", e.ID, e, environments, func(e *cairn.ServiceEnvironment) string { return deref(e.SourceEnvironmentID) })
}
func (l *Loaders) ServiceOfModel(ctx context.Context, m *cairn.ServiceModel) (*cairn.Service, error) {
	return loadParent(ctx, l, "model.service", m.ID, m, services, func(m *cairn.ServiceModel) string { return m.ServiceID })
}
func (l *Loaders) EnvironmentOfModel(ctx context.Context, m *cairn.ServiceModel) (*cairn.ServiceEnvironment, error) {
	return loadParent(ctx, l, "model.environment", m.ID, m, environments, func(m *cairn.ServiceModel) string { return m.EnvironmentID })
}
func (l *Loaders) ServiceOfTier(ctx context.Context, t *cairn.ProductTier) (*cairn.Service, error) {
	return loadParent(ctx, l, "tier.service", t.ID, t, services, func(t *cairn.ProductTier) string { return t.ServiceID })
}
func (l *Loaders) ModelOfTier(ctx context.Context, t *cairn.ProductTier) (*cairn.ServiceModel, error) {
	return loadParent(ctx, l, "tier.model", t.ID, t, models, func(t *cairn.ProductTier) string { return t.ModelID })
}
func (l *Loaders) ServiceOfResource(ctx context.Context, r *cairn.Resource) (*cairn.Service, error) {
	return loadParent(ctx, l, "resource.service", r.ID, r, services, func(r *cairn.Resource) string { return r.ServiceID })
}
func (l *Loaders) TierOfResource(ctx context.Context, r *cairn.Resource) (*cairn.ProductTier, error) {
	return loadParent(ctx, l, "resource.tier", r.ID, r, tiers, func(r *cairn.Resource) string { return r.TierID })
}
func (l *Loaders) TenantOfSubscription(ctx context.Context, s *cairn.ServiceSubscription) (*cairn.Tenant, error) {
	return loadParent(ctx, l, "subscription.tenant", s.ID, s, tenants, func(s *cairn.ServiceSubscription) string { return s.TenantID })
}
func (l *Loaders) TierOfSubscription(ctx context.Context, s *cairn.ServiceSubscription) (*cairn.ProductTier, error) {
	return loadParent(ctx, l, "subscription.tier", s.ID, s, tiers, func(s *cairn.ServiceSubscription) string { return s.TierID })
}
func (l *Loaders) ServiceOfSubscription(ctx context.Context, s *cairn.ServiceSubscription) (*cairn.Service, error) {
	return loadParent(ctx, l, "subscription.service", s.ID, s, services, func(s *cairn.ServiceSubscription) string { return s.ServiceID })
}
func (l *Loaders) ResourceOfInstance(ctx context.Context, i *cairn.ResourceInstance) (*cairn.Resource, error) {
	return loadParent(ctx, l, "instance.resource", i.ID, i, resources, func(i *cairn.ResourceInstance) string { return i.ResourceID })
}
func (l *Loaders) SubscriptionOfInstance(ctx context.Context, i *cairn.ResourceInstance) (*cairn.ServiceSubscription, error) {
	return loadParent(ctx, l, "instance.subscription", i.ID, i, subscriptions, func(i *cairn.ResourceInstance) string { return i.SubscriptionID })
}
func (l *Loaders) TenantOfInstance(ctx context.Context, i *cairn.ResourceInstance) (*cairn.Tenant, error) {
	return loadParent(ctx, l, "instance.tenant", i.ID, i, tenants, func(i *cairn.ResourceInstance) string { return i.TenantID })
}
func (l *Loaders) CreatorOfInstance(ctx context.Context, i *cairn.ResourceInstance) (*cairn.User, error) {
	return loadParent(ctx, l, "instance.createdBy", i.ID, i, users, func(i *cairn.ResourceInstance) string { return deref(i.CreatedByUserID) })
}
