package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// A top-level lookup of one instance whose selection asks for its resource
// (and the resource's tier) reads all three in one statement: each type's
// subquery carries its own read scope, and a parent outside the caller's
// scope joins as NULL, so it answers null / NOT_FOUND exactly as its own
// statement would. The rows prime the loaders: the nested resolvers find
// their edge loaded and run no statement.

// The GraphQL types an instance, a resource and a tier satisfy (graph/'s
// implementors), for collecting their fields through fragments.
var (
	instanceTypes = []string{"ResourceInstance", "_Entity", "Node"}
	resourceTypes = []string{"Resource", "Node", "_Entity"}
	tierTypes     = []string{"ProductTier", "Node", "_Entity"}
)

// chainRow is an instance with its resource and the resource's tier; the
// embedded parents are zero (empty ID) when not joined.
type chainRow struct {
	cairn.ResourceInstance
	R cairn.Resource    `bun:"embed:r__"`
	T cairn.ProductTier `bun:"embed:t__"`
}

// parentPlan is what a lookup fetches of one object: nothing (!want); only
// cols when set; else every column but omit. keys are the fmt.Sprint of the
// view.omit of every loadParent the row answers (parents only).
type parentPlan struct {
	want bool
	omit []string
	cols []string
	keys []string
}

// narrowing lists, per type of the chain, the GraphQL fields a narrowed row
// can answer and the column each reads: an edge reads the column that keys
// it (an edge to children, only the ID, always fetched). A selection with any
// other field (requestParams, which masks with the resource's parameter
// definitions) fetches the whole row. The row serves only the selection it
// was narrowed for: nothing else of the request reaches it.
type narrowing struct {
	plain map[string]string
}

var (
	instanceNarrow = narrowing{map[string]string{"id": "", "status": "status", "cloudProvider": "cloud_provider", "region": "region",
		"networkType": "network_type", "resultParams": "result_params", "replicas": "replicas", "resourceId": "resource_id",
		"resource": "resource_id", "subscriptionId": "subscription_id", "subscription": "subscription_id", "tenantId": "tenant_id",
		"tenant": "tenant_id", "createdByUserId": "created_by_user_id", "createdBy": "created_by_user_id",
		"createdAt": "created_at", "updatedAt": "updated_at", "version": "version"}}
	resourceNarrow = narrowing{map[string]string{"id": "", "name": "name", "key": "key", "description": "description",
		"resourceType": "resource_type", "internal": "internal", "inputParameters": "input_parameters",
		"outputParameters": "output_parameters", "dependencyIds": "dependency_ids", "dependencies": "dependency_ids",
		"serviceId": "service_id", "service": "service_id", "tierId": "tier_id", "tier": "tier_id", "instances": "",
		"createdAt": "created_at", "updatedAt": "updated_at", "version": "version"}}
	tierNarrow = narrowing{map[string]string{"id": "", "name": "name", "key": "key", "description": "description",
		"tierType": "tier_type", "planDescription": "plan_description", "awsRegions": "aws_regions", "gcpRegions": "gcp_regions",
		"azureRegions": "azure_regions", "maxNumberOfInstances": "max_number_of_instances", "disabled": "disabled",
		"autoApproveSubscription": "auto_approve_subscription", "pricing": "pricing", "features": "features",
		"serviceId": "service_id", "service": "service_id", "modelId": "model_id", "model": "model_id", "resources": "",
		"subscriptions": "", "createdAt": "created_at", "updatedAt": "updated_at", "version": "version"}}
)

// columns returns the columns the selections sels (of an object of one of
// types) read, the ID included, or nil when one of them asks for a field the
// narrowing does not know.
func (n narrowing) columns(ctx context.Context, sels []ast.SelectionSet, types []string) []string {
	cols := []string{"id"}
	for _, sel := range sels {
		for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), sel, types) {
			col, ok := n.plain[f.Name]
			switch {
			case f.Name == "__typename":
			case !ok:
				return nil
			case col != "":
				cols = append(cols, col)
			}
		}
	}
	slices.Sort(cols)
	return slices.Compact(cols)
}

