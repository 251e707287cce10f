package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func catalogPtr[T any](v T) *T { return &v }

// wantCatalogErr fails t unless err has the code and, when set, the field and a
// message containing msg.
func wantCatalogErr(t *testing.T, err error, code, field, msg string) {
	t.Helper()
	if got := cairn.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if field != "" && cairn.ErrorField(err) != field {
		t.Errorf("error %v: field %q, want %q", err, cairn.ErrorField(err), field)
	}
	if msg != "" && !strings.Contains(cairn.ErrorMessage(err), msg) {
		t.Errorf("error message %q does not contain %q", cairn.ErrorMessage(err), msg)
	}
}

// catalogChain is a service with one of everything under it, created by the
// provider's owner.
type catalogChain struct {
	svc    *cairn.Service
	env    *cairn.ServiceEnvironment
	model  *cairn.ServiceModel
	tier   *cairn.ProductTier
	db, ui *cairn.Resource
}

func newCatalogChain(t *testing.T, s *store.Store, ctx context.Context, name string) catalogChain {
	t.Helper()
	var c catalogChain
	var err error
	if c.svc, err = s.CreateService(ctx, cairn.CreateServiceInput{Name: name, Description: name + " as a service", ServiceLogoURL: catalogPtr("https://example.com/logo.png")}); err != nil {
		t.Fatal(err)
	}
	if c.env, err = s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: c.svc.ID, Name: "Development", Type: "DEV"}); err != nil {
		t.Fatal(err)
	}
	if c.model, err = s.CreateServiceModel(ctx, cairn.CreateServiceModelInput{EnvironmentID: c.env.ID, Name: "Hosted", ModelType: "OMNISTRATE_HOSTED"}); err != nil {
		t.Fatal(err)
	}
	if c.tier, err = s.CreateProductTier(ctx, cairn.CreateProductTierInput{ModelID: c.model.ID, Name: "Basic", TierType: "OMNISTRATE_MULTI_TENANCY"}); err != nil {
		t.Fatal(err)
	}
	if c.db, err = s.CreateResource(ctx, cairn.CreateResourceInput{TierID: c.tier.ID, Name: "Database"}); err != nil {
		t.Fatal(err)
	}
	if c.ui, err = s.CreateResource(ctx, cairn.CreateResourceInput{TierID: c.tier.ID, Name: "Console", DependencyIDs: []string{c.db.ID}}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogCreateChain(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	c := newCatalogChain(t, s, ctx, "Redis Cache")

	if c.svc.ProviderTenantID != d.Provider || c.svc.Key != "redis-cache" || c.svc.Version != 1 || *c.svc.ServiceLogoURL != "https://example.com/logo.png" {
		t.Errorf("service = %+v; want provider %s (the owner's home tenant), key redis-cache, version 1", c.svc, d.Provider)
	}
	if c.env.Visibility != cairn.VisibilityPrivate || c.env.AutoApproveSubscription || c.env.ServiceID != c.svc.ID || c.env.ProviderTenantID != d.Provider {
		t.Errorf("environment = %+v; want PRIVATE, no auto-approval, under %s", c.env, c.svc.ID)
	}
	if c.model.ServiceID != c.svc.ID || c.model.EnvironmentID != c.env.ID || c.model.ProviderTenantID != d.Provider {
		t.Errorf("model = %+v; want the service, environment and provider copied", c.model)
	}
	if c.tier.ServiceID != c.svc.ID || c.tier.EnvironmentID != c.env.ID || c.tier.ModelID != c.model.ID || c.tier.Key != "basic" {
		t.Errorf("tier = %+v; want the parents copied", c.tier)
	}
	if c.ui.TierID != c.tier.ID || c.ui.ModelID != c.model.ID || c.ui.ResourceType != "Generic" || len(c.ui.DependencyIDs) != 1 || c.ui.DependencyIDs[0] != c.db.ID {
		t.Errorf("resource = %+v; want the parents copied, type Generic, depending on %s", c.ui, c.db.ID)
	}

	// Nil slices and maps are stored empty, and read back so.
	tier, err := s.For(ctx).ProductTier(ctx, c.tier.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tier.AwsRegions == nil || tier.GcpRegions == nil || tier.AzureRegions == nil || tier.Pricing == nil || tier.Features == nil {
		t.Errorf("tier read back = %+v; want empty, non-nil regions, pricing and features", tier)
	}
	res, err := s.For(ctx).Resource(ctx, c.db.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.InputParameters == nil || res.OutputParameters == nil || res.DependencyIDs == nil {
		t.Errorf("resource read back = %+v; want empty, non-nil parameters and dependencies", res)
	}

	// A full resource: parameters round-trip, an environment promoted from
	// another of the same service.
	env, err := s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: c.svc.ID, Name: "Production", Key: catalogPtr("prod"),
		Type: "PROD", Visibility: catalogPtr(cairn.VisibilityPublic), AutoApproveSubscription: catalogPtr(true), SourceEnvironmentID: &c.env.ID})
	if err != nil {
		t.Fatal(err)
	}
	if env.SourceEnvironmentID == nil || *env.SourceEnvironmentID != c.env.ID || env.Visibility != cairn.VisibilityPublic || !env.AutoApproveSubscription {
		t.Errorf("environment = %+v; want PUBLIC, auto-approving, promoted from %s", env, c.env.ID)
	}
	full, err := s.CreateResource(ctx, cairn.CreateResourceInput{TierID: c.tier.ID, Name: "Cache", Key: catalogPtr("cache"), ResourceType: catalogPtr("Helm"), Internal: catalogPtr(true),
		InputParameters: []cairn.InputParameter{
			{Key: "size", Name: "Size", Type: "String", DefaultValue: catalogPtr("small"), Options: []string{"small", "large"}},
			{Key: "replicas", Name: "Replicas", Type: "Number", DefaultValue: catalogPtr("3")},
			{Key: "zones", Name: "Zones", Type: "String", IsList: true, DefaultValue: catalogPtr("a,b"), Options: []string{"a", "b", "c"}},
		},
		OutputParameters: []cairn.OutputParameter{{Key: "endpoint", Name: "Endpoint"}},
		DependencyIDs:    []string{c.db.ID, c.ui.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.For(ctx).Resource(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.InputParameters) != 3 || *got.InputParameters[0].DefaultValue != "small" || len(got.InputParameters[2].Options) != 3 ||
		got.OutputParameters[0].ValueType != "String" || !got.Internal || got.ResourceType != "Helm" || len(got.DependencyIDs) != 2 {
		t.Errorf("resource read back = %+v", got)
	}
}

func TestCatalogValidation(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	other, err := s.CreateService(ctx, cairn.CreateServiceInput{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	otherEnv, err := s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: other.ID, Name: "Dev", Type: "DEV"})
	if err != nil {
		t.Fatal(err)
	}
	param := func(mod func(*cairn.InputParameter)) []cairn.InputParameter {
		ip := cairn.InputParameter{Key: "size", Name: "Size", Type: "String"}
		mod(&ip)
		return []cairn.InputParameter{ip}
	}
	resource := func(in cairn.CreateResourceInput) error {
		in.TierID, in.Name = d.Premium, "Proxy"
		_, err := s.CreateResource(ctx, in)
		return err
	}
	tier := func(in cairn.CreateProductTierInput) error {
		in.ModelID, in.Name, in.TierType = d.Hosted, "Gold", "OMNISTRATE_DEDICATED_TENANCY"
		_, err := s.CreateProductTier(ctx, in)
		return err
	}
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"ErrNameRequired", func() error { _, err := s.CreateService(ctx, cairn.CreateServiceInput{Name: "  "}); return err }, "input.name"},
		{"ErrKeyInvalid", func() error {
			_, err := s.CreateService(ctx, cairn.CreateServiceInput{Name: "Redis", Key: catalogPtr("Redis_1")})
			return err
		}, "input.key"},
		{"ErrKeyUnderivable", func() error { _, err := s.CreateService(ctx, cairn.CreateServiceInput{Name: "!!!"}); return err }, "input.key"},
		{"ErrLogoNotHTTP", func() error {
			_, err := s.CreateService(ctx, cairn.CreateServiceInput{Name: "Redis", ServiceLogoURL: catalogPtr("ftp://example.com/logo.png")})
			return err
		}, "input.serviceLogoURL"},
		{"ErrLogoRelative", func() error {
			_, err := s.UpdateService(ctx, cairn.UpdateServiceInput{ID: d.Service, ServiceLogoURL: catalogPtr("/logo.png")})
			return err
		}, "input.serviceLogoURL"},
		{"ErrUpdateNameEmpty", func() error {
			_, err := s.UpdateService(ctx, cairn.UpdateServiceInput{ID: d.Service, Name: catalogPtr("")})
			return err
		}, "input.name"},
		{"ErrEnvironmentType", func() error {
			_, err := s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: d.Service, Name: "Live", Type: "LIVE"})
			return err
		}, "input.type"},
		{"ErrVisibility", func() error {
			_, err := s.UpdateServiceEnvironment(ctx, cairn.UpdateServiceEnvironmentInput{ID: d.Dev, Visibility: catalogPtr(cairn.Visibility("SECRET"))})
			return err
		}, "input.visibility"},
		{"ErrSourceEnvironmentOfOtherService", func() error {
			_, err := s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: d.Service, Name: "QA", Type: "QA", SourceEnvironmentID: &otherEnv.ID})
			return err
		}, "input.sourceEnvironmentId"},
		{"ErrSourceEnvironmentUnknown", func() error {
			_, err := s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: d.Service, Name: "QA", Type: "QA", SourceEnvironmentID: catalogPtr("se-nope")})
			return err
		}, "input.sourceEnvironmentId"},
		{"ErrModelType", func() error {
			_, err := s.CreateServiceModel(ctx, cairn.CreateServiceModelInput{EnvironmentID: d.Prod, Name: "Ours", ModelType: "SERVERLESS"})
			return err
		}, "input.modelType"},
		{"ErrTierType", func() error {
			_, err := s.CreateProductTier(ctx, cairn.CreateProductTierInput{ModelID: d.Hosted, Name: "Gold", TierType: "SHARED"})
			return err
		}, "input.tierType"},
		{"ErrMaxInstancesNegative", func() error { return tier(cairn.CreateProductTierInput{MaxNumberOfInstances: catalogPtr(-1)}) }, "input.maxNumberOfInstances"},
		{"ErrRegionTwice", func() error {
			return tier(cairn.CreateProductTierInput{AwsRegions: []string{"us-east-1", "us-east-1"}})
		}, "input.awsRegions[1]"},
		{"ErrRegionEmpty", func() error { return tier(cairn.CreateProductTierInput{GcpRegions: []string{" "}}) }, "input.gcpRegions[0]"},
		{"ErrUpdateRegionTwice", func() error {
			_, err := s.UpdateProductTier(ctx, cairn.UpdateProductTierInput{ID: d.Free, AzureRegions: []string{"eastus", "westus", "eastus"}})
			return err
		}, "input.azureRegions[2]"},
		{"ErrUpdateMaxInstancesNegative", func() error {
			_, err := s.UpdateProductTier(ctx, cairn.UpdateProductTierInput{ID: d.Free, MaxNumberOfInstances: cairn.SetInt(-5)})
			return err
		}, "input.maxNumberOfInstances"},
		{"ErrResourceTypeEmpty", func() error { return resource(cairn.CreateResourceInput{ResourceType: catalogPtr("")}) }, "input.resourceType"},
		{"ErrParamKeyPattern", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) { ip.Key = "1size" })})
		}, "input.inputParameters[0].key"},
		{"ErrParamKeyTwice", func() error {
			ps := []cairn.InputParameter{{Key: "a", Name: "A", Type: "String"}, {Key: "b", Name: "B", Type: "String"}, {Key: "a", Name: "A2", Type: "Number"}}
			return resource(cairn.CreateResourceInput{InputParameters: ps})
		}, "input.inputParameters[2].key"},
		{"ErrParamNameEmpty", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) { ip.Name = "" })})
		}, "input.inputParameters[0].name"},
		{"ErrParamType", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) { ip.Type = "Integer" })})
		}, "input.inputParameters[0].type"},
		{"ErrParamDefaultNotAnOption", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) {
				ip.Options, ip.DefaultValue = []string{"small", "large"}, catalogPtr("medium")
			})})
		}, "input.inputParameters[0].defaultValue"},
		{"ErrParamDefaultOfWrongType", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) { ip.Type, ip.DefaultValue = "Number", catalogPtr("ten") })})
		}, "input.inputParameters[0].defaultValue"},
		{"ErrParamOptionOfWrongType", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) { ip.Type, ip.Options = "Boolean", []string{"true", "maybe"} })})
		}, "input.inputParameters[0].options[1]"},
		{"ErrParamOptionTwice", func() error {
			return resource(cairn.CreateResourceInput{InputParameters: param(func(ip *cairn.InputParameter) { ip.Options = []string{"a", "a"} })})
		}, "input.inputParameters[0].options[1]"},
		{"ErrOutputKeyTwice", func() error {
			return resource(cairn.CreateResourceInput{OutputParameters: []cairn.OutputParameter{{Key: "host", Name: "Host"}, {Key: "host", Name: "Host"}}})
		}, "input.outputParameters[1].key"},
		{"ErrDependencyOfOtherTier", func() error {
			_, err := s.CreateResource(ctx, cairn.CreateResourceInput{TierID: d.Free, Name: "Proxy", DependencyIDs: []string{d.MySQL}})
			return err
		}, "input.dependencyIds[0]"},
		{"ErrDependencyUnknown", func() error { return resource(cairn.CreateResourceInput{DependencyIDs: []string{d.MySQL, "r-nope"}}) }, "input.dependencyIds[1]"},
		{"ErrDependencyTwice", func() error { return resource(cairn.CreateResourceInput{DependencyIDs: []string{d.MySQL, d.MySQL}}) }, "input.dependencyIds[1]"},
		{"ErrDependencyOnItself", func() error {
			_, err := s.UpdateResource(ctx, cairn.UpdateResourceInput{ID: d.MySQL, DependencyIDs: []string{d.MySQL}})
			return err
		}, "input.dependencyIds[0]"},
		{"ErrDependencyCycle", func() error {
			// Galera depends on MySQL already.
			_, err := s.UpdateResource(ctx, cairn.UpdateResourceInput{ID: d.MySQL, DependencyIDs: []string{d.Galera}})
			return err
		}, "input.dependencyIds[0]"},
		{"ErrUpdateParamType", func() error {
			_, err := s.UpdateResource(ctx, cairn.UpdateResourceInput{ID: d.MySQL, InputParameters: param(func(ip *cairn.InputParameter) { ip.Type = "" })})
			return err
		}, "input.inputParameters[0].type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantCatalogErr(t, tc.call(), cairn.EBADINPUT, tc.field, "")
		})
	}
}

