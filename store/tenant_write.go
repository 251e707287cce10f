package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// tenantParentKinds says under which kinds of parent each kind of tenant may
// be created. ROOT has no entry: it is only ever the first tenant of the tree.
var tenantParentKinds = map[cairn.TenantKind][]cairn.TenantKind{
	cairn.TenantPartner:  {cairn.TenantRoot, cairn.TenantPartner},
	cairn.TenantCustomer: {cairn.TenantPartner, cairn.TenantRoot},
	cairn.TenantUnit:     {cairn.TenantCustomer, cairn.TenantUnit},
}

// CreateTenant creates an ENABLED tenant under in.ParentID. Returns
// UNAUTHENTICATED when not signed in; BAD_USER_INPUT for a blank name, for
// kind ROOT and for a kind that does not fit under the parent's kind (PARTNER
// under ROOT or PARTNER, CUSTOMER under PARTNER or ROOT, UNIT under CUSTOMER
// or UNIT); NOT_FOUND when the parent does not exist or is outside the
// caller's scope; FORBIDDEN without ADMIN on the parent; FAILED_PRECONDITION
// when the parent is DISABLED.
func (s *Store) CreateTenant(ctx context.Context, in cairn.CreateTenantInput) (*cairn.Tenant, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	if _, ok := tenantParentKinds[in.Kind]; !ok {
		if in.Kind == cairn.TenantRoot {
			return nil, cairn.FieldError("input.kind", "a ROOT tenant can only be the first tenant of the tree; create a PARTNER, CUSTOMER or UNIT instead")
		}
		return nil, cairn.FieldError("input.kind", "%q is not a tenant kind; use PARTNER, CUSTOMER or UNIT", in.Kind)
	}
	var t *cairn.Tenant
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		parent, err := scopedTenantShared(ctx, tx, p, in.ParentID)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, parent.ID, "Creating a tenant"); err != nil {
			return err
		}
		if !tenantKindFits(in.Kind, parent.Kind) {
			return cairn.FieldError("input.kind", "a %s tenant cannot be created under the %s tenant %s; a %s goes under %s", in.Kind, parent.Kind, parent.ID, in.Kind, tenantKindList(tenantParentKinds[in.Kind]))
		}
		if parent.State == cairn.TenantDisabled {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s is DISABLED; enable it before creating tenants under it", parent.ID)
		}
		t = newChildTenant(parent, strings.TrimSpace(in.Name), in.Kind, s.Now())
		_, err = tx.NewInsert().Model(t).Exec(ctx)
		return interpretError(err, "create tenant")
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateTenant renames a tenant or changes its state. Returns UNAUTHENTICATED
// when not signed in; NOT_FOUND when it does not exist or is outside the
// caller's scope; CONFLICT for a stale expectedVersion; FORBIDDEN without
// ADMIN on the tenant; BAD_USER_INPUT for a blank name or an unknown state;
// FAILED_PRECONDITION when disabling the ROOT tenant.
func (s *Store) UpdateTenant(ctx context.Context, in cairn.UpdateTenantInput) (*cairn.Tenant, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	if in.State != nil && !cairn.EnumValid("TenantState", string(*in.State)) {
		return nil, cairn.FieldError("input.state", "%q is not a tenant state; use ENABLED or DISABLED", *in.State)
	}
	var t *cairn.Tenant
	err = s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, tenants, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, row.ID, "Changing a tenant"); err != nil {
			return err
		}
		if in.State != nil && *in.State == cairn.TenantDisabled && row.Kind == cairn.TenantRoot {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s is the ROOT tenant and cannot be disabled: every user would lose access", row.ID)
		}
		if in.Name != nil {
			row.Name = strings.TrimSpace(*in.Name)
		}
		if in.State != nil {
			row.State = *in.State
		}
		if err := saveVersioned(ctx, tx, row, s.Now()); err != nil {
			return interpretError(err, "update tenant "+quote(row.ID))
		}
		t = row
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteTenant deletes a DISABLED tenant that has no child tenants, users,
// services, instances or subscriptions other than CANCELLED ones; its role
// bindings and cancelled subscriptions go with it. Returns UNAUTHENTICATED
// when not signed in; NOT_FOUND when it does not exist or is outside the
// caller's scope; CONFLICT for a stale expectedVersion; FORBIDDEN without
// ADMIN on the parent tenant (an admin cannot delete the tenant they stand
// on); FAILED_PRECONDITION for the ROOT tenant, an ENABLED tenant, or one
// that still holds any of the above.
func (s *Store) DeleteTenant(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.principalTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, tenants, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if row.ParentID == nil {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s is the ROOT tenant and cannot be deleted", row.ID)
		}
		ok, err := can(ctx, tx, p, cairn.RoleAdmin, *row.ParentID)
		if err != nil {
			return interpretError(err, "check role")
		}
		if !ok {
			return cairn.Errorf(cairn.EFORBIDDEN, "Deleting tenant %s needs the ADMIN role (or higher) on its parent tenant %s; an admin of a tenant cannot delete it themselves, ask an admin of the parent", row.ID, *row.ParentID)
		}
		if row.State != cairn.TenantDisabled {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s is %s: disable the tenant first (updateTenant with state DISABLED), then delete it", row.ID, row.State)
		}
		if err := tenantDeleteBlockers(ctx, tx, row.ID); err != nil {
			return err
		}
		if _, err := tx.NewDelete().TableExpr("role_bindings").Where("tenant_id = ?", row.ID).Exec(ctx); err != nil {
			return interpretError(err, "delete role bindings of tenant "+quote(row.ID))
		}
		if _, err := tx.NewDelete().TableExpr("service_subscriptions").Where("tenant_id = ? AND status = ?", row.ID, cairn.SubscriptionCancelled).Exec(ctx); err != nil {
			return interpretError(err, "delete cancelled subscriptions of tenant "+quote(row.ID))
		}
		_, err = tx.NewDelete().Model(row).WherePK().Exec(ctx)
		return interpretError(err, "delete tenant "+quote(row.ID))
	})
}

