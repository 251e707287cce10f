package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/vektah/gqlparser/v2/ast"
)

// Direct execution answers a top-level list or lookup by ID without
// gqlgen's executor, when every field under it is a plain column, a nested
// connection of the graph (services → environments → models → tiers →
// resources → instances, and the like) or a parent: one statement per
// connection and level, as the loaders run, parents joined into it, whose
// rows are written straight into the response's JSON. gqlgen's executor
// spends a field context, a middleware call and a recover on every scalar
// of a response, and a goroutine on every element of a list; a deep read of
// 27,000 instances paid ~200 ms for it.
//
// The statements are the loaders' own: each kind's read scope and filter,
// the same keyset pages (direct_exec.go). Anything the plan does not know (a
// computed field, a list or JSON column, a @defer, arguments the store would
// refuse) leaves the field to gqlgen, which answers it — and its errors — as
// it always has. A test compares both executors' responses over every field
// the plan accepts (server/direct_test.go); docs/architecture.md, *Direct
// execution*, says what is plain.

// directType is a GraphQL object type that direct execution can answer:
// its kind's page query, its columns and its connections.
type directType struct {
	gql     string
	k       directKind
	satisfy []string // the type and the interfaces and unions it belongs to
	// cols maps the lower-cased name of each field that reads one column
	// as it is to that column.
	cols map[string]directCol
	// edges are its nested connections, by field name.
	edges map[string]directEdge
	// parents are its edges to one object, by field name.
	parents map[string]directParent
}

// directParent is an edge to one object of type typ: the one whose ID the
// column fk holds (null when fk is NULL). orNull: its resolver answers
// null, not NOT_FOUND, when the caller may not read it.
type directParent struct {
	typ    string
	fk     string
	orNull bool
}

// directCol is a column and how its value is written.
type directCol struct {
	name string
	enc  encoding
}

// directEdge is a connection field: the rows of type typ whose parentCol is
// the object's ID.
type directEdge struct {
	typ       string
	parentCol string
}

// encoding is how a column's value becomes a GraphQL value in JSON.
type encoding uint8

const (
	encString encoding = iota + 1 // ID, String and enums: a JSON string
	encInt
	encBool
	encTime // the Time scalar: RFC 3339, as gqlgen's MarshalTime
)

// directKind is what direct execution needs of a kind: its name and its
// rows that a caller may read.
type directKind interface {
	kindName() string
	// rows selects (no column yet) the rows of the kind p may read that
	// match filter: a GraphQL input object gqlgen validated, or nil.
	rows(db *bun.DB, p *cairn.Principal, filter any) (*bun.SelectQuery, error)
	// ownedPage is the statement of a top-level page of an owned kind
	// (listOwned's), with cols; nil for other kinds.
	ownedPage(db *bun.DB, p *cairn.Principal, filter any, pg page, cols []string) (*bun.RawQuery, error)
}

func (k kind[T, F]) kindName() string { return k.name }

func (k kind[T, F]) rows(db *bun.DB, p *cairn.Principal, filter any) (*bun.SelectQuery, error) {
	f, err := decodeInput[F](filter)
	if err != nil {
		return nil, err
	}
	return k.where(p, f)(db.NewSelect().Model((*T)(nil))), nil
}

func (k kind[T, F]) ownedPage(db *bun.DB, p *cairn.Principal, filter any, pg page, cols []string) (*bun.RawQuery, error) {
	if !k.owned {
		return nil, nil
	}
	f, err := decodeInput[F](filter)
	if err != nil {
		return nil, err
	}
	return ownedPage[T](db, p, pg, k.filtered(f), k.where(p, f), func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Column(cols...)
	}), nil
}

// decodeInput returns the input object v (a filter or an order; nil: none)
// as an F. F's fields are the input object's: JSON decodes them by name,
// case-insensitively, as gqlgen's generated code would.
func decodeInput[F any](v any) (*F, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	f := new(F)
	if err := json.Unmarshal(b, f); err != nil {
		return nil, err
	}
	return f, nil
}

// directTypes are the types direct execution answers, by GraphQL name.
var directTypes = map[string]*directType{}

