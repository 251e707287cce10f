package cairn

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Instance statuses of the lifecycle beyond those enum.go names.
const (
	InstanceStopping   InstanceStatus = "STOPPING"
	InstanceStarting   InstanceStatus = "STARTING"
	InstanceRestarting InstanceStatus = "RESTARTING"
	InstanceFailover   InstanceStatus = "FAILOVER"
	// InstanceQuarantined is a deleted instance an admin can still restore
	// (seed 002: delete first quarantines).
	InstanceQuarantined InstanceStatus = "QUARANTINED"
	// InstanceUpdating and InstanceScaling hold while new parameters or a
	// new number of replicas are applied.
	InstanceUpdating InstanceStatus = "UPDATING"
	InstanceScaling  InstanceStatus = "SCALING"
	// InstanceSnapshotting and InstanceRestoring hold while a snapshot is
	// taken or an instance is restored from one.
	InstanceSnapshotting InstanceStatus = "SNAPSHOTTING"
	InstanceRestoring    InstanceStatus = "RESTORING"
)

// PrefixOperation and PrefixEvent are the ID prefixes of operations and audit
// events.
const (
	PrefixOperation = "op"
	PrefixEvent     = "event"
)

// InstanceAction is a lifecycle action on an instance.
type InstanceAction string

// The lifecycle actions.
const (
	ActionCreate   InstanceAction = "CREATE"
	ActionStart    InstanceAction = "START"
	ActionStop     InstanceAction = "STOP"
	ActionRestart  InstanceAction = "RESTART"
	ActionFailover InstanceAction = "FAILOVER"
	ActionDelete   InstanceAction = "DELETE"
	// ActionUpdate applies new request parameters or network type;
	// ActionAddCapacity and ActionRemoveCapacity change the replicas.
	ActionUpdate         InstanceAction = "UPDATE"
	ActionAddCapacity    InstanceAction = "ADD_CAPACITY"
	ActionRemoveCapacity InstanceAction = "REMOVE_CAPACITY"
	// ActionSnapshot takes a snapshot; ActionRestoreSnapshot puts a
	// snapshot's data and parameters back.
	ActionSnapshot        InstanceAction = "SNAPSHOT"
	ActionRestoreSnapshot InstanceAction = "RESTORE_SNAPSHOT"
	// ActionRestore undoes a delete while the instance is in quarantine; it
	// is no transition of the state machine.
	ActionRestore InstanceAction = "RESTORE"
)

// transition is one edge of the instance state machine: an action allowed
// from the statuses in from moves the instance to via while the work runs,
// and to once it succeeded ("" for DELETE: the instance is gone).
type transition struct {
	from    []InstanceStatus
	via, to InstanceStatus
}

var transitions = map[InstanceAction]transition{
	ActionCreate:          {nil, InstanceDeploying, InstanceRunning},
	ActionStart:           {[]InstanceStatus{InstanceStopped}, InstanceStarting, InstanceRunning},
	ActionStop:            {[]InstanceStatus{InstanceRunning}, InstanceStopping, InstanceStopped},
	ActionRestart:         {[]InstanceStatus{InstanceRunning}, InstanceRestarting, InstanceRunning},
	ActionFailover:        {[]InstanceStatus{InstanceRunning}, InstanceFailover, InstanceRunning},
	ActionDelete:          {[]InstanceStatus{InstanceRunning, InstanceStopped, InstanceFailed, InstanceQuarantined}, InstanceQuarantined, ""},
	ActionUpdate:          {[]InstanceStatus{InstanceRunning}, InstanceUpdating, InstanceRunning},
	ActionAddCapacity:     {[]InstanceStatus{InstanceRunning}, InstanceScaling, InstanceRunning},
	ActionRemoveCapacity:  {[]InstanceStatus{InstanceRunning}, InstanceScaling, InstanceRunning},
	ActionSnapshot:        {[]InstanceStatus{InstanceRunning}, InstanceSnapshotting, InstanceRunning},
	ActionRestoreSnapshot: {[]InstanceStatus{InstanceRunning, InstanceStopped, InstanceFailed}, InstanceRestoring, InstanceRunning},
}

// Transition returns the status an instance in status from takes while a
// runs (via) and the one it reaches when a succeeds (to; "" when a deletes
// it). A delete quarantines the instance first; a delete of a quarantined
// one deletes it now (via DELETING). Returns CONFLICT naming from and the statuses a needs when a is not
// allowed from it, and BAD_USER_INPUT for an unknown action.
func (a InstanceAction) Transition(instanceID string, from InstanceStatus) (via, to InstanceStatus, err error) {
	t, ok := transitions[a]
	if !ok || a == ActionCreate {
		return "", "", Errorf(EBADINPUT, "%q is not an action on an existing instance", a)
	}
	if !slices.Contains(t.from, from) {
		allowed := make([]string, len(t.from))
		for i, s := range t.from {
			allowed[i] = string(s)
		}
		return "", "", Errorf(ECONFLICT, "instance %s is %s: %s needs it %s; wait until it gets there and retry",
			instanceID, from, strings.ToLower(string(a)), strings.Join(allowed, " or "))
	}
	if a == ActionDelete && from == InstanceQuarantined {
		return InstanceDeleting, "", nil
	}
	return t.via, t.to, nil
}

