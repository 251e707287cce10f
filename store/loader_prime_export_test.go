package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ChainRow is chainRow, for the tests of queryPrepared.
type ChainRow = chainRow

// ChainStatement returns the text of the chain statement that fetches every
// column of an instance, its resource and its tier.
func ChainStatement(s *Store) (string, error) {
	all := parentPlan{want: true}
	return chainQuery(s.db, chainShape{inst: all, res: all, tier: all})
}

// ScanBothWays scans the rows of query into direct through queryPrepared
// (pgx's connection) and into viaSQL as queryPrepared did before it ran on
// pgx: database/sql's rows scanned by bun.
func ScanBothWays[T any](ctx context.Context, s *Store, direct, viaSQL *[]T, query string, args ...any) error {
	if err := s.queryPrepared(ctx, direct, query, args...); err != nil {
		return err
	}
	rows, err := s.db.DB.QueryContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
	if err != nil {
		return err
	}
	return s.db.ScanRows(ctx, rows, viaSQL)
}

// RunsOnPgx reports whether queryPrepared finds pgx's connection under the
// pool's (rather than falling back to database/sql).
func RunsOnPgx(ctx context.Context, s *Store) (bool, error) {
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var ok bool
	err = conn.Raw(func(dc any) error {
		ok = pgxConnOf(dc) != nil
		return nil
	})
	return ok, err
}
