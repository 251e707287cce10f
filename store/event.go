package store

import (
	"context"
	"strconv"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// EventChannel is the PostgreSQL notification channel of audit events: each
// committed event sends its seq on it (the events package LISTENs).
const EventChannel = "cairn_events"

// eventLock is the transaction-scoped advisory lock held from an event's
// insert to its commit. It makes events commit in seq order, so that a reader
// that has seen seq n has seen every event before n: "after a cursor" never
// skips an event that committed late.
const eventLock = 7243002

// insertEvent writes e in tx and queues its notification, which PostgreSQL
// delivers when (and only if) tx commits.
func (s *Store) insertEvent(ctx context.Context, tx bun.IDB, e *cairn.AuditEvent) error {
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(?)", eventLock).Exec(ctx); err != nil {
		return interpretError(err, "lock events")
	}
	e.ID = cairn.NewID(cairn.PrefixEvent)
	if e.Time.IsZero() {
		e.Time = s.Now()
	}
	if e.WorkflowFailures == nil {
		e.WorkflowFailures = []string{}
	}
	if _, err := tx.NewInsert().Model(e).ExcludeColumn("seq").Returning("seq").Exec(ctx); err != nil {
		return interpretError(err, "record event")
	}
	_, err := tx.NewRaw("SELECT pg_notify(?, ?)", EventChannel, strconv.FormatInt(e.Seq, 10)).Exec(ctx)
	return interpretError(err, "notify event")
}

// instanceEvent returns an event about inst, with the instance's tenants.
func instanceEvent(inst *cairn.ResourceInstance, op *cairn.Operation, source cairn.EventSource, typ, msg string) *cairn.AuditEvent {
	e := &cairn.AuditEvent{
		Source: source, Type: typ, Message: msg, TenantID: inst.TenantID, ProviderTenantID: inst.ProviderTenantID,
		ServiceID: inst.ServiceID, SubscriptionID: &inst.SubscriptionID, InstanceID: &inst.ID,
	}
	if op != nil {
		e.OperationID = &op.ID
	}
	return e
}

// EventsAfter returns up to limit events after seq, oldest first, that the
// caller of ctx can read and that pass f. Returns UNAUTHENTICATED when not
// signed in.
func (s *Store) EventsAfter(ctx context.Context, seq int64, f *cairn.AuditEventFilter, limit int) ([]*cairn.AuditEvent, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var rows []*cairn.AuditEvent
	q := s.db.NewSelect().Model(&rows).Where("?TableAlias.seq > ?", seq).OrderExpr("?TableAlias.seq").Limit(int64(limit))
	q = filterEvents(scopeOwned(q, p), f)
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err, "list events")
	}
	return rows, nil
}

// EventsBySeq returns the events after seq in order, up to limit, whoever
// may read them: the event bus reads them once and fans them out to
// subscribers, each of which checks its own scope (ReadableTenants).
func (s *Store) EventsBySeq(ctx context.Context, after int64, limit int) ([]*cairn.AuditEvent, error) {
	var rows []*cairn.AuditEvent
	err := s.db.NewSelect().Model(&rows).Where("seq > ?", after).OrderExpr("seq").Limit(int64(limit)).Scan(ctx)
	return rows, interpretError(err, "read events")
}

// LastEventSeq returns the seq of the latest committed event, 0 if none.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.NewSelect().Model((*cairn.AuditEvent)(nil)).ColumnExpr("coalesce(max(seq), 0)").Scan(ctx, &seq)
	return seq, interpretError(err, "read last event")
}

// ReadableTenants returns the tenants whose instances and events the caller
// of ctx can read: the subtrees of their grants. A live subscriber keeps it
// to check events in memory, as scopeOwned does in SQL. Returns
// UNAUTHENTICATED when not signed in.
func (s *Store) ReadableTenants(ctx context.Context) (map[string]bool, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var tids []string
	err = s.db.NewSelect().Table("tenants").Column("id").Where("ancestors && ?", ids(p, cairn.RoleReader)).Scan(ctx, &tids)
	if err != nil {
		return nil, interpretError(err, "read tenants")
	}
	set := make(map[string]bool, len(tids))
	for _, id := range tids {
		set[id] = true
	}
	return set, nil
}

// filterEvents adds f to a query of audit events.
func filterEvents(q *bun.SelectQuery, f *cairn.AuditEventFilter) *bun.SelectQuery {
	if f == nil {
		return q
	}
	if len(f.InstanceIDs) > 0 {
		q = q.Where("?TableAlias.instance_id IN (?)", bun.List(f.InstanceIDs))
	}
	q = eq(eq(eq(eq(q, "instance_id", f.InstanceID), "service_id", f.ServiceID), "tenant_id", f.TenantID), "operation_id", f.OperationID)
	if len(f.Source) > 0 {
		q = q.Where("?TableAlias.source IN (?)", bun.List(f.Source))
	}
	if len(f.Types) > 0 {
		q = q.Where("?TableAlias.type IN (?)", bun.List(f.Types))
	}
	if f.From != nil {
		q = q.Where("?TableAlias.time >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("?TableAlias.time < ?", *f.To)
	}
	return q
}
