package store

import (
	"context"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// one returns the row of T with id that scope lets the caller of ctx read.
// Returns UNAUTHENTICATED when not signed in and NOT_FOUND when there is no
// such row or it is out of scope.
func one[T any](ctx context.Context, s *Store, scope scopeFunc, id, what string) (*T, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	row := new(T)
	if err := scope(s.db.NewSelect().Model(row), p).Where("?TableAlias.id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err, what+" "+quote(id))
	}
	return row, nil
}

// APIKey returns the API key id (never its secret) if the caller may read
// its tenant's keys.
func (s *Store) APIKey(ctx context.Context, id string) (*cairn.APIKey, error) {
	return one[cairn.APIKey](ctx, s, apiKeys.scope, id, "API key")
}

// Event returns the audit event id if the caller may read its tenant's or
// its provider's events.
func (s *Store) Event(ctx context.Context, id string) (*cairn.AuditEvent, error) {
	return one[cairn.AuditEvent](ctx, s, scopeOwned, id, "event")
}

// Snapshot returns the snapshot id if the caller may read its instance.
func (s *Store) Snapshot(ctx context.Context, id string) (*cairn.InstanceSnapshot, error) {
	return one[cairn.InstanceSnapshot](ctx, s, func(q *bun.SelectQuery, p *cairn.Principal) *bun.SelectQuery {
		// Not ?TableAlias: bun would name the subquery's table there.
		return q.Where("instance_snapshot.instance_id IN (?)", instances.scope(s.db.NewSelect().Model((*cairn.ResourceInstance)(nil)).Column("id"), p))
	}, id, "snapshot")
}
