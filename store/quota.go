package store

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// quotaTable names the table of cairn.TenantQuota, whose name bun's
// inflection would take for a plural already ("quota").
const quotaTable = "tenant_quotas AS tenant_quota"

// quotaUsedSQL counts what a quota row q limits: the instances of q's tenant
// tree (of q's tier, when set) that are not being deleted.
const quotaUsedSQL = `(SELECT count(*) FROM resource_instances AS ri JOIN tenants AS qt ON qt.id = ri.tenant_id
	WHERE ?TableAlias.tenant_id = ANY(qt.ancestors) AND ri.status NOT IN ('DELETING', 'DELETED')
	AND (?TableAlias.tier_id IS NULL OR ri.tier_id = ?TableAlias.tier_id))`

// Quotas returns the quotas set on a tenant, each with what it counts now.
// Returns UNAUTHENTICATED when not signed in; NOT_FOUND when the tenant does
// not exist or is outside the caller's scope.
func (s *Store) Quotas(ctx context.Context, tenantID string) ([]*cairn.TenantQuota, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := scopedTenantShared(ctx, s.db, p, tenantID); err != nil {
		return nil, err
	}
	qs := []*cairn.TenantQuota{}
	err = s.db.NewSelect().Model(&qs).ModelTableExpr(quotaTable).ColumnExpr("?TableAlias.*").ColumnExpr(quotaUsedSQL+" AS used").
		Where("?TableAlias.tenant_id = ?", tenantID).OrderExpr("?TableAlias.item, ?TableAlias.tier_id NULLS FIRST").Scan(ctx)
	if err != nil {
		return nil, interpretError(err, "quotas of tenant "+quote(tenantID))
	}
	return qs, nil
}

// SetQuota sets the limit of an item on a tenant's whole tree, replacing the
// one set before. A tenant's own admins cannot raise their quota: it needs
// ADMIN on the parent tenant (ROOT on the root tenant). Returns
// UNAUTHENTICATED when not signed in; BAD_USER_INPUT for an unknown item, a
// negative limit or an unknown tier; NOT_FOUND when the tenant does not exist
// or is outside the caller's scope; FORBIDDEN without that role.
func (s *Store) SetQuota(ctx context.Context, in cairn.SetQuotaInput) (*cairn.TenantQuota, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Item != cairn.QuotaInstances {
		return nil, cairn.FieldError("input.item", "%q is not a quota item; use INSTANCES", in.Item)
	}
	if in.Max < 0 {
		return nil, cairn.FieldError("input.max", "max %d is negative; use 0 or more", in.Max)
	}
	q := &cairn.TenantQuota{ID: cairn.NewID(cairn.PrefixQuota), TenantID: in.TenantID, Item: in.Item, TierID: in.TierID, Max: in.Max, Version: 1}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := requireQuotaAdmin(ctx, tx, p, in.TenantID); err != nil {
			return err
		}
		if in.TierID != nil {
			var tier cairn.ProductTier
			if err := tiers.scope(tx.NewSelect().Model(&tier), p).Where("?TableAlias.id = ?", *in.TierID).Scan(ctx); err != nil {
				if cairn.ErrorCode(interpretError(err, "")) == cairn.ENOTFOUND {
					return cairn.FieldError("input.tierId", "product tier %q not found", *in.TierID)
				}
				return interpretError(err, "product tier")
			}
		}
		q.CreatedAt, q.UpdatedAt = s.Now(), s.Now()
		_, err := tx.NewInsert().Model(q).ModelTableExpr(quotaTable).
			On("CONFLICT (tenant_id, item, coalesce(tier_id, '')) DO UPDATE").
			Set("max = EXCLUDED.max, updated_at = EXCLUDED.updated_at, version = tenant_quota.version + 1").
			Returning("*").Exec(ctx)
		if err != nil {
			return interpretError(err, "set quota")
		}
		return tx.NewSelect().Model(q).ModelTableExpr(quotaTable).ColumnExpr("?TableAlias.*").ColumnExpr(quotaUsedSQL+" AS used").Where("?TableAlias.id = ?", q.ID).Scan(ctx)
	})
	if err != nil {
		return nil, interpretError(err, "set quota")
	}
	return q, nil
}

