package store

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// Demo names the objects SeedDemo creates.
type Demo struct {
	Root, Provider, CustomerA, CustomerB string // tenants
	Owner, Alice, Bob                    string // users
	Service                              string
	Dev, Prod                            string // environments
	Hosted, CustomerHosted               string // models in PROD
	Free, Premium                        string // tiers of the hosted model in PROD
	MySQL, Galera                        string // resources of Premium
	SubA, SubB                           string // subscriptions of A and B to Premium
	InstancesA, InstancesB               []string
}

// DemoPassword is the password of the demo users. Demo data only.
const DemoPassword = "cairn-demo"

// Demo users' emails.
const (
	DemoOwner = "owner@provider.example"
	DemoAlice = "alice@customer-a.example"
	DemoBob   = "bob@customer-b.example"
)

// HasData reports whether the database holds any tenant.
func (s *Store) HasData(ctx context.Context) (bool, error) {
	return s.db.NewSelect().Model((*cairn.Tenant)(nil)).Exists(ctx)
}

// SeedDemo loads the demo catalog in one transaction: a provider with a
// MySQL service (DEV and PROD, hosted and customer-hosted models, two tiers,
// resources with input parameters) and two customers with subscriptions and
// instances in several states. passwordHash is the hash of DemoPassword.
func (s *Store) SeedDemo(ctx context.Context, passwordHash string) (*Demo, error) {
	d := &Demo{}
	now := s.Now().UTC()
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ins := func(v any) error {
			_, err := tx.NewInsert().Model(v).Exec(ctx)
			return err
		}
		tenant := func(id *string, name string, k cairn.TenantKind, parent *cairn.Tenant) *cairn.Tenant {
			*id = cairn.NewID(cairn.PrefixTenant)
			t := &cairn.Tenant{ID: *id, Name: name, Kind: k, State: cairn.TenantEnabled, Ancestors: []string{*id}, CreatedAt: now, UpdatedAt: now, Version: 1}
			if parent != nil {
				t.ParentID = &parent.ID
				t.Ancestors = append(append([]string{}, parent.Ancestors...), *id)
			}
			return t
		}
		root := tenant(&d.Root, "Cairn", cairn.TenantRoot, nil)
		prov := tenant(&d.Provider, "Acme Cloud", cairn.TenantPartner, root)
		ca := tenant(&d.CustomerA, "Customer A", cairn.TenantCustomer, prov)
		cb := tenant(&d.CustomerB, "Customer B", cairn.TenantCustomer, prov)
		for _, t := range []*cairn.Tenant{root, prov, ca, cb} {
			if err := ins(t); err != nil {
				return err
			}
		}
		user := func(id *string, email, name string, t *cairn.Tenant, role cairn.Role) error {
			*id = cairn.NewID(cairn.PrefixUser)
			u := &cairn.User{ID: *id, Email: email, Name: name, TenantID: t.ID, PasswordHash: passwordHash, Activated: true, CreatedAt: now, UpdatedAt: now, Version: 1}
			if err := ins(u); err != nil {
				return err
			}
			return ins(&cairn.RoleBinding{ID: cairn.NewID(cairn.PrefixRoleBinding), UserID: u.ID, TenantID: t.ID, Role: role, CreatedAt: now})
		}
		if err := user(&d.Owner, DemoOwner, "Olivia Owner", prov, cairn.RoleRoot); err != nil {
			return err
		}
		if err := user(&d.Alice, DemoAlice, "Alice Adams", ca, cairn.RoleAdmin); err != nil {
			return err
		}
		if err := user(&d.Bob, DemoBob, "Bob Brown", cb, cairn.RoleAdmin); err != nil {
			return err
		}
		return seedCatalog(ctx, tx, d, prov.ID, now, ins)
	})
	if err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	return d, nil
}
