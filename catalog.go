package cairn

import "time"

// Service is a SaaS offering of a provider tenant. Its catalog is a tree:
// environments → models → product tiers → resources.
type Service struct {
	ID               string `bun:",pk"`
	ProviderTenantID string `bun:",notnull"`
	Name             string `bun:",notnull"`
	Key              string `bun:",notnull"`
	Description      string `bun:",notnull"`
	ServiceLogoURL   *string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int
}

// ServiceEnvironment is a stage of a service (DEV … PROD).
type ServiceEnvironment struct {
	ID                      string          `bun:",pk"`
	ServiceID               string          `bun:",notnull"`
	ProviderTenantID        string          `bun:",notnull"`
	Name                    string          `bun:",notnull"`
	Key                     string          `bun:",notnull"`
	Description             string          `bun:",notnull"`
	Type                    EnvironmentType `bun:",notnull"`
	Visibility              Visibility      `bun:",notnull"`
	AutoApproveSubscription bool            `bun:",notnull"`
	SourceEnvironmentID     *string
	CreatedAt               time.Time
	UpdatedAt               time.Time
	Version                 int
}

// ServiceModel is a way of hosting a service in an environment.
type ServiceModel struct {
	ID               string    `bun:",pk"`
	ServiceID        string    `bun:",notnull"`
	EnvironmentID    string    `bun:",notnull"`
	ProviderTenantID string    `bun:",notnull"`
	Name             string    `bun:",notnull"`
	Key              string    `bun:",notnull"`
	Description      string    `bun:",notnull"`
	ModelType        ModelType `bun:",notnull"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int
}

// ProductTier is a plan customers subscribe to.
type ProductTier struct {
	ID                      string   `bun:",pk"`
	ServiceID               string   `bun:",notnull"`
	EnvironmentID           string   `bun:",notnull"`
	ModelID                 string   `bun:",notnull"`
	ProviderTenantID        string   `bun:",notnull"`
	Name                    string   `bun:",notnull"`
	Key                     string   `bun:",notnull"`
	Description             string   `bun:",notnull"`
	TierType                TierType `bun:",notnull"`
	PlanDescription         string   `bun:",notnull"`
	AwsRegions              []string `bun:",array,notnull"`
	GcpRegions              []string `bun:",array,notnull"`
	AzureRegions            []string `bun:",array,notnull"`
	MaxNumberOfInstances    *int
	Disabled                bool           `bun:",notnull"`
	AutoApproveSubscription bool           `bun:",notnull"`
	Pricing                 map[string]any `bun:",type:jsonb,notnull"`
	Features                map[string]any `bun:",type:jsonb,notnull"`
	CreatedAt               time.Time
	UpdatedAt               time.Time
	Version                 int
}

// Resource is a deployable component of a product tier.
type Resource struct {
	ID               string            `bun:",pk"`
	ServiceID        string            `bun:",notnull"`
	EnvironmentID    string            `bun:",notnull"`
	ModelID          string            `bun:",notnull"`
	TierID           string            `bun:",notnull"`
	ProviderTenantID string            `bun:",notnull"`
	Name             string            `bun:",notnull"`
	Key              string            `bun:",notnull"`
	Description      string            `bun:",notnull"`
	ResourceType     string            `bun:",notnull"`
	Internal         bool              `bun:",notnull"`
	InputParameters  []InputParameter  `bun:",type:jsonb,notnull"`
	OutputParameters []OutputParameter `bun:",type:jsonb,notnull"`
	DependencyIDs    []string          `bun:"dependency_ids,array,notnull"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int
}

// InputParameter is a parameter a customer passes when creating an instance
// of a resource.
type InputParameter struct {
	Key          string   `json:"key"`
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Type         string   `json:"type"`
	Required     bool     `json:"required"`
	Modifiable   bool     `json:"modifiable"`
	DefaultValue *string  `json:"defaultValue,omitempty"`
	Options      []string `json:"options,omitempty"`
	IsList       bool     `json:"isList"`
}

