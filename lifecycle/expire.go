package lifecycle

import (
	"context"
	"log/slog"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/riverqueue/river"
)

// ExpireKeysJob deletes the idempotency keys past their TTL
// (store.ExpireIdempotencyKeys). Lookups ignore expired keys already, so the
// job only keeps the table small; River's leader runs it every
// ExpireKeysEvery and once when it starts.
type ExpireKeysJob struct{}

// Kind is River's name of the job.
func (ExpireKeysJob) Kind() string { return "cairn_expire_idempotency_keys" }

// InsertOpts keeps one such job queued at a time.
func (ExpireKeysJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ExpireKeysEvery is how often expired idempotency keys are deleted.
const ExpireKeysEvery = time.Hour

type expireWorker struct {
	river.WorkerDefaults[ExpireKeysJob]
	store *store.Store
	log   *slog.Logger
}

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireKeysJob]) error {
	n, err := w.store.ExpireIdempotencyKeys(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.InfoContext(ctx, "lifecycle: expired idempotency keys", "deleted", n, "ttl", w.store.IdempotencyTTL())
	}
	return nil
}

// periodicJobs are the jobs River's leader schedules.
func periodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(ExpireKeysEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ExpireKeysJob{}, nil },
			&river.PeriodicJobOpts{ID: "expire_idempotency_keys", RunOnStart: true}),
	}
}