// directRoots maps the Query fields direct execution answers to their
// node type.
var directRoots = map[string]string{
	"services":             "Service",
	"serviceEnvironments":  "ServiceEnvironment",
	"serviceModels":        "ServiceModel",
	"productTiers":         "ProductTier",
	"resources":            "Resource",
	"instances":            "ResourceInstance",
	"serviceSubscriptions": "ServiceSubscription",
}

// directSingles maps the Query fields that read one object by its ID to
// the object's type.
var directSingles = map[string]string{
	"service":             "Service",
	"serviceSubscription": "ServiceSubscription",
	"instance":            "ResourceInstance",
}

func init() {
	addDirect[cairn.Service](services, []string{"Node", "_Entity"}, map[string]directEdge{
		"environments":  {"ServiceEnvironment", "service_id"},
		"subscriptions": {"ServiceSubscription", "service_id"},
		"instances":     {"ResourceInstance", "service_id"},
	}, nil)
	addDirect[cairn.ServiceEnvironment](environments, []string{"Node", "_Entity"}, map[string]directEdge{
		"models": {"ServiceModel", "environment_id"},
	}, map[string]directParent{
		"service":           {"Service", "service_id", false},
		"sourceEnvironment": {"ServiceEnvironment", "source_environment_id", true},
	})
	addDirect[cairn.ServiceModel](models, []string{"Node"}, map[string]directEdge{
		"tiers": {"ProductTier", "model_id"},
	}, map[string]directParent{
		"service":     {"Service", "service_id", false},
		"environment": {"ServiceEnvironment", "environment_id", false},
	})
	addDirect[cairn.ProductTier](tiers, []string{"Node", "_Entity"}, map[string]directEdge{
		"resources":     {"Resource", "tier_id"},
		"subscriptions": {"ServiceSubscription", "tier_id"},
	}, map[string]directParent{
		"service": {"Service", "service_id", false},
		"model":   {"ServiceModel", "model_id", false},
	})
	addDirect[cairn.Resource](resources, []string{"Node", "_Entity"}, map[string]directEdge{
		"instances": {"ResourceInstance", "resource_id"},
	}, map[string]directParent{
		"service": {"Service", "service_id", false},
		"tier":    {"ProductTier", "tier_id", false},
	})
	addDirect[cairn.ServiceSubscription](subscriptions, []string{"Node"}, map[string]directEdge{
		"instances": {"ResourceInstance", "subscription_id"},
	}, map[string]directParent{
		"service": {"Service", "service_id", true},
		"tier":    {"ProductTier", "tier_id", true},
	})
	addDirect[cairn.ResourceInstance](instances, []string{"Node", "_Entity"}, nil, map[string]directParent{
		"resource":     {"Resource", "resource_id", true},
		"subscription": {"ServiceSubscription", "subscription_id", true},
	})
}

// addDirect registers T's kind with its nested connections and parents.
// Its column fields are each field of T that bun maps to a column and
// whose Go type has an encoding, named as gqlgen binds it (the Go field's
// name, case-insensitively). The fields of these types that have a
// resolver of their own are edges, maps or lists (requestParams,
// dependencies), never such a field; TestDirectEveryField compares every
// scalar with the resolvers' answer.
func addDirect[T, F any](k kind[T, F], ifaces []string, edges map[string]directEdge, parents map[string]directParent) {
	t := &directType{gql: k.gql, k: k, satisfy: append([]string{k.gql}, ifaces...), edges: edges, parents: parents, cols: map[string]directCol{}}
	for _, f := range directTables.Get(reflect.TypeFor[T]()).Fields {
		if enc := encodingOf(f.StructField.Type); enc != 0 {
			t.cols[strings.ToLower(f.StructField.Name)] = directCol{name: f.Name, enc: enc}
		}
	}
	directTypes[k.gql] = t
}

// directTables reads the columns bun maps the types to, as the store's own
// bun.DB does (both use pgdialect's naming).
var directTables = pgdialect.New().Tables()

var timeType = reflect.TypeFor[time.Time]()

// encodingOf returns how a Go field of type t is written, 0 when direct
// execution does not write it (lists, maps, JSON).
func encodingOf(t reflect.Type) encoding {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return encTime
	case t.Kind() == reflect.String:
		return encString
	case t.Kind() == reflect.Int:
		return encInt
	case t.Kind() == reflect.Bool:
		return encBool
	}
	return 0
}

// A plan is the compiled selection of one connection field.