// OutputParameter is a value an instance of a resource reports once deployed.
type OutputParameter struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ValueType   string `json:"valueType"`
}

// ServiceFilter narrows a list of services. Nil fields do not filter.
type ServiceFilter struct {
	ProviderTenantID *string
	NameContains     *string
}

// ServiceEnvironmentFilter narrows a list of environments.
type ServiceEnvironmentFilter struct {
	ServiceID  *string
	Type       *EnvironmentType
	Visibility *Visibility
}

// ServiceModelFilter narrows a list of service models.
type ServiceModelFilter struct {
	ServiceID     *string
	EnvironmentID *string
	ModelType     *ModelType
}

// ProductTierFilter narrows a list of product tiers.
type ProductTierFilter struct {
	ServiceID *string
	ModelID   *string
	TierType  *TierType
	Disabled  *bool
}

// ResourceFilter narrows a list of resources.
type ResourceFilter struct {
	ServiceID    *string
	TierID       *string
	NameContains *string
}

// CreateServiceInput creates a service owned by a provider tenant.
type CreateServiceInput struct {
	ProviderTenantID *string // default: the caller's home tenant
	Name             string
	Key              *string // default: derived from the name
	Description      string
	ServiceLogoURL   *string
}

// UpdateServiceInput changes a service; nil fields stay as they are.
type UpdateServiceInput struct {
	ID              string
	ExpectedVersion *int
	Name            *string
	Description     *string
	ServiceLogoURL  *string
}

// CreateServiceEnvironmentInput creates an environment of a service.
type CreateServiceEnvironmentInput struct {
	ServiceID               string
	Name                    string
	Key                     *string
	Description             string
	Type                    EnvironmentType
	Visibility              *Visibility
	AutoApproveSubscription *bool
	SourceEnvironmentID     *string
}

// UpdateServiceEnvironmentInput changes an environment.
type UpdateServiceEnvironmentInput struct {
	ID                      string
	ExpectedVersion         *int
	Name                    *string
	Description             *string
	Visibility              *Visibility
	AutoApproveSubscription *bool
}

// CreateServiceModelInput creates a service model in an environment.
type CreateServiceModelInput struct {
	EnvironmentID string
	Name          string
	Key           *string
	Description   string
	ModelType     ModelType
}

// UpdateServiceModelInput changes a service model.
type UpdateServiceModelInput struct {
	ID              string
	ExpectedVersion *int
	Name            *string
	Description     *string
}

// CreateProductTierInput creates a product tier of a service model.
type CreateProductTierInput struct {
	ModelID                 string
	Name                    string
	Key                     *string
	Description             string
	TierType                TierType
	PlanDescription         *string
	AwsRegions              []string
	GcpRegions              []string
	AzureRegions            []string
	MaxNumberOfInstances    *int
	AutoApproveSubscription *bool
	Pricing                 map[string]any
	Features                map[string]any
}

// UpdateProductTierInput changes a product tier.
type UpdateProductTierInput struct {
	ID                      string
	ExpectedVersion         *int
	Name                    *string
	Description             *string
	PlanDescription         *string
	AwsRegions              []string
	GcpRegions              []string
	AzureRegions            []string
	MaxNumberOfInstances    IntUpdate // null removes the limit
	Disabled                *bool
	AutoApproveSubscription *bool
	Pricing                 map[string]any
	Features                map[string]any
}

// CreateResourceInput creates a resource of a product tier.
type CreateResourceInput struct {
	TierID           string
	Name             string
	Key              *string
	Description      string
	ResourceType     *string
	Internal         *bool
	InputParameters  []InputParameter
	OutputParameters []OutputParameter
	DependencyIDs    []string
}

// UpdateResourceInput changes a resource.
type UpdateResourceInput struct {
	ID               string
	ExpectedVersion  *int
	Name             *string
	Description      *string
	InputParameters  []InputParameter
	OutputParameters []OutputParameter
	DependencyIDs    []string
}