// DeleteQuota removes the limit of an item on a tenant and returns the
// removed quota's ID. Returns what SetQuota returns, and NOT_FOUND when no
// such quota is set.
func (s *Store) DeleteQuota(ctx context.Context, in cairn.DeleteQuotaInput) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	var id string
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := requireQuotaAdmin(ctx, tx, p, in.TenantID); err != nil {
			return err
		}
		var ids []string
		_, err := tx.NewDelete().TableExpr("tenant_quotas").
			Where("tenant_id = ? AND item = ? AND coalesce(tier_id, '') = coalesce(?, '')", in.TenantID, in.Item, in.TierID).
			Returning("id").Exec(ctx, &ids)
		if err != nil {
			return interpretError(err, "delete quota")
		}
		if len(ids) == 0 {
			return cairn.Errorf(cairn.ENOTFOUND, "tenant %s has no %s quota to delete", in.TenantID, in.Item)
		}
		id = ids[0]
		return nil
	})
	return id, err
}

// requireQuotaAdmin returns NOT_FOUND when tenantID is outside p's scope and
// FORBIDDEN unless p holds ADMIN on its parent (ROOT on a root tenant).
func requireQuotaAdmin(ctx context.Context, db bun.IDB, p *cairn.Principal, tenantID string) error {
	t, err := scopedTenantShared(ctx, db, p, tenantID)
	if err != nil {
		return err
	}
	if t.ParentID == nil {
		return require(ctx, db, p, cairn.RoleRoot, t.ID, "Setting a quota on the root tenant")
	}
	ok, err := can(ctx, db, p, cairn.RoleAdmin, *t.ParentID)
	if err != nil {
		return interpretError(err, "check role")
	}
	if !ok {
		return cairn.Errorf(cairn.EFORBIDDEN, "Setting a quota on tenant %s needs the ADMIN role (or higher) on its parent tenant %s: a tenant's own admins cannot change its quotas", t.ID, *t.ParentID)
	}
	return nil
}

// checkInstanceQuota returns RESOURCE_EXHAUSTED naming the limit when one
// more instance of tierID in tenantID would pass an INSTANCES quota set on
// the tenant or any of its ancestors. It locks those quota rows, so that
// creates under one quota run one after the other and cannot pass it
// together.
func checkInstanceQuota(ctx context.Context, tx bun.IDB, tenantID, tierID string) error {
	var qs []*cairn.TenantQuota
	err := tx.NewSelect().Model(&qs).ModelTableExpr(quotaTable).ColumnExpr("?TableAlias.*").
		Where("?TableAlias.item = ?", cairn.QuotaInstances).
		Where("?TableAlias.tenant_id = ANY((SELECT ancestors FROM tenants WHERE id = ?)::text[])", tenantID).
		Where("?TableAlias.tier_id IS NULL OR ?TableAlias.tier_id = ?", tierID).
		OrderExpr("?TableAlias.id").For("UPDATE").Scan(ctx)
	if err != nil {
		return interpretError(err, "read quotas")
	}
	for _, q := range qs {
		var used int
		if err := tx.NewSelect().Model(q).ModelTableExpr(quotaTable).ColumnExpr(quotaUsedSQL).Where("?TableAlias.id = ?", q.ID).Scan(ctx, &used); err != nil {
			return interpretError(err, "count quota use")
		}
		if used >= q.Max {
			of := ""
			if q.TierID != nil {
				of = fmt.Sprintf(" of product tier %s", *q.TierID)
			}
			return cairn.Errorf(cairn.ERESOURCEEXHAUSTED, "the INSTANCES quota of tenant %s allows %d instance(s)%s and %d are in use; delete an instance or ask an admin of the parent tenant to raise the quota (setQuota)", q.TenantID, q.Max, of, used)
		}
	}
	return nil
}
