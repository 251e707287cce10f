package store

import (
	"context"
	"errors"
	"encoding/json"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/vikstrous/dataloadgen"
)

// Loaders are the dataloaders of one request: every edge of the graph loads
// through them, so a request costs a number of statements bounded by its
// depth, not by the number of rows it touches. They carry the principal of the
// request: every batch is scoped in SQL like any other read.
type Loaders struct {
	s    *Store
	p    *cairn.Principal
	wait time.Duration

	mu    sync.Mutex
	byID  map[string]any // kind name → *dataloadgen.Loader[string, *T]
	conns map[string]any // kind name + parent column → *connLoader[T, F]
}

// NewLoaders returns the loaders of one request made by p.
func (s *Store) NewLoaders(p *cairn.Principal) *Loaders {
	return &Loaders{s: s, p: p, wait: s.loaderWait(), byID: map[string]any{}, conns: map[string]any{}}
}

// LoaderWait is how long a loader collects keys before it runs its batch.
// gqlgen resolves sibling fields concurrently, so a short window suffices.
var LoaderWait = 2 * time.Millisecond

func (s *Store) loaderWait() time.Duration { return LoaderWait }

type loadersKey struct{}

// WithLoaders returns a copy of ctx carrying l.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// For returns the loaders of ctx. Without any (outside a request), it returns
// fresh loaders for the principal of ctx.
func (s *Store) For(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return s.NewLoaders(cairn.PrincipalFromContext(ctx))
}

// loadByID loads one object of kind k by ID through the request's batch.
// Returns NOT_FOUND when it does not exist or is outside the caller's scope.
func loadByID[T, F any](ctx context.Context, l *Loaders, k kind[T, F], id string) (*T, error) {
	if l.p == nil {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Sign in first: send Authorization: Bearer <token> (signIn returns one).")
	}
	l.mu.Lock()
	ld, ok := l.byID[k.name].(*dataloadgen.Loader[string, *T])
	if !ok {
		where := k.where(l.p, nil)
		ld = dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*T, error) {
			return byIDs[T](ctx, l.s.db, ids, where, k.name)
		}, dataloadgen.WithWait(l.wait))
		l.byID[k.name] = ld
	}
	l.mu.Unlock()
	v, err := ld.Load(ctx, id)
	if err != nil {
		if errors.Is(err, dataloadgen.ErrNotFound) {
			return nil, cairn.NotFound(k.name, id)
		}
		return nil, err
	}
	return v, nil
}

// connKey identifies one nested connection: the parent and the arguments.
type connKey struct{ parent, args string }

type connArgs[F any] struct {
	Page   cairn.PageArgs
	Filter *F
	Order  *cairn.Order
}

// connLoader batches the nested connections of one kind under one parent
// column: all parents asked with the same arguments cost one statement.
type connLoader[T, F any] struct {
	ld   *dataloadgen.Loader[connKey, *cairn.Connection[T]]
	mu   sync.Mutex
	args map[string]connArgs[F]
}

func loadConn[T, F any](ctx context.Context, l *Loaders, k kind[T, F], parentCol, parent string, page cairn.PageArgs, f *F, o *cairn.Order) (*cairn.Connection[T], error) {
	if l.p == nil {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Sign in first: send Authorization: Bearer <token> (signIn returns one).")
	}
	l.mu.Lock()
	cl, ok := l.conns[k.name+"."+parentCol].(*connLoader[T, F])
	if !ok {
		cl = &connLoader[T, F]{args: map[string]connArgs[F]{}}
		cl.ld = dataloadgen.NewLoader(func(ctx context.Context, keys []connKey) ([]*cairn.Connection[T], []error) {
			return cl.fetch(ctx, l, k, parentCol, keys)
		}, dataloadgen.WithWait(l.wait))
		l.conns[k.name+"."+parentCol] = cl
	}
	l.mu.Unlock()

	a := connArgs[F]{Page: page, Filter: f, Order: o}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	cl.mu.Lock()
	cl.args[string(b)] = a
	cl.mu.Unlock()
	return cl.ld.Load(ctx, connKey{parent: parent, args: string(b)})
}

// fetch runs one statement per distinct set of arguments among keys.
func (cl *connLoader[T, F]) fetch(ctx context.Context, l *Loaders, k kind[T, F], parentCol string, keys []connKey) ([]*cairn.Connection[T], []error) {
	groups := map[string][]string{}
	for _, key := range keys {
		groups[key.args] = append(groups[key.args], key.parent)
	}
	results := map[string]map[string]*cairn.Connection[T]{}
	failed := map[string]error{}
	for args, parents := range groups {
		cl.mu.Lock()
		a := cl.args[args]
		cl.mu.Unlock()
		res, err := listPerParent[T](ctx, l.s.db, parentCol, parents, a.Page, a.Order, k.where(l.p, a.Filter), k.name+"s")
		results[args], failed[args] = res, err
	}
	conns := make([]*cairn.Connection[T], len(keys))
	errs := make([]error, len(keys))
	for i, key := range keys {
		if err := failed[key.args]; err != nil {
			errs[i] = err
			continue
		}
		conns[i] = results[key.args][key.parent]
	}
	return conns, errs
}
