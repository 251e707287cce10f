package server

import (
	"bytes"
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/events"
)

// Identical subscriptions share their responses' data. Thousands of
// subscribers of one replica typically hold the same subscription (one
// document, the same variables, one principal); for each event gqlgen would
// execute the same selection on the same item for each of them. A
// subscription's resolver says when its items are made of the event alone
// (events.Driver.Reuse); then the first subscription of a group to execute
// an event keeps the data, and the others answer with it.
//
// Only the data is shared, and only when nothing else can differ: the same
// principal (all of it: user or key, home tenant and grants), document,
// operation name and variables; no field of the selection ran a resolver or
// a method (which could read the database, the loaders of a connection or
// the clock) or carried a directive; no errors. Every response still runs
// through the response interceptors (metrics, logs, the sqlStatements
// extension, counted per connection): shareResponses is the innermost one
// and replaces only gqlgen's execution of the selection.

// shareGroup is the identical subscriptions of a transport.
type shareGroup struct {
	// last holds the data of recent events, by seq: immutable once stored.
	last [4]atomic.Pointer[sharedData]
}

type sharedData struct {
	ev   *cairn.AuditEvent
	data []byte
}

// get returns the data made for ev, nil if none.
func (g *shareGroup) get(ev *cairn.AuditEvent) []byte {
	if d := g.last[ev.Seq&3].Load(); d != nil && d.ev == ev {
		return d.data
	}
	return nil
}

func (g *shareGroup) put(ev *cairn.AuditEvent, data []byte) {
	g.last[ev.Seq&3].Store(&sharedData{ev: ev, data: data})
}

// shareKey identifies the subscriptions whose data for one event cannot
// differ; "" when the operation is not to be shared.
func shareKey(ctx context.Context, rc *graphql.OperationContext) string {
	p := cairn.PrincipalFromContext(ctx)
	if p == nil || rc == nil {
		return ""
	}
	who, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	vars, err := json.Marshal(rc.Variables) // keys sorted
	if err != nil {
		return ""
	}
	var b bytes.Buffer
	b.Grow(len(who) + len(rc.RawQuery) + len(rc.OperationName) + len(vars) + 3)
	b.Write(who)
	b.WriteByte(0)
	b.WriteString(rc.RawQuery)
	b.WriteByte(0)
	b.WriteString(rc.OperationName)
	b.WriteByte(0)
	b.Write(vars)
	return b.String()
}

// shareResponses makes identical subscriptions share their data. It must
// be called after every other extension of gql is installed: it installs
// the innermost response interceptor.
func (t *wsTransport) shareResponses(gql *handler.Server) {
	gql.AroundFields(markUnshared)
	gql.AroundResponses(shareResponses)
	t.sharing = true
}

// join returns the group of key, nil for "" or when sharing is off. The
// subscriptions hold their group; when the last is gone, so is its entry.
func (t *wsTransport) join(key string) *shareGroup {
	if key == "" || !t.sharing {
		return nil
	}
	return t.groups.Get(key, func() *shareGroup { return &shareGroup{} })
}

// shareResponses answers a websocket subscription's event with the data an
// identical subscription made for it (wsOp.Reuse), or keeps the data it
// makes for the others. It must be the innermost response interceptor: the
// others run for every response.
func shareResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	op, _ := events.DriverFrom(ctx).(*wsOp)
	if op == nil || op.group == nil {
		return next(ctx)
	}
	if data := op.hit; data != nil {
		op.hit = nil
		// As the executor's innermost handler builds a response.
		return &graphql.Response{Data: data, Errors: graphql.GetErrors(ctx), Extensions: graphql.GetExtensions(ctx)}
	}
	ev := op.ev
	op.ev = nil
	if ev == nil {
		return next(ctx)
	}
	u := new(unshared)
	resp := next(context.WithValue(ctx, unsharedKey{}, u))
	if resp != nil && !u.Load() && resp.Data != nil && len(resp.Errors) == 0 && len(resp.Extensions) == 0 &&
		resp.Label == "" && resp.Path == nil && resp.HasNext == nil {
		op.group.put(ev, bytes.Clone(resp.Data)) // gqlgen reuses its buffer
	}
	return resp
}

// unshared is set when a field of the response ran something whose result
// could differ between identical subscriptions.
type unshared struct{ atomic.Bool }

type unsharedKey struct{}

// markUnshared is a field interceptor: a resolver, a method or a directive
// of a response that shareResponses is making keeps it from being shared.
// Other fields and requests pass.
func markUnshared(ctx context.Context, next graphql.Resolver) (any, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil && (fc.IsResolver || fc.IsMethod || hasDirectives(fc)) {
		if u, _ := ctx.Value(unsharedKey{}).(*unshared); u != nil {
			u.Store(true)
		}
	}
	return next(ctx)
}

// hasDirectives reports whether fc's field carries a directive that runs
// when it resolves (@include and @skip decide before, @deprecated never
// runs).
func hasDirectives(fc *graphql.FieldContext) bool {
	for _, d := range fc.Field.Directives {
		if d.Name != "include" && d.Name != "skip" {
			return true
		}
	}
	if def := fc.Field.Definition; def != nil {
		for _, d := range def.Directives {
			if d.Name != "deprecated" {
				return true
			}
		}
	}
	return false
}
