package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// The helpers of these tests are prefixed iw (instance write) to keep clear
// of the other test files of the package.

func iwPtr[T any](v T) *T { return &v }

func iwInsert(t *testing.T, s *store.Store, rows ...any) {
	t.Helper()
	for _, r := range rows {
		if _, err := s.DB().NewInsert().Model(r).Exec(context.Background()); err != nil {
			t.Fatalf("insert %T: %v", r, err)
		}
	}
}

func iwCount(t *testing.T, s *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// iwTier inserts a product tier of the demo's hosted PROD model: aws
// us-east-1 and eu-west-1, no instance limit, automatic approval, changed by
// mut.
func iwTier(t *testing.T, s *store.Store, d *store.Demo, mut func(*cairn.ProductTier)) *cairn.ProductTier {
	t.Helper()
	now := time.Now()
	id := cairn.NewID(cairn.PrefixTier)
	tier := &cairn.ProductTier{ID: id, ServiceID: d.Service, EnvironmentID: d.Prod, ModelID: d.Hosted, ProviderTenantID: d.Provider,
		Name: "Tier " + id, Key: id, Description: "test tier", TierType: "OMNISTRATE_DEDICATED_TENANCY",
		AwsRegions: []string{"us-east-1", "eu-west-1"}, GcpRegions: []string{}, AzureRegions: []string{},
		AutoApproveSubscription: true, Pricing: map[string]any{}, Features: map[string]any{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	if mut != nil {
		mut(tier)
	}
	iwInsert(t, s, tier)
	return tier
}

// iwResource inserts a resource of tier with params as its input parameters.
func iwResource(t *testing.T, s *store.Store, tier *cairn.ProductTier, internal bool, params []cairn.InputParameter) string {
	t.Helper()
	now := time.Now()
	id := cairn.NewID(cairn.PrefixResource)
	if params == nil {
		params = []cairn.InputParameter{}
	}
	iwInsert(t, s, &cairn.Resource{ID: id, ServiceID: tier.ServiceID, EnvironmentID: tier.EnvironmentID, ModelID: tier.ModelID, TierID: tier.ID,
		ProviderTenantID: tier.ProviderTenantID, Name: "Resource " + id, Key: id, Description: "test resource", ResourceType: "Generic",
		Internal: internal, InputParameters: params, OutputParameters: []cairn.OutputParameter{}, DependencyIDs: []string{},
		CreatedAt: now, UpdatedAt: now, Version: 1})
	return id
}

// iwSub inserts a subscription of tenant to tier.
func iwSub(t *testing.T, s *store.Store, tenant string, tier *cairn.ProductTier, status cairn.SubscriptionStatus) string {
	t.Helper()
	now := time.Now()
	id := cairn.NewID(cairn.PrefixSubscription)
	iwInsert(t, s, &cairn.ServiceSubscription{ID: id, TenantID: tenant, TierID: tier.ID, ServiceID: tier.ServiceID,
		ProviderTenantID: tier.ProviderTenantID, Status: status, CreatedAt: now, UpdatedAt: now, Version: 1})
	return id
}

// iwPrivate inserts a second service of the provider whose only environment
// is PRIVATE, and returns a tier and a resource of it: nobody outside the
// provider's tree can read them.
func iwPrivate(t *testing.T, s *store.Store, d *store.Demo) (tierID, resourceID string) {
	t.Helper()
	now := time.Now()
	svc := &cairn.Service{ID: cairn.NewID(cairn.PrefixService), ProviderTenantID: d.Provider, Name: "Secret", Key: "secret",
		Description: "private service", CreatedAt: now, UpdatedAt: now, Version: 1}
	env := &cairn.ServiceEnvironment{ID: cairn.NewID(cairn.PrefixEnvironment), ServiceID: svc.ID, ProviderTenantID: d.Provider,
		Name: "Dev", Key: "dev", Description: "dev", Type: "DEV", Visibility: cairn.VisibilityPrivate, CreatedAt: now, UpdatedAt: now, Version: 1}
	model := &cairn.ServiceModel{ID: cairn.NewID(cairn.PrefixModel), ServiceID: svc.ID, EnvironmentID: env.ID, ProviderTenantID: d.Provider,
		Name: "Hosted", Key: "hosted", Description: "hosted", ModelType: "OMNISTRATE_HOSTED", CreatedAt: now, UpdatedAt: now, Version: 1}
	iwInsert(t, s, svc, env, model)
	tier := iwTier(t, s, d, func(tr *cairn.ProductTier) { tr.ServiceID, tr.EnvironmentID, tr.ModelID = svc.ID, env.ID, model.ID })
	return tier.ID, iwResource(t, s, tier, false, nil)
}

// iwOutsider inserts a customer tenant directly under the root, outside the
// provider's tree: only the provider side of the scope reaches its
// subscriptions and instances.
func iwOutsider(t *testing.T, s *store.Store, d *store.Demo) string {
	t.Helper()
	now := time.Now()
	id := cairn.NewID(cairn.PrefixTenant)
	iwInsert(t, s, &cairn.Tenant{ID: id, Name: "Customer C", Kind: cairn.TenantCustomer, State: cairn.TenantEnabled, ParentID: &d.Root,
		Ancestors: []string{d.Root, id}, CreatedAt: now, UpdatedAt: now, Version: 1})
	return id
}

// iwFreeResource returns the demo's resource of the Free tier.
func iwFreeResource(t *testing.T, s *store.Store, d *store.Demo) string {
	t.Helper()
	var id string
	if err := s.DB().NewRaw("SELECT id FROM resources WHERE tier_id = ?", d.Free).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// iwReader is a principal with only READER on tenant.
func iwReader(tenant string) *cairn.Principal {
	return &cairn.Principal{UserID: "user-reader", TenantID: tenant, Grants: []cairn.Grant{{TenantID: tenant, Role: cairn.RoleReader}}}
}

// iwKey is an API key with EDITOR on tenant.
func iwKey(tenant string) *cairn.Principal {
	return &cairn.Principal{APIKeyID: "key-" + tenant, TenantID: tenant, Grants: []cairn.Grant{{TenantID: tenant, Role: cairn.RoleEditor}}}
}

// iwCheck fails unless err has the code, the field and a message containing
// msg.
func iwCheck(t *testing.T, err error, code, field, msg string) {
	t.Helper()
	if cairn.ErrorCode(err) != code || cairn.ErrorField(err) != field || !strings.Contains(cairn.ErrorMessage(err), msg) {
		t.Fatalf("error = %v; want code %s, field %q, message containing %q", err, code, field, msg)
	}
}

// iwMySQL is a valid createInstance input for alice's subscription SubA.
func iwMySQL(d *store.Demo) cairn.CreateInstanceInput {
	return cairn.CreateInstanceInput{ResourceID: d.MySQL, SubscriptionID: d.SubA, CloudProvider: "aws", Region: "us-east-1",
		RequestParams: map[string]any{"mysqlDatabase": "app", "mysqlUser": "app", "mysqlPassword": "s3cret"}}
}

func TestCreateServiceSubscription(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	manual := iwTier(t, s, d, func(tr *cairn.ProductTier) { tr.AutoApproveSubscription = false })
	disabled := iwTier(t, s, d, func(tr *cairn.ProductTier) { tr.Disabled = true })
	privateTier, _ := iwPrivate(t, s, d)

	t.Run("ActiveWhenAutoApproved", func(t *testing.T) {
		t.Parallel()
		sub, err := s.CreateServiceSubscription(storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: d.Free})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != cairn.SubscriptionActive || sub.TenantID != d.CustomerA || sub.TierID != d.Free || sub.ServiceID != d.Service ||
			sub.ProviderTenantID != d.Provider || sub.CreatedByUserID == nil || *sub.CreatedByUserID != d.Alice || sub.Version != 1 {
			t.Errorf("subscription = %+v", sub)
		}
		if n := iwCount(t, s, "SELECT count(*) FROM service_subscriptions WHERE id = ? AND tenant_id = ?", sub.ID, d.CustomerA); n != 1 {
			t.Errorf("stored rows = %d, want 1", n)
		}
	})
	t.Run("PendingWithoutAutoApproval", func(t *testing.T) {
		t.Parallel()
		sub, err := s.CreateServiceSubscription(storetest.As(ps["bob"]), cairn.CreateServiceSubscriptionInput{TierID: manual.ID})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != cairn.SubscriptionPending || sub.TenantID != d.CustomerB {
			t.Errorf("subscription = %+v, want PENDING of customer B", sub)
		}
	})
	t.Run("APIKeyHasNoCreator", func(t *testing.T) {
		t.Parallel()
		sub, err := s.CreateServiceSubscription(storetest.As(iwKey(d.CustomerB)), cairn.CreateServiceSubscriptionInput{TierID: d.Free, TenantID: &d.CustomerB})
		if err != nil {
			t.Fatal(err)
		}
		if sub.CreatedByUserID != nil || sub.TenantID != d.CustomerB {
			t.Errorf("subscription = %+v, want customer B's with no creator", sub)
		}
	})
	t.Run("ConcurrentDuplicatesMakeOne", func(t *testing.T) {
		t.Parallel()
		tier := iwTier(t, s, d, nil)
		codes := iwConcurrently(8, func() error {
			_, err := s.CreateServiceSubscription(storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: tier.ID})
			return err
		})
		if codes[""] != 1 || codes[cairn.ECONFLICT] != 7 {
			t.Errorf("results by code = %v, want 1 success and 7 CONFLICT", codes)
		}
	})

	for _, tc := range []struct {
		name             string
		ctx              context.Context
		in               cairn.CreateServiceSubscriptionInput
		code, field, msg string
	}{
		{"ErrUnauthenticated", context.Background(), cairn.CreateServiceSubscriptionInput{TierID: d.Free}, cairn.EUNAUTHENTICATED, "", "Sign in"},
		{"ErrTenantNotFound", storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: d.Free, TenantID: iwPtr("org-nothere")}, cairn.ENOTFOUND, "", `tenant "org-nothere" not found`},
		{"ErrTenantOutOfScope", storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: d.Free, TenantID: &d.CustomerB}, cairn.ENOTFOUND, "", `tenant "` + d.CustomerB + `" not found`},
		{"ErrReaderForbidden", storetest.As(iwReader(d.CustomerA)), cairn.CreateServiceSubscriptionInput{TierID: d.Free}, cairn.EFORBIDDEN, "", "EDITOR"},
		{"ErrTierNotFound", storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: "pt-nothere"}, cairn.ENOTFOUND, "", `product tier "pt-nothere" not found`},
		{"ErrTierOutOfScope", storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: privateTier}, cairn.ENOTFOUND, "", `product tier "` + privateTier + `" not found`},
		{"ErrTierDisabled", storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: disabled.ID}, cairn.EFAILEDPRECONDITION, "", "disabled"},
		{"ErrAlreadySubscribed", storetest.As(ps["alice"]), cairn.CreateServiceSubscriptionInput{TierID: d.Premium}, cairn.ECONFLICT, "", "already subscribed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sub, err := s.CreateServiceSubscription(tc.ctx, tc.in)
			iwCheck(t, err, tc.code, tc.field, tc.msg)
			if sub != nil {
				t.Errorf("subscription = %+v, want nil", sub)
			}
		})
	}
}

