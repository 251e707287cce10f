package cairn

import (
	"io"
	"slices"
	"strconv"
)

// TenantKind is a tenant's place in the tree: root → partner → customer → unit.
type TenantKind string

// TenantState tells whether a tenant's users can act.
type TenantState string

// EnvironmentType is the stage of a service environment.
type EnvironmentType string

// Visibility says who can read a service environment's catalog.
type Visibility string

// ModelType says who hosts the instances of a service model.
type ModelType string

// TierType is the tenancy of a product tier.
type TierType string

// SubscriptionStatus is the state of a tenant's subscription to a product tier.
type SubscriptionStatus string

// InstanceStatus is the state of a resource instance.
type InstanceStatus string

// NetworkType says how a resource instance is reachable.
type NetworkType string

var enumValues = map[string][]string{
	"TenantKind":         {"ROOT", "PARTNER", "CUSTOMER", "UNIT"},
	"TenantState":        {"ENABLED", "DISABLED"},
	"Role":               {"ROOT", "ADMIN", "EDITOR", "READER"},
	"EnvironmentType":    {"DEV", "QA", "STAGING", "CANARY", "PROD"},
	"Visibility":         {"PUBLIC", "PRIVATE"},
	"ModelType":          {"OMNISTRATE_HOSTED", "CUSTOMER_HOSTED", "BYOA"},
	"TierType":           {"OMNISTRATE_DEDICATED_TENANCY", "OMNISTRATE_MULTI_TENANCY"},
	"SubscriptionStatus": {"PENDING", "ACTIVE", "SUSPENDED", "CANCELLED"},
	"InstanceStatus":     {"DEPLOYING", "RUNNING", "STOPPING", "STOPPED", "STARTING", "RESTARTING", "FAILOVER", "DELETING", "FAILED", "QUARANTINED", "UPDATING", "SCALING", "SNAPSHOTTING", "RESTORING"},
	"NetworkType":        {"PUBLIC", "INTERNAL"},
	"OrderDirection":     {"ASC", "DESC"},
}

// Enum values used in code.
const (
	TenantRoot     TenantKind = "ROOT"
	TenantPartner  TenantKind = "PARTNER"
	TenantCustomer TenantKind = "CUSTOMER"
	TenantUnit     TenantKind = "UNIT"

	TenantEnabled  TenantState = "ENABLED"
	TenantDisabled TenantState = "DISABLED"

	VisibilityPublic  Visibility = "PUBLIC"
	VisibilityPrivate Visibility = "PRIVATE"

	SubscriptionPending   SubscriptionStatus = "PENDING"
	SubscriptionActive    SubscriptionStatus = "ACTIVE"
	SubscriptionSuspended SubscriptionStatus = "SUSPENDED"
	SubscriptionCancelled SubscriptionStatus = "CANCELLED"

	InstanceDeploying InstanceStatus = "DEPLOYING"
	InstanceRunning   InstanceStatus = "RUNNING"
	InstanceStopped   InstanceStatus = "STOPPED"
	InstanceDeleting  InstanceStatus = "DELETING"
	InstanceFailed    InstanceStatus = "FAILED"

	NetworkPublic NetworkType = "PUBLIC"
)

func unmarshalEnum(kind string, v any) (string, error) {
	s, ok := v.(string)
	if !ok || !slices.Contains(enumValues[kind], s) {
		return "", Errorf(EBADINPUT, "%v is not a valid %s: use one of %v", v, kind, enumValues[kind])
	}
	return s, nil
}

// EnumValid reports whether s is a value of the enum named kind.
func EnumValid(kind, s string) bool { return slices.Contains(enumValues[kind], s) }

func marshalEnum(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

// The methods below let gqlgen bind the schema's enums to these types.

func (e TenantKind) MarshalGQL(w io.Writer)         { marshalEnum(w, string(e)) }
func (e TenantState) MarshalGQL(w io.Writer)        { marshalEnum(w, string(e)) }
func (e Role) MarshalGQL(w io.Writer)               { marshalEnum(w, string(e)) }
func (e EnvironmentType) MarshalGQL(w io.Writer)    { marshalEnum(w, string(e)) }
func (e Visibility) MarshalGQL(w io.Writer)         { marshalEnum(w, string(e)) }
func (e ModelType) MarshalGQL(w io.Writer)          { marshalEnum(w, string(e)) }
func (e TierType) MarshalGQL(w io.Writer)           { marshalEnum(w, string(e)) }
func (e SubscriptionStatus) MarshalGQL(w io.Writer) { marshalEnum(w, string(e)) }
func (e InstanceStatus) MarshalGQL(w io.Writer)     { marshalEnum(w, string(e)) }
func (e NetworkType) MarshalGQL(w io.Writer)        { marshalEnum(w, string(e)) }
func (e OrderDirection) MarshalGQL(w io.Writer)     { marshalEnum(w, string(e)) }

func (e *TenantKind) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("TenantKind", v)
	*e = TenantKind(s)
	return err
}
func (e *TenantState) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("TenantState", v)
	*e = TenantState(s)
	return err
}
func (e *Role) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("Role", v)
	*e = Role(s)
	return err
}
func (e *EnvironmentType) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("EnvironmentType", v)
	*e = EnvironmentType(s)
	return err
}
func (e *Visibility) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("Visibility", v)
	*e = Visibility(s)
	return err
}
func (e *ModelType) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("ModelType", v)
	*e = ModelType(s)
	return err
}
func (e *TierType) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("TierType", v)
	*e = TierType(s)
	return err
}
func (e *SubscriptionStatus) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("SubscriptionStatus", v)
	*e = SubscriptionStatus(s)
	return err
}
func (e *InstanceStatus) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("InstanceStatus", v)
	*e = InstanceStatus(s)
	return err
}
func (e *NetworkType) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("NetworkType", v)
	*e = NetworkType(s)
	return err
}
func (e *OrderDirection) UnmarshalGQL(v any) (err error) {
	s, err := unmarshalEnum("OrderDirection", v)
	*e = OrderDirection(s)
	return err
}