func TestCatalogAccess(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	owner := storetest.As(ps["owner"])
	alice := storetest.As(ps["alice"])
	reader := storetest.As(&cairn.Principal{UserID: "user-reader", TenantID: d.Provider, Grants: []cairn.Grant{{TenantID: d.Provider, Role: cairn.RoleReader}}})

	// A private environment of a service nobody subscribes to.
	svc, err := s.CreateService(owner, cairn.CreateServiceInput{Name: "Kafka"})
	if err != nil {
		t.Fatal(err)
	}
	private, err := s.CreateServiceEnvironment(owner, cairn.CreateServiceEnvironmentInput{ServiceID: svc.ID, Name: "Dev", Type: "DEV"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"Unauthenticated", func() error {
			_, err := s.CreateService(context.Background(), cairn.CreateServiceInput{Name: "Redis"})
			return err
		}, cairn.EUNAUTHENTICATED},
		{"ReaderCreatesService", func() error { _, err := s.CreateService(reader, cairn.CreateServiceInput{Name: "Redis"}); return err }, cairn.EFORBIDDEN},
		{"ReaderUpdatesService", func() error {
			_, err := s.UpdateService(reader, cairn.UpdateServiceInput{ID: d.Service, Name: catalogPtr("X")})
			return err
		}, cairn.EFORBIDDEN},
		{"ReaderCreatesEnvironment", func() error {
			_, err := s.CreateServiceEnvironment(reader, cairn.CreateServiceEnvironmentInput{ServiceID: d.Service, Name: "QA", Type: "QA"})
			return err
		}, cairn.EFORBIDDEN},
		{"ReaderCreatesModel", func() error {
			_, err := s.CreateServiceModel(reader, cairn.CreateServiceModelInput{EnvironmentID: d.Prod, Name: "Ours", ModelType: "BYOA"})
			return err
		}, cairn.EFORBIDDEN},
		{"ReaderCreatesTier", func() error {
			_, err := s.CreateProductTier(reader, cairn.CreateProductTierInput{ModelID: d.Hosted, Name: "Gold", TierType: "OMNISTRATE_DEDICATED_TENANCY"})
			return err
		}, cairn.EFORBIDDEN},
		{"ReaderUpdatesResource", func() error {
			_, err := s.UpdateResource(reader, cairn.UpdateResourceInput{ID: d.Galera, Name: catalogPtr("X")})
			return err
		}, cairn.EFORBIDDEN},
		{"ReaderDeletesTier", func() error { return s.DeleteProductTier(reader, cairn.DeleteInput{ID: d.Free}) }, cairn.EFORBIDDEN},
		{"ReaderDeletesResource", func() error { return s.DeleteResource(reader, cairn.DeleteInput{ID: d.Galera}) }, cairn.EFORBIDDEN},
		// Alice subscribes to a tier in PROD; the service's PRIVATE DEV is
		// outside her scope.
		{"SubscriberUpdatesPrivateEnvironment", func() error {
			_, err := s.UpdateServiceEnvironment(alice, cairn.UpdateServiceEnvironmentInput{ID: d.Dev, Name: catalogPtr("Mine")})
			return err
		}, cairn.ENOTFOUND},
		{"SubscriberUpdatesItsEnvironment", func() error {
			_, err := s.UpdateServiceEnvironment(alice, cairn.UpdateServiceEnvironmentInput{ID: d.Prod, Name: catalogPtr("Mine")})
			return err
		}, cairn.EFORBIDDEN},
		{"SubscriberDeletesItsTier", func() error { return s.DeleteProductTier(alice, cairn.DeleteInput{ID: d.Premium}) }, cairn.EFORBIDDEN},
		{"OutsiderUpdatesPrivateEnvironment", func() error {
			_, err := s.UpdateServiceEnvironment(alice, cairn.UpdateServiceEnvironmentInput{ID: private.ID, Name: catalogPtr("Mine")})
			return err
		}, cairn.ENOTFOUND},
		{"OutsiderDeletesPrivateEnvironment", func() error { return s.DeleteServiceEnvironment(alice, cairn.DeleteInput{ID: private.ID}) }, cairn.ENOTFOUND},
		{"OutsiderCreatesModelInPrivateEnvironment", func() error {
			_, err := s.CreateServiceModel(alice, cairn.CreateServiceModelInput{EnvironmentID: private.ID, Name: "Ours", ModelType: "BYOA"})
			return err
		}, cairn.ENOTFOUND},
		{"CustomerCreatesServiceForProvider", func() error {
			_, err := s.CreateService(alice, cairn.CreateServiceInput{ProviderTenantID: &d.Provider, Name: "Redis"})
			return err
		}, cairn.ENOTFOUND},
		{"UnknownService", func() error {
			_, err := s.UpdateService(owner, cairn.UpdateServiceInput{ID: "s-nope", Name: catalogPtr("X")})
			return err
		}, cairn.ENOTFOUND},
		{"UnknownEnvironment", func() error {
			_, err := s.UpdateServiceEnvironment(owner, cairn.UpdateServiceEnvironmentInput{ID: "se-nope", Name: catalogPtr("X")})
			return err
		}, cairn.ENOTFOUND},
		{"UnknownParentTier", func() error {
			_, err := s.CreateResource(owner, cairn.CreateResourceInput{TierID: "pt-nope", Name: "X"})
			return err
		}, cairn.ENOTFOUND},
		{"UnknownResource", func() error { return s.DeleteResource(owner, cairn.DeleteInput{ID: "r-nope"}) }, cairn.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantCatalogErr(t, tc.call(), tc.code, "", "")
		})
	}

	// Nothing changed, once the parallel cases are done.
	t.Cleanup(func() {
		for _, id := range []string{d.Dev, d.Prod} {
			env, err := s.For(owner).ServiceEnvironment(owner, id)
			if err != nil || env.Name == "Mine" || env.Version != 1 {
				t.Errorf("environment %s = %+v (%v); want it unchanged", id, env, err)
			}
		}
		if _, err := s.For(owner).ProductTier(owner, d.Premium); err != nil {
			t.Errorf("Premium: %v; want it still there", err)
		}
	})
}

