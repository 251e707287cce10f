package main

import (
	"flag"
	"fmt"
)

// catalogKinds are the kinds of the provider's catalog, each with its list
// filters.
var catalogKinds = map[string]struct {
	kind    kind
	summary string
	filters func(fs *flag.FlagSet) func() (map[string]any, error)
}{
	"service": {
		kind: kind{name: "service", typeName: "Service", listField: "services", filterType: "ServiceFilter",
			fields:     `id name key description serviceLogoURL providerTenantId provider { name } createdAt updatedAt version`,
			listFields: `id name key provider { name } createdAt`,
			columns:    []column{{"ID", "id"}, {"NAME", "name"}, {"KEY", "key"}, {"PROVIDER", "provider.name"}, {"CREATED", "createdAt"}}},
		summary: "List and describe services (SaaS offerings)",
		filters: func(fs *flag.FlagSet) func() (map[string]any, error) {
			provider := fs.String("provider", "", "only of this provider tenant (org-…)")
			name := fs.String("name", "", "only those whose name contains this")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "providerTenantId", *provider)
				setIf(f, "nameContains", *name)
				return f, nil
			}
		},
	},
	"environment": {
		kind: kind{name: "environment", typeName: "ServiceEnvironment", listField: "serviceEnvironments", filterType: "ServiceEnvironmentFilter",
			fields:     `id name key description type visibility autoApproveSubscription serviceId service { name } sourceEnvironmentId createdAt updatedAt version`,
			listFields: `id name key type visibility service { name }`,
			columns:    []column{{"ID", "id"}, {"NAME", "name"}, {"KEY", "key"}, {"TYPE", "type"}, {"VISIBILITY", "visibility"}, {"SERVICE", "service.name"}}},
		summary: "List and describe service environments (DEV … PROD)",
		filters: func(fs *flag.FlagSet) func() (map[string]any, error) {
			service := fs.String("service", "", "only of this service (s-…)")
			typ := fs.String("type", "", "only this stage: DEV, QA, STAGING, CANARY or PROD")
			vis := fs.String("visibility", "", "only PUBLIC or PRIVATE")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "serviceId", *service)
				setIf(f, "type", enum(*typ))
				setIf(f, "visibility", enum(*vis))
				return f, nil
			}
		},
	},
	"model": {
		kind: kind{name: "model", typeName: "ServiceModel", listField: "serviceModels", filterType: "ServiceModelFilter",
			fields:     `id name key description modelType serviceId environmentId environment { name } createdAt updatedAt version`,
			listFields: `id name key modelType environment { name }`,
			columns:    []column{{"ID", "id"}, {"NAME", "name"}, {"KEY", "key"}, {"TYPE", "modelType"}, {"ENVIRONMENT", "environment.name"}}},
		summary: "List and describe service models (ways of hosting)",
		filters: func(fs *flag.FlagSet) func() (map[string]any, error) {
			service := fs.String("service", "", "only of this service (s-…)")
			env := fs.String("environment", "", "only of this environment (se-…)")
			typ := fs.String("type", "", "only OMNISTRATE_HOSTED, CUSTOMER_HOSTED or BYOA")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "serviceId", *service)
				setIf(f, "environmentId", *env)
				setIf(f, "modelType", enum(*typ))
				return f, nil
			}
		},
	},
	"tier": {
		kind: kind{name: "tier", typeName: "ProductTier", listField: "productTiers", filterType: "ProductTierFilter",
			fields: `id name key description tierType planDescription awsRegions gcpRegions azureRegions maxNumberOfInstances
      disabled autoApproveSubscription pricing features serviceId modelId model { name } createdAt updatedAt version`,
			listFields: `id name key tierType model { name } awsRegions gcpRegions azureRegions disabled`,
			columns: []column{{"ID", "id"}, {"NAME", "name"}, {"KEY", "key"}, {"TYPE", "tierType"}, {"MODEL", "model.name"},
				{"AWS", "awsRegions"}, {"GCP", "gcpRegions"}, {"AZURE", "azureRegions"}, {"DISABLED", "disabled"}}},
		summary: "List and describe product tiers (plans)",
		filters: func(fs *flag.FlagSet) func() (map[string]any, error) {
			service := fs.String("service", "", "only of this service (s-…)")
			model := fs.String("model", "", "only of this model (sm-…)")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "serviceId", *service)
				setIf(f, "modelId", *model)
				return f, nil
			}
		},
	},
	"resource": {
		kind: kind{name: "resource", typeName: "Resource", listField: "resources", filterType: "ResourceFilter",
			fields: `id name key description resourceType internal dependencyIds serviceId tierId tier { name }
      inputParameters { key name description type required modifiable defaultValue options }
      outputParameters { key name valueType } createdAt updatedAt version`,
			listFields: `id name key resourceType tier { name } inputParameters { key }`,
			columns: []column{{"ID", "id"}, {"NAME", "name"}, {"KEY", "key"}, {"TYPE", "resourceType"}, {"TIER", "tier.name"},
				{"PARAMETERS", "inputParameters"}}},
		summary: "List and describe resources (what instances are created of)",
		filters: func(fs *flag.FlagSet) func() (map[string]any, error) {
			service := fs.String("service", "", "only of this service (s-…)")
			tier := fs.String("tier", "", "only of this tier (pt-…)")
			name := fs.String("name", "", "only those whose name contains this")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "serviceId", *service)
				setIf(f, "tierId", *tier)
				setIf(f, "nameContains", *name)
				return f, nil
			}
		},
	},
}

