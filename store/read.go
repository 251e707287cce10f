package store

import (
	"context"

	"github.com/cairn-dev/cairn"
)

// The top-level lists. Each returns a page of the objects the caller can see.
// Returns UNAUTHENTICATED when not signed in and BAD_USER_INPUT for bad
// pagination or order arguments.

func (s *Store) Tenants(ctx context.Context, args cairn.PageArgs, f *cairn.TenantFilter, o *cairn.Order) (*cairn.TenantConnection, error) {
	return listKind(ctx, s, tenants, args, f, o)
}

func (s *Store) Users(ctx context.Context, args cairn.PageArgs, f *cairn.UserFilter, o *cairn.Order) (*cairn.UserConnection, error) {
	return listKind(ctx, s, users, args, f, o)
}

func (s *Store) RoleBindings(ctx context.Context, args cairn.PageArgs, f *cairn.RoleBindingFilter) (*cairn.RoleBindingConnection, error) {
	return listKind(ctx, s, roleBindings, args, f, nil)
}

func (s *Store) Services(ctx context.Context, args cairn.PageArgs, f *cairn.ServiceFilter, o *cairn.Order) (*cairn.ServiceConnection, error) {
	return listKind(ctx, s, services, args, f, o)
}

func (s *Store) ServiceEnvironments(ctx context.Context, args cairn.PageArgs, f *cairn.ServiceEnvironmentFilter, o *cairn.Order) (*cairn.ServiceEnvironmentConnection, error) {
	return listKind(ctx, s, environments, args, f, o)
}

func (s *Store) ServiceModels(ctx context.Context, args cairn.PageArgs, f *cairn.ServiceModelFilter, o *cairn.Order) (*cairn.ServiceModelConnection, error) {
	return listKind(ctx, s, models, args, f, o)
}

func (s *Store) ProductTiers(ctx context.Context, args cairn.PageArgs, f *cairn.ProductTierFilter, o *cairn.Order) (*cairn.ProductTierConnection, error) {
	return listKind(ctx, s, tiers, args, f, o)
}

func (s *Store) Resources(ctx context.Context, args cairn.PageArgs, f *cairn.ResourceFilter, o *cairn.Order) (*cairn.ResourceConnection, error) {
	return listKind(ctx, s, resources, args, f, o)
}

func (s *Store) ServiceSubscriptions(ctx context.Context, args cairn.PageArgs, f *cairn.ServiceSubscriptionFilter, o *cairn.Order) (*cairn.ServiceSubscriptionConnection, error) {
	return listKind(ctx, s, subscriptions, args, f, o)
}

func (s *Store) Instances(ctx context.Context, args cairn.PageArgs, f *cairn.ResourceInstanceFilter, o *cairn.Order) (*cairn.ResourceInstanceConnection, error) {
	return listKind(ctx, s, instances, args, f, o)
}
