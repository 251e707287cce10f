package telemetry

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
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
// variables, tokens or secrets.
func (t *Telemetry) Extension(info RequestInfo) graphql.HandlerExtension {
	return &extension{t: t, info: info}
}

type extension struct {
	t    *Telemetry
	info RequestInfo
}

var (
	_ graphql.ResponseInterceptor  = (*extension)(nil)
	_ graphql.OperationInterceptor = (*extension)(nil)
)

func (e *extension) ExtensionName() string                   { return "CairnTelemetry" }
func (e *extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation opens the request's span, so resolvers and SQL nest in it.
func (e *extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
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
	for _, err := range resp.Errors {
		code, _ := err.Extensions["code"].(string)
		errCodes = append(errCodes, code)
		e.t.Errors.WithLabelValues(code).Inc()
		outcome = "error"
	}
	e.t.Requests.WithLabelValues(name, outcome).Inc()
	e.t.RequestDuration.WithLabelValues(name).Observe(took.Seconds())
	attrs := []any{"operation", name, "duration", took, "outcome", outcome}
	if e.info.Statements != nil {
		n := e.info.Statements(ctx)
		e.t.StatementsPerReq.Observe(float64(n))
		attrs = append(attrs, "sql_statements", n)
	}
	if e.info.Principal != nil {
		attrs = append(attrs, "principal", e.info.Principal(ctx))
	}
	if len(errCodes) > 0 {
		attrs = append(attrs, "errors", errCodes)
	}
	span := trace.SpanFromContext(ctx)
	if sc := span.SpanContext(); sc.IsValid() {
		attrs = append(attrs, "trace_id", sc.TraceID().String())
		span.SetAttributes(attribute.String("graphql.operation.name", name), attribute.StringSlice("cairn.error_codes", errCodes))
		if outcome == "error" {
			span.SetStatus(codes.Error, "request had errors")
		}
		span.End()
	}
	e.t.Logger.LogAttrs(ctx, slog.LevelInfo, "graphql request", argsToAttrs(attrs)...)
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
		return "anonymous " + string(oc.Operation.Operation)
	}
	return "unknown"
}

func argsToAttrs(args []any) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		attrs = append(attrs, slog.Any(args[i].(string), args[i+1]))
	}
	return attrs
}

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