// iwConcurrently runs f n times at once and counts the results by error code
// ("" for success).
func iwConcurrently(n int, f func() error) map[string]int {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		codes = map[string]int{}
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := f()
			mu.Lock()
			codes[cairn.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return codes
}

func TestDeleteServiceSubscription(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	premium := &cairn.ProductTier{ID: d.Premium, ServiceID: d.Service, ProviderTenantID: d.Provider}
	free := &cairn.ProductTier{ID: d.Free, ServiceID: d.Service, ProviderTenantID: d.Provider}
	kept := iwSub(t, s, d.CustomerA, free, cairn.SubscriptionActive)
	outsider := iwOutsider(t, s, d)

	for _, tc := range []struct {
		name             string
		ctx              context.Context
		in               cairn.DeleteInput
		code, field, msg string
	}{
		{"ErrUnauthenticated", context.Background(), cairn.DeleteInput{ID: kept}, cairn.EUNAUTHENTICATED, "", "Sign in"},
		{"ErrNotFound", storetest.As(ps["alice"]), cairn.DeleteInput{ID: "sub-nothere"}, cairn.ENOTFOUND, "", `"sub-nothere" not found`},
		{"ErrOtherTenants", storetest.As(ps["bob"]), cairn.DeleteInput{ID: kept}, cairn.ENOTFOUND, "", `"` + kept + `" not found`},
		{"ErrReaderForbidden", storetest.As(iwReader(d.CustomerA)), cairn.DeleteInput{ID: kept}, cairn.EFORBIDDEN, "", "EDITOR"},
		{"ErrStaleVersion", storetest.As(ps["alice"]), cairn.DeleteInput{ID: kept, ExpectedVersion: iwPtr(7)}, cairn.ECONFLICT, "", "expectedVersion 7"},
		{"ErrHasInstances", storetest.As(ps["alice"]), cairn.DeleteInput{ID: d.SubA}, cairn.EFAILEDPRECONDITION, "", "still has 4 instances; delete them first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iwCheck(t, s.DeleteServiceSubscription(tc.ctx, tc.in), tc.code, tc.field, tc.msg)
			if n := iwCount(t, s, "SELECT count(*) FROM service_subscriptions WHERE id IN (?, ?)", kept, d.SubA); n != 2 {
				t.Errorf("%d of the subscriptions remain, want 2", n)
			}
		})
	}

	for _, tc := range []struct {
		name string
		who  *cairn.Principal
		sub  string
	}{
		{"BySubscriber", ps["alice"], iwSub(t, s, d.CustomerA, iwTier(t, s, d, nil), cairn.SubscriptionPending)},
		{"ByAPIKeyOfSubscriber", iwKey(d.CustomerB), iwSub(t, s, d.CustomerB, free, cairn.SubscriptionActive)},
		// The outsider is not under the provider: only the provider branch of
		// the rule lets the owner delete.
		{"ByProvider", ps["owner"], iwSub(t, s, outsider, premium, cairn.SubscriptionActive)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := s.DeleteServiceSubscription(storetest.As(tc.who), cairn.DeleteInput{ID: tc.sub, ExpectedVersion: iwPtr(1)}); err != nil {
				t.Fatal(err)
			}
			if n := iwCount(t, s, "SELECT count(*) FROM service_subscriptions WHERE id = ?", tc.sub); n != 0 {
				t.Errorf("subscription still stored")
			}
		})
	}
}

