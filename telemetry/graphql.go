package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// RequestInfo is what the HTTP edge knows of a request that the GraphQL layer
// does not: who made it and what it cost in SQL.
type RequestInfo struct {
	Principal  func(ctx context.Context) string // user or API key ID, "" if none
	Statements func(ctx context.Context) int
}

// Extension is the gqlgen extension that traces, measures and logs each
// GraphQL request: one log line per request with its operation name,
// duration, principal, SQL statements and error codes. It never logs
// variables, tokens or secrets. It runs for every response, websocket
// subscription events included, so it allocates little: no span when
// tracing is off, no log attributes below the logger's level, and the
// metrics of each operation name looked up once.
func (t *Telemetry) Extension(info RequestInfo) graphql.HandlerExtension {
	return &extension{t: t, info: info}
}

type extension struct {
	t    *Telemetry
	info RequestInfo

	// The metrics' children, looked up once per operation name (and
	// outcome); the vectors keep a child per name anyway.
	mu        sync.RWMutex
	requests  map[outcomeKey]prometheus.Counter
	durations map[string]prometheus.Observer
}

type outcomeKey struct{ operation, outcome string }

// observe counts a request of operation name with its outcome and duration.
func (e *extension) observe(name, outcome string, took time.Duration) {
	k := outcomeKey{name, outcome}
	e.mu.RLock()
	c, ok := e.requests[k]
	o := e.durations[name]
	e.mu.RUnlock()
	if !ok || o == nil {
		e.mu.Lock()
		if e.requests == nil {
			e.requests, e.durations = map[outcomeKey]prometheus.Counter{}, map[string]prometheus.Observer{}
		}
		if c, ok = e.requests[k]; !ok {
			c = e.t.Requests.WithLabelValues(name, outcome)
			e.requests[k] = c
		}
		if o = e.durations[name]; o == nil {
			o = e.t.RequestDuration.WithLabelValues(name)
			e.durations[name] = o
		}
		e.mu.Unlock()
	}
	c.Inc()
	o.Observe(took.Seconds())
}

var (
	_ graphql.ResponseInterceptor  = (*extension)(nil)
	_ graphql.OperationInterceptor = (*extension)(nil)
)

func (e *extension) ExtensionName() string                   { return "CairnTelemetry" }
func (e *extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation opens the request's span, so resolvers and SQL nest in
// it; with tracing off there is nothing to open.
func (e *extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if e.t.provider == nil {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	ctx, span := e.t.Tracer.Start(ctx, "graphql "+operationName(oc), trace.WithSpanKind(trace.SpanKindServer))
	handler := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp == nil {
			span.End()
		}
		return resp
	}
}

func (e *extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	name, start := "unknown", time.Now()
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name, start = operationName(oc), oc.Stats.OperationStart
	}
	took := time.Since(start)
	outcome := "ok"
	var errCodes []string
	if len(resp.Errors) > 0 {
		outcome = "error"
		errCodes = make([]string, 0, len(resp.Errors))
		for _, err := range resp.Errors {
			code, _ := err.Extensions["code"].(string)
			errCodes = append(errCodes, code)
			e.t.Errors.WithLabelValues(code).Inc()
		}
	}
	e.observe(name, outcome, took)
	statements := -1
	if e.info.Statements != nil {
		statements = e.info.Statements(ctx)
		e.t.StatementsPerReq.Observe(float64(statements))
	}
	var sc trace.SpanContext
	if e.t.provider != nil { // without tracing nothing starts a span: no lookup of one
		span := trace.SpanFromContext(ctx)
		if sc = span.SpanContext(); sc.IsValid() {
			span.SetAttributes(attribute.String("graphql.operation.name", name), attribute.StringSlice("cairn.error_codes", errCodes))
			if outcome == "error" {
				span.SetStatus(codes.Error, "request had errors")
			}
			span.End()
		}
	}
	if !e.t.Logger.Enabled(ctx, slog.LevelInfo) {
		return resp
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("operation", name), slog.Duration("duration", took), slog.String("outcome", outcome))
	if statements >= 0 {
		attrs = append(attrs, slog.Int("sql_statements", statements))
	}
	if e.info.Principal != nil {
		attrs = append(attrs, slog.String("principal", e.info.Principal(ctx)))
	}
	if len(errCodes) > 0 {
		attrs = append(attrs, slog.Any("errors", errCodes))
	}
	if sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	e.t.Logger.LogAttrs(ctx, slog.LevelInfo, "graphql request", attrs...)
	return resp
}

func operationName(oc *graphql.OperationContext) string {
	if oc.OperationName != "" {
		return oc.OperationName
	}
	if oc.Operation != nil {
		if oc.Operation.Name != "" {
			return oc.Operation.Name
		}
		switch oc.Operation.Operation { // constants: no string built per request
		case "query":
			return "anonymous query"
		case "mutation":
			return "anonymous mutation"
		case "subscription":
			return "anonymous subscription"
		}
		return "anonymous " + string(oc.Operation.Operation)
	}
	return "unknown"
}

// Tracing reports whether spans go anywhere (an exporter is configured).
func (t *Telemetry) Tracing() bool { return t.provider != nil }

// FieldTracer returns the gqlgen extension that gives each resolver call (the
// fields that load through the store) a span, or nil when tracing is off, so
// that an untraced server pays nothing per field.
func (t *Telemetry) FieldTracer() graphql.HandlerExtension {
	if t.provider == nil {
		return nil
	}
	return fieldTracer{t}
}

type fieldTracer struct{ t *Telemetry }

var _ graphql.FieldInterceptor = fieldTracer{}

func (fieldTracer) ExtensionName() string                   { return "CairnFieldTracer" }
func (fieldTracer) Validate(graphql.ExecutableSchema) error { return nil }

func (f fieldTracer) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := f.t.Tracer.Start(ctx, "resolve "+fc.Object+"."+fc.Field.Name,
		trace.WithAttributes(attribute.String("graphql.field.path", fc.Path().String())))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.SetStatus(codes.Error, "resolver failed")
	}
	return res, err
}
