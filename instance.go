package cairn

import "time"

// ServiceSubscription is a customer tenant's subscription to a product tier.
type ServiceSubscription struct {
	ID               string             `bun:",pk"`
	TenantID         string             `bun:",notnull"`
	TierID           string             `bun:",notnull"`
	ServiceID        string             `bun:",notnull"`
	ProviderTenantID string             `bun:",notnull"`
	Status           SubscriptionStatus `bun:",notnull"`
	CreatedByUserID  *string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int
}

// ServiceSubscriptionFilter narrows a list of subscriptions.
type ServiceSubscriptionFilter struct {
	TenantID  *string
	ServiceID *string
	TierID    *string
	Status    *SubscriptionStatus
}

// CreateServiceSubscriptionInput subscribes a tenant to a product tier.
type CreateServiceSubscriptionInput struct {
	TierID   string
	TenantID *string // default: the caller's home tenant
}

// ResourceInstance is a deployed instance of a resource, owned by the
// subscribing customer tenant.
type ResourceInstance struct {
	ID               string         `bun:",pk"`
	ResourceID       string         `bun:",notnull"`
	SubscriptionID   string         `bun:",notnull"`
	TenantID         string         `bun:",notnull"`
	TierID           string         `bun:",notnull"`
	ServiceID        string         `bun:",notnull"`
	ProviderTenantID string         `bun:",notnull"`
	Status           InstanceStatus `bun:",notnull"`
	CloudProvider    string         `bun:",notnull"`
	Region           string         `bun:",notnull"`
	NetworkType      NetworkType    `bun:",notnull"`
	RequestParams    map[string]any `bun:",type:jsonb,notnull"`
	ResultParams     map[string]any `bun:",type:jsonb,notnull"`
	Replicas         int            `bun:",notnull"`
	// QuarantinedAt is when a delete quarantined the instance (status
	// QUARANTINED); QuarantinePreviousStatus is the status a restore returns
	// it to.
	QuarantinedAt            *time.Time
	QuarantinePreviousStatus *InstanceStatus
	CreatedByUserID          *string
	CreatedAt                time.Time
	UpdatedAt                time.Time
	Version                  int
}

// ResourceInstanceFilter narrows a list of instances. Nil or empty fields do
// not filter.
type ResourceInstanceFilter struct {
	TenantID       *string
	ServiceID      *string
	TierID         *string
	ResourceID     *string
	SubscriptionID *string
	Status         []InstanceStatus
	CloudProvider  *string
	Region         *string
}

// CreateInstanceInput creates an instance of a resource under a subscription.
type CreateInstanceInput struct {
	ResourceID     string
	SubscriptionID string
	CloudProvider  string
	Region         string
	NetworkType    *NetworkType
	RequestParams  map[string]any
	IdempotencyKey *string
}