// connPlan is a connection: the page it reads and what its selection writes.
type connPlan struct {
	typ       *directType
	parentCol string // "" at the top level
	pg        page
	filter    any
	cols      []string   // the columns its rows fetch; cols[0] is id
	encs      []encoding // how each column is written
	// sel is the selection of the connection object, in response order.
	sel []connSel
	// children are the connections under its nodes, each fetched once for
	// all of this connection's rows.
	children []*connPlan
	// cursors: the selection reads cursors (edges' or pageInfo's), so
	// the rows fetch the order column (column orderCol); count: it reads
	// totalCount.
	cursors  bool
	orderCol int
	count    bool
	// single, at the top level, reads the one object whose ID it holds
	// (service(id:), instance(id:)); obj is its selection.
	single string
	obj    *objPlan
	// joins are the parents its rows' selection reads, each joined in the
	// same statement.
	joins []*joinPlan
	rows  *directRows // once fetched
}

// joinPlan is a parent of c's rows read in c's statement: the object of
// type typ whose ID is column fk of the page (from < 0) or of join from.
type joinPlan struct {
	typ  *directType
	from int
	fk   int // the index of the ID's column among from's
	// orNull: a parent the caller may not read is written null; else
	// the resolvers answer the field (NOT_FOUND).
	orNull bool
	cols   []string
	encs   []encoding
}

type connSelKind uint8

const (
	selTypename connSelKind = iota + 1
	selNodes
	selEdges
	selPageInfo
	selTotalCount
)

// The fields of PageInfo.
const (
	pageTypename = iota
	pageHasNext
	pageHasPrevious
	pageStartCursor
	pageEndCursor
)

// connSel is a field of a connection object: __typename, nodes or edges.
type connSel struct {
	key  []byte // "alias":
	kind connSelKind
	name string    // the typename written
	node *objPlan  // nodes, or the node of edges
	edge []edgeSel // edges
	page []pageSel // pageInfo
}

// edgeSel is a field of an edge: __typename, cursor or node.
type edgeSel struct {
	key    []byte
	name   string   // __typename: the edge type
	cursor bool     // cursor
	node   *objPlan // node
}

// pageSel is a field of PageInfo.
type pageSel struct {
	key   []byte
	field int // pageTypename …
}

// objPlan is the selection of an object: fields in response order.
type objPlan struct {
	fields []objField
}

// objField writes a column (col ≥ 0, of the page when src < 0, else of
// join src), the typename, a child connection, or a parent (join ≥ 0, with
// its selection obj).
type objField struct {
	key   []byte
	src   int
	col   int
	name  string    // __typename
	child *connPlan // a nested connection
	join  int
	obj   *objPlan
}

// planDirect compiles the top-level field f of the operation oc, or reports
// that direct execution cannot answer it.
func planDirect(oc *graphql.OperationContext, f graphql.CollectedField) (*connPlan, bool) {
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil, false
	}
	if typ, ok := directTypes[directSingles[f.Name]]; ok {
		return planSingle(oc, f, typ)
	}
	typ, ok := directTypes[directRoots[f.Name]]
	if !ok {
		return nil, false
	}
	return planConn(oc, f, typ, "")
}

// planSingle compiles a top-level lookup by ID of an object of type typ.
func planSingle(oc *graphql.OperationContext, f graphql.CollectedField, typ *directType) (*connPlan, bool) {
	if f.IsDeferred() || f.Definition == nil || f.Definition.Type.Name() != typ.gql {
		return nil, false
	}
	id, ok := f.ArgumentMap(oc.Variables)["id"].(string)
	if !ok {
		return nil, false
	}
	c := &connPlan{typ: typ, single: id, pg: page{limit: 1}, cols: []string{"id"}, encs: []encoding{encString}}
	if c.obj, ok = c.planObj(oc, f.Selections, typ, -1); !ok || len(c.children) > 0 {
		return nil, false // no connections under a lone object: their parents would be one
	}
	return c, true
}

