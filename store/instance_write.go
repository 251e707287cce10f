package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// CreateServiceSubscription subscribes a tenant (default: the caller's home
// tenant) to a product tier. The subscription is ACTIVE when the tier
// approves subscriptions automatically and PENDING otherwise.
//
// Returns UNAUTHENTICATED when not signed in; NOT_FOUND when the tenant or
// the tier does not exist or is outside the caller's scope; FORBIDDEN without
// EDITOR on the tenant; FAILED_PRECONDITION when the tier is disabled; and
// CONFLICT when the tenant already has a live subscription to the tier.
func (s *Store) CreateServiceSubscription(ctx context.Context, in cairn.CreateServiceSubscriptionInput) (*cairn.ServiceSubscription, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	tenantID := p.TenantID
	if in.TenantID != nil {
		tenantID = *in.TenantID
	}
	var sub *cairn.ServiceSubscription
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var tenant cairn.Tenant
		err := tenants.scope(tx.NewSelect().Model(&tenant), p).Where("?TableAlias.id = ?", tenantID).Scan(ctx)
		if err != nil {
			return interpretError(err, "tenant "+quote(tenantID))
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, tenant.ID, "Subscribing a tenant to a product tier"); err != nil {
			return err
		}
		var tier cairn.ProductTier
		err = tiers.scope(tx.NewSelect().Model(&tier), p).Where("?TableAlias.id = ?", in.TierID).Scan(ctx)
		if err != nil {
			return interpretError(err, "product tier "+quote(in.TierID))
		}
		if tier.Disabled {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "product tier %s is disabled and takes no new subscriptions; choose another tier of the service", tier.ID)
		}
		live, err := tx.NewSelect().Model((*cairn.ServiceSubscription)(nil)).
			Where("tenant_id = ? AND tier_id = ? AND status <> ?", tenant.ID, tier.ID, cairn.SubscriptionCancelled).Exists(ctx)
		if err != nil {
			return interpretError(err, "check subscriptions")
		}
		if live {
			return cairn.Errorf(cairn.ECONFLICT, "tenant %s is already subscribed to product tier %s; use that subscription", tenant.ID, tier.ID)
		}
		status := cairn.SubscriptionPending
		if tier.AutoApproveSubscription {
			status = cairn.SubscriptionActive
		}
		now := s.Now()
		sub = &cairn.ServiceSubscription{
			ID: cairn.NewID(cairn.PrefixSubscription), TenantID: tenant.ID, TierID: tier.ID, ServiceID: tier.ServiceID,
			ProviderTenantID: tier.ProviderTenantID, Status: status, CreatedByUserID: instanceWriteUser(p),
			CreatedAt: now, UpdatedAt: now, Version: 1,
		}
		// The unique index service_subscriptions_live_key settles a race
		// between two subscribers: the loser answers CONFLICT.
		_, err = tx.NewInsert().Model(sub).Exec(ctx)
		return interpretError(err, "subscription of tenant "+tenant.ID+" to product tier "+tier.ID)
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// DeleteServiceSubscription cancels and deletes a subscription that has no
// instances left.
//
// Returns UNAUTHENTICATED when not signed in; NOT_FOUND when the subscription
// does not exist or is outside the caller's scope; CONFLICT when
// expectedVersion is stale; FORBIDDEN without EDITOR on the subscribing
// tenant or on the provider; and FAILED_PRECONDITION while it has instances.
func (s *Store) DeleteServiceSubscription(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		sub, err := lockForWrite(ctx, tx, p, subscriptions, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := requireEditorOfOwnerOrProvider(ctx, tx, p, sub.TenantID, sub.ProviderTenantID, "Deleting a subscription"); err != nil {
			return err
		}
		// Creating an instance locks the subscription row, which we hold:
		// the count cannot change before the delete.
		n, err := tx.NewSelect().Model((*cairn.ResourceInstance)(nil)).Where("subscription_id = ?", sub.ID).Count(ctx)
		if err != nil {
			return interpretError(err, "count instances")
		}
		if n > 0 {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "subscription %s still has %d %s; delete them first", sub.ID, n, instancesNoun(int(n)))
		}
		_, err = tx.NewDelete().Model(sub).WherePK().Exec(ctx)
		return interpretError(err, "delete subscription "+quote(sub.ID))
	})
}