func TestCatalogUpdateVersion(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	fixed := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Now = func() time.Time { return fixed }

	for _, tc := range []struct {
		name   string
		update func(expected int) (version int, updated time.Time, err error)
	}{
		{"Service", func(v int) (int, time.Time, error) {
			r, err := s.UpdateService(ctx, cairn.UpdateServiceInput{ID: d.Service, ExpectedVersion: &v, Name: catalogPtr("MySQL HA"), ServiceLogoURL: catalogPtr("http://example.com/l.svg")})
			if err == nil && (r.Name != "MySQL HA" || *r.ServiceLogoURL != "http://example.com/l.svg" || r.Key != "mysql") {
				return 0, time.Time{}, cairn.Errorf(cairn.EINTERNAL, "service not changed as asked: %+v", r)
			}
			return catalogVersion(r, err)
		}},
		{"Environment", func(v int) (int, time.Time, error) {
			r, err := s.UpdateServiceEnvironment(ctx, cairn.UpdateServiceEnvironmentInput{ID: d.Dev, ExpectedVersion: &v, Visibility: catalogPtr(cairn.VisibilityPublic)})
			if err == nil && r.Visibility != cairn.VisibilityPublic {
				return 0, time.Time{}, cairn.Errorf(cairn.EINTERNAL, "environment not changed: %+v", r)
			}
			return catalogVersion(r, err)
		}},
		{"Model", func(v int) (int, time.Time, error) {
			r, err := s.UpdateServiceModel(ctx, cairn.UpdateServiceModelInput{ID: d.CustomerHosted, ExpectedVersion: &v, Description: catalogPtr("BYOA")})
			return catalogVersion(r, err)
		}},
		{"Tier", func(v int) (int, time.Time, error) {
			r, err := s.UpdateProductTier(ctx, cairn.UpdateProductTierInput{ID: d.Free, ExpectedVersion: &v, Disabled: catalogPtr(true),
				AwsRegions: []string{}, Pricing: map[string]any{"perHour": 0.0}})
			if err == nil && (!r.Disabled || len(r.AwsRegions) != 0 || len(r.GcpRegions) != 1 || r.Pricing["currency"] != nil) {
				return 0, time.Time{}, cairn.Errorf(cairn.EINTERNAL, "tier not changed as asked: %+v", r)
			}
			return catalogVersion(r, err)
		}},
		{"Resource", func(v int) (int, time.Time, error) {
			r, err := s.UpdateResource(ctx, cairn.UpdateResourceInput{ID: d.Galera, ExpectedVersion: &v, DependencyIDs: []string{}})
			if err == nil && len(r.DependencyIDs) != 0 {
				return 0, time.Time{}, cairn.Errorf(cairn.EINTERNAL, "dependencies not replaced: %+v", r)
			}
			return catalogVersion(r, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, at, err := tc.update(1)
			if err != nil || v != 2 || !at.Equal(fixed) {
				t.Fatalf("first update: version %d at %v (%v); want 2 at %v", v, at, err, fixed)
			}
			_, _, err = tc.update(1)
			wantCatalogErr(t, err, cairn.ECONFLICT, "", "not the expectedVersion 1")
		})
	}
}

// catalogVersion returns the version and update time of a catalog row.
func catalogVersion[T any](row *T, err error) (int, time.Time, error) {
	if err != nil {
		return 0, time.Time{}, err
	}
	switch r := any(row).(type) {
	case *cairn.Service:
		return r.Version, r.UpdatedAt, nil
	case *cairn.ServiceEnvironment:
		return r.Version, r.UpdatedAt, nil
	case *cairn.ServiceModel:
		return r.Version, r.UpdatedAt, nil
	case *cairn.ProductTier:
		return r.Version, r.UpdatedAt, nil
	case *cairn.Resource:
		return r.Version, r.UpdatedAt, nil
	}
	panic("not a catalog row")
}

func TestCatalogDuplicateKey(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	for _, tc := range []struct {
		name string
		call func() error
		msg  string
	}{
		{"Service", func() error { _, err := s.CreateService(ctx, cairn.CreateServiceInput{Name: "MySQL"}); return err },
			`a service with key "mysql" already exists for provider tenant ` + d.Provider},
		{"Environment", func() error {
			_, err := s.CreateServiceEnvironment(ctx, cairn.CreateServiceEnvironmentInput{ServiceID: d.Service, Name: "Prod 2", Key: catalogPtr("prod"), Type: "PROD"})
			return err
		}, `service ` + d.Service + ` already has an environment with key "prod"`},
		{"Model", func() error {
			_, err := s.CreateServiceModel(ctx, cairn.CreateServiceModelInput{EnvironmentID: d.Prod, Name: "Hosted", ModelType: "OMNISTRATE_HOSTED"})
			return err
		}, `environment ` + d.Prod + ` already has a service model with key "hosted"`},
		{"Tier", func() error {
			_, err := s.CreateProductTier(ctx, cairn.CreateProductTierInput{ModelID: d.Hosted, Name: "Premium", TierType: "OMNISTRATE_DEDICATED_TENANCY"})
			return err
		}, `service model ` + d.Hosted + ` already has a product tier with key "premium"`},
		{"Resource", func() error {
			_, err := s.CreateResource(ctx, cairn.CreateResourceInput{TierID: d.Premium, Name: "Galera"})
			return err
		}, `product tier ` + d.Premium + ` already has a resource with key "galera"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantCatalogErr(t, tc.call(), cairn.ECONFLICT, "input.key", tc.msg)
		})
	}
	// The same key under another parent is fine.
	if _, err := s.CreateResource(ctx, cairn.CreateResourceInput{TierID: d.Free, Name: "Galera"}); err != nil {
		t.Errorf("galera in the Free tier: %v", err)
	}
}

func TestCatalogDeleteRefused(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	for _, tc := range []struct {
		name string
		call func() error
		msg  string
	}{
		{"PremiumTier", func() error { return s.DeleteProductTier(ctx, cairn.DeleteInput{ID: d.Premium}) },
			`product tier "` + d.Premium + `" has 2 subscriptions not cancelled`},
		{"HostedModel", func() error { return s.DeleteServiceModel(ctx, cairn.DeleteInput{ID: d.Hosted}) }, "2 subscriptions"},
		{"ProdEnvironment", func() error { return s.DeleteServiceEnvironment(ctx, cairn.DeleteInput{ID: d.Prod}) }, "2 subscriptions"},
		{"Service", func() error { return s.DeleteService(ctx, cairn.DeleteInput{ID: d.Service}) }, "2 subscriptions"},
		{"ResourceWithDependent", func() error { return s.DeleteResource(ctx, cairn.DeleteInput{ID: d.MySQL}) },
			"is a dependency of 1 other resource (" + d.Galera + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCatalogErr(t, tc.call(), cairn.EFAILEDPRECONDITION, "", tc.msg)
		})
	}
	// With the dependency gone, MySQL's instances still hold it.
	if _, err := s.UpdateResource(ctx, cairn.UpdateResourceInput{ID: d.Galera, DependencyIDs: []string{}}); err != nil {
		t.Fatal(err)
	}
	err := s.DeleteResource(ctx, cairn.DeleteInput{ID: d.MySQL})
	wantCatalogErr(t, err, cairn.EFAILEDPRECONDITION, "", `resource "`+d.MySQL+`" has 6 instances; delete them first`)
}

func TestCatalogDelete(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	db := s.DB()
	c := newCatalogChain(t, s, ctx, "Redis")

	count := func(table, col, id string) int64 {
		t.Helper()
		n, err := db.NewSelect().TableExpr(table).Where(col+" = ?", id).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("StaleVersion", func(t *testing.T) {
		err := s.DeleteProductTier(ctx, cairn.DeleteInput{ID: c.tier.ID, ExpectedVersion: catalogPtr(7)})
		wantCatalogErr(t, err, cairn.ECONFLICT, "", "not the expectedVersion 7")
	})

	t.Run("UnusedTier", func(t *testing.T) {
		// A cancelled subscription does not hold the tier; it goes with it.
		sub := &cairn.ServiceSubscription{ID: cairn.NewID(cairn.PrefixSubscription), TenantID: d.CustomerA, TierID: c.tier.ID, ServiceID: c.svc.ID,
			ProviderTenantID: d.Provider, Status: cairn.SubscriptionCancelled, CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
		if _, err := db.NewInsert().Model(sub).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteProductTier(ctx, cairn.DeleteInput{ID: c.tier.ID, ExpectedVersion: catalogPtr(1)}); err != nil {
			t.Fatal(err)
		}
		if n := count("resources", "tier_id", c.tier.ID); n != 0 {
			t.Errorf("%d resources of the deleted tier remain", n)
		}
		if n := count("service_subscriptions", "id", sub.ID); n != 0 {
			t.Errorf("the cancelled subscription remains")
		}
		_, err := s.For(ctx).ProductTier(ctx, c.tier.ID)
		wantCatalogErr(t, err, cairn.ENOTFOUND, "", "")
		if n := count("service_models", "id", c.model.ID); n != 1 {
			t.Errorf("the tier's model went too")
		}
	})

	t.Run("ResourceWithoutInstances", func(t *testing.T) {
		if err := s.DeleteResource(ctx, cairn.DeleteInput{ID: d.Galera}); err != nil {
			t.Fatal(err)
		}
		if n := count("resources", "id", d.Galera); n != 0 {
			t.Errorf("galera remains")
		}
	})

	t.Run("UnusedEnvironment", func(t *testing.T) {
		// DEV has a model, tier and resource but no subscriptions; PROD is
		// promoted from it and forgets its source.
		if err := s.DeleteServiceEnvironment(ctx, cairn.DeleteInput{ID: d.Dev}); err != nil {
			t.Fatal(err)
		}
		if n := count("resources", "environment_id", d.Dev) + count("product_tiers", "environment_id", d.Dev) + count("service_models", "environment_id", d.Dev); n != 0 {
			t.Errorf("%d rows under the deleted environment remain", n)
		}
		prod, err := s.For(ctx).ServiceEnvironment(ctx, d.Prod)
		if err != nil || prod.SourceEnvironmentID != nil {
			t.Errorf("PROD = %+v (%v); want no source environment", prod, err)
		}
	})

	t.Run("UnusedService", func(t *testing.T) {
		if err := s.DeleteService(ctx, cairn.DeleteInput{ID: c.svc.ID}); err != nil {
			t.Fatal(err)
		}
		if n := count("service_environments", "service_id", c.svc.ID) + count("service_models", "service_id", c.svc.ID); n != 0 {
			t.Errorf("%d rows under the deleted service remain", n)
		}
	})
}
