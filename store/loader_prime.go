package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
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
	res, resFields := planParent(ctx, fc.Field.Selections, instanceTypes, "resource", resources, resourceNarrow, resourceTypes,
		hasFieldNamed(ctx, fc.Field.Selections, instanceTypes, "requestParams"))
	if !res.want {
		return nil, false, nil
	}
	resSels := make([]ast.SelectionSet, len(resFields))
	for i, f := range resFields {
		resSels[i] = f.Selections
	}
	// The tier fields under every resource field, as one selection.
	var tierSel ast.SelectionSet
	for _, sel := range resSels {
		tierSel = append(tierSel, sel...)
	}
	tier, _ := planParent(ctx, tierSel, resourceTypes, "tier", tiers, tierNarrow, tierTypes, false)
	inst := parentPlan{want: true, omit: instances.objectView(ctx).omit,
		cols: instanceNarrow.columns(ctx, []ast.SelectionSet{fc.Field.Selections}, instanceTypes)}
	row, err := l.instanceChain(ctx, id, inst, res, tier)
	if err != nil {
		return nil, true, err
	}
	out, _ := any(row).(*T)
	return out, true, nil
}

// instanceChain reads instance id, its resource (res) and the resource's tier
// (tier) in one statement, each within the caller's scope, and primes the
// loaders' instance.resource and resource.tier edges with what it found.
func (l *Loaders) instanceChain(ctx context.Context, id string, inst, res, tier parentPlan) (*cairn.ResourceInstance, error) {
	l.s.batch(instances.name+".id", 1)
	query, err := chainQuery(l.s.db, chainShape{inst: inst, res: res, tier: tier})
	if err != nil {
		return nil, err
	}
	readers := l.p.TenantsWith(cairn.RoleReader)
	if readers == nil {
		readers = []string{}
	}
	var rows []chainRow
	if err := l.s.queryPrepared(ctx, &rows, query, id, readers); err != nil {
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

// readersParam stands for the caller's readable tenants while a chain
// statement's text is built; the text then reads them from $2.
const readersParam = "cairn-readers-parameter"

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
	p := &cairn.Principal{Grants: []cairn.Grant{{TenantID: readersParam, Role: cairn.RoleReader}}}
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
	text := q.String()
	literal := db.NewRaw("?", pgdialect.Array([]string{readersParam})).String()
	text = strings.ReplaceAll(text, literal, "$2::text[]")
	if strings.Contains(text, readersParam) || !strings.Contains(text, "$2::text[]") {
		return "", fmt.Errorf("store: the chain statement's scope does not read the readers as one array: %s", text)
	}
	chainQueries.Store(key, text)
	return text, nil
}

// queryPrepared runs query with its arguments as PostgreSQL parameters in a
// statement pgx prepares once per connection (bun would write them into
// the text), scans the rows into dest, and counts and observes the
// statement as the store's hooks do for every other.
func (s *Store) queryPrepared(ctx context.Context, dest any, query string, args ...any) error {
	ev := &bun.QueryEvent{DB: s.db, Query: query, QueryArgs: args, StartTime: time.Now()}
	if s.hook != nil {
		ctx = s.hook.BeforeQuery(ctx, ev)
	}
	rows, err := s.db.DB.QueryContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
	if err == nil {
		err = s.db.ScanRows(ctx, rows, dest)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}
	ev.Err = err
	if c := StatementCounterFrom(ctx); c != nil {
		c.n.Add(1)
	}
	if s.hook != nil {
		s.hook.AfterQuery(ctx, ev)
	}
	return err
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

// prime records val as the result of the edge load key, unless it ran.
func (l *Loaders) prime(key futureKey, val any) {
	f := &future{done: make(chan struct{}), val: val}
	close(f.done)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.futures[key]; !ok {
		l.futures[key] = f
	}
}
