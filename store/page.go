package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"
)

// orderCol is a column a list can be sorted by; the ID breaks ties.
type orderCol struct {
	col  string // SQL column
	cast string // SQL type of the cursor value
	desc bool
}

// orderFields maps the schema's order fields to columns.
var orderFields = map[string]orderCol{
	"CREATED_AT": {col: "created_at", cast: "timestamptz"},
	"UPDATED_AT": {col: "updated_at", cast: "timestamptz"},
	"NAME":       {col: "name", cast: "text"},
	"KEY":        {col: "key", cast: "text"},
	"EMAIL":      {col: "email", cast: "text"},
	"STATUS":     {col: "status", cast: "text"},
}

// orderOf returns the column of an order input; nil orders by creation time.
func orderOf(o *cairn.Order) (orderCol, error) {
	if o == nil {
		return orderFields["CREATED_AT"], nil
	}
	c, ok := orderFields[o.Field]
	if !ok {
		return c, cairn.FieldError("orderBy.field", "cannot order by %q", o.Field)
	}
	c.desc = o.Direction == cairn.OrderDesc
	return c, nil
}

// page is a validated set of pagination arguments.
type page struct {
	limit    int
	backward bool
	cursor   *cursor
	order    orderCol
}

// cursor is the position of a row in an order: its order value and its ID.
type cursor struct {
	Value string `json:"v"`
	ID    string `json:"id"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal([]string{c.Value, c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, field string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var parts []string
	if err == nil {
		err = json.Unmarshal(b, &parts)
	}
	if err != nil || len(parts) != 2 {
		return nil, cairn.FieldError(field, "%q is not a cursor of this list; pass a cursor from pageInfo or an edge", s)
	}
	return &cursor{Value: parts[0], ID: parts[1]}, nil
}

// newPage validates Relay arguments. Returns BAD_USER_INPUT for negative or
// too large sizes, first with last, and malformed cursors.
func newPage(args cairn.PageArgs, order *cairn.Order) (page, error) {
	var p page
	var err error
	if p.order, err = orderOf(order); err != nil {
		return p, err
	}
	if args.First != nil && args.Last != nil {
		return p, cairn.FieldError("first", "pass first or last, not both")
	}
	p.limit = cairn.DefaultPageSize
	size, name := args.First, "first"
	if args.Last != nil {
		size, name, p.backward = args.Last, "last", true
	}
	if size != nil {
		if *size < 0 || *size > cairn.MaxPageSize {
			return p, cairn.FieldError(name, "%s must be between 0 and %d, not %d", name, cairn.MaxPageSize, *size)
		}
		p.limit = *size
	}
	field, value := "", ""
	if p.backward && args.Before != nil {
		field, value = "before", *args.Before
	} else if !p.backward && args.After != nil {
		field, value = "after", *args.After
	}
	if field != "" {
		p.cursor, err = decodeCursor(value, field)
		// A time that is not one would reach PostgreSQL's cast and fail
		// there as an internal error.
		if err == nil && p.order.cast == "timestamptz" {
			if _, terr := time.Parse(time.RFC3339Nano, p.cursor.Value); terr != nil {
				err = cairn.FieldError(field, "%q is not a cursor of this list; pass a cursor from pageInfo or an edge", value)
			}
		}
	}
	return p, err
}

// dir is the SQL direction the page reads its rows in.
func (p page) dir() string {
	if p.order.desc != p.backward {
		return "DESC"
	}
	return "ASC"
}

// apply adds the keyset condition, order and limit (one extra row, to learn
// whether another page follows).
func (p page) apply(q *bun.SelectQuery) *bun.SelectQuery {
	dir := p.dir()
	if p.cursor != nil {
		op := ">"
		if dir == "DESC" {
			op = "<"
		}
		q = q.Where("(?TableAlias.?, ?TableAlias.id) "+op+" (?::"+p.order.cast+", ?)",
			bun.Ident(p.order.col), p.cursor.Value, p.cursor.ID)
	}
	return q.OrderExpr("?TableAlias.? "+dir+", ?TableAlias.id "+dir, bun.Ident(p.order.col)).Limit(int64(p.limit + 1))
}

// view is what a page fetches beyond its rows' plain columns: cursors, and
// the columns left out (the JSON ones, when the selection reads none).
type view struct {
	cursors bool
	omit    []string
	// cols, when set, are the only columns the selection reads (besides
	// the ID, the order column and the parent column, always selected).
	// Such rows are partial: they are not remembered as a cohort.
	cols []string
}

// columns narrows q to what v reads; extra are columns the page itself needs.
func (v view) columns(q *bun.SelectQuery, extra ...string) *bun.SelectQuery {
	if v.cols != nil {
		cols := append(slices.Clone(v.cols), extra...)
		slices.Sort(cols)
		return q.Column(slices.Compact(cols)...)
	}
	if len(v.omit) > 0 {
		return q.ExcludeColumn(v.omit...)
	}
	return q
}

// connection builds a page of rows fetched with apply. Without v.cursors the
// edges carry no cursor (the selection reads none).
func connection[T any](db *bun.DB, p page, rows []*T, v view) *cairn.Connection[T] {
	more := len(rows) > p.limit
	if more {
		rows = rows[:p.limit]
	}
	if p.backward {
		slices.Reverse(rows)
	}
	c := &cairn.Connection[T]{Edges: make([]*cairn.Edge[T], len(rows)), PageInfo: &cairn.PageInfo{}}
	edges := make([]cairn.Edge[T], len(rows)) // one allocation for the page
	var orderField, idField *schema.Field
	if v.cursors {
		table := db.Table(reflect.TypeFor[T]())
		orderField, idField = table.LookupField(p.order.col), table.LookupField("id")
	}
	for i, row := range rows {
		edges[i].Node = row
		if v.cursors {
			rv := reflect.ValueOf(row).Elem()
			edges[i].Cursor = encodeCursor(cursor{Value: cursorValue(orderField.Value(rv)), ID: idField.Value(rv).String()})
		}
		c.Edges[i] = &edges[i]
	}
	if len(c.Edges) > 0 && v.cursors {
		c.PageInfo.StartCursor = &c.Edges[0].Cursor
		c.PageInfo.EndCursor = &c.Edges[len(c.Edges)-1].Cursor
	}
	if p.backward {
		c.PageInfo.HasPreviousPage, c.PageInfo.HasNextPage = more, p.cursor != nil
	} else {
		c.PageInfo.HasNextPage, c.PageInfo.HasPreviousPage = more, p.cursor != nil
	}
	return c
}

func cursorValue(v reflect.Value) string {
	if t, ok := v.Interface().(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v.Interface())
}

// filterFunc adds a list's scope and filters to a query.
type filterFunc func(q *bun.SelectQuery) *bun.SelectQuery

// list returns one page of the rows of T that where selects.
func list[T any](ctx context.Context, db *bun.DB, args cairn.PageArgs, order *cairn.Order, where filterFunc, v view, what string) (*cairn.Connection[T], error) {
	p, err := newPage(args, order)
	if err != nil {
		return nil, err
	}
	var rows []*T
	q := v.columns(where(db.NewSelect().Model(&rows)), "id", p.order.col)
	if err := p.apply(q).Scan(ctx); err != nil {
		return nil, interpretError(err, "list "+what)
	}
	c := connection(db, p, rows, v)
	c.Count = countOf[T](db, where, what)
	return c, nil
}

// listPerParent returns one page of the rows of T for each of the parents, in
// one statement: a LATERAL join runs the page query once per parent. Their
// totalCounts, when asked for, cost one more statement for all of them.
func listPerParent[T any](ctx context.Context, db *bun.DB, parentCol string, parents []string, args cairn.PageArgs, order *cairn.Order, where filterFunc, v view, what string) (map[string]*cairn.Connection[T], error) {
	p, err := newPage(args, order)
	if err != nil {
		return nil, err
	}
	inner := v.columns(where(db.NewSelect().Model((*T)(nil))), "id", p.order.col, parentCol)
	inner = p.apply(inner.Where("?TableAlias.? = parent.id", bun.Ident(parentCol)))
	var rows []*T
	err = db.NewRaw("SELECT page.* FROM unnest(?::text[]) AS parent(id) CROSS JOIN LATERAL (?) AS page",
		pgdialect.Array(parents), inner).Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err, "list "+what)
	}
	parentField := db.Table(reflect.TypeFor[T]()).LookupField(parentCol)
	byParent := make(map[string][]*T, len(parents))
	for _, row := range rows {
		id := parentField.Value(reflect.ValueOf(row).Elem()).String()
		byParent[id] = append(byParent[id], row)
	}
	counts := sync.OnceValues(func() (map[string]int, error) {
		var res []struct {
			Parent string `bun:"parent"`
			N      int    `bun:"n"`
		}
		err := where(db.NewSelect().Model((*T)(nil))).
			ColumnExpr("?TableAlias.? AS parent, count(*) AS n", bun.Ident(parentCol)).
			Where("?TableAlias.? IN (?)", bun.Ident(parentCol), bun.List(parents)).
			GroupExpr("?TableAlias.?", bun.Ident(parentCol)).Scan(ctx, &res)
		m := make(map[string]int, len(res))
		for _, r := range res {
			m[r.Parent] = r.N
		}
		return m, interpretError(err, "count "+what)
	})
	out := make(map[string]*cairn.Connection[T], len(parents))
	for _, parent := range parents {
		c := connection(db, p, byParent[parent], v)
		c.Count = func(context.Context) (int, error) {
			m, err := counts()
			return m[parent], err
		}
		out[parent] = c
	}
	return out, nil
}

// byIDs returns the rows of T with the IDs that where selects, keyed by ID,
// with the columns v selects.
func byIDs[T any](ctx context.Context, db *bun.DB, ids []string, where filterFunc, v view, what string) (map[string]*T, error) {
	var rows []*T
	if err := v.columns(where(db.NewSelect().Model(&rows)), "id").Where("?TableAlias.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, interpretError(err, "load "+what)
	}
	idField := db.Table(reflect.TypeFor[T]()).LookupField("id")
	m := make(map[string]*T, len(rows))
	for _, row := range rows {
		m[idField.Value(reflect.ValueOf(row).Elem()).String()] = row
	}
	return m, nil
}

// lateralLimit bounds the subtree for which listOwned reads per tenant: past
// it, one scan in the list's order filtered by the scope is cheaper than a
// page per tenant.
const lateralLimit = 64

// listOwned returns one page of the rows of T (subscriptions, instances) that
// readers' subtrees own (tenantCol) or provide (providerCol). The scope as an
// OR of two subqueries keeps PostgreSQL off the (tenant, filter, order)
// indexes: it walks the order index and discards the rows of other tenants,
// so a first page cost several times a deep one. Here each tenant of the
// subtree (up to lateralLimit) reads its own page by index range, in either
// role, and the pages merge: every page costs the same, first or deep.
//
// The statement runs prepared (pgx's statement cache, per connection):
// PostgreSQL takes 3–4 ms to plan its three branches and under 0.5 ms to run
// them, and the same page (a console's first page of a list, with its
// filter) is asked for again and again. A page after a new cursor is a new
// text and pays its plan once.
func listOwned[T any](ctx context.Context, s *Store, pr *cairn.Principal, args cairn.PageArgs, order *cairn.Order,
	filter, where filterFunc, v view, what string) (*cairn.Connection[T], error) {
	db := s.db
	p, err := newPage(args, order)
	if err != nil {
		return nil, err
	}
	var rows []*T
	q := ownedPage[T](db, pr, p, filter, where, func(q *bun.SelectQuery) *bun.SelectQuery {
		return v.columns(q, "id", p.order.col)
	})
	text, err := q.AppendQuery(db.QueryGen(), nil)
	if err == nil {
		err = s.queryPrepared(ctx, &rows, string(text))
	}
	if err != nil {
		return nil, interpretError(err, "list "+what)
	}
	c := connection(db, p, rows, v)
	c.Count = countOf[T](db, where, what)
	return c, nil
}

// ownedPage is listOwned's statement: page p of the rows of T that the
// readers' subtrees own or provide, each branch narrowed to columns (which
// must include the ID and the order column).
func ownedPage[T any](db *bun.DB, pr *cairn.Principal, p page, filter, where filterFunc, columns func(*bun.SelectQuery) *bun.SelectQuery) *bun.RawQuery {
	readers := ids(pr, cairn.RoleReader)
	branch := func(col string) *bun.SelectQuery {
		q := columns(filter(db.NewSelect().Model((*T)(nil))))
		return p.apply(q.Where("?TableAlias.? = t.id", bun.Ident(col)))
	}
	fallback := p.apply(columns(where(db.NewSelect().Model((*T)(nil)))))
	small := db.NewRaw("(SELECT count(*) FROM tenants WHERE ancestors && ?) <= ?", readers, lateralLimit)
	dir := p.dir()
	return db.NewRaw(`SELECT DISTINCT ON (u.?0, u.id) u.* FROM (
	SELECT page.* FROM (SELECT id FROM tenants WHERE ancestors && ?1 AND ?2) AS t CROSS JOIN LATERAL (?3) AS page
	UNION ALL
	SELECT page.* FROM (SELECT id FROM tenants WHERE ancestors && ?1 AND ?2) AS t CROSS JOIN LATERAL (?4) AS page
	UNION ALL
	SELECT page.* FROM (?5) AS page WHERE NOT ?2
) AS u ORDER BY u.?0 `+dir+`, u.id `+dir+` LIMIT ?6`,
		bun.Ident(p.order.col), readers, small, branch("tenant_id"), branch("provider_tenant_id"), fallback, p.limit+1)
}

// countOf returns a Connection's Count: the rows of T that where selects.
func countOf[T any](db *bun.DB, where filterFunc, what string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		n, err := where(db.NewSelect().Model((*T)(nil))).Count(ctx)
		return int(n), interpretError(err, "count "+what)
	}
}
