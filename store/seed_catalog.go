package store

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

func ptr[T any](v T) *T { return &v }

func seedCatalog(ctx context.Context, tx bun.Tx, d *Demo, provider string, now time.Time, ins func(any) error) error {
	d.Service = cairn.NewID(cairn.PrefixService)
	if err := ins(&cairn.Service{ID: d.Service, ProviderTenantID: provider, Name: "MySQL", Key: "mysql",
		Description: "A MySQL SaaS specializing in multi-writer clusters for high availability", CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		return err
	}
	env := func(id *string, name, key string, typ cairn.EnvironmentType, vis cairn.Visibility, source *string) error {
		*id = cairn.NewID(cairn.PrefixEnvironment)
		return ins(&cairn.ServiceEnvironment{ID: *id, ServiceID: d.Service, ProviderTenantID: provider, Name: name, Key: key,
			Description: name + " environment of the MySQL service", Type: typ, Visibility: vis, AutoApproveSubscription: true,
			SourceEnvironmentID: source, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	if err := env(&d.Dev, "Development", "dev", "DEV", cairn.VisibilityPrivate, nil); err != nil {
		return err
	}
	if err := env(&d.Prod, "Production", "prod", "PROD", cairn.VisibilityPublic, &d.Dev); err != nil {
		return err
	}
	model := func(id *string, envID, name, key string, mt cairn.ModelType) error {
		*id = cairn.NewID(cairn.PrefixModel)
		return ins(&cairn.ServiceModel{ID: *id, ServiceID: d.Service, EnvironmentID: envID, ProviderTenantID: provider, Name: name, Key: key,
			Description: name, ModelType: mt, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	var devHosted string
	if err := model(&devHosted, d.Dev, "MySQL hosted", "hosted", "OMNISTRATE_HOSTED"); err != nil {
		return err
	}
	if err := model(&d.Hosted, d.Prod, "MySQL hosted", "hosted", "OMNISTRATE_HOSTED"); err != nil {
		return err
	}
	if err := model(&d.CustomerHosted, d.Prod, "MySQL in your account", "byoa", "CUSTOMER_HOSTED"); err != nil {
		return err
	}
	tier := func(id *string, modelID, envID, name, key string, max *int, price float64) error {
		*id = cairn.NewID(cairn.PrefixTier)
		return ins(&cairn.ProductTier{ID: *id, ServiceID: d.Service, EnvironmentID: envID, ModelID: modelID, ProviderTenantID: provider,
			Name: name, Key: key, Description: name + " tier", TierType: "OMNISTRATE_DEDICATED_TENANCY", PlanDescription: name + " plan",
			AwsRegions: []string{"us-east-1", "eu-west-1"}, GcpRegions: []string{"us-central1"}, AzureRegions: []string{},
			MaxNumberOfInstances: max, AutoApproveSubscription: true, Pricing: map[string]any{"currency": "USD", "perHour": price},
			Features: map[string]any{"backups": price > 0}, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	var devTier string
	if err := tier(&devTier, devHosted, d.Dev, "Dev", "dev", nil, 0); err != nil {
		return err
	}
	if err := tier(&d.Free, d.Hosted, d.Prod, "Free", "free", ptr(1), 0); err != nil {
		return err
	}
	if err := tier(&d.Premium, d.Hosted, d.Prod, "Premium", "premium", ptr(10), 0.5); err != nil {
		return err
	}
	params := []cairn.InputParameter{
		{Key: "mysqlDatabase", Name: "Database", Description: "Name of the first database", Type: "String", Required: true},
		{Key: "mysqlUser", Name: "User", Description: "Name of the first user", Type: "String", Required: true},
		{Key: "mysqlPassword", Name: "Password", Description: "Password of the first user", Type: "Password", Required: true, Modifiable: true},
		{Key: "instanceType", Name: "Instance type", Description: "Machine size", Type: "String", Modifiable: true, DefaultValue: ptr("small"), Options: []string{"small", "medium", "large"}},
	}
	outputs := []cairn.OutputParameter{{Key: "endpoint", Name: "Endpoint", Description: "host:port to connect to", ValueType: "String"}}
	resource := func(id *string, tierID, envID, modelID, name, key string, deps []string) error {
		*id = cairn.NewID(cairn.PrefixResource)
		return ins(&cairn.Resource{ID: *id, ServiceID: d.Service, EnvironmentID: envID, ModelID: modelID, TierID: tierID, ProviderTenantID: provider,
			Name: name, Key: key, Description: name + " cluster", ResourceType: "Generic", InputParameters: params, OutputParameters: outputs,
			DependencyIDs: deps, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	var devRes, freeRes string
	if err := resource(&devRes, devTier, d.Dev, devHosted, "MySQL", "mysql", []string{}); err != nil {
		return err
	}
	if err := resource(&freeRes, d.Free, d.Prod, d.Hosted, "MySQL", "mysql", []string{}); err != nil {
		return err
	}
	if err := resource(&d.MySQL, d.Premium, d.Prod, d.Hosted, "MySQL", "mysql", []string{}); err != nil {
		return err
	}
	if err := resource(&d.Galera, d.Premium, d.Prod, d.Hosted, "Galera", "galera", []string{d.MySQL}); err != nil {
		return err
	}
	sub := func(id *string, tenant, user string) error {
		*id = cairn.NewID(cairn.PrefixSubscription)
		return ins(&cairn.ServiceSubscription{ID: *id, TenantID: tenant, TierID: d.Premium, ServiceID: d.Service, ProviderTenantID: provider,
			Status: cairn.SubscriptionActive, CreatedByUserID: &user, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	if err := sub(&d.SubA, d.CustomerA, d.Alice); err != nil {
		return err
	}
	if err := sub(&d.SubB, d.CustomerB, d.Bob); err != nil {
		return err
	}
	instance := func(ids *[]string, subID, tenant, user string, status cairn.InstanceStatus, region string, i int) error {
		id := cairn.NewID(cairn.PrefixInstance)
		*ids = append(*ids, id)
		result := map[string]any{}
		if status != cairn.InstanceDeploying && status != cairn.InstanceFailed {
			result["endpoint"] = id + "." + region + ".mysql.acme.example:3306"
		}
		at := now.Add(time.Duration(i) * time.Second)
		return ins(&cairn.ResourceInstance{ID: id, ResourceID: d.MySQL, SubscriptionID: subID, TenantID: tenant, TierID: d.Premium,
			ServiceID: d.Service, ProviderTenantID: provider, Status: status, CloudProvider: "aws", Region: region, NetworkType: cairn.NetworkPublic,
			RequestParams: map[string]any{"mysqlDatabase": "app", "mysqlUser": "app", "instanceType": "small"}, ResultParams: result,
			Replicas: 1, CreatedByUserID: &user, CreatedAt: at, UpdatedAt: at, Version: 1})
	}
	for i, st := range []cairn.InstanceStatus{cairn.InstanceRunning, cairn.InstanceRunning, cairn.InstanceStopped, cairn.InstanceDeploying} {
		if err := instance(&d.InstancesA, d.SubA, d.CustomerA, d.Alice, st, "us-east-1", i); err != nil {
			return err
		}
	}
	for i, st := range []cairn.InstanceStatus{cairn.InstanceRunning, cairn.InstanceFailed} {
		if err := instance(&d.InstancesB, d.SubB, d.CustomerB, d.Bob, st, "eu-west-1", i); err != nil {
			return err
		}
	}
	return nil
}
