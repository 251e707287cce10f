package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

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
}

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
	if n := len(fields(op.SelectionSet)); n > e.MaxRootFields {
		return cairn.Errorf(cairn.EBADINPUT, "The operation asks for %d top-level fields; the limit is %d: split it into several operations.", n, e.MaxRootFields)
	}
	if n := aliases(op.SelectionSet, 0); n > e.MaxAliases {
		return cairn.Errorf(cairn.EBADINPUT, "The operation uses %d aliases; the limit is %d: ask for fewer aliased fields, or use nodes(ids:) for many objects.", n, e.MaxAliases)
	}
	if d := depth(op.SelectionSet, 0); d > e.MaxDepth {
		return cairn.Errorf(cairn.EBADINPUT, "The operation is %d fields deep; the limit is %d: ask for fewer nested levels, or fetch deeper objects by ID in a second operation.", d, e.MaxDepth)
	}
	if c := complexity.Calculate(ctx, costed{l.es}, op, vars); e.MaxCost > 0 && c > e.MaxCost {
		return cairn.Errorf(cairn.EBADINPUT, "The operation may cost %d; the limit is %d (a field costs 1, and what a connection selects counts once per item of its first or last, %d when not given): ask for smaller pages or fewer fields.", c, e.MaxCost, cairn.DefaultPageSize)
	}
	return nil
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
