package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"weak"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// limits is the gqlgen extension that checks a parsed and validated operation
// against the edge's limits before it runs: GET runs queries only (405), then
// root fields, aliases, depth and cost, each answering BAD_USER_INPUT with the
// operation's measure and the limit.
type limits struct {
	edge Edge
	es   graphql.ExecutableSchema

	// measured remembers the measures of the operations seen last: with
	// gqlgen's query cache the same document (and operation) comes back
	// for every request that sends the same text. The keys are weak: an
	// operation the query cache dropped is not kept alive here.
	mu       sync.Mutex
	measured map[weak.Pointer[ast.OperationDefinition]]*measures
}

// measures are an operation's root fields, aliases, depth and, when no
// variable can change it, its cost.
type measures struct {
	rootFields, aliases, depth int
	fixedCost                  bool
	cost                       int
}

// maxMeasured bounds limits.measured; it is emptied when full.
const maxMeasured = 1000

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &limits{}

func (*limits) ExtensionName() string { return "CairnLimits" }

func (l *limits) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

func (l *limits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return nil // gqlgen reports the missing operation
	}
	if err := l.check(ctx, op, opCtx.Variables); err != nil {
		return &gqlerror.Error{Err: err, Message: cairn.ErrorMessage(err)}
	}
	return nil
}

func (l *limits) check(ctx context.Context, op *ast.OperationDefinition, vars map[string]any) error {
	if st := stateOf(ctx); st != nil && st.method == http.MethodGet && op.Operation != ast.Query {
		st.status = http.StatusMethodNotAllowed
		return cairn.Errorf(cairn.EBADINPUT, "GET requests run queries only; send this %s with POST and Content-Type: application/json.", op.Operation)
	}
	e := l.edge
	m := l.measure(ctx, op, vars)
	if n := m.rootFields; n > e.MaxRootFields {
		return cairn.Errorf(cairn.EBADINPUT, "The operation asks for %d top-level fields; the limit is %d: split it into several operations.", n, e.MaxRootFields)
	}
	if n := m.aliases; n > e.MaxAliases {
		return cairn.Errorf(cairn.EBADINPUT, "The operation uses %d aliases; the limit is %d: ask for fewer aliased fields, or use nodes(ids:) for many objects.", n, e.MaxAliases)
	}
	if d := m.depth; d > e.MaxDepth {
		return cairn.Errorf(cairn.EBADINPUT, "The operation is %d fields deep; the limit is %d: ask for fewer nested levels, or fetch deeper objects by ID in a second operation.", d, e.MaxDepth)
	}
	if e.MaxCost <= 0 {
		return nil
	}
	c := m.cost
	if !m.fixedCost {
		c = complexity.Calculate(ctx, costed{l.es}, op, vars)
	}
	if c > e.MaxCost {
		return cairn.Errorf(cairn.EBADINPUT, "The operation may cost %d; the limit is %d (a field costs 1, and what a connection selects counts once per item of its first or last, %d when not given): ask for smaller pages or fewer fields.", c, e.MaxCost, cairn.DefaultPageSize)
	}
	return nil
}

// measure returns the measures of op, remembered from an earlier request
// when it can be; the cost is computed (once) only when a cost limit is set.
func (l *limits) measure(ctx context.Context, op *ast.OperationDefinition, vars map[string]any) *measures {
	key := weak.Make(op)
	l.mu.Lock()
	m, ok := l.measured[key]
	l.mu.Unlock()
	if ok {
		return m
	}
	m = &measures{rootFields: len(fields(op.SelectionSet)), aliases: aliases(op.SelectionSet, 0), depth: depth(op.SelectionSet, 0)}
	if l.edge.MaxCost > 0 && fixedCost(op.SelectionSet, 0) {
		m.fixedCost, m.cost = true, complexity.Calculate(ctx, costed{l.es}, op, vars)
	}
	l.mu.Lock()
	if l.measured == nil || len(l.measured) >= maxMeasured {
		l.measured = map[weak.Pointer[ast.OperationDefinition]]*measures{}
	}
	l.measured[key] = m
	l.mu.Unlock()
	return m
}

// costArgs are the arguments costed reads.
var costArgs = map[string]bool{"first": true, "last": true, "ids": true}

// fixedCost reports whether no variable can change the cost of what set
// selects: none is given to an argument costed reads, nor to a directive
// (@skip and @include decide which fields count).
func fixedCost(set ast.SelectionSet, level int) bool {
	if level > maxWalk {
		return false
	}
	for _, s := range set {
		var dirs ast.DirectiveList
		var sub ast.SelectionSet
		switch s := s.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				if costArgs[a.Name] && hasVariable(a.Value) {
					return false
				}
			}
			dirs, sub = s.Directives, s.SelectionSet
		case *ast.InlineFragment:
			dirs, sub = s.Directives, s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil {
				return false
			}
			dirs, sub = s.Directives, s.Definition.SelectionSet
		}
		for _, d := range dirs {
			for _, a := range d.Arguments {
				if hasVariable(a.Value) {
					return false
				}
			}
		}
		if !fixedCost(sub, level+1) {
			return false
		}
	}
	return true
}

func hasVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if hasVariable(c.Value) {
			return true
		}
	}
	return false
}

// fields returns the fields of a selection set, fragments inlined.
func fields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = append(out, fields(s.SelectionSet)...)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				out = append(out, fields(s.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

// maxWalk bounds the recursion over fragments (validation already refuses
// fragment cycles; this is a second guard).
const maxWalk = 64

// depth returns how deeply fields nest under set; introspection fields
// (__schema, __type) do not count: introspection has its own switch.
func depth(set ast.SelectionSet, level int) int {
	if level > maxWalk {
		return level
	}
	d := level
	for _, f := range fields(set) {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		d = max(d, depth(f.SelectionSet, level+1))
	}
	return d
}

// aliases counts the aliased fields under set.
func aliases(set ast.SelectionSet, level int) int {
	if level > maxWalk {
		return 0
	}
	n := 0
	for _, f := range fields(set) {
		if f.Alias != "" && f.Alias != f.Name {
			n++
		}
		n += aliases(f.SelectionSet, level+1)
	}
	return n
}

// costed gives gqlgen's complexity calculation Cairn's per-field costs: a
// field costs 1 plus what it selects, and what a list field selects counts
// once per item it may return: first or last for a connection (DefaultPageSize
// when neither is given), the number of IDs for nodes(ids:).
type costed struct{ graphql.ExecutableSchema }

func (c costed) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	n := 0
	switch {
	case intArg(args["first"]) > 0:
		n = intArg(args["first"])
	case intArg(args["last"]) > 0:
		n = intArg(args["last"])
	default:
		if ids, ok := args["ids"].([]any); ok {
			n = len(ids)
		} else if c.returnsConnection(typeName, field) {
			n = cairn.DefaultPageSize
		}
	}
	if n == 0 {
		return 0, false // gqlgen's default: 1 + child
	}
	if child > 0 && n > (1<<40)/child {
		return 1 << 40, true
	}
	return 1 + n*child, true
}

func (c costed) returnsConnection(typeName, field string) bool {
	def := c.Schema().Types[typeName]
	if def == nil {
		return false
	}
	f := def.Fields.ForName(field)
	return f != nil && strings.HasSuffix(f.Type.Name(), "Connection")
}

func intArg(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case int32:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case *int:
		if n != nil {
			return *n
		}
	}
	return 0
}
