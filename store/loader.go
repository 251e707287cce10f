package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/vikstrous/dataloadgen"
)

// Loaders are the dataloaders of one request: every edge of the graph loads
// through them, so a request costs a number of statements bounded by its
// depth, not by the number of rows it touches. They carry the principal of the
// request: every batch is scoped in SQL like any other read.
//
// Edges batch by cohort rather than by time. Objects loaded by one statement
// (a page, a batch) form a cohort; when an edge is asked of one member (the
// environments of a service, the resource of an instance), it is loaded for
// every member in one statement, and the other members find it done. No
// member waits on a timer, so a single-object read costs no latency, and a
// deep read costs one statement per edge and level whatever the scheduler
// does. Lookups by bare ID (node, nodes, instance(id)) batch through
// dataloadgen's time window.
type Loaders struct {
	s *Store
	p *cairn.Principal

	mu      sync.Mutex
	byID    map[string]any // kind name → *dataloadgen.Loader[string, *T]
	cohorts map[string]*cohort
	futures map[futureKey]*future
}

// cohort is a set of objects of one kind loaded by one statement.
type cohort struct {
	ids  []string
	rows any // []*T
}

type futureKey struct {
	edge string
	c    *cohort
	args string
}

type future struct {
	done chan struct{}
	val  any
	err  error
}

// NewLoaders returns the loaders of one request made by p.
func (s *Store) NewLoaders(p *cairn.Principal) *Loaders {
	return &Loaders{s: s, p: p, cohorts: map[string]*cohort{}, futures: map[futureKey]*future{}} // byID: made by the first lookup by ID that batches
}

// requestContext is a request's context with its statement counter and
// loaders, in one layer rather than two (every lookup of a value of the
// request's context walks its layers).
type requestContext struct {
	context.Context
	counter *StatementCounter
	loaders *Loaders
}

func (c *requestContext) Value(key any) any {
	switch key.(type) {
	case counterKey:
		return c.counter
	case loadersKey:
		return c.loaders
	}
	return c.Context.Value(key)
}

// WithRequest returns a copy of ctx carrying a statement counter (as
// WithStatementCounter's) and fresh loaders for p (as WithLoaders'), and
// the counter.
func (s *Store) WithRequest(ctx context.Context, p *cairn.Principal) (context.Context, *StatementCounter) {
	c := &requestContext{Context: ctx, counter: &StatementCounter{}}
	c.loaders = s.NewLoaders(p)
	return c, c.counter
}

// LoaderWait is how long a lookup by bare ID collects keys before it runs.
var LoaderWait = time.Millisecond

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

func loadersIn(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey{}).(*Loaders)
	return l
}

var errNotSignedIn = cairn.Errorf(cairn.EUNAUTHENTICATED, "Sign in first: send Authorization: Bearer <token> (signIn returns one).")

// remember makes rows a cohort. Objects already in a cohort stay in theirs.
func remember[T any](l *Loaders, rows []*T) {
	if l == nil || len(rows) == 0 {
		return
	}
	idField := l.s.db.Table(reflect.TypeFor[T]()).LookupField("id")
	c := &cohort{ids: make([]string, len(rows)), rows: rows}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range rows {
		id := idField.Value(reflect.ValueOf(r).Elem()).String()
		c.ids[i] = id
		if _, ok := l.cohorts[id]; !ok {
			l.cohorts[id] = c
		}
	}
}

// cohortOf returns the cohort of the object id, or a cohort of it alone.
func cohortOf[T any](l *Loaders, id string, obj *T) *cohort {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.cohorts[id]
	if !ok {
		c = &cohort{ids: []string{id}}
		if obj != nil {
			c.rows = []*T{obj}
		}
		l.cohorts[id] = c
	}
	return c
}

// once runs fetch for key unless another caller ran or runs it, and returns
// its result.
func (l *Loaders) once(key futureKey, fetch func() (any, error)) (any, error) {
	l.mu.Lock()
	f, ok := l.futures[key]
	if ok {
		l.mu.Unlock()
		<-f.done
		return f.val, f.err
	}
	f = &future{done: make(chan struct{})}
	l.futures[key] = f
	l.mu.Unlock()
	defer close(f.done)
	f.val, f.err = fetch()
	return f.val, f.err
}