func TestCreateInstance(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice := storetest.As(ps["alice"])
	manual := iwTier(t, s, d, func(tr *cairn.ProductTier) { tr.AutoApproveSubscription = false })
	pendingSub := iwSub(t, s, d.CustomerA, manual, cairn.SubscriptionPending)
	manualRes := iwResource(t, s, manual, false, nil)
	premium := &cairn.ProductTier{ID: d.Premium, ServiceID: d.Service, EnvironmentID: d.Prod, ModelID: d.Hosted, ProviderTenantID: d.Provider}
	internalRes := iwResource(t, s, premium, true, nil)
	_, privateRes := iwPrivate(t, s, d)
	freeRes := iwFreeResource(t, s, d)

	t.Run("AliceOnHerSubscription", func(t *testing.T) {
		t.Parallel()
		inst, err := s.CreateInstance(alice, iwMySQL(d))
		if err != nil {
			t.Fatal(err)
		}
		if inst.Status != cairn.InstanceDeploying || inst.TenantID != d.CustomerA || inst.SubscriptionID != d.SubA || inst.ResourceID != d.MySQL ||
			inst.TierID != d.Premium || inst.ServiceID != d.Service || inst.ProviderTenantID != d.Provider ||
			inst.CloudProvider != "aws" || inst.Region != "us-east-1" || inst.NetworkType != cairn.NetworkPublic || inst.Replicas != 1 ||
			len(inst.ResultParams) != 0 || inst.CreatedByUserID == nil || *inst.CreatedByUserID != d.Alice || inst.Version != 1 {
			t.Errorf("instance = %+v", inst)
		}
		if got := inst.RequestParams["instanceType"]; got != "small" {
			t.Errorf("instanceType = %v, want the default small", got)
		}
		visible := func(p *cairn.Principal) bool {
			c, err := s.Instances(storetest.As(p), cairn.PageArgs{First: iwPtr(cairn.MaxPageSize)}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range c.Nodes() {
				if n.ID == inst.ID {
					return true
				}
			}
			return false
		}
		if !visible(ps["alice"]) || !visible(ps["owner"]) {
			t.Error("alice or the provider's owner cannot see the new instance")
		}
		if visible(ps["bob"]) {
			t.Error("bob sees alice's instance")
		}
		iwCheck(t, s.DeleteInstance(storetest.As(ps["bob"]), cairn.DeleteInput{ID: inst.ID}), cairn.ENOTFOUND, "", `instance "`+inst.ID+`" not found`)
		if n := iwCount(t, s, "SELECT count(*) FROM resource_instances WHERE id = ? AND request_params->>'instanceType' = 'small'", inst.ID); n != 1 {
			t.Errorf("stored rows with defaults = %d, want 1", n)
		}
	})
	t.Run("APIKeyInternalNetwork", func(t *testing.T) {
		t.Parallel()
		in := iwMySQL(d)
		in.SubscriptionID, in.NetworkType = d.SubB, iwPtr(cairn.NetworkType("INTERNAL"))
		inst, err := s.CreateInstance(storetest.As(iwKey(d.CustomerB)), in)
		if err != nil {
			t.Fatal(err)
		}
		if inst.CreatedByUserID != nil || inst.NetworkType != "INTERNAL" || inst.TenantID != d.CustomerB {
			t.Errorf("instance = %+v, want customer B's, INTERNAL, no creator", inst)
		}
	})

	for _, tc := range []struct {
		name             string
		ctx              context.Context
		edit             func(*cairn.CreateInstanceInput)
		code, field, msg string
	}{
		{"ErrUnauthenticated", context.Background(), nil, cairn.EUNAUTHENTICATED, "", "Sign in"},
		{"ErrResourceNotFound", alice, func(in *cairn.CreateInstanceInput) { in.ResourceID = "r-nothere" }, cairn.ENOTFOUND, "", `resource "r-nothere" not found`},
		{"ErrResourceOutOfScope", alice, func(in *cairn.CreateInstanceInput) { in.ResourceID = privateRes }, cairn.ENOTFOUND, "", `resource "` + privateRes + `" not found`},
		{"ErrSubscriptionNotFound", alice, func(in *cairn.CreateInstanceInput) { in.SubscriptionID = "sub-nothere" }, cairn.ENOTFOUND, "", `"sub-nothere" not found`},
		{"ErrOtherTenantsSubscription", alice, func(in *cairn.CreateInstanceInput) { in.SubscriptionID = d.SubB }, cairn.ENOTFOUND, "", `"` + d.SubB + `" not found`},
		{"ErrReaderForbidden", storetest.As(iwReader(d.CustomerA)), nil, cairn.EFORBIDDEN, "", "EDITOR"},
		{"ErrSubscriptionPending", alice, func(in *cairn.CreateInstanceInput) { in.ResourceID, in.SubscriptionID = manualRes, pendingSub }, cairn.EFAILEDPRECONDITION, "", "is PENDING, not ACTIVE"},
		{"ErrResourceOfOtherTier", alice, func(in *cairn.CreateInstanceInput) { in.ResourceID = freeRes }, cairn.EBADINPUT, "input.resourceId", "belongs to product tier " + d.Free},
		{"ErrResourceInternal", alice, func(in *cairn.CreateInstanceInput) { in.ResourceID = internalRes }, cairn.EBADINPUT, "input.resourceId", "is internal"},
		{"ErrUnknownCloud", alice, func(in *cairn.CreateInstanceInput) { in.CloudProvider = "oracle" }, cairn.EBADINPUT, "input.cloudProvider", "offers: aws, gcp"},
		{"ErrCloudNotOffered", alice, func(in *cairn.CreateInstanceInput) { in.CloudProvider = "azure" }, cairn.EBADINPUT, "input.cloudProvider", "does not offer azure; it offers: aws, gcp"},
		{"ErrRegionNotOffered", alice, func(in *cairn.CreateInstanceInput) { in.Region = "us-central1" }, cairn.EBADINPUT, "input.region", "use one of: us-east-1, eu-west-1"},
		{"ErrNetworkType", alice, func(in *cairn.CreateInstanceInput) { in.NetworkType = iwPtr(cairn.NetworkType("DARK")) }, cairn.EBADINPUT, "input.networkType", "PUBLIC or INTERNAL"},
		{"ErrParamUnknown", alice, func(in *cairn.CreateInstanceInput) { in.RequestParams["colour"] = "red" }, cairn.EBADINPUT, "input.requestParams.colour", "no input parameter"},
		{"ErrParamMissing", alice, func(in *cairn.CreateInstanceInput) { delete(in.RequestParams, "mysqlUser") }, cairn.EBADINPUT, "input.requestParams.mysqlUser", "is required"},
		{"ErrParamType", alice, func(in *cairn.CreateInstanceInput) { in.RequestParams["mysqlDatabase"] = 42.0 }, cairn.EBADINPUT, "input.requestParams.mysqlDatabase", "must be a string"},
		{"ErrParamOption", alice, func(in *cairn.CreateInstanceInput) { in.RequestParams["instanceType"] = "huge" }, cairn.EBADINPUT, "input.requestParams.instanceType", "one of small, medium, large"},
		{"ErrBlankIdempotencyKey", alice, func(in *cairn.CreateInstanceInput) { in.IdempotencyKey = iwPtr(" ") }, cairn.EBADINPUT, "input.idempotencyKey", "blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := iwMySQL(d)
			if tc.edit != nil {
				tc.edit(&in)
			}
			inst, err := s.CreateInstance(tc.ctx, in)
			iwCheck(t, err, tc.code, tc.field, tc.msg)
			if inst != nil {
				t.Errorf("instance = %+v, want nil", inst)
			}
		})
	}
}

