package server

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/telemetry"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// directRootField answers a top-level query field by direct execution when
// the store can (store/direct.go), and through the resolvers otherwise. A
// panic in direct execution is logged and the field falls back to the
// resolvers. With tel, cairn_direct_fields_total counts the outcomes and,
// when tracing, a span "direct Query.<field>" holds the field's statements.
func directRootField(s *store.Store, tel *telemetry.Telemetry, log *slog.Logger) graphql.RootFieldMiddleware {
	var answered, declined prometheus.Counter
	if tel != nil {
		answered, declined = tel.DirectFields.WithLabelValues("direct"), tel.DirectFields.WithLabelValues("resolvers")
	}
	tracing := tel != nil && tel.Tracing()
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if oc := graphql.GetOperationContext(ctx); oc.Operation == nil || oc.Operation.Operation != ast.Query {
			return next(ctx)
		}
		var m graphql.Marshaler
		var ok bool
		if tracing { // a span for the field, its statements under it
			rf := graphql.GetRootFieldContext(ctx)
			sctx, span := tel.Tracer.Start(ctx, "direct Query."+rf.Field.Name, trace.WithAttributes(attribute.String("graphql.field.path", rf.Field.Alias)))
			m, ok = direct(sctx, s, log)
			span.SetAttributes(attribute.Bool("cairn.direct.answered", ok))
			span.End()
		} else {
			m, ok = direct(ctx, s, log)
		}
		if ok {
			if answered != nil {
				answered.Inc()
			}
			return m
		}
		if declined != nil {
			declined.Inc()
		}
		return next(ctx)
	}
}

func direct(ctx context.Context, s *store.Store, log *slog.Logger) (m graphql.Marshaler, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "direct execution panicked; the resolvers answer the field", "panic", r)
			m, ok = nil, false
		}
	}()
	return s.Direct(ctx)
}