// planParent returns what the fields named field of sel (a selection of an
// object of one of types) need of that parent of kind pk (whose GraphQL
// types are pTypes), and those fields.
// full asks for the whole row, for a resolver of the object that reads the
// parent for another purpose (requestParams).
func planParent[P, F any](ctx context.Context, sel ast.SelectionSet, types []string, field string, pk kind[P, F], n narrowing, pTypes []string, full bool) (parentPlan, []graphql.CollectedField) {
	var plan parentPlan
	var fields []graphql.CollectedField
	var sels []ast.SelectionSet
	json := full
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), sel, types) {
		if f.Name != field {
			continue
		}
		plan.want = true
		fields = append(fields, f)
		sels = append(sels, f.Selections)
		var sh shape
		if len(pk.jsonCols) > 0 && (!walkShape(f.Selections, pk.jsonFields, &sh, 0) || sh.json) {
			json = true
		}
	}
	if !plan.want {
		return plan, nil
	}
	narrow := omitKey(pk.jsonCols)
	if json || len(pk.jsonCols) == 0 {
		plan.keys = []string{omitKey(nil)} // a full row answers every view
		if narrow != plan.keys[0] {
			plan.keys = append(plan.keys, narrow)
		}
	} else {
		plan.omit, plan.keys = pk.jsonCols, []string{narrow}
	}
	if !full {
		plan.cols = n.columns(ctx, sels, pTypes)
	}
	return plan, fields
}

// hasFieldNamed reports whether the collected fields of sel include name.
func hasFieldNamed(ctx context.Context, sel ast.SelectionSet, types []string, name string) bool {
	return slices.ContainsFunc(graphql.CollectFields(graphql.GetOperationContext(ctx), sel, types),
		func(f graphql.CollectedField) bool { return f.Name == name })
}

// lookahead loads the object id of kind name with the parents its selection
// asks for, when it knows how (an instance's resource and tier); ok is false
// when it does not, and the caller loads the object alone.
func lookahead[T any](ctx context.Context, l *Loaders, name, id string) (v *T, ok bool, err error) {
	if name != instances.name {
		return nil, false, nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil, false, nil
	}
	plan, err := planChain(ctx, l.s.db, fc)
	if err != nil {
		return nil, true, err
	}
	if !plan.res.want {
		return nil, false, nil
	}
	row, err := l.instanceChain(ctx, id, plan)
	if err != nil {
		return nil, true, err
	}
	out, _ := any(row).(*T)
	return out, true, nil
}

// chainPlan is what a lookahead fetches of an instance, its resource and
// its tier, and the text of the statement that does (when res.want).
type chainPlan struct {
	inst, res, tier parentPlan
	query           string
}

// chainPlans caches the chainPlan of an instance field by its *ast.Field:
// gqlgen keeps the parsed documents of the queries it sees (its query
// cache), so a repeated query plans its lookahead once rather than
// collecting its fields on every request. Only plans that cannot depend on
// the request's variables are cached (a selection without directives, not
// merged from several fields); the cache is emptied when it passes
// chainPlansMax entries, which bounds what it keeps of evicted documents.
var (
	chainPlans  sync.Map // *ast.Field → *chainPlan
	chainPlansN atomic.Int64
)

const chainPlansMax = 1024

// planChain returns the chainPlan of the instance field fc.
func planChain(ctx context.Context, db *bun.DB, fc *graphql.FieldContext) (*chainPlan, error) {
	f := fc.Field.Field
	cacheable := sameSelections(fc.Field.Selections, f.SelectionSet) && !hasDirectives(f.SelectionSet, 0)
	if cacheable {
		if p, ok := chainPlans.Load(f); ok {
			return p.(*chainPlan), nil
		}
	}
	plan := &chainPlan{}
	var resFields []graphql.CollectedField
	plan.res, resFields = planParent(ctx, fc.Field.Selections, instanceTypes, "resource", resources, resourceNarrow, resourceTypes,
		hasFieldNamed(ctx, fc.Field.Selections, instanceTypes, "requestParams"))
	if !plan.res.want {
		return plan, nil // not cached: planning it is cheap
	}
	// The tier fields under every resource field, as one selection.
	var tierSel ast.SelectionSet
	for _, f := range resFields {
		tierSel = append(tierSel, f.Selections...)
	}
	plan.tier, _ = planParent(ctx, tierSel, resourceTypes, "tier", tiers, tierNarrow, tierTypes, false)
	plan.inst = parentPlan{want: true, omit: instances.objectView(ctx).omit,
		cols: instanceNarrow.columns(ctx, []ast.SelectionSet{fc.Field.Selections}, instanceTypes)}
	var err error
	if plan.query, err = chainQuery(db, chainShape{inst: plan.inst, res: plan.res, tier: plan.tier}); err != nil {
		return nil, err
	}
	if cacheable {
		if chainPlansN.Add(1) > chainPlansMax {
			chainPlans.Clear()
			chainPlansN.Store(1)
		}
		chainPlans.Store(f, plan)
	}
	return plan, nil
}

