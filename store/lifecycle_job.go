package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun"
)

// TransitionJob is the durable job of one operation: move its instance
// through the operation's transition. It is enqueued in the transaction that
// creates the operation, and unique by operation, so that it runs to the end
// once however often it is retried (see lifecycle.Worker).
type TransitionJob struct {
	OperationID string `json:"operation_id" river:"unique"`
	InstanceID  string `json:"instance_id" river:"unique"`
	// Now marks the job of a delete asked again during quarantine: it
	// deletes at once, while the job of the first delete waits for the end
	// of the grace period. Whichever runs first does the work.
	Now bool `json:"now,omitempty" river:"unique"`
}

// Kind is River's name of the job.
func (TransitionJob) Kind() string { return "cairn_instance_transition" }

// InsertOpts makes the job unique by its arguments for as long as it exists.
func (TransitionJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: TransitionMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// TransitionMaxAttempts is how often a transition is tried before its
// operation fails.
const TransitionMaxAttempts = 10

// jobs holds the store's insert-only River client: it inserts jobs inside
// the store's own (database/sql) transactions. Workers run elsewhere
// (package lifecycle) on their own client.
type jobs struct {
	once   sync.Once
	client *river.Client[*sql.Tx]
	err    error

	grace   atomic.Int64 // the quarantine grace period, in nanoseconds
	idemTTL atomic.Int64 // how long idempotency keys are remembered (idempotency.go)
}

// DefaultQuarantineGrace is how long a deleted instance stays restorable
// unless SetQuarantineGrace says otherwise.
const DefaultQuarantineGrace = 24 * time.Hour

// SetQuarantineGrace sets how long a deleted instance stays in quarantine,
// restorable, before it is deleted; 0 deletes at once. Negative means
// DefaultQuarantineGrace.
func (s *Store) SetQuarantineGrace(d time.Duration) { s.jobs.grace.Store(int64(d) + 1) }

// QuarantineGrace returns the quarantine grace period.
func (s *Store) QuarantineGrace() time.Duration {
	g := s.jobs.grace.Load()
	if g <= 0 {
		return DefaultQuarantineGrace
	}
	return time.Duration(g - 1)
}

// jobClient returns the insert-only River client, made on first use.
func (s *Store) jobClient() (*river.Client[*sql.Tx], error) {
	s.jobs.once.Do(func() {
		s.jobs.client, s.jobs.err = river.NewClient(riverdatabasesql.New(s.db.DB), &river.Config{})
	})
	return s.jobs.client, s.jobs.err
}

// enqueue inserts job in tx: it runs once tx commits (not before at, if
// set), never if tx rolls back.
func (s *Store) enqueue(ctx context.Context, tx bun.Tx, job TransitionJob, at time.Time) error {
	c, err := s.jobClient()
	if err != nil {
		return fmt.Errorf("job client: %w", err)
	}
	opts := job.InsertOpts()
	opts.ScheduledAt = at
	if _, err := c.InsertTx(ctx, tx.Tx, job, &opts); err != nil {
		return fmt.Errorf("enqueue job of operation %s: %w", job.OperationID, err)
	}
	return nil
}

// SQLDB returns the store's database/sql pool, on which workers run their
// River client.
func (s *Store) SQLDB() *sql.DB { return s.db.DB }

// migrateJobs applies River's own migrations (its job tables).
func (s *Store) migrateJobs(ctx context.Context) error {
	m, err := rivermigrate.New(riverdatabasesql.New(s.db.DB), nil)
	if err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	return nil
}