// planConn compiles a connection field f of node type typ.
func planConn(oc *graphql.OperationContext, f graphql.CollectedField, typ *directType, parentCol string) (*connPlan, bool) {
	if f.IsDeferred() || f.Definition == nil || f.Definition.Type.Name() != typ.gql+"Connection" {
		return nil, false
	}
	args := f.ArgumentMap(oc.Variables)
	pa, ok := pageArgsOf(args)
	if !ok {
		return nil, false
	}
	order, err := decodeInput[cairn.Order](args["orderBy"])
	if err != nil {
		return nil, false
	}
	pg, err := newPage(pa, order)
	if err != nil {
		return nil, false // gqlgen's resolver reports it
	}
	c := &connPlan{typ: typ, parentCol: parentCol, pg: pg, cols: []string{"id"}, encs: []encoding{encString}}
	if fl := args["filter"]; fl != nil {
		if _, ok := fl.(map[string]any); !ok {
			return nil, false
		}
		c.filter = fl
	}
	conn := typ.gql + "Connection"
	for _, cf := range graphql.CollectFields(oc, f.Selections, []string{conn}) {
		if cf.IsDeferred() {
			return nil, false
		}
		s := connSel{key: jsonKey(cf.Alias)}
		switch cf.Name {
		case "__typename":
			s.kind, s.name = selTypename, conn
		case "nodes":
			s.kind = selNodes
			if s.node, ok = c.planObj(oc, cf.Selections, typ, -1); !ok {
				return nil, false
			}
		case "edges":
			s.kind = selEdges
			for _, ef := range graphql.CollectFields(oc, cf.Selections, []string{typ.gql + "Edge"}) {
				if ef.IsDeferred() {
					return nil, false
				}
				es := edgeSel{key: jsonKey(ef.Alias)}
				switch ef.Name {
				case "__typename":
					es.name = typ.gql + "Edge"
				case "node":
					if es.node, ok = c.planObj(oc, ef.Selections, typ, -1); !ok {
						return nil, false
					}
				case "cursor":
					es.cursor, c.cursors = true, true
				default:
					return nil, false
				}
				s.edge = append(s.edge, es)
			}
		case "pageInfo":
			s.kind = selPageInfo
			for _, pf := range graphql.CollectFields(oc, cf.Selections, []string{"PageInfo"}) {
				if pf.IsDeferred() {
					return nil, false
				}
				ps := pageSel{key: jsonKey(pf.Alias)}
				switch pf.Name {
				case "__typename":
					ps.field = pageTypename
				case "hasNextPage":
					ps.field = pageHasNext
				case "hasPreviousPage":
					ps.field = pageHasPrevious
				case "startCursor":
					ps.field, c.cursors = pageStartCursor, true
				case "endCursor":
					ps.field, c.cursors = pageEndCursor, true
				default:
					return nil, false
				}
				s.page = append(s.page, ps)
			}
		case "totalCount":
			s.kind, c.count = selTotalCount, true
		default:
			return nil, false
		}
		c.sel = append(c.sel, s)
	}
	if c.cursors || parentCol == "" || len(c.joins) > 0 {
		// A top-level page of an owned kind orders its branches' rows by
		// the order column too.
		col, ok := typ.column(pg.order.col)
		if !ok {
			return nil, false
		}
		c.orderCol = c.column(-1, col)
	}
	return c, true
}

// column returns the column field named col (an SQL name).
func (t *directType) column(col string) (directCol, bool) {
	for _, dc := range t.cols {
		if dc.name == col {
			return dc, true
		}
	}
	return directCol{}, false
}

// planObj compiles a selection of an object of type typ whose columns are
// the page's (src < 0) or join src's: c's nodes, or a parent of them.
func (c *connPlan) planObj(oc *graphql.OperationContext, sel ast.SelectionSet, typ *directType, src int) (*objPlan, bool) {
	o := &objPlan{}
	for _, f := range graphql.CollectFields(oc, sel, typ.satisfy) {
		if f.IsDeferred() || f.Definition == nil {
			return nil, false
		}
		of := objField{key: jsonKey(f.Alias), src: src, col: -1, join: -1}
		if f.Name == "__typename" {
			of.name = typ.gql
			o.fields = append(o.fields, of)
			continue
		}
		if e, ok := typ.edges[f.Name]; ok {
			if src >= 0 {
				return nil, false // connections under a parent: not planned
			}
			child, ok := planConn(oc, f, directTypes[e.typ], e.parentCol)
			if !ok {
				return nil, false
			}
			of.child = child
			c.children = append(c.children, child)
			o.fields = append(o.fields, of)
			continue
		}
		if e, ok := typ.parents[f.Name]; ok {
			fk, ok := typ.column(e.fk)
			pt := directTypes[e.typ]
			if !ok || len(f.Arguments) > 0 || f.Definition.Type.Name() != pt.gql {
				return nil, false
			}
			j := &joinPlan{typ: pt, from: src, orNull: e.orNull, cols: []string{"id"}, encs: []encoding{encString}}
			j.fk = c.column(src, fk)
			c.joins = append(c.joins, j)
			of.join = len(c.joins) - 1
			if of.obj, ok = c.planObj(oc, f.Selections, pt, of.join); !ok {
				return nil, false
			}
			o.fields = append(o.fields, of)
			continue
		}
		col, ok := typ.cols[strings.ToLower(f.Name)]
		if !ok || f.Definition.Type.Elem != nil || len(f.Arguments) > 0 {
			return nil, false
		}
		of.col = c.column(src, col)
		o.fields = append(o.fields, of)
	}
	return o, true
}

