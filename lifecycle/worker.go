package lifecycle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// Config configures an Engine.
type Config struct {
	Store       *store.Store
	Provisioner Provisioner
	// Listener, if set, is a pgx pool River takes one connection of to
	// LISTEN for new jobs; without it the engine polls every PollInterval.
	Listener *pgxpool.Pool
	// Workers is how many jobs run at once (default 10).
	Workers int
	// PollInterval is how often to look for jobs (default 1s).
	PollInterval time.Duration
	// RetryDelay, if set, is the wait before a failed attempt is retried
	// (default: River's exponential backoff).
	RetryDelay time.Duration
	// RescueAfter is how long a job may run before it is taken for the job
	// of a dead replica and run again (default 1h). It must exceed JobTimeout.
	RescueAfter time.Duration
	// JobTimeout bounds one attempt (default 1m).
	JobTimeout time.Duration
	Logger     *slog.Logger
	// Tracer, if set, gives every job attempt a span.
	Tracer trace.Tracer
	// OnJob, if set, is told the outcome of every job attempt: ok, failed
	// (the cloud refused; the operation is FAILED), retry or cancelled.
	OnJob func(kind, outcome string)
}

// Engine runs the lifecycle workers of one replica.
type Engine struct {
	client *river.Client[*sql.Tx]
}

// New returns an engine; Start starts it.
func New(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = time.Minute
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{store: cfg.Store, prov: cfg.Provisioner, retry: cfg.RetryDelay, log: cfg.Logger, tracer: cfg.Tracer, onJob: cfg.OnJob}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &expireWorker{store: cfg.Store, log: cfg.Logger}); err != nil {
		return nil, err
	}
	driver := riverdatabasesql.New(cfg.Store.SQLDB())
	if cfg.Listener != nil {
		driver = riverdatabasesql.NewWithPgxListener(cfg.Store.SQLDB(), cfg.Listener)
	}
	cooldown := min(river.FetchCooldownDefault, cfg.PollInterval)
	client, err := river.NewClient(driver, &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		PeriodicJobs:         periodicJobs(),
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        cooldown,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		Logger:               cfg.Logger.With("component", "river"),
	})
	if err != nil {
		return nil, fmt.Errorf("lifecycle: %w", err)
	}
	return &Engine{client: client}, nil
}

// Start starts working jobs; it returns at once.
func (e *Engine) Start(ctx context.Context) error { return e.client.Start(ctx) }

// Stop lets running jobs finish (until ctx ends) and stops.
func (e *Engine) Stop(ctx context.Context) error { return e.client.Stop(ctx) }

// StopAndCancel cancels running jobs (they are retried, here or on another
// replica) and stops: what a crash looks like to the jobs.
func (e *Engine) StopAndCancel(ctx context.Context) error { return e.client.StopAndCancel(ctx) }

// worker runs the transition of one operation. Every step can be repeated:
// BeginTransition leaves a finished operation alone, the provisioner does the
// work of an operation once, and FinishTransition applies its end once.
type worker struct {
	river.WorkerDefaults[store.TransitionJob]
	store *store.Store
	prov  Provisioner
	retry time.Duration
	log   *slog.Logger

	tracer trace.Tracer
	onJob  func(kind, outcome string)
}

// Work runs one attempt of a job, traced and counted.
func (w *worker) Work(ctx context.Context, job *river.Job[store.TransitionJob]) (err error) {
	var span trace.Span
	if w.tracer != nil {
		ctx, span = w.tracer.Start(ctx, "job "+job.Kind, trace.WithAttributes(
			attribute.String("cairn.operation", job.Args.OperationID), attribute.Int("river.attempt", job.Attempt)))
	}
	outcome := "ok"
	defer func() {
		var cancel *river.JobCancelError
		switch {
		case errors.As(err, &cancel):
			outcome = "cancelled"
		case err != nil:
			outcome = "retry"
		}
		if w.onJob != nil {
			w.onJob(job.Kind, outcome)
		}
		if span != nil {
			if err != nil {
				span.SetStatus(codes.Error, outcome)
			}
			span.End()
		}
	}()
	failed, err := w.work(ctx, job)
	if failed {
		outcome = "failed"
	}
	return err
}

// work runs the transition; failed reports that the cloud refused it.
func (w *worker) work(ctx context.Context, job *river.Job[store.TransitionJob]) (failed bool, err error) {
	opID := job.Args.OperationID
	op, inst, done, err := w.store.BeginTransition(ctx, opID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return false, river.JobCancel(err)
	} else if err != nil || done {
		return false, err
	}
	result, err := w.prov.Do(ctx, Request{OperationID: op.ID, Action: op.Action, Instance: inst})
	var f *Failure
	switch {
	case errors.As(err, &f):
		_, err = w.store.FinishTransition(ctx, opID, nil, f.Reason)
		return true, err
	case err != nil && job.Attempt >= job.MaxAttempts:
		w.log.Error("lifecycle: giving up", "operation", opID, "attempts", job.Attempt, "err", err)
		_, ferr := w.store.FinishTransition(ctx, opID, nil, fmt.Sprintf("gave up after %d attempts", job.Attempt))
		return true, errors.Join(err, ferr)
	case err != nil:
		return false, err
	}
	_, err = w.store.FinishTransition(ctx, opID, result, "")
	return false, err
}

// NextRetry waits RetryDelay when set, else River's backoff.
func (w *worker) NextRetry(*river.Job[store.TransitionJob]) time.Time {
	if w.retry > 0 {
		return time.Now().Add(w.retry)
	}
	return time.Time{}
}
