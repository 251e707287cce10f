package server

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// Live configures subscriptions: the event bus that feeds them and how often
// a live connection's credentials are checked again.
type Live struct {
	// Bus feeds subscriptions; nil answers them FAILED_PRECONDITION.
	Bus *events.Bus
	// Recheck is how often a subscription's token and user are checked
	// again; an expired token, a disabled user or a revoked key ends it.
	// 0 means DefaultRecheck.
	Recheck time.Duration
	// OriginPatterns are the browser origins (host patterns, as
	// github.com/coder/websocket takes them) besides the server's own that may
	// open websockets; nil allows only the same origin.
	OriginPatterns []string
	// InitTimeout is how long a websocket may take to send connection_init
	// (then it is closed with 4408); 0 means 10s.
	InitTimeout time.Duration
	// KeepAlive is how often a websocket is sent a ping (graphql-ws: ka);
	// 0 means 15s.
	KeepAlive time.Duration
}

// DefaultRecheck is how often a live connection's credentials are checked.
const DefaultRecheck = 30 * time.Second

// addLive adds the live transports to gql: graphql-transport-ws (and the
// older graphql-ws) over websockets (Cairn's own transport, server/ws.go),
// authenticated at connection_init with the same bearer tokens as HTTP, and
// server-sent events, authenticated by the HTTP middleware. It must come before the POST transport, which would
// otherwise take SSE requests.
//
// It returns the websocket transport, whose shareResponses must then be
// installed after every other extension (server.go).
func addLive(gql *handler.Server, cfg Config, federation *auth.OIDC) *wsTransport {
	recheck := cfg.Live.Recheck
	if recheck <= 0 {
		recheck = DefaultRecheck
	}
	auths := []auth.Authenticator{ // as authenticate in identity.go
		auth.APIKeyAuthenticator(cfg.Store.APIKeyPrincipal),
		federation.Authenticator(),
		cachedSession(cfg.Tokens, cfg.Store.Principal),
	}
	// Parse and validate a document once, not once per subscription (or
	// request): thousands of subscribers send the same one, and each kept
	// its own tree.
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.AddTransport(transport.SSE{})
	ws := &wsTransport{
		origins:      cfg.Live.OriginPatterns,
		init:         wsInit(cfg.Store, auths, recheck, cfg.Logger),
		initTimeout:  cmp.Or(cfg.Live.InitTimeout, 10*time.Second),
		keepAlive:    cmp.Or(cfg.Live.KeepAlive, 15*time.Second),
		writeTimeout: 30 * time.Second,
		readLimit:    1 << 20,
		log:          cfg.Logger,
	}
	gql.AddTransport(ws) // server/ws.go
	if cfg.Shutdown != nil {
		go func() {
			<-cfg.Shutdown
			ws.closeAll()
		}()
	}
	// Over SSE the HTTP middleware authenticated the request; recheck the
	// user for as long as the stream lasts.
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx).Operation
		p := cairn.PrincipalFromContext(ctx)
		if op == nil || op.Operation != ast.Subscription || p == nil || p.UserID == "" || overWebsocket(ctx) {
			return next(ctx)
		}
		ctx, cancel := context.WithCancelCause(ctx)
		stop := watch(ctx, cancel, recheck, func(ctx context.Context) (*cairn.Principal, error) {
			return cfg.Store.Principal(ctx, p.UserID)
		})
		context.AfterFunc(ctx, stop)
		return next(ctx)
	})
	return ws
}

// wsInit authenticates a websocket at connection_init: the payload's
// Authorization ("Bearer <token>", or the bare token; also
// authorization or token) goes through the same authenticators as the
// Authorization header of HTTP. The connection's context carries the
// principal and loaders bound to it, and ends (the transport then closes the
// connection with 4403) when a recheck no longer accepts the token; the
// transport ends it with the returned function when the connection closes.
// An error refuses the connection (4403 and the error's message).
func wsInit(s *store.Store, auths []auth.Authenticator, recheck time.Duration, log *slog.Logger) func(context.Context, transport.InitPayload) (context.Context, context.CancelCauseFunc, error) {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, context.CancelCauseFunc, error) {
		token := strings.TrimSpace(payload.Authorization())
		if token == "" {
			token = payload.GetString("token")
		}
		if scheme, rest, ok := strings.Cut(token, " "); ok {
			if !strings.EqualFold(scheme, "Bearer") {
				return ctx, nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "connection_init's Authorization does not use the Bearer scheme: send {\"Authorization\": \"Bearer <token>\"}.")
			}
			token = strings.TrimSpace(rest)
		}
		if token == "" {
			return ctx, nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Send your token in connection_init: {\"type\":\"connection_init\",\"payload\":{\"Authorization\":\"Bearer <token>\"}}.")
		}
		// The rechecks keep the token for the connection's life: connections
		// with the same token (one user's tabs, the benchmark's 10,000
		// subscribers) share one copy of it rather than one decoded
		// connection_init payload each.
		shared := unique.Make(token)
		authenticate := func(ctx context.Context) (*cairn.Principal, error) {
			token := shared.Value()
			for _, a := range auths {
				p, err := a(ctx, token)
				if err != nil || p != nil {
					return p, err
				}
			}
			return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "The bearer token is not one Cairn accepts. Sign in again to get a new token.")
		}
		p, err := authenticate(ctx)
		if err != nil {
			if cairn.ErrorCode(err) == cairn.EINTERNAL {
				log.ErrorContext(ctx, "live: authenticating a websocket", "err", err)
			}
			return ctx, nil, err
		}
		ctx = cairn.NewContextWithPrincipal(ctx, p)
		ctx = store.WithLoaders(ctx, s.NewLoaders(p))
		if st := stateOf(ctx); st != nil {
			// The upgrade was a GET, but the operations of a websocket are
			// not GET requests: the edge's GET-runs-queries-only rule
			// (edge_limits.go) must not refuse its subscriptions.
			// The transport writes each response's sqlStatements.
			ctx = context.WithValue(ctx, edgeStateKey{}, &edgeState{method: "WEBSOCKET", timeout: st.timeout, statementsByTransport: true})
		}
		ctx, cancel := context.WithCancelCause(ctx)
		// The transport calls the returned function when the connection
		// closes: it stops the rechecks too (no context.AfterFunc per
		// connection).
		stop := watch(ctx, cancel, recheck, authenticate)
		return ctx, func(cause error) { stop(); cancel(cause) }, nil
	}
}

// watch checks the credentials every interval until ctx ends or stop is
// called, and cancels ctx when they are refused (an outage is not a
// refusal). It holds no goroutine between checks (a timer re-arms itself):
// with thousands of subscriptions, a parked goroutine each is a stack each.
// A timer that fires after ctx ended stops without checking; stop ends it
// at once.
func watch(ctx context.Context, cancel context.CancelCauseFunc, every time.Duration, check func(context.Context) (*cairn.Principal, error)) (stop func()) {
	var mu sync.Mutex // guards t, which the callback re-arms
	var t *time.Timer
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		if ctx.Err() != nil {
			return
		}
		if _, err := check(ctx); err != nil && cairn.ErrorCode(err) != cairn.EINTERNAL {
			cancel(err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() == nil {
			t.Reset(every)
		}
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		t.Stop()
	}
}