// column returns the index of col among the columns of the page (src < 0)
// or of join src, adding it.
func (c *connPlan) column(src int, col directCol) int {
	cols, encs := &c.cols, &c.encs
	if src >= 0 {
		cols, encs = &c.joins[src].cols, &c.joins[src].encs
	}
	if i := slices.Index(*cols, col.name); i >= 0 {
		return i
	}
	*cols = append(*cols, col.name)
	*encs = append(*encs, col.enc)
	return len(*cols) - 1
}

// pageArgsOf reads first, after, last and before.
func pageArgsOf(args map[string]any) (cairn.PageArgs, bool) {
	var pa cairn.PageArgs
	var ok bool
	if pa.First, ok = intArg(args["first"]); !ok {
		return pa, false
	}
	if pa.Last, ok = intArg(args["last"]); !ok {
		return pa, false
	}
	if pa.After, ok = stringArg(args["after"]); !ok {
		return pa, false
	}
	if pa.Before, ok = stringArg(args["before"]); !ok {
		return pa, false
	}
	return pa, true
}

// intArg reads an Int argument as gqlgen's coercion would.
func intArg(v any) (*int, bool) {
	var u cairn.IntUpdate
	if err := u.UnmarshalGQL(v); err != nil {
		return nil, false
	}
	return u.Value, true
}

func stringArg(v any) (*string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return &v, true
	}
	return nil, false
}

// jsonKey is `"name":`; GraphQL names need no escaping.
func jsonKey(name string) []byte {
	return []byte(`"` + name + `":`)
}

// Direct answers the top-level field of ctx (a RootFieldContext's) with
// direct execution and reports true, or reports false when it cannot: the
// caller then resolves the field as usual. It runs the field's statements
// and renders their rows' JSON at once; the Marshaler copies it.
func (s *Store) Direct(ctx context.Context) (graphql.Marshaler, bool) {
	rf := graphql.GetRootFieldContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	if rf == nil || oc == nil {
		return nil, false
	}
	p := cairn.PrincipalFromContext(ctx)
	if l := loadersIn(ctx); l != nil {
		p = l.p
	}
	if p == nil {
		return nil, false // UNAUTHENTICATED, from the resolver
	}
	plan, ok := planDirect(oc, rf.Field)
	if !ok {
		return nil, false
	}
	if err := s.fetchDirect(ctx, p, plan, nil); err != nil {
		if errors.Is(err, errNoRow) {
			// As the resolver answers: null, and NOT_FOUND on the field.
			fc := &graphql.FieldContext{Parent: graphql.GetFieldContext(ctx), Object: "Query", Field: rf.Field, IsMethod: true, IsResolver: true}
			ctx := graphql.WithFieldContext(ctx, fc)
			graphql.AddError(ctx, graphql.AddFieldLocationToError(ctx, cairn.NotFound(plan.typ.k.kindName(), plan.single)))
			return graphql.Null, true
		}
		return nil, false // the resolvers run it again and report the error
	}
	out := renderDirect(plan)
	return graphql.WriterFunc(func(w io.Writer) {
		if b, ok := w.(*bytes.Buffer); ok {
			b.Grow(len(out)) // once, rather than doubling through 1.4 MB
		}
		_, _ = w.Write(out)
	}), true
}