func catalogCommand(name string) *command {
	c := catalogKinds[name]
	return &command{
		name: name, summary: c.summary,
		subs: listDescribe(c.kind,
			fmt.Sprintf("  cairnctl %s list\n  cairnctl %s list --all -o json", name, name),
			fmt.Sprintf("  cairnctl %s describe <id>\n  cairnctl %s describe --id <id> -o yaml", name, name),
			c.filters),
	}
}

var subscriptionKind = kind{
	name: "subscription", typeName: "ServiceSubscription", listField: "serviceSubscriptions", filterType: "ServiceSubscriptionFilter",
	fields:     `id status tenantId tenant { name } tierId tier { name } serviceId service { name } createdByUserId createdAt updatedAt version`,
	listFields: `id status tenant { name } service { name } tier { name } createdAt`,
	columns: []column{{"ID", "id"}, {"STATUS", "status"}, {"TENANT", "tenant.name"}, {"SERVICE", "service.name"},
		{"TIER", "tier.name"}, {"CREATED", "createdAt"}},
}

func subscriptionCommand() *command {
	ld := listDescribe(subscriptionKind,
		"  cairnctl subscription list\n  cairnctl subscription list --tier pt-abc123 --status ACTIVE",
		"  cairnctl subscription describe sub-abc123",
		func(fs *flag.FlagSet) func() (map[string]any, error) {
			tenant := fs.String("tenant", "", "only of this tenant (org-…)")
			service := fs.String("service", "", "only to this service (s-…)")
			tier := fs.String("tier", "", "only to this tier (pt-…)")
			status := fs.String("status", "", "only PENDING, ACTIVE, SUSPENDED or CANCELLED")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "tenantId", *tenant)
				setIf(f, "serviceId", *service)
				setIf(f, "tierId", *tier)
				setIf(f, "status", enum(*status))
				return f, nil
			}
		})
	create := &command{
		name: "create", summary: "Subscribe a tenant to a product tier",
		example: "  cairnctl subscription create --tier pt-abc123\n  cairnctl subscription create --tier pt-abc123 --tenant org-def456",
		setup: func(fs *flag.FlagSet) action {
			tier := fs.String("tier", "", "the product tier (pt-…)")
			tenant := fs.String("tenant", "", "the subscribing tenant; default your home tenant")
			return func(a *app, args []string) error {
				if len(args) > 0 || *tier == "" {
					return usagef("give --tier (and no arguments)")
				}
				in := map[string]any{"tierId": *tier}
				setIf(in, "tenantId", *tenant)
				var data struct {
					CreateServiceSubscription struct{ ServiceSubscription map[string]any }
				}
				q := `mutation($input: CreateServiceSubscriptionInput!) { createServiceSubscription(input: $input) { serviceSubscription { ` + subscriptionKind.fields + ` } } }`
				if err := a.do(q, map[string]any{"input": in}, &data); err != nil {
					return err
				}
				return a.emit(data.CreateServiceSubscription.ServiceSubscription, nil)
			}
		},
	}
	return &command{name: "subscription", summary: "List, describe and create subscriptions to product tiers", subs: []*command{create, ld[0], ld[1]}}
}