// opCreateInstance names createInstance in idempotency_keys.
const opCreateInstance = "createInstance"

// CreateInstance creates an instance of a resource under an ACTIVE
// subscription to the resource's tier, in status DEPLOYING, with the request
// parameters checked against the resource's input parameters and their
// defaults filled in. With an idempotency key, a retry with the same input
// returns the instance of the first call.
//
// Returns UNAUTHENTICATED when not signed in; NOT_FOUND when the resource,
// the subscription or the tier does not exist or is outside the caller's
// scope; FORBIDDEN without EDITOR on the subscribing tenant;
// FAILED_PRECONDITION when the subscription is not ACTIVE; BAD_USER_INPUT
// naming the input field for a resource of another tier or an internal one,
// a cloud or region the tier does not offer, a bad network type and bad
// request parameters; RESOURCE_EXHAUSTED when the subscription already has
// the tier's maximum number of instances; and CONFLICT when the idempotency
// key was used with another input.
func (s *Store) CreateInstance(ctx context.Context, in cairn.CreateInstanceInput) (*cairn.ResourceInstance, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var inst *cairn.ResourceInstance
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if in.IdempotencyKey == nil {
			created, err := s.createInstance(ctx, tx, p, in)
			inst = created
			return err
		}
		idem, err := beginInstanceIdempotency(ctx, tx, p, in, s.Now().Add(-s.IdempotencyTTL()))
		if err != nil {
			return err
		}
		if idem.done != nil {
			inst = idem.done
			return nil
		}
		created, err := s.createInstance(ctx, tx, p, in)
		if err != nil {
			return err
		}
		inst = created
		return idem.finish(ctx, tx, created.ID, s.Now())
	})
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// createInstance checks in and inserts the instance.
func (s *Store) createInstance(ctx context.Context, tx bun.IDB, p *cairn.Principal, in cairn.CreateInstanceInput) (*cairn.ResourceInstance, error) {
	var res cairn.Resource
	err := resources.scope(tx.NewSelect().Model(&res), p).Where("?TableAlias.id = ?", in.ResourceID).Scan(ctx)
	if err != nil {
		return nil, interpretError(err, "resource "+quote(in.ResourceID))
	}
	// The lock on the subscription row serialises the creates of one
	// subscription, so that two cannot pass the tier's limit together.
	sub, err := lockForWrite(ctx, tx, p, subscriptions, in.SubscriptionID, nil)
	if err != nil {
		return nil, err
	}
	if err := require(ctx, tx, p, cairn.RoleEditor, sub.TenantID, "Creating an instance"); err != nil {
		return nil, err
	}
	if sub.Status != cairn.SubscriptionActive {
		return nil, cairn.Errorf(cairn.EFAILEDPRECONDITION, "subscription %s is %s, not ACTIVE: instances can be created only under an ACTIVE subscription; wait for the provider to approve it or use another", sub.ID, sub.Status)
	}
	if res.TierID != sub.TierID {
		return nil, cairn.FieldError("input.resourceId", "resource %s belongs to product tier %s, but subscription %s is to tier %s; pick a resource of the subscription's tier", res.ID, res.TierID, sub.ID, sub.TierID)
	}
	if res.Internal {
		return nil, cairn.FieldError("input.resourceId", "resource %s is internal: it is deployed only as a dependency of other resources; create an instance of a resource that is not internal", res.ID)
	}
	var tier cairn.ProductTier
	err = tiers.scope(tx.NewSelect().Model(&tier), p).Where("?TableAlias.id = ?", sub.TierID).Scan(ctx)
	if err != nil {
		return nil, interpretError(err, "product tier "+quote(sub.TierID))
	}
	if err := checkInstanceRegion(&tier, in.CloudProvider, in.Region); err != nil {
		return nil, err
	}
	network := cairn.NetworkPublic
	if in.NetworkType != nil {
		if !cairn.EnumValid("NetworkType", string(*in.NetworkType)) {
			return nil, cairn.FieldError("input.networkType", "networkType %q is not PUBLIC or INTERNAL", *in.NetworkType)
		}
		network = *in.NetworkType
	}
	params, err := validateRequestParams(res.InputParameters, in.RequestParams, "input.requestParams")
	if err != nil {
		return nil, err
	}
	if tier.MaxNumberOfInstances != nil {
		n, err := tx.NewSelect().Model((*cairn.ResourceInstance)(nil)).
			Where("subscription_id = ? AND status <> ?", sub.ID, cairn.InstanceDeleting).Count(ctx)
		if err != nil {
			return nil, interpretError(err, "count instances")
		}
		if max := *tier.MaxNumberOfInstances; n >= int64(max) {
			return nil, cairn.Errorf(cairn.ERESOURCEEXHAUSTED, "product tier %s allows at most %d %s per subscription and subscription %s has %d; delete one first or subscribe to a larger tier", tier.ID, max, instancesNoun(max), sub.ID, n)
		}
	}
	if err := checkInstanceQuota(ctx, tx, sub.TenantID, sub.TierID); err != nil { // store/quota.go
		return nil, err
	}
	now := s.Now()
	inst := &cairn.ResourceInstance{
		ID: cairn.NewID(cairn.PrefixInstance), ResourceID: res.ID, SubscriptionID: sub.ID, TenantID: sub.TenantID,
		TierID: sub.TierID, ServiceID: sub.ServiceID, ProviderTenantID: sub.ProviderTenantID, Status: cairn.InstanceDeploying,
		CloudProvider: in.CloudProvider, Region: in.Region, NetworkType: network, RequestParams: params,
		ResultParams: map[string]any{}, Replicas: 1, CreatedByUserID: instanceWriteUser(p),
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if _, err := tx.NewInsert().Model(inst).Exec(ctx); err != nil {
		return nil, interpretError(err, "create instance")
	}
	// The provisioning job and its operation commit with the instance.
	if err := s.startCreate(ctx, tx, p, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

// instanceClouds are the clouds an instance can run on, in message order.
var instanceClouds = []string{"aws", "gcp", "azure"}

// checkInstanceRegion returns BAD_USER_INPUT unless the tier offers region
// on cloud.
func checkInstanceRegion(tier *cairn.ProductTier, cloud, region string) error {
	regions := map[string][]string{"aws": tier.AwsRegions, "gcp": tier.GcpRegions, "azure": tier.AzureRegions}
	var offered []string
	for _, c := range instanceClouds {
		if len(regions[c]) > 0 {
			offered = append(offered, c)
		}
	}
	if !slices.Contains(instanceClouds, cloud) {
		return cairn.FieldError("input.cloudProvider", "cloudProvider %q is not one of aws, gcp, azure; product tier %s offers: %s", cloud, tier.ID, listOrNone(offered))
	}
	if len(regions[cloud]) == 0 {
		return cairn.FieldError("input.cloudProvider", "product tier %s does not offer %s; it offers: %s", tier.ID, cloud, listOrNone(offered))
	}
	if !slices.Contains(regions[cloud], region) {
		return cairn.FieldError("input.region", "product tier %s does not offer the region %q on %s; use one of: %s", tier.ID, region, cloud, strings.Join(regions[cloud], ", "))
	}
	return nil
}

// DeleteInstance deletes an instance now.
//
// Returns UNAUTHENTICATED when not signed in; NOT_FOUND when the instance
// does not exist or is outside the caller's scope; CONFLICT when
// expectedVersion is stale; and FORBIDDEN without EDITOR on the instance's
// tenant or on the provider.
func (s *Store) DeleteInstance(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		inst, err := lockForWrite(ctx, tx, p, instances, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := requireEditorOfOwnerOrProvider(ctx, tx, p, inst.TenantID, inst.ProviderTenantID, "Deleting an instance"); err != nil {
			return err
		}
		_, err = tx.NewDelete().Model(inst).WherePK().Exec(ctx)
		return interpretError(err, "delete instance "+quote(inst.ID))
	})
}

// requireEditorOfOwnerOrProvider returns FORBIDDEN unless p holds EDITOR on the
// owning tenant or on the provider tenant of a subscription or instance.
func requireEditorOfOwnerOrProvider(ctx context.Context, db bun.IDB, p *cairn.Principal, tenantID, providerID, action string) error {
	for _, t := range []string{tenantID, providerID} {
		ok, err := can(ctx, db, p, cairn.RoleEditor, t)
		if err != nil {
			return interpretError(err, "check role")
		}
		if ok {
			return nil
		}
	}
	return cairn.Errorf(cairn.EFORBIDDEN, "%s needs the %s role (or higher) on its tenant %s or on the provider tenant %s; ask an admin of either to grant it.", action, cairn.RoleEditor, tenantID, providerID)
}

// instanceWriteUser is the created_by_user_id of a write: the user, or nil
// for an API key.
func instanceWriteUser(p *cairn.Principal) *string {
	if p.UserID == "" {
		return nil
	}
	id := p.UserID
	return &id
}

// instancesNoun is "instance" or "instances", to follow the number n.
func instancesNoun(n int) string {
	if n == 1 {
		return "instance"
	}
	return "instances"
}

// instanceIdempotency is an idempotency key of createInstance, held (by a
// transaction-scoped advisory lock) for the rest of the transaction.
type instanceIdempotency struct {
	owner, key, hash string
	done             *cairn.ResourceInstance // the first call's instance, if any
}

// beginInstanceIdempotency takes the lock of in's idempotency key and looks
// up what it recorded since since. done is set when the key was used before
// with the same input. Returns CONFLICT when it was used with another input
// or operation, and NOT_FOUND when its instance no longer exists.
func beginInstanceIdempotency(ctx context.Context, tx bun.IDB, p *cairn.Principal, in cairn.CreateInstanceInput, since time.Time) (*instanceIdempotency, error) {
	key := *in.IdempotencyKey
	owner, err := keyOwner(p, key)
	if err != nil {
		return nil, err
	}
	hash, err := instanceInputHash(in)
	if err != nil {
		return nil, err
	}
	i := &instanceIdempotency{owner: owner, key: key, hash: hash}
	used, err := lockKey(ctx, tx, owner, key, since)
	if err != nil || used == nil {
		return i, err
	}
	if used.Operation != opCreateInstance || used.InputHash != hash {
		return nil, cairn.Errorf(cairn.ECONFLICT, "idempotency key %q was used with a different input (by %s); retry with the same input or use a new key", key, used.Operation)
	}
	var inst cairn.ResourceInstance
	err = instances.scope(tx.NewSelect().Model(&inst), p).Where("?TableAlias.id = ?", used.ResultID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "idempotency key %q created instance %s, which no longer exists; use a new key to create another", key, used.ResultID)
	} else if err != nil {
		return nil, interpretError(err, "read instance "+quote(used.ResultID))
	}
	i.done = &inst
	return i, nil
}

// finish records that the key created the instance id.
func (i *instanceIdempotency) finish(ctx context.Context, tx bun.IDB, id string, now time.Time) error {
	return recordKey(ctx, tx, i.owner, i.key, usedKey{Operation: opCreateInstance, InputHash: i.hash, ResultID: id}, now)
}

// instanceInputHash is the hex SHA-256 of the canonical JSON of in without
// its idempotency key: object keys sorted (encoding/json sorts map keys) and
// numbers normalised, so that 1, 1.0 and json.Number("1") hash alike.
func instanceInputHash(in cairn.CreateInstanceInput) (string, error) {
	bad := cairn.FieldError("input.requestParams", "requestParams must hold only JSON values (objects, lists, strings, numbers, booleans, null)")
	b, err := json.Marshal(struct {
		ResourceID     string             `json:"resourceId"`
		SubscriptionID string             `json:"subscriptionId"`
		CloudProvider  string             `json:"cloudProvider"`
		Region         string             `json:"region"`
		NetworkType    *cairn.NetworkType `json:"networkType"`
		RequestParams  map[string]any     `json:"requestParams"`
	}{in.ResourceID, in.SubscriptionID, in.CloudProvider, in.Region, in.NetworkType, in.RequestParams})
	if err != nil {
		return "", bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", bad
	}
	if b, err = json.Marshal(canonicalNumbers(v)); err != nil {
		return "", bad
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalNumbers replaces the json.Numbers in v by int64 when they are
// integers that fit and by float64 otherwise, whose encodings are canonical.
func canonicalNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = canonicalNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonicalNumbers(e)
		}
	}
	return v
}