func TestCreateInstanceLimit(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice := storetest.As(ps["alice"])

	t.Run("FreeTierAllowsOne", func(t *testing.T) {
		t.Parallel()
		sub, err := s.CreateServiceSubscription(alice, cairn.CreateServiceSubscriptionInput{TierID: d.Free})
		if err != nil {
			t.Fatal(err)
		}
		in := iwMySQL(d)
		in.ResourceID, in.SubscriptionID = iwFreeResource(t, s, d), sub.ID
		first, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateInstance(alice, in)
		iwCheck(t, err, cairn.ERESOURCEEXHAUSTED, "", "allows at most 1 instance per subscription")
		// An instance being deleted no longer counts.
		if _, err := s.DB().NewRaw("UPDATE resource_instances SET status = 'DELETING' WHERE id = ?", first.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateInstance(alice, in); err != nil {
			t.Fatalf("create beside a DELETING instance: %v", err)
		}
		_, err = s.CreateInstance(alice, in)
		iwCheck(t, err, cairn.ERESOURCEEXHAUSTED, "", "allows at most 1 instance")
	})
	t.Run("ConcurrentCreatesStopAtLimit", func(t *testing.T) {
		t.Parallel()
		tier := iwTier(t, s, d, func(tr *cairn.ProductTier) { tr.MaxNumberOfInstances = iwPtr(3) })
		sub := iwSub(t, s, d.CustomerA, tier, cairn.SubscriptionActive)
		in := cairn.CreateInstanceInput{ResourceID: iwResource(t, s, tier, false, nil), SubscriptionID: sub, CloudProvider: "aws", Region: "eu-west-1"}
		codes := iwConcurrently(8, func() error {
			_, err := s.CreateInstance(alice, in)
			return err
		})
		if codes[""] != 3 || codes[cairn.ERESOURCEEXHAUSTED] != 5 {
			t.Errorf("results by code = %v, want 3 successes and 5 RESOURCE_EXHAUSTED", codes)
		}
		if n := iwCount(t, s, "SELECT count(*) FROM resource_instances WHERE subscription_id = ?", sub); n != 3 {
			t.Errorf("instances = %d, want 3", n)
		}
	})
}

func TestCreateInstanceIdempotency(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice := storetest.As(ps["alice"])
	// setup gives each case its own subscription, so that counts do not mix.
	setup := func(t *testing.T) cairn.CreateInstanceInput {
		tier := iwTier(t, s, d, nil)
		res := iwResource(t, s, tier, false, []cairn.InputParameter{{Key: "size", Name: "Size", Type: "Number"}})
		return cairn.CreateInstanceInput{ResourceID: res, SubscriptionID: iwSub(t, s, d.CustomerA, tier, cairn.SubscriptionActive),
			CloudProvider: "aws", Region: "us-east-1", RequestParams: map[string]any{"size": 3}, IdempotencyKey: iwPtr("retry-1")}
	}
	instancesOf := func(t *testing.T, sub string) int {
		return iwCount(t, s, "SELECT count(*) FROM resource_instances WHERE subscription_id = ?", sub)
	}

	t.Run("SameInputSameInstance", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		first, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		// The same number spelled otherwise is the same input.
		in.RequestParams = map[string]any{"size": 3.0}
		again, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || instancesOf(t, in.SubscriptionID) != 1 {
			t.Errorf("retry gave %s (first %s) and %d instances, want the same one", again.ID, first.ID, instancesOf(t, in.SubscriptionID))
		}
		if n := iwCount(t, s, "SELECT count(*) FROM idempotency_keys WHERE principal_id = ? AND key = 'retry-1' AND result_id = ? AND operation = 'createInstance'", d.Alice, first.ID); n != 1 {
			t.Errorf("idempotency rows = %d, want 1", n)
		}
	})
	t.Run("ErrOtherInput", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		in.IdempotencyKey = iwPtr("retry-2")
		if _, err := s.CreateInstance(alice, in); err != nil {
			t.Fatal(err)
		}
		in.Region = "eu-west-1"
		_, err := s.CreateInstance(alice, in)
		iwCheck(t, err, cairn.ECONFLICT, "", `idempotency key "retry-2" was used with a different input`)
		if n := instancesOf(t, in.SubscriptionID); n != 1 {
			t.Errorf("instances = %d, want 1", n)
		}
	})
	t.Run("ScopedToPrincipal", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		in.IdempotencyKey = iwPtr("retry-3")
		first, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		// An API key of the same tenant with the same key is another caller.
		other, err := s.CreateInstance(storetest.As(iwKey(d.CustomerA)), in)
		if err != nil {
			t.Fatal(err)
		}
		if other.ID == first.ID || instancesOf(t, in.SubscriptionID) != 2 {
			t.Errorf("the API key got alice's instance %s", first.ID)
		}
	})
	t.Run("ErrInstanceGone", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		in.IdempotencyKey = iwPtr("retry-4")
		first, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteInstance(alice, cairn.DeleteInput{ID: first.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateInstance(alice, in)
		iwCheck(t, err, cairn.ENOTFOUND, "", "no longer exists; use a new key")
	})
	// age moves a key's record back past the TTL.
	age := func(t *testing.T, key string) {
		t.Helper()
		if _, err := s.DB().ExecContext(context.Background(), "UPDATE idempotency_keys SET created_at = created_at - make_interval(secs => ?) WHERE principal_id = ? AND key = ?",
			(store.DefaultIdempotencyTTL + time.Minute).Seconds(), d.Alice, key); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ExpiredKeyRunsAnew", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		in.IdempotencyKey = iwPtr("retry-6")
		first, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		age(t, "retry-6")
		// Past the TTL the key is free, even with another input.
		in.Region = "eu-west-1"
		second, err := s.CreateInstance(alice, in)
		if err != nil {
			t.Fatal(err)
		}
		if second.ID == first.ID || instancesOf(t, in.SubscriptionID) != 2 {
			t.Errorf("retry after the TTL gave %s (first %s), want a new instance", second.ID, first.ID)
		}
		if n := iwCount(t, s, "SELECT count(*) FROM idempotency_keys WHERE principal_id = ? AND key = 'retry-6' AND result_id = ?", d.Alice, second.ID); n != 1 {
			t.Errorf("the key records the new instance %d times, want 1", n)
		}
		// And within the TTL it holds again.
		again, err := s.CreateInstance(alice, in)
		if err != nil || again.ID != second.ID {
			t.Errorf("retry = %v, %v; want %s", again, err, second.ID)
		}
	})
	t.Run("ExpireDeletesOnlyOldKeys", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		for _, key := range []string{"retry-7", "retry-8"} {
			in.IdempotencyKey = iwPtr(key)
			if _, err := s.CreateInstance(alice, in); err != nil {
				t.Fatal(err)
			}
		}
		age(t, "retry-7")
		n, err := s.ExpireIdempotencyKeys(context.Background())
		if err != nil || n < 1 {
			t.Fatalf("ExpireIdempotencyKeys = %d, %v; want at least the aged key", n, err)
		}
		if n := iwCount(t, s, "SELECT count(*) FROM idempotency_keys WHERE principal_id = ? AND key IN ('retry-7', 'retry-8')", d.Alice); n != 1 {
			t.Errorf("keys left = %d, want only the fresh one", n)
		}
	})
	t.Run("ConcurrentRetriesMakeOne", func(t *testing.T) {
		t.Parallel()
		in := setup(t)
		in.IdempotencyKey = iwPtr("retry-5")
		var (
			mu  sync.Mutex
			ids = map[string]int{}
		)
		codes := iwConcurrently(8, func() error {
			inst, err := s.CreateInstance(alice, in)
			if err == nil {
				mu.Lock()
				ids[inst.ID]++
				mu.Unlock()
			}
			return err
		})
		if codes[""] != 8 || len(ids) != 1 || instancesOf(t, in.SubscriptionID) != 1 {
			t.Errorf("results by code = %v, instance IDs = %v, stored = %d; want 8 successes naming one instance", codes, ids, instancesOf(t, in.SubscriptionID))
		}
	})
}

