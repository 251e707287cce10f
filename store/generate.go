package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// Shape is the size of a generated catalog: so many services, each with so
// many environments, models per environment, tiers per model, resources per
// tier and instances per resource.
type Shape struct {
	Services, Environments, Models, Tiers, Resources, Instances int
}

// Generate writes a catalog of the given shape for a provider tenant, with one
// subscription of the customer tenant per tier and the instances under it. It
// is for tests and benchmarks: rows go in with multi-row inserts, unchecked.
func (s *Store) Generate(ctx context.Context, provider, customer string, sh Shape) error {
	now := s.Now().UTC()
	var (
		svcs []cairn.Service
		envs []cairn.ServiceEnvironment
		mods []cairn.ServiceModel
		tis  []cairn.ProductTier
		ress []cairn.Resource
		subs []cairn.ServiceSubscription
		inss []cairn.ResourceInstance
	)
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Microsecond) }
	n := 0
	for range sh.Services {
		n++
		svc := cairn.Service{ID: cairn.NewID(cairn.PrefixService), ProviderTenantID: provider, Name: fmt.Sprintf("Service %d", n), Key: fmt.Sprintf("svc-%d-%s", n, cairn.NewID("x")[2:]), Description: "generated", CreatedAt: at(n), UpdatedAt: now, Version: 1}
		svcs = append(svcs, svc)
		for e := range sh.Environments {
			env := cairn.ServiceEnvironment{ID: cairn.NewID(cairn.PrefixEnvironment), ServiceID: svc.ID, ProviderTenantID: provider, Name: fmt.Sprintf("Env %d", e), Key: fmt.Sprintf("env-%d", e), Description: "generated", Type: "DEV", Visibility: cairn.VisibilityPrivate, CreatedAt: at(e), UpdatedAt: now, Version: 1}
			envs = append(envs, env)
			for m := range sh.Models {
				mod := cairn.ServiceModel{ID: cairn.NewID(cairn.PrefixModel), ServiceID: svc.ID, EnvironmentID: env.ID, ProviderTenantID: provider, Name: fmt.Sprintf("Model %d", m), Key: fmt.Sprintf("model-%d", m), Description: "generated", ModelType: "OMNISTRATE_HOSTED", CreatedAt: at(m), UpdatedAt: now, Version: 1}
				mods = append(mods, mod)
				for t := range sh.Tiers {
					tier := cairn.ProductTier{ID: cairn.NewID(cairn.PrefixTier), ServiceID: svc.ID, EnvironmentID: env.ID, ModelID: mod.ID, ProviderTenantID: provider, Name: fmt.Sprintf("Tier %d", t), Key: fmt.Sprintf("tier-%d", t), Description: "generated", TierType: "OMNISTRATE_DEDICATED_TENANCY", AwsRegions: []string{"us-east-1"}, GcpRegions: []string{}, AzureRegions: []string{}, Pricing: map[string]any{}, Features: map[string]any{}, AutoApproveSubscription: true, CreatedAt: at(t), UpdatedAt: now, Version: 1}
					tis = append(tis, tier)
					sub := cairn.ServiceSubscription{ID: cairn.NewID(cairn.PrefixSubscription), TenantID: customer, TierID: tier.ID, ServiceID: svc.ID, ProviderTenantID: provider, Status: cairn.SubscriptionActive, CreatedAt: now, UpdatedAt: now, Version: 1}
					subs = append(subs, sub)
					for r := range sh.Resources {
						res := cairn.Resource{ID: cairn.NewID(cairn.PrefixResource), ServiceID: svc.ID, EnvironmentID: env.ID, ModelID: mod.ID, TierID: tier.ID, ProviderTenantID: provider, Name: fmt.Sprintf("Resource %d", r), Key: fmt.Sprintf("res-%d", r), Description: "generated", ResourceType: "Generic", InputParameters: []cairn.InputParameter{}, OutputParameters: []cairn.OutputParameter{}, DependencyIDs: []string{}, CreatedAt: at(r), UpdatedAt: now, Version: 1}
						ress = append(ress, res)
						for i := range sh.Instances {
							inss = append(inss, cairn.ResourceInstance{ID: cairn.NewID(cairn.PrefixInstance), ResourceID: res.ID, SubscriptionID: sub.ID, TenantID: customer, TierID: tier.ID, ServiceID: svc.ID, ProviderTenantID: provider, Status: cairn.InstanceRunning, CloudProvider: "aws", Region: "us-east-1", NetworkType: cairn.NetworkPublic, RequestParams: map[string]any{}, ResultParams: map[string]any{}, Replicas: 1, CreatedAt: at(i), UpdatedAt: now, Version: 1})
						}
					}
				}
			}
		}
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, insert := range []func() error{
			func() error { return chunked(ctx, tx, svcs) },
			func() error { return chunked(ctx, tx, envs) },
			func() error { return chunked(ctx, tx, mods) },
			func() error { return chunked(ctx, tx, tis) },
			func() error { return chunked(ctx, tx, subs) },
			func() error { return chunked(ctx, tx, ress) },
			func() error { return chunked(ctx, tx, inss) },
		} {
			if err := insert(); err != nil {
				return err
			}
		}
		return nil
	})
}

// chunked inserts rows 1,000 at a time (PostgreSQL takes at most 65,535
// parameters in one statement).
func chunked[T any](ctx context.Context, tx bun.Tx, rows []T) error {
	for i := 0; i < len(rows); i += 1000 {
		chunk := rows[i:min(i+1000, len(rows))]
		if _, err := tx.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
