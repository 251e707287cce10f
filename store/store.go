// Package store keeps Cairn's graph in PostgreSQL: bun models and queries,
// migrations, tenant scoping in SQL, keyset pagination and the per-request
// dataloaders.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Store is Cairn's PostgreSQL store. It is safe for concurrent use.
type Store struct {
	db   *bun.DB
	jobs jobs // the insert-only River client and the quarantine grace (lifecycle_job.go)

	// Now returns the current time; tests replace it to fix the clock.
	Now func() time.Time

	onBatch func(edge string, keys int)

	principals atomic.Pointer[principalCache] // set by CachePrincipals (principal_cache.go)
	hook       bun.QueryHook                  // Observe's, or nil
}

// Observe adds a query hook (timing, tracing) to every statement and a
// callback told the number of keys of every loader batch. Call it before the
// store is used.
func (s *Store) Observe(hook bun.QueryHook, onBatch func(edge string, keys int)) {
	if hook != nil {
		s.db = s.db.WithQueryHook(hook)
	}
	s.hook = hook // for the statements run without bun (queryPrepared)
	s.onBatch = onBatch
}

func (s *Store) batch(edge string, keys int) {
	if s.onBatch != nil {
		s.onBatch(edge, keys)
	}
}

// Open connects to the PostgreSQL server at url. It does not migrate; call
// Migrate for that.
//
// Two connection defaults differ from pgx's, each unless url sets it:
//
//   - default_query_exec_mode=simple_protocol for the statements without
//     arguments. bun writes every argument into the statement's text, so
//     nearly every text is new (an ID, a cursor): pgx's default prepares and
//     caches each one, paying a second round trip and evicting its cache,
//     where one simple Query message does the same work (a lookup by ID:
//     284 µs as prepared-and-cached, 178 µs simple). A statement with $n
//     arguments (River's) runs prepared and cached per connection, as pgx's
//     default would (preparedArgs, driver.go). A URL that sets the mode gets
//     it for every statement.
//   - jit=off. PostgreSQL compiles a statement whose estimated cost passes
//     jit_above_cost; the LATERAL pages of a deep read pass it and spent
//     15–30 ms each compiling to run in 10 (bench/analysis.md).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if _, ok := cfg.RuntimeParams["jit"]; !ok {
		cfg.RuntimeParams["jit"] = "off"
	}
	var connector driver.Connector
	if strings.Contains(url, "default_query_exec_mode") {
		connector = stdlib.GetConnector(*cfg)
	} else {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		connector = preparedArgs{stdlib.GetConnector(*cfg)}
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(20)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns()).WithQueryHook(countHook{})
	return &Store{db: db, Now: time.Now}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.stopPrincipalCache()
	return s.db.Close()
}

// DB returns the underlying bun database, for tests and tools.
func (s *Store) DB() *bun.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// StatementCounter counts the SQL statements run on behalf of one context.
type StatementCounter struct{ n atomic.Int64 }

// Count returns the number of statements counted so far.
func (c *StatementCounter) Count() int { return int(c.n.Load()) }

type counterKey struct{}

// WithStatementCounter returns a context whose SQL statements are counted by
// the returned counter (the HTTP server attaches one to every request).
func WithStatementCounter(ctx context.Context) (context.Context, *StatementCounter) {
	c := &StatementCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// StatementCounterFrom returns the counter of ctx, or nil.
func StatementCounterFrom(ctx context.Context) *StatementCounter {
	c, _ := ctx.Value(counterKey{}).(*StatementCounter)
	return c
}

type countHook struct{}

func (countHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (countHook) AfterQuery(ctx context.Context, _ *bun.QueryEvent) {
	if c := StatementCounterFrom(ctx); c != nil {
		c.n.Add(1)
	}
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// principalTx is inTx for the writes that change what a user's principal is
// made of (users, role bindings, tenants' state and tree): after the commit
// it empties this replica's principal cache, which the change's notification
// would reach only after the caller's next request could (principal_cache.go).
// Other writes leave the cache alone, so that a busy write load keeps it.
func (s *Store) principalTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	err := s.inTx(ctx, fn)
	if err == nil {
		s.principalsWritten()
	}
	return err
}