// tenantDeleteBlockers returns FAILED_PRECONDITION naming the first thing
// that still keeps tenant id from being deleted, counted in one statement.
func tenantDeleteBlockers(ctx context.Context, db bun.IDB, id string) error {
	var n struct {
		Children      int `bun:"children"`
		Users         int `bun:"users"`
		Services      int `bun:"services"`
		Instances     int `bun:"instances"`
		Subscriptions int `bun:"subscriptions"`
	}
	err := db.NewSelect().
		ColumnExpr("(SELECT count(*) FROM tenants WHERE parent_id = ?) AS children", id).
		ColumnExpr("(SELECT count(*) FROM users WHERE tenant_id = ?) AS users", id).
		ColumnExpr("(SELECT count(*) FROM services WHERE provider_tenant_id = ?) AS services", id).
		ColumnExpr("(SELECT count(*) FROM resource_instances WHERE tenant_id = ?) AS instances", id).
		ColumnExpr("(SELECT count(*) FROM service_subscriptions WHERE tenant_id = ? AND status <> ?) AS subscriptions", id, cairn.SubscriptionCancelled).
		Scan(ctx, &n)
	if err != nil {
		return interpretError(err, "count what tenant "+quote(id)+" holds")
	}
	switch {
	case n.Children > 0:
		return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s has %d child tenant(s); delete them first", id, n.Children)
	case n.Users > 0:
		return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s has %d user(s); delete them first", id, n.Users)
	case n.Services > 0:
		return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s provides %d service(s); delete them first", id, n.Services)
	case n.Instances > 0:
		return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s has %d instance(s); delete them first", id, n.Instances)
	case n.Subscriptions > 0:
		return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s has %d subscription(s) that are not CANCELLED; cancel them first", id, n.Subscriptions)
	}
	return nil
}

// scopedTenantShared selects tenant id inside p's read scope and locks it
// FOR SHARE, so that it cannot be deleted while tx adds something under it.
// Returns NOT_FOUND when it does not exist or is outside the scope.
func scopedTenantShared(ctx context.Context, db bun.IDB, p *cairn.Principal, id string) (*cairn.Tenant, error) {
	t := new(cairn.Tenant)
	err := tenants.scope(db.NewSelect().Model(t), p).Where("?TableAlias.id = ?", id).For("SHARE").Scan(ctx)
	if err != nil {
		return nil, interpretError(err, "tenant "+quote(id))
	}
	return t, nil
}

// newChildTenant returns a new ENABLED tenant under parent, not yet inserted.
func newChildTenant(parent *cairn.Tenant, name string, k cairn.TenantKind, now time.Time) *cairn.Tenant {
	id := cairn.NewID(cairn.PrefixTenant)
	return &cairn.Tenant{
		ID: id, Name: name, Kind: k, State: cairn.TenantEnabled, ParentID: &parent.ID,
		Ancestors: append(append([]string{}, parent.Ancestors...), id),
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
}

func tenantKindFits(k, parent cairn.TenantKind) bool {
	return slices.Contains(tenantParentKinds[k], parent)
}

func tenantKindList(ks []cairn.TenantKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, " or ")
}