// Target returns the status an instance reaches when a succeeds; "" for DELETE.
func (a InstanceAction) Target() InstanceStatus { return transitions[a].to }

// Via returns the status an instance holds while a runs.
func (a InstanceAction) Via() InstanceStatus { return transitions[a].via }

// OperationStatus is the state of an Operation.
type OperationStatus string

// The operation statuses.
const (
	OperationPending   OperationStatus = "PENDING"
	OperationRunning   OperationStatus = "RUNNING"
	OperationSucceeded OperationStatus = "SUCCEEDED"
	OperationFailed    OperationStatus = "FAILED"
	// OperationCancelled ends a delete whose instance was restored from
	// quarantine.
	OperationCancelled OperationStatus = "CANCELLED"
)

// Done reports whether the operation has finished, either way.
func (s OperationStatus) Done() bool {
	return s == OperationSucceeded || s == OperationFailed || s == OperationCancelled
}

// Operation is long work on an instance (seed 004's asynchronous
// operations): what was asked, where it stands and how it ended.
type Operation struct {
	ID               string          `bun:",pk"`
	Action           InstanceAction  `bun:",notnull"`
	Status           OperationStatus `bun:",notnull"`
	InstanceID       string          `bun:",notnull"`
	TenantID         string          `bun:",notnull"`
	ProviderTenantID string          `bun:",notnull"`
	ServiceID        string          `bun:",notnull"`
	// TargetStatus is the status the instance reaches when the operation
	// succeeds; nil for a delete.
	TargetStatus *InstanceStatus
	// Params are what the operation applies when it succeeds:
	// requestParams, networkType or replicas.
	Params          map[string]any `bun:",type:jsonb,notnull"`
	Error           *string
	Attempts        int `bun:",notnull"`
	CreatedByUserID *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      *time.Time
}

// EventSource says who caused an audit event (seed 001: Customer, Infra or
// Maintenance).
type EventSource string

// The event sources.
const (
	SourceCustomer    EventSource = "CUSTOMER"
	SourceInfra       EventSource = "INFRA"
	SourceMaintenance EventSource = "MAINTENANCE"
)

// AuditEvent is one change, written in the same transaction as the change.
// Seq orders events; Cursor encodes it for clients.
type AuditEvent struct {
	Seq              int64  `bun:",autoincrement"`
	ID               string `bun:",pk"`
	Time             time.Time
	Source           EventSource `bun:",notnull"`
	Type             string      `bun:",notnull"`
	Message          string      `bun:",notnull"`
	UserID           *string
	TenantID         string `bun:",notnull"`
	ProviderTenantID string `bun:",notnull"`
	ServiceID        string `bun:",notnull"`
	SubscriptionID   *string
	InstanceID       *string
	OperationID      *string
	PreviousStatus   *InstanceStatus
	Status           *InstanceStatus
	WorkflowFailures []string `bun:",type:jsonb,notnull"`
}

// Event types.
const (
	EventInstanceCreated = "INSTANCE_CREATED"
	EventStatusChanged   = "INSTANCE_STATUS_CHANGED"
	EventInstanceDeleted = "INSTANCE_DELETED"
	EventOperationFailed = "OPERATION_FAILED"
)

// EventCursor returns the cursor of the event with seq.
func EventCursor(seq int64) string { return fmt.Sprintf("ev:%d", seq) }

// ParseEventCursor returns the seq of a cursor made by EventCursor. Returns
// BAD_USER_INPUT naming field when it is not one.
func ParseEventCursor(cursor, field string) (int64, error) {
	var seq int64
	if _, err := fmt.Sscanf(cursor, "ev:%d", &seq); err != nil || seq < 0 || EventCursor(seq) != cursor {
		return 0, FieldError(field, "%q is not an event cursor; pass the cursor of an event you received", cursor)
	}
	return seq, nil
}

// Cursor is the event's cursor, for after: arguments.
func (e *AuditEvent) Cursor() string { return EventCursor(e.Seq) }

// AuditEventFilter narrows audit events. Nil or empty fields do not filter.
type AuditEventFilter struct {
	InstanceIDs []string
	InstanceID  *string
	ServiceID   *string
	TenantID    *string
	OperationID *string
	Source      []EventSource
	Types       []string
	From        *time.Time
	To          *time.Time
}

