// Package server is Cairn's HTTP edge: the GraphQL endpoint with its
// transports, error presenter and request limits, GraphiQL, health and
// readiness probes, and the JWKS of Cairn's session tokens.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/console"
	"github.com/cairn-dev/cairn/graph"
	"github.com/cairn-dev/cairn/persisted"
	"github.com/cairn-dev/cairn/resolvers"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/telemetry"
)

// Config is what the HTTP edge needs.
type Config struct {
	Store  *store.Store
	Tokens *auth.Tokens
	Logger *slog.Logger

	// MaxBodyBytes bounds a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Introspection allows schema introspection queries.
	Introspection bool
	// Telemetry, when set, measures, traces and logs every request and
	// serves /metrics.
	Telemetry *telemetry.Telemetry
	// Edge sets the limits, rate limits, CORS and persisted operations of
	// /graphql (server/edge.go); the zero value gives the defaults.
	Edge Edge
	// Secrets seals the client secrets of identity providers and the state
	// of sign-ins through them; nil refuses both (server/identity.go).
	Secrets *auth.SecretBox
	// Live configures subscriptions (server/live.go).
	Live Live
	// Shutdown, when closed, ends every open subscription (server/shutdown.go).
	Shutdown <-chan struct{}
	// NoDirect turns direct execution off: every field then runs through
	// gqlgen's resolvers (store/direct.go).
	NoDirect bool
}

// DefaultMaxBodyBytes is the default bound of a request body (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// New returns the HTTP handler of Cairn.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	cfg.Edge = cfg.Edge.withDefaults()
	registry := persisted.NewRegistry(cfg.Store, cfg.Edge.PersistedCacheSize)
	federation := newFederation(cfg) // server/identity.go
	gql := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers: &resolvers.Resolver{Store: cfg.Store, Tokens: cfg.Tokens, Persisted: registry, OIDC: federation, Bus: cfg.Live.Bus},
	}))
	gql.AddTransport(transport.Options{})
	ws := addLive(gql, cfg, federation) // websockets and SSE: server/live.go
	gql.AddTransport(transport.GET{})
	gql.AddTransport(postTransport{}) // transport.POST over the body limitBody decoded: server/body.go
	if cfg.Introspection {
		gql.Use(extension.Introspection{})
	} else {
		gql.Use(noIntrospection{})
	}
	gql.SetErrorPresenter(presenter(cfg.Logger))
	gql.SetRecoverFunc(recoverer(cfg.Logger))
	gql.AroundResponses(reportStatements)
	useEdge(gql, cfg.Edge, registry)
	if cfg.Telemetry != nil {
		gql.Use(cfg.Telemetry.Extension(requestInfo))
		if ft := cfg.Telemetry.FieldTracer(); ft != nil {
			gql.Use(ft)
		}
	}
	if !cfg.NoDirect {
		// Innermost of the root-field interceptors: the telemetry's see
		// a field answered directly like any other.
		gql.AroundRootFields(directRootField(cfg.Store, cfg.Telemetry, cfg.Logger))
	}
	// Last: identical subscriptions share their data inside every other
	// response interceptor (server/ws_share.go).
	ws.shareResponses(gql)

	limiter := newLimiter(cfg.Edge.APIKeyRate, cfg.Edge.UserRate)
	if cfg.Telemetry != nil {
		limiter.refused = func(kind string) { cfg.Telemetry.RateLimited.WithLabelValues(kind).Inc() }
	}
	api := authenticate(cfg, federation)(limitRate(limiter, perRequest(cfg.Store, gql)))
	api = limitBody(cfg.MaxBodyBytes, api) // and persisted operation IDs given as documentId, doc_id or id
	api = edgeHandler(cfg.Edge, endStreams(cfg.Shutdown, api))

	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	mux.Handle("GET /{$}", playground.Handler("Cairn", "/graphql"))
	mux.Handle("/console/", console.Handler()) // the admin console (console/)
	mux.Handle("/console", console.Redirect())
	mux.Handle("GET /.well-known/jwks.json", cfg.Tokens.JWKSHandler())
	mountIdentity(mux, cfg, federation) // /auth/{idp}/login and /callback
	if cfg.Telemetry != nil {
		mux.Handle("GET /metrics", cfg.Telemetry.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ready(w, r, cfg.Store)
	})
	return mux
}

// perRequest gives each GraphQL request its loaders (scoped to its principal),
// a counter of its SQL statements and its Idempotency-Key header.
func perRequest(s *store.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := s.WithRequest(r.Context(), principalOf(r.Context()))
		if key := r.Header.Get("Idempotency-Key"); key != "" {
			ctx = resolvers.WithIdempotencyKey(ctx, key)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func ready(w http.ResponseWriter, r *http.Request, s *store.Store) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	if ok, err := s.Migrated(ctx); err != nil || !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database not migrated\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
