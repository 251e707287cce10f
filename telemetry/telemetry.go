// Package telemetry is what an operator sees of Cairn: Prometheus metrics,
// OpenTelemetry traces and the one log line per request.
package telemetry

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Telemetry holds the metrics, the tracer and the logger of one process. The
// metrics live on their own registry, so tests can run several side by side.
type Telemetry struct {
	Registry *prometheus.Registry
	Tracer   trace.Tracer
	Logger   *slog.Logger

	provider *sdktrace.TracerProvider

	Requests          *prometheus.CounterVec   // operation, outcome
	RequestDuration   *prometheus.HistogramVec // operation
	Errors            *prometheus.CounterVec   // code
	StatementsPerReq  prometheus.Histogram
	StatementDuration prometheus.Histogram
	LoaderBatch       *prometheus.HistogramVec // edge
	RateLimited       *prometheus.CounterVec   // kind: apikey, user
	Subscriptions     prometheus.Gauge
	EventsDelivered   prometheus.Counter
	Jobs              *prometheus.CounterVec // kind, outcome
	DirectFields      *prometheus.CounterVec // outcome: direct, resolvers
}

// Config says where traces go.
type Config struct {
	// OTLPEndpoint is an OTLP/HTTP endpoint (host:port); empty turns traces off.
	OTLPEndpoint string
	// ServiceName names this process in traces.
	ServiceName string
	// Exporter, when set, receives the spans instead of OTLP (tests use an
	// in-memory one).
	Exporter sdktrace.SpanExporter
}

// New returns the telemetry of a process.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Telemetry, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t := &Telemetry{
		Registry: reg,
		Logger:   log,
		Tracer:   noop.NewTracerProvider().Tracer("cairn"),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_graphql_requests_total",
			Help: "GraphQL requests by operation name and outcome (ok or error)."}, []string{"operation", "outcome"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cairn_graphql_request_duration_seconds",
			Help: "GraphQL request latency by operation name.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"operation"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_graphql_errors_total",
			Help: "Errors returned to clients by extensions.code."}, []string{"code"}),
		StatementsPerReq: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_sql_statements_per_request",
			Help: "SQL statements run by one GraphQL request.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}),
		StatementDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_sql_statement_duration_seconds",
			Help: "Duration of SQL statements.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		LoaderBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cairn_loader_batch_size",
			Help: "Keys per dataloader batch, by edge.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}, []string{"edge"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_rate_limited_total",
			Help: "Requests refused by a rate limit, by the kind of principal."}, []string{"kind"}),
		Subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cairn_subscriptions_active",
			Help: "GraphQL subscriptions open on this replica."}),
		EventsDelivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_events_delivered_total",
			Help: "Events delivered to subscribers on this replica."}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_jobs_total",
			Help: "Jobs worked on this replica, by kind and outcome."}, []string{"kind", "outcome"}),
		DirectFields: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_direct_fields_total",
			Help: "Top-level query fields answered by direct execution (direct) or by the resolvers (resolvers)."}, []string{"outcome"}),
	}
	reg.MustRegister(t.Requests, t.RequestDuration, t.Errors, t.StatementsPerReq, t.StatementDuration,
		t.LoaderBatch, t.RateLimited, t.Subscriptions, t.EventsDelivered, t.Jobs, t.DirectFields)
	exp := cfg.Exporter
	if exp == nil && cfg.OTLPEndpoint != "" {
		var err error
		if exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(cfg.OTLPEndpoint), otlptracehttp.WithInsecure()); err != nil {
			return nil, fmt.Errorf("OTLP exporter for %s: %w", cfg.OTLPEndpoint, err)
		}
	}
	if exp != nil {
		t.provider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		if cfg.Exporter == nil {
			t.provider = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
		}
		name := cfg.ServiceName
		if name == "" {
			name = "cairn"
		}
		t.Tracer = t.provider.Tracer(name)
	}
	return t, nil
}

// WatchDB exports the connection pool's use (open, in use, idle, waits).
func (t *Telemetry) WatchDB(db *sql.DB) {
	t.Registry.MustRegister(collectors.NewDBStatsCollector(db, "cairn"))
}

// Handler serves the metrics in Prometheus's text format.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{Registry: t.Registry})
}

// Shutdown flushes the traces not yet exported.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t.provider == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return t.provider.Shutdown(ctx)
}

// WatchJobQueue exports the number of jobs waiting to run, read from depth at
// every scrape (bounded to one second).
func (t *Telemetry) WatchJobQueue(depth func(ctx context.Context) (int, error)) {
	t.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cairn_jobs_waiting",
		Help: "Jobs available, scheduled or waiting for a retry, across all replicas."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}
