package store

import (
	"context"

	"github.com/cairn-dev/cairn"
)

// AuditEvents returns a page of the events the caller can read that pass f,
// newest first: first (default 50, at most 500) events older than the
// cursor after. Returns UNAUTHENTICATED when not signed in and
// BAD_USER_INPUT for a bad cursor or page size, or for last/before (events
// page forward only).
func (s *Store) AuditEvents(ctx context.Context, args cairn.PageArgs, f *cairn.AuditEventFilter) (*cairn.AuditEventConnection, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if args.Last != nil || args.Before != nil {
		return nil, cairn.FieldError("last", "audit events page forward only, newest first: use first and after")
	}
	n := cairn.DefaultPageSize
	if args.First != nil {
		n = *args.First
	}
	if n < 0 || n > cairn.MaxPageSize {
		return nil, cairn.FieldError("first", "first must be between 0 and %d", cairn.MaxPageSize)
	}
	var rows []*cairn.AuditEvent
	q := filterEvents(scopeOwned(s.db.NewSelect().Model(&rows), p), f)
	if args.After != nil {
		seq, err := cairn.ParseEventCursor(*args.After, "after")
		if err != nil {
			return nil, err
		}
		q = q.Where("?TableAlias.seq < ?", seq)
	}
	if err := q.OrderExpr("?TableAlias.seq DESC").Limit(int64(n + 1)).Scan(ctx); err != nil {
		return nil, interpretError(err, "list audit events")
	}
	c := &cairn.AuditEventConnection{PageInfo: &cairn.PageInfo{HasPreviousPage: args.After != nil}}
	if len(rows) > n {
		rows, c.PageInfo.HasNextPage = rows[:n], true
	}
	for _, ev := range rows {
		c.Edges = append(c.Edges, &cairn.AuditEventEdge{Cursor: ev.Cursor(), Node: ev})
	}
	if len(c.Edges) > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &c.Edges[0].Cursor, &c.Edges[len(c.Edges)-1].Cursor
	}
	c.Count = func(ctx context.Context) (int, error) {
		n, err := filterEvents(scopeOwned(s.db.NewSelect().Model((*cairn.AuditEvent)(nil)), p), f).Count(ctx)
		return int(n), interpretError(err, "count audit events")
	}
	return c, nil
}