func TestDeleteInstance(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice := storetest.As(ps["alice"])
	target := d.InstancesA[0]
	outsider := iwOutsider(t, s, d)
	premium := &cairn.ProductTier{ID: d.Premium, ServiceID: d.Service, EnvironmentID: d.Prod, ModelID: d.Hosted, ProviderTenantID: d.Provider}
	outsiderSub := iwSub(t, s, outsider, premium, cairn.SubscriptionActive)

	for _, tc := range []struct {
		name             string
		ctx              context.Context
		in               cairn.DeleteInput
		code, field, msg string
	}{
		{"ErrUnauthenticated", context.Background(), cairn.DeleteInput{ID: target}, cairn.EUNAUTHENTICATED, "", "Sign in"},
		{"ErrNotFound", alice, cairn.DeleteInput{ID: "instance-nothere"}, cairn.ENOTFOUND, "", `instance "instance-nothere" not found`},
		{"ErrOtherTenants", storetest.As(ps["bob"]), cairn.DeleteInput{ID: target}, cairn.ENOTFOUND, "", `instance "` + target + `" not found`},
		{"ErrReaderForbidden", storetest.As(iwReader(d.CustomerA)), cairn.DeleteInput{ID: target}, cairn.EFORBIDDEN, "", "EDITOR"},
		{"ErrStaleVersion", alice, cairn.DeleteInput{ID: target, ExpectedVersion: iwPtr(2)}, cairn.ECONFLICT, "", "expectedVersion 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iwCheck(t, s.DeleteInstance(tc.ctx, tc.in), tc.code, tc.field, tc.msg)
			if n := iwCount(t, s, "SELECT count(*) FROM resource_instances WHERE id = ?", target); n != 1 {
				t.Error("the instance is gone")
			}
		})
	}

	create := func(ctx context.Context, sub string) string {
		in := iwMySQL(d)
		in.SubscriptionID = sub
		inst, err := s.CreateInstance(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return inst.ID
	}
	for _, tc := range []struct {
		name string
		who  *cairn.Principal
		id   string
	}{
		{"ByOwner", ps["alice"], d.InstancesA[1]},
		{"ByAPIKeyOfOwner", iwKey(d.CustomerB), d.InstancesB[0]},
		// The outsider is not under the provider: only the provider branch of
		// the rule lets the owner delete.
		{"ByProvider", ps["owner"], create(storetest.As(iwKey(outsider)), outsiderSub)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := s.DeleteInstance(storetest.As(tc.who), cairn.DeleteInput{ID: tc.id, ExpectedVersion: iwPtr(1)}); err != nil {
				t.Fatal(err)
			}
			if n := iwCount(t, s, "SELECT count(*) FROM resource_instances WHERE id = ?", tc.id); n != 0 {
				t.Error("instance still stored")
			}
		})
	}
}
