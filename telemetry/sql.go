package telemetry

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// QueryHook times every SQL statement and, when tracing is on, gives it a
// span (with the statement's operation, never its arguments).
func (t *Telemetry) QueryHook() bun.QueryHook { return queryHook{t} }

type queryHook struct{ t *Telemetry }

type spanKey struct{}

func (h queryHook) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if h.t.provider == nil || !trace.SpanFromContext(ctx).SpanContext().IsValid() {
		return ctx // without tracing nothing starts a span: no lookup of one
	}
	ctx, span := h.t.Tracer.Start(ctx, "sql "+ev.Operation(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.operation", ev.Operation())))
	return context.WithValue(ctx, spanKey{}, span)
}

func (h queryHook) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	h.t.StatementDuration.Observe(time.Since(ev.StartTime).Seconds())
	if h.t.provider == nil {
		return
	}
	if span, ok := ctx.Value(spanKey{}).(trace.Span); ok {
		if ev.Err != nil {
			span.SetStatus(codes.Error, "statement failed")
		}
		span.End()
	}
}