// Match reports whether e passes f (for live events; lists filter in SQL).
func (f *AuditEventFilter) Match(e *AuditEvent) bool {
	if f == nil {
		return true
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch {
	case len(f.InstanceIDs) > 0 && !slices.Contains(f.InstanceIDs, str(e.InstanceID)),
		f.InstanceID != nil && *f.InstanceID != str(e.InstanceID),
		f.ServiceID != nil && *f.ServiceID != e.ServiceID,
		f.TenantID != nil && *f.TenantID != e.TenantID,
		f.OperationID != nil && *f.OperationID != str(e.OperationID),
		len(f.Source) > 0 && !slices.Contains(f.Source, e.Source),
		len(f.Types) > 0 && !slices.Contains(f.Types, e.Type),
		f.From != nil && e.Time.Before(*f.From),
		f.To != nil && !e.Time.Before(*f.To):
		return false
	}
	return true
}

// InstanceActionInput names an instance to act on.
type InstanceActionInput struct {
	ID              string
	ExpectedVersion *int
	IdempotencyKey  *string
}

// UpdateInstanceInput changes an instance's request parameters (only the
// keys given, each of a modifiable parameter) or its network type.
type UpdateInstanceInput struct {
	ID              string
	RequestParams   map[string]any
	NetworkType     *NetworkType
	ExpectedVersion *int
	IdempotencyKey  *string
}

// CapacityInput adds or removes replicas of an instance.
type CapacityInput struct {
	ID              string
	Replicas        *int // how many to add or remove; default 1
	ExpectedVersion *int
	IdempotencyKey  *string
}

// PrefixSnapshot is the ID prefix of instance snapshots.
const PrefixSnapshot = "snap"

// SnapshotStatus is the state of a snapshot.
type SnapshotStatus string

// The snapshot statuses.
const (
	SnapshotCreating  SnapshotStatus = "CREATING"
	SnapshotAvailable SnapshotStatus = "AVAILABLE"
	SnapshotFailed    SnapshotStatus = "FAILED"
)

func (e SnapshotStatus) MarshalGQL(w io.Writer) { marshalEnum(w, string(e)) }
func (e *SnapshotStatus) UnmarshalGQL(v any) error {
	s, err := unmarshalLifecycleEnum("SnapshotStatus", v, "CREATING", "AVAILABLE", "FAILED")
	*e = SnapshotStatus(s)
	return err
}

// InstanceSnapshot is a point-in-time copy of an instance's data, with the
// request parameters it had then. It outlives neither its instance.
type InstanceSnapshot struct {
	ID            string         `bun:",pk"`
	InstanceID    string         `bun:",notnull"`
	Status        SnapshotStatus `bun:",notnull"`
	RequestParams map[string]any `bun:",type:jsonb,notnull"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SnapshotInput names a snapshot to restore an instance from.
type SnapshotInput struct {
	ID              string // the instance
	SnapshotID      string
	ExpectedVersion *int
	IdempotencyKey  *string
}

// MaxReplicas is the most replicas an instance can have.
const MaxReplicas = 16

// InstanceStatusChange is one transition of an instance, as
// instanceStatusChanged delivers it.
type InstanceStatusChange struct {
	Event          *AuditEvent
	InstanceID     string
	PreviousStatus *InstanceStatus
	Status         InstanceStatus
	At             time.Time
	Cursor         string
}

// InstanceStatusFilter narrows instanceStatusChanged.
type InstanceStatusFilter struct {
	InstanceIDs []string
	ServiceID   *string
	TenantID    *string
}

func (e InstanceAction) MarshalGQL(w io.Writer)  { marshalEnum(w, string(e)) }
func (e OperationStatus) MarshalGQL(w io.Writer) { marshalEnum(w, string(e)) }
func (e EventSource) MarshalGQL(w io.Writer)     { marshalEnum(w, string(e)) }

func (e *InstanceAction) UnmarshalGQL(v any) error {
	s, err := unmarshalLifecycleEnum("InstanceAction", v, "CREATE", "START", "STOP", "RESTART", "FAILOVER", "DELETE", "RESTORE", "UPDATE", "ADD_CAPACITY", "REMOVE_CAPACITY", "SNAPSHOT", "RESTORE_SNAPSHOT")
	*e = InstanceAction(s)
	return err
}
func (e *OperationStatus) UnmarshalGQL(v any) error {
	s, err := unmarshalLifecycleEnum("OperationStatus", v, "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
	*e = OperationStatus(s)
	return err
}
func (e *EventSource) UnmarshalGQL(v any) error {
	s, err := unmarshalLifecycleEnum("EventSource", v, "CUSTOMER", "INFRA", "MAINTENANCE")
	*e = EventSource(s)
	return err
}

func unmarshalLifecycleEnum(kind string, v any, values ...string) (string, error) {
	s, ok := v.(string)
	if !ok || !slices.Contains(values, s) {
		return "", fmt.Errorf("%v is not a valid %s: use one of %v", v, kind, values)
	}
	return s, nil
}

// The connection types of audit events and operations.
type (
	AuditEventConnection = Connection[AuditEvent]
	AuditEventEdge       = Edge[AuditEvent]
)

// PrefixCredential is the ID prefix of instance credentials.
const PrefixCredential = "cred"

// InstanceCredential is a user that can connect to an instance (seed 002:
// credentials are per database, passwords are generated, lists hide them).
// Password is nil unless the caller may read it and asked for this one.
type InstanceCredential struct {
	ID         string `bun:",pk"`
	InstanceID string `bun:",notnull"`
	Username   string `bun:",notnull"`
	Password   *string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
