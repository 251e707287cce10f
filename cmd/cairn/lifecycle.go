package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/lifecycle"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lifecycleConfig configures the lifecycle workers, the simulated cloud and
// live updates, each with a flag and a CAIRN_* variable.
type lifecycleConfig struct {
	Workers              int
	ProvisionDelay       time.Duration
	ProvisionFailureRate float64
	JobTimeout           time.Duration
	JobRescueAfter       time.Duration
	LiveRecheck          time.Duration
	QuarantineGrace      time.Duration
	IdempotencyTTL       time.Duration
}

func (l *lifecycleConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&l.Workers, "workers", 10, "lifecycle jobs this replica runs at once; 0 = none, other replicas run them (CAIRN_WORKERS)")
	fs.DurationVar(&l.ProvisionDelay, "provision-delay", 2*time.Second, "how long the simulated cloud takes per action (CAIRN_PROVISION_DELAY)")
	fs.Float64Var(&l.ProvisionFailureRate, "provision-failure-rate", 0, "share of simulated cloud actions that fail, 0 to 1 (CAIRN_PROVISION_FAILURE_RATE)")
	fs.DurationVar(&l.JobTimeout, "job-timeout", time.Minute, "longest one attempt of a lifecycle job may run (CAIRN_JOB_TIMEOUT)")
	fs.DurationVar(&l.JobRescueAfter, "job-rescue-after", 2*time.Minute, "after how long a running job is taken for one of a dead replica and run again; above --job-timeout (CAIRN_JOB_RESCUE_AFTER)")
	fs.DurationVar(&l.QuarantineGrace, "quarantine-grace", store.DefaultQuarantineGrace, "how long a deleted instance stays restorable in quarantine; 0 deletes at once (CAIRN_QUARANTINE_GRACE)")
	fs.DurationVar(&l.IdempotencyTTL, "idempotency-ttl", store.DefaultIdempotencyTTL, "how long an idempotency key returns its first result; after it the key is free and expired keys are deleted hourly (CAIRN_IDEMPOTENCY_TTL)")
	fs.DurationVar(&l.LiveRecheck, "live-recheck", server.DefaultRecheck, "how often a subscription's token and user are checked again (CAIRN_LIVE_RECHECK)")
}

func (l lifecycleConfig) validate() error {
	switch {
	case l.Workers < 0 || l.ProvisionDelay < 0:
		return usageError{"--workers and --provision-delay must not be negative"}
	case l.ProvisionFailureRate < 0 || l.ProvisionFailureRate > 1:
		return usageError{"--provision-failure-rate must be between 0 and 1"}
	case l.JobTimeout <= 0 || l.JobRescueAfter <= l.JobTimeout:
		return usageError{"--job-timeout must be positive and --job-rescue-after longer than it"}
	case l.LiveRecheck <= 0:
		return usageError{"--live-recheck must be positive"}
	case l.QuarantineGrace < 0:
		return usageError{"--quarantine-grace must not be negative"}
	case l.IdempotencyTTL <= 0:
		return usageError{"--idempotency-ttl must be positive"}
	}
	return nil
}

// live is what a serving replica runs besides HTTP: the event bus and the
// lifecycle engine.
type live struct {
	url    string // the database's, set by open
	bus    *events.Bus
	pool   *pgxpool.Pool // River's listener connection
	engine *lifecycle.Engine
}

// startLive starts the event bus and, unless --workers is 0, the lifecycle
// engine; it returns the server's live configuration.
func (m *Main) startLive(ctx context.Context) (server.Live, error) {
	c := m.Config.Lifecycle
	m.store.SetQuarantineGrace(c.QuarantineGrace)
	m.store.SetIdempotencyTTL(c.IdempotencyTTL)
	var err error
	bc := events.Config{Store: m.store, URL: m.live.url, Logger: m.log}
	if tel := m.tel; tel != nil { // Close clears m.tel while streams may still end
		bc.OnSubscribe = func(d int) { tel.Subscriptions.Add(float64(d)) }
		bc.OnDeliver = tel.EventsDelivered.Inc
	}
	if m.live.bus, err = events.Start(ctx, bc); err != nil {
		return server.Live{}, err
	}
	if err := m.store.CachePrincipals(ctx, m.live.url, 0); err != nil { // store/principal_cache.go
		return server.Live{}, err
	}
	cfg := server.Live{Bus: m.live.bus, Recheck: c.LiveRecheck}
	if c.Workers == 0 {
		return cfg, nil
	}
	pc, err := pgxpool.ParseConfig(m.live.url)
	if err != nil {
		return cfg, err
	}
	pc.MaxConns = 2
	if m.live.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return cfg, err
	}
	sim := &lifecycle.Simulated{Delay: c.ProvisionDelay, FailureRate: c.ProvisionFailureRate}
	lc := lifecycle.Config{Store: m.store, Provisioner: sim, Listener: m.live.pool, Workers: c.Workers,
		JobTimeout: c.JobTimeout, RescueAfter: c.JobRescueAfter, Logger: m.log}
	if tel := m.tel; tel != nil {
		lc.Tracer = tel.Tracer
		lc.OnJob = func(kind, outcome string) { tel.Jobs.WithLabelValues(kind, outcome).Inc() }
		tel.WatchJobQueue(m.store.JobQueueDepth)
	}
	m.live.engine, err = lifecycle.New(lc)
	if err != nil {
		return cfg, err
	}
	return cfg, m.live.engine.Start(ctx)
}

// stopLive lets running jobs finish within the shutdown timeout (the rest
// are cancelled and retried by another replica or the next start), then
// stops the bus.
func (m *Main) stopLive() error {
	var errs []error
	if m.live.engine != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		if err := m.live.engine.Stop(ctx); err != nil {
			errs = append(errs, m.live.engine.StopAndCancel(context.Background()))
		}
		cancel()
		m.live.engine = nil
	}
	if m.live.pool != nil {
		m.live.pool.Close()
		m.live.pool = nil
	}
	if m.live.bus != nil {
		m.live.bus.Close()
		m.live.bus = nil
	}
	return errors.Join(errs...)
}