// loadByID loads one object of kind k by ID, batching with the other lookups
// by ID of the request. Returns NOT_FOUND when it does not exist or is outside
// the caller's scope.
func loadByID[T, F any](ctx context.Context, l *Loaders, k kind[T, F], id string) (*T, error) {
	if l.p == nil {
		return nil, errNotSignedIn
	}
	if single(ctx) {
		if v, ok, err := lookahead[T](ctx, l, k.name, id); ok { // loader_prime.go
			return v, err
		}
		l.s.batch(k.name+".id", 1)
		m, err := byIDs[T](ctx, l.s.db, []string{id}, k.where(l.p, nil), k.objectView(ctx), k.name)
		if err != nil {
			return nil, err
		}
		v, ok := m[id]
		if !ok {
			return nil, cairn.NotFound(k.name, id)
		}
		remember(l, []*T{v})
		return v, nil
	}
	l.mu.Lock()
	ld, ok := l.byID[k.name].(*dataloadgen.Loader[string, *T])
	if !ok {
		if l.byID == nil {
			l.byID = map[string]any{}
		}
		where := k.where(l.p, nil)
		ld = dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*T, error) {
			l.s.batch(k.name+".id", len(ids))
			m, err := byIDs[T](ctx, l.s.db, ids, where, view{}, k.name) // shared by every field: all columns
			remember(l, values(m))
			return m, err
		}, dataloadgen.WithWait(LoaderWait))
		l.byID[k.name] = ld
	}
	l.mu.Unlock()
	v, err := ld.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, cairn.NotFound(k.name, id)
	}
	return v, err
}

// single reports whether ctx is a top-level field returning one object
// (instance(id:), node(id:)): nothing else of its request waits to share its
// statement, so it runs at once rather than after LoaderWait. Lists (nodes,
// _entities) and nested lookups batch.
func single(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return false
	}
	root := fc.Object == "Query" || fc.Object == "Mutation"
	return root && fc.Field.Definition.Type.Elem == nil && len(graphql.GetOperationContext(ctx).Operation.SelectionSet) == 1
}

// omitKey is fmt.Sprint(cols), without fmt: the part of an edge's future
// key that names the columns its rows left out.
func omitKey(cols []string) string {
	switch len(cols) {
	case 0:
		return "[]"
	case 1:
		return "[" + cols[0] + "]"
	}
	n := len(cols) + 1
	for _, c := range cols {
		n += len(c)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('[')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c)
	}
	b.WriteByte(']')
	return b.String()
}

func values[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// loadParent loads the object of kind pk that child points to (key(child)):
// for the whole cohort of child in one statement. Returns NOT_FOUND when it is
// outside the caller's scope.
func loadParent[C, P, F any](ctx context.Context, l *Loaders, edge string, childID string, child *C, pk kind[P, F], key func(*C) string) (*P, error) {
	if l.p == nil {
		return nil, errNotSignedIn
	}
	c := cohortOf(l, childID, child)
	view := pk.objectView(ctx)
	v, err := l.once(futureKey{edge: edge, c: c, args: omitKey(view.omit)}, func() (any, error) {
		rows, ok := c.rows.([]*C)
		if !ok {
			rows = []*C{child}
		}
		seen := map[string]bool{}
		var ids []string
		for _, r := range rows {
			if id := key(r); id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		l.s.batch(edge, len(ids))
		m, err := byIDs[P](ctx, l.s.db, ids, pk.where(l.p, nil), view, pk.name)
		remember(l, values(m))
		return m, err
	})
	if err != nil {
		return nil, err
	}
	if p, ok := v.(map[string]*P)[key(child)]; ok {
		return p, nil
	}
	return nil, cairn.NotFound(pk.name, key(child))
}

type connArgs[F any] struct {
	Page   cairn.PageArgs
	Filter *F
	Order  *cairn.Order
	View   string // two selections that need different columns do not share rows
}

// loadConn loads the connection of kind k under parent (rows whose parentCol
// is parent): for the whole cohort of parent in one statement per distinct set
// of arguments.
func loadConn[T, F any](ctx context.Context, l *Loaders, k kind[T, F], parentCol, parent string, page cairn.PageArgs, f *F, o *cairn.Order) (*cairn.Connection[T], error) {
	if l.p == nil {
		return nil, errNotSignedIn
	}
	view := k.view(ctx)
	args, err := json.Marshal(connArgs[F]{Page: page, Filter: f, Order: o, View: fmt.Sprint(view)})
	if err != nil {
		return nil, err
	}
	c := cohortOf[T](l, parent, nil)
	v, err := l.once(futureKey{edge: k.name + "." + parentCol, c: c, args: string(args)}, func() (any, error) {
		l.s.batch(k.name+"."+parentCol, len(c.ids))
		m, err := listPerParent[T](ctx, l.s.db, parentCol, c.ids, page, o, k.where(l.p, f), view, k.name+"s")
		if view.cols != nil { // partial rows make no cohort
			return m, err
		}
		var all []*T
		for _, conn := range m {
			for _, e := range conn.Edges {
				all = append(all, e.Node)
			}
		}
		remember(l, all)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]*cairn.Connection[T])[parent], nil
}
