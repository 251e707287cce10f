package server

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/persisted"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Edge configures the hardened edge of /graphql: limits on what one operation
// may ask, a request timeout, rate limits, persisted operations and CORS. The
// zero value gives the defaults below, no cost limit and no rate limits.
type Edge struct {
	// MaxDepth bounds the nesting of fields (introspection fields aside);
	// a connection counts three (the field, edges, node).
	MaxDepth int
	// MaxCost bounds an operation's cost: every field costs 1, and what a
	// connection field selects counts once per item it may return (its first
	// or last argument, DefaultPageSize when neither is given).
	MaxCost int
	// MaxAliases bounds the aliased fields of an operation.
	MaxAliases int
	// MaxRootFields bounds the top-level fields of an operation.
	MaxRootFields int
	// Timeout bounds the time one request may run; 0 means DefaultTimeout.
	Timeout time.Duration

	// APIKeyRate and UserRate are the token buckets of each API key and
	// each signed-in user; a zero Rate means no limit.
	APIKeyRate, UserRate Rate

	// CORSOrigins are the origins browsers may call /graphql from ("*" for
	// any); empty allows none but the server's own.
	CORSOrigins []string

	// PersistedCacheSize is the number of persisted documents each
	// in-memory cache holds; 0 means persisted.DefaultCacheSize.
	PersistedCacheSize int
}

// Defaults of Edge.
const (
	DefaultMaxDepth      = 32
	DefaultMaxCost       = 250000
	DefaultMaxAliases    = 30
	DefaultMaxRootFields = 20
	DefaultTimeout       = 30 * time.Second
)

func (e Edge) withDefaults() Edge {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&e.MaxDepth, DefaultMaxDepth)
	def(&e.MaxAliases, DefaultMaxAliases)
	def(&e.MaxRootFields, DefaultMaxRootFields)
	if e.Timeout == 0 {
		e.Timeout = DefaultTimeout
	}
	return e
}

// useEdge installs the edge's gqlgen extensions on gql: persisted operations
// (before parsing), the operation limits (after validation) and the mapping
// of an expired request deadline to a clear error.
func useEdge(gql *handler.Server, e Edge, reg *persisted.Registry) {
	gql.Use(persisted.Extension{Registry: reg})
	gql.Use(&limits{edge: e})
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx).Operation
		if op == nil || op.Operation == ast.Subscription {
			return next(ctx)
		}
		// The deadline counts from here; it bounds the response handler,
		// where a query or mutation runs (what runs before it, in the
		// operation interceptors, reads no data), so one timer does.
		deadline := time.Now().Add(e.Timeout)
		rh := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			ctx, cancel := context.WithDeadline(ctx, deadline)
			defer cancel()
			if ctx.Err() != nil { // gqlgen would answer nothing at all
				err := timeoutError(ctx)
				return &graphql.Response{Errors: gqlerror.List{{Message: cairn.ErrorMessage(err), Extensions: map[string]any{"code": cairn.ERESOURCEEXHAUSTED}}}}
			}
			return rh(ctx)
		}
	})
}

func timeoutError(ctx context.Context) error {
	limit := "its time limit"
	if st := stateOf(ctx); st != nil && st.timeout > 0 {
		limit = "the limit of " + st.timeout.String()
	}
	return cairn.Errorf(cairn.ERESOURCEEXHAUSTED, "The request ran longer than %s and was stopped; ask for less (smaller pages, fewer fields) or split it.", limit)
}

// edgeState is what the edge's HTTP layers and gqlgen extensions share about
// one request.
type edgeState struct {
	method  string
	timeout time.Duration
	status  int // when set, the HTTP status of the response

	// params are the request's parameters, decoded by limitBody for
	// postTransport.
	params *graphql.RawParams
	// statementsByTransport is set when postTransport writes the response
	// and its extensions.sqlStatements (reportStatements leaves it alone).
	statementsByTransport bool
}

type edgeStateKey struct{}

func stateOf(ctx context.Context) *edgeState {
	st, _ := ctx.Value(edgeStateKey{}).(*edgeState)
	return st
}

// edgeHandler wraps the /graphql handler (already bounded in body size) in
// the edge's HTTP layers, outermost first: CORS, CSRF protection, and the
// status and caching rules of GraphQL over HTTP. (The timeout bounds the
// execution of each query or mutation: see useEdge.)
func edgeHandler(e Edge, next http.Handler) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &struct { // one allocation for both
			st edgeState
			rw responseBuffer
		}{st: edgeState{method: r.Method, timeout: e.Timeout}}
		st := &x.st
		r = r.WithContext(context.WithValue(r.Context(), edgeStateKey{}, st))
		if !bufferable(r) { // subscriptions: long-lived, streamed
			next.ServeHTTP(w, r)
			return
		}
		rw := &x.rw
		rw.w = w
		next.ServeHTTP(rw, r)
		rw.finish(r, st)
	})
	return cors(e.CORSOrigins, csrf(h))
}