// sameSelections reports whether a and b hold the same selections (gqlgen
// copies a field's selection set into its CollectedField, and appends the
// selections of the fields merged with it).
func sameSelections(a, b ast.SelectionSet) bool {
	return slices.Equal(a, b)
}

// hasDirectives reports whether sel, its fragments or any selection under
// them carries a directive (one that may depend on the variables: @skip,
// @include), or a fragment spread without its definition.
func hasDirectives(sel ast.SelectionSet, depth int) bool {
	if depth > 64 {
		return true
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 || hasDirectives(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || hasDirectives(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || s.Definition == nil || len(s.Definition.Directives) > 0 || hasDirectives(s.Definition.SelectionSet, depth+1) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// instanceChain reads instance id, its resource (res) and the resource's tier
// (tier) in one statement, each within the caller's scope, and primes the
// loaders' instance.resource and resource.tier edges with what it found.
func (l *Loaders) instanceChain(ctx context.Context, id string, plan *chainPlan) (*cairn.ResourceInstance, error) {
	l.s.batch(instances.name+".id", 1)
	res, tier := plan.res, plan.tier
	var rows []chainRow
	if err := l.s.queryPrepared(ctx, &rows, plan.query, id, readersArg(l.p)); err != nil {
		return nil, interpretError(err, "load instance")
	}
	if len(rows) == 0 {
		return nil, cairn.NotFound(instances.name, id)
	}
	row := &rows[0]
	i := &row.ResourceInstance
	remember(l, []*cairn.ResourceInstance{i})
	found := map[string]*cairn.Resource{}
	var r *cairn.Resource
	if row.R.ID != "" {
		r = &row.R
		found[r.ID] = r
	}
	for _, key := range res.keys {
		l.prime(futureKey{edge: "instance.resource", c: cohortOf[cairn.ResourceInstance](l, i.ID, nil), args: key}, found)
	}
	if tier.want && r != nil {
		remember(l, []*cairn.Resource{r})
		tiersFound := map[string]*cairn.ProductTier{}
		if row.T.ID != "" {
			tiersFound[row.T.ID] = &row.T
		}
		for _, key := range tier.keys {
			l.prime(futureKey{edge: "resource.tier", c: cohortOf[cairn.Resource](l, r.ID, nil), args: key}, tiersFound)
		}
	}
	return i, nil
}

// chainShape is what distinguishes the texts of chain statements: the
// columns fetched of each object, and whether the tier is joined.
type chainShape struct {
	inst, res, tier parentPlan
}

func (c chainShape) key() string {
	var b strings.Builder
	for _, p := range []parentPlan{c.inst, c.res, c.tier} {
		b.WriteString(strconv.FormatBool(p.want))
		b.WriteString(omitKey(p.omit))
		b.WriteString(omitKey(p.cols))
	}
	return b.String()
}

// chainQueries caches the text of each chainShape's statement.
var chainQueries sync.Map // chainShape.key() → string

// readersParam stands for the caller's readable tenants while the text of
// a statement that reads them from $2 is built (withReadersParam).
const readersParam = "cairn-readers-parameter"

// readersSentinel is the principal whose scope a statement reading the
// readers from $2 is built with.
var readersSentinel = &cairn.Principal{Grants: []cairn.Grant{{TenantID: readersParam, Role: cairn.RoleReader}}}

// withReadersParam returns the text of q, built with readersSentinel's
// scope, reading the readers from $2 instead. It fails when the scope
// reads them otherwise than as that one array.
func withReadersParam(db *bun.DB, q interface {
	AppendQuery(schema.QueryGen, []byte) ([]byte, error)
}) (string, error) {
	b, err := q.AppendQuery(db.QueryGen(), nil)
	if err != nil {
		return "", err
	}
	literal := db.NewRaw("?", pgdialect.Array([]string{readersParam})).String()
	text := strings.ReplaceAll(string(b), literal, "$2::text[]")
	if strings.Contains(text, readersParam) || !strings.Contains(text, "$2::text[]") {
		return "", fmt.Errorf("store: a statement's scope does not read the readers as one array: %s", text)
	}
	return text, nil
}

// readersArg is $2 of such a statement: the tenants p may read.
func readersArg(p *cairn.Principal) []string {
	if r := p.TenantsWith(cairn.RoleReader); r != nil {
		return r
	}
	return []string{}
}

// chainQuery returns the text of the chain statement of shape c, whose
// parameters are the instance's ID ($1) and the tenants on which the caller
// holds a role ($2, text[]). Its text does not change from request to
// request or caller to caller, so PostgreSQL plans it once per connection
// (a prepared statement) instead of once per request: the three scopes make
// it costly to plan (0.8 ms, ten times what it takes to run).
func chainQuery(db *bun.DB, c chainShape) (string, error) {
	key := c.key()
	if q, ok := chainQueries.Load(key); ok {
		return q.(string), nil
	}
	p := readersSentinel
	instQ := c.inst.view().columns(instances.where(p, nil)(db.NewSelect().Model((*cairn.ResourceInstance)(nil)))).
		Where("?TableAlias.id = ?", bun.Safe("$1"))
	resQ := c.res.view().columns(resources.where(p, nil)(db.NewSelect().Model((*cairn.Resource)(nil))))
	q := db.NewSelect().TableExpr("(?) AS i", instQ).ColumnExpr("i.*").
		Join("LEFT JOIN (?) AS r ON r.id = i.resource_id", resQ)
	q = aliasColumns[cairn.Resource](db, q, "r", c.res)
	if c.tier.want {
		tierQ := c.tier.view().columns(tiers.where(p, nil)(db.NewSelect().Model((*cairn.ProductTier)(nil))))
		q = q.Join("LEFT JOIN (?) AS t ON t.id = r.tier_id", tierQ)
		q = aliasColumns[cairn.ProductTier](db, q, "t", c.tier)
	}
	text, err := withReadersParam(db, q)
	if err != nil {
		return "", err
	}
	chainQueries.Store(key, text)
	return text, nil
}

// queryPrepared runs query with its arguments as PostgreSQL parameters in a
// statement pgx prepares once per connection (bun would write them into
// the text), scans the rows into dest, and counts and observes the
// statement as the store's hooks do for every other.
//
// It runs on the pool's pgx connection itself (queryPgx) rather than
// through database/sql's QueryContext: the small read's one statement paid
// more for database/sql's rows (a goroutine watching the context, locks,
// a driver.Value per column converted again for bun) than for pgx.
func (s *Store) queryPrepared(ctx context.Context, dest any, query string, args ...any) error {
	return s.observed(ctx, query, args, func(ctx context.Context) error {
		return s.queryPgx(ctx, dest, query, args)
	})
}

// observed runs a statement that bypasses bun (run): it counts it and shows
// it to the store's hook as bun shows its own.
func (s *Store) observed(ctx context.Context, query string, args []any, run func(context.Context) error) error {
	ev := &bun.QueryEvent{DB: s.db, Query: query, QueryArgs: args, StartTime: time.Now()}
	if s.hook != nil {
		ctx = s.hook.BeforeQuery(ctx, ev)
	}
	err := run(ctx)
	ev.Err = err
	if c := StatementCounterFrom(ctx); c != nil {
		c.n.Add(1)
	}
	if s.hook != nil {
		s.hook.AfterQuery(ctx, ev)
	}
	return err
}

// pgxConner is a database/sql driver connection of pgx: *stdlib.Conn, or a
// wrapper that forwards its Conn method.
type pgxConner interface{ Conn() *pgx.Conn }

// pgxConnOf returns the pgx connection of dc, a database/sql driver
// connection, or nil when it is not pgx's.
func pgxConnOf(dc any) *pgx.Conn {
	if c, ok := dc.(pgxConner); ok {
		return c.Conn()
	}
	return nil
}

// queryPgx runs query prepared (pgx.QueryExecModeCacheStatement) on a
// connection of the pool, through pgx when the connection is pgx's and
// dest a slice of structs (or of pointers to them) that bun knows, and
// scans the rows into dest as bun scans them. Anything else runs through
// database/sql and bun.
func (s *Store) queryPgx(ctx context.Context, dest any, query string, args []any) error {
	sc, ok := newRowScanner(s.db, dest)
	for try := 0; ; try++ {
		conn, err := s.db.DB.Conn(ctx)
		if err != nil {
			return err
		}
		direct := false
		if ok {
			err = conn.Raw(func(dc any) error {
				c := pgxConnOf(dc)
				if c == nil {
					return nil
				}
				direct = true
				if c.IsClosed() {
					return driver.ErrBadConn // database/sql drops it; the next try takes another
				}
				return sc.query(ctx, c, query, args)
			})
		}
		if !direct && err == nil {
			var rows *sql.Rows
			rows, err = conn.QueryContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
			if err == nil {
				err = s.db.ScanRows(ctx, rows, dest)
				if cerr := rows.Close(); err == nil {
					err = cerr
				}
			}
		}
		_ = conn.Close()
		if errors.Is(err, driver.ErrBadConn) && try < 2 {
			continue
		}
		return err
	}
}

// rowScanner scans pgx's rows into a slice of bun models as bun's
// ScanRows does: each column into the field bun names it (columns it does
// not know are discarded, as the store's bun.DB does), from the
// driver.Value pgx's database/sql driver would have given.
type rowScanner struct {
	slice reflect.Value // the slice dest points to
	ptrs  bool          // of *T rather than T
	table *schema.Table
}

// newRowScanner returns the scanner of dest, a *[]T or *[]*T of a struct
// type T; ok is false for any other dest.
func newRowScanner(db *bun.DB, dest any) (sc rowScanner, ok bool) {
	v := reflect.ValueOf(dest)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Slice {
		return sc, false
	}
	sc.slice = v.Elem()
	t := sc.slice.Type().Elem()
	if t.Kind() == reflect.Pointer {
		sc.ptrs, t = true, t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return sc, false
	}
	sc.table = db.Table(t)
	return sc, true
}

// sqlResultFormats are the result formats pgx's database/sql driver asks
// for (stdlib's databaseSQLResultFormats): binary for the intrinsic types,
// text for every other, which the driver.Values below are made from.
var sqlResultFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID:        pgtype.BinaryFormatCode,
	pgtype.ByteaOID:       pgtype.BinaryFormatCode,
	pgtype.CIDOID:         pgtype.BinaryFormatCode,
	pgtype.DateOID:        pgtype.BinaryFormatCode,
	pgtype.Float4OID:      pgtype.BinaryFormatCode,
	pgtype.Float8OID:      pgtype.BinaryFormatCode,
	pgtype.Int2OID:        pgtype.BinaryFormatCode,
	pgtype.Int4OID:        pgtype.BinaryFormatCode,
	pgtype.Int8OID:        pgtype.BinaryFormatCode,
	pgtype.OIDOID:         pgtype.BinaryFormatCode,
	pgtype.TimestampOID:   pgtype.BinaryFormatCode,
	pgtype.TimestamptzOID: pgtype.BinaryFormatCode,
	pgtype.XIDOID:         pgtype.BinaryFormatCode,
}

// query runs query on c and scans its rows.
func (sc rowScanner) query(ctx context.Context, c *pgx.Conn, query string, args []any) error {
	rows, err := c.Query(ctx, query, append([]any{pgx.QueryExecModeCacheStatement, sqlResultFormats}, args...)...)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return driver.ErrBadConn // nothing was sent: as stdlib, another connection runs it
		}
		return err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	fields := make([]*schema.Field, len(fds))
	text := make([]bool, len(fds)) // a text column into a plain string field
	for i, fd := range fds {
		fields[i] = sc.table.LookupField(fd.Name)
		text[i] = fields[i] != nil && (fd.DataTypeOID == pgtype.TextOID || fd.DataTypeOID == pgtype.VarcharOID) && plainString(fields[i])
	}
	m := c.TypeMap()
	if sc.slice.Len() > 0 {
		sc.slice.SetLen(0)
	}
	for rows.Next() {
		var strct reflect.Value
		if sc.ptrs {
			p := reflect.New(sc.table.Type)
			sc.slice.Set(reflect.Append(sc.slice, p))
			strct = p.Elem()
		} else {
			sc.slice.Set(reflect.Append(sc.slice, reflect.Zero(sc.table.Type)))
			strct = sc.slice.Index(sc.slice.Len() - 1)
		}
		for i, raw := range rows.RawValues() {
			if fields[i] == nil {
				continue
			}
			if text[i] && raw != nil {
				// What stdlib and bun's scanString make of it, without
				// the driver.Value between them.
				fields[i].Value(strct).SetString(string(raw))
				continue
			}
			var src any
			if raw != nil {
				if src, err = driverValue(m, fds[i].DataTypeOID, fds[i].Format, raw); err != nil {
					return err // as database/sql's Rows.Next returns it
				}
			}
			if err := fields[i].ScanValue(strct, src); err != nil { // as database/sql's Rows.Scan wraps it
				return fmt.Errorf("sql: Scan error on column index %d, name %q: %w", i, fds[i].Name, err)
			}
		}
	}
	rows.Close()
	return rows.Err()
}

var scannerType = reflect.TypeFor[sql.Scanner]()

// plainStrings caches plainString by field.
var plainStrings sync.Map // *schema.Field → bool

// plainString reports whether bun scans f as a plain string (scanString):
// a field of a string kind that is no sql.Scanner, without the options
// that choose another scanner.
func plainString(f *schema.Field) bool {
	if v, ok := plainStrings.Load(f); ok {
		return v.(bool)
	}
	t := f.StructField.Type
	plain := t.Kind() == reflect.String && !t.Implements(scannerType) && !reflect.PointerTo(t).Implements(scannerType) &&
		!f.Tag.HasOption("msgpack") && !f.Tag.HasOption("json_use_number")
	plainStrings.Store(f, plain)
	return plain
}

// driverValue is the driver.Value pgx's database/sql driver
// (stdlib.Rows.Next) makes of src, a value of type oid in format.
func driverValue(m *pgtype.Map, oid uint32, format int16, src []byte) (driver.Value, error) {
	switch oid {
	case pgtype.BoolOID:
		return scanAs[bool](m, oid, format, src, nil)
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return scanAs[[]byte](m, oid, format, src, nil)
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		return scanValuer[pgtype.Uint32](m, oid, format, src)
	case pgtype.DateOID:
		return scanValuer[pgtype.Date](m, oid, format, src)
	case pgtype.Float4OID:
		return scanAs(m, oid, format, src, func(d float32) driver.Value { return float64(d) })
	case pgtype.Float8OID:
		return scanAs[float64](m, oid, format, src, nil)
	case pgtype.Int2OID:
		return scanAs(m, oid, format, src, func(d int16) driver.Value { return int64(d) })
	case pgtype.Int4OID:
		return scanAs(m, oid, format, src, func(d int32) driver.Value { return int64(d) })
	case pgtype.Int8OID:
		return scanAs[int64](m, oid, format, src, nil)
	case pgtype.TimestampOID:
		return scanValuer[pgtype.Timestamp](m, oid, format, src)
	case pgtype.TimestamptzOID:
		return scanValuer[pgtype.Timestamptz](m, oid, format, src)
	default:
		return scanAs[string](m, oid, format, src, nil)
	}
}

// scanAs is src scanned into a T, widened by widen (nil: as it is).
func scanAs[T any](m *pgtype.Map, oid uint32, format int16, src []byte, widen func(T) driver.Value) (driver.Value, error) {
	var d T
	if err := m.Scan(oid, format, src, &d); err != nil {
		return nil, err
	}
	if widen != nil {
		return widen(d), nil
	}
	return d, nil
}

// scanValuer is the driver.Value of src scanned into a T.
func scanValuer[T any, PT interface {
	*T
	driver.Valuer
}](m *pgtype.Map, oid uint32, format int16, src []byte) (driver.Value, error) {
	var d T
	if err := m.Scan(oid, format, src, PT(&d)); err != nil {
		return nil, err
	}
	return PT(&d).Value()
}

// view is what the subquery of the plan's object selects.
func (p parentPlan) view() view { return view{omit: p.omit, cols: p.cols} }

// aliasColumns selects the columns of T's table that plan p fetches from the
// joined alias as alias__column (the prefix of chainRow's embedded parents).
func aliasColumns[T any](db *bun.DB, q *bun.SelectQuery, alias string, p parentPlan) *bun.SelectQuery {
	var b strings.Builder
	for _, f := range db.Table(reflect.TypeFor[T]()).Fields {
		if p.cols != nil && !slices.Contains(p.cols, f.Name) || p.cols == nil && slices.Contains(p.omit, f.Name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s.%s AS %s__%s", alias, f.SQLName, alias, f.Name)
	}
	return q.ColumnExpr(b.String())
}

// closedDone is the done channel of a primed future: closed from the start.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// prime records val as the result of the edge load key, unless it ran.
func (l *Loaders) prime(key futureKey, val any) {
	f := &future{done: closedDone, val: val}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.futures[key]; !ok {
		l.futures[key] = f
	}
}
