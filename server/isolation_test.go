package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestTenantIsolation signs in as the admins of two customer tenants and
// proves that neither can read, list, count, resolve by node(id) or change
// the other's objects: each answers exactly as an object that does not exist.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	for _, tc := range []struct {
		who, other             string
		tenant, user, sub      string
		instances, ownInstance []string
	}{
		{who: "alice", other: "bob", tenant: d.CustomerB, user: d.Bob, sub: d.SubB, instances: d.InstancesB, ownInstance: d.InstancesA},
		{who: "bob", other: "alice", tenant: d.CustomerA, user: d.Alice, sub: d.SubA, instances: d.InstancesA, ownInstance: d.InstancesB},
	} {
		t.Run(tc.who, func(t *testing.T) {
			foreign := append([]string{tc.tenant, tc.user, tc.sub}, tc.instances...)
			for _, id := range foreign {
				r := e.do(tc.who, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				if get(r.Data, "node") != nil || r.code() != "NOT_FOUND" {
					t.Errorf("node(%s): data %v, code %q; want null and NOT_FOUND", id, r.Data, r.code())
				}
				// The same query for an ID that never existed answers the same.
				missing := e.do(tc.who, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id[:len(id)-2] + "zz"})
				if r.Errors[0].Message[:10] != missing.Errors[0].Message[:10] {
					t.Errorf("node(%s) answers %q, a missing ID %q: they must not differ", id, r.Errors[0].Message, missing.Errors[0].Message)
				}
			}
			for _, q := range []string{
				`query($id: ID!) { instance(id: $id) { id } }`,
				`query($id: ID!) { serviceSubscription(id: $id) { id } }`,
				`query($id: ID!) { tenant(id: $id) { id } }`,
				`query($id: ID!) { user(id: $id) { id } }`,
			} {
				for _, id := range foreign {
					if r := e.do(tc.who, q, map[string]any{"id": id}); r.code() != "NOT_FOUND" && r.code() != "" {
						t.Errorf("%s with %s: code %q", q, id, r.code())
					} else if r.code() == "" && fmt.Sprint(r.Data) != "map[]" && !allNil(r.Data) {
						t.Errorf("%s with %s returned data %v", q, id, r.Data)
					}
				}
			}
			// Lists and counts hold only the caller's own instances.
			r := e.do(tc.who, `{ instances(first: 100) { totalCount nodes { id tenantId } }
				serviceSubscriptions { totalCount nodes { id } }
				tenants { totalCount nodes { id } }
				users { totalCount nodes { id } } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			if n := get(r.Data, "instances", "totalCount"); n != float64(len(tc.ownInstance)) {
				t.Errorf("instances totalCount %v, want %d", n, len(tc.ownInstance))
			}
			for _, list := range []string{"instances", "serviceSubscriptions", "tenants", "users"} {
				for _, n := range get(r.Data, list, "nodes").([]any) {
					id := get(n, "id").(string)
					for _, f := range foreign {
						if id == f {
							t.Errorf("%s lists %s of %s", list, id, tc.other)
						}
					}
				}
			}
			// The other's instances do not show under the shared service either.
			r = e.do(tc.who, `query($s: ID!) { service(id: $s) { instances { totalCount } subscriptions { totalCount } } }`, map[string]any{"s": d.Service})
			if n := get(r.Data, "service", "instances", "totalCount"); n != float64(len(tc.ownInstance)) {
				t.Errorf("service.instances totalCount %v (%v), want %d", n, r.Errors, len(tc.ownInstance))
			}
			// Writes answer NOT_FOUND too.
			for _, m := range []struct{ q, id string }{
				{`mutation($id: ID!) { deleteInstance(input: {id: $id}) { deletedId } }`, tc.instances[0]},
				{`mutation($id: ID!) { updateTenant(input: {id: $id, name: "mine"}) { tenant { id } } }`, tc.tenant},
				{`mutation($id: ID!) { updateUser(input: {id: $id, name: "mine"}) { user { id } } }`, tc.user},
				{`mutation($id: ID!) { deleteServiceSubscription(input: {id: $id}) { deletedId } }`, tc.sub},
			} {
				if r := e.do(tc.who, m.q, map[string]any{"id": m.id}); r.code() != "NOT_FOUND" {
					t.Errorf("%s on %s: code %q (%v), want NOT_FOUND", m.q, m.id, r.code(), r.Errors)
				}
			}
		})
	}
}

func allNil(m map[string]any) bool {
	for _, v := range m {
		if v != nil {
			return false
		}
	}
	return true
}

// TestNodeResolvesEveryPrefix resolves objects of each kind by node(id).
func TestNodeResolvesEveryPrefix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	r := e.do("alice", `mutation($r: ID!, $s: ID!) { createInstance(input: {resourceId: $r, subscriptionId: $s, cloudProvider: "aws", region: "us-east-1",
		requestParams: {mysqlDatabase: "db", mysqlUser: "u", mysqlPassword: "secret-pw"}}) { instance { id } operation { id } } }`,
		map[string]any{"r": d.MySQL, "s": d.SubA})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	op := get(r.Data, "createInstance", "operation", "id").(string)
	r = e.do("alice", `mutation($id: ID!, $t: ID!) {
		createSnapshot(input: {id: $id}) { operation { params } }
		createApiKey(input: {name: "ci", tenantId: $t, role: READER}) { apiKey { id } }
	}`, map[string]any{"id": d.InstancesA[0], "t": d.CustomerA})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	snap := get(r.Data, "createSnapshot", "operation", "params", "snapshotId").(string)
	key := get(r.Data, "createApiKey", "apiKey", "id").(string)
	r = e.do("alice", `{ auditEvents(first: 1) { nodes { id } } }`, nil)
	nodes, _ := get(r.Data, "auditEvents", "nodes").([]any)
	if len(nodes) != 1 {
		t.Fatalf("auditEvents = %v, %v", r.Data, r.Errors)
	}
	event := nodes[0].(map[string]any)["id"].(string)
	for _, tc := range []struct{ id, typename string }{
		{d.CustomerA, "Tenant"}, {d.Alice, "User"}, {d.Service, "Service"}, {d.Prod, "ServiceEnvironment"},
		{d.Hosted, "ServiceModel"}, {d.Premium, "ProductTier"}, {d.MySQL, "Resource"}, {d.SubA, "ServiceSubscription"},
		{d.InstancesA[0], "ResourceInstance"}, {op, "Operation"}, {snap, "InstanceSnapshot"}, {key, "ApiKey"}, {event, "AuditEvent"},
	} {
		r := e.do("alice", `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": tc.id})
		if got := get(r.Data, "node", "__typename"); got != tc.typename || get(r.Data, "node", "id") != tc.id {
			t.Errorf("node(%s) = %v (errors %v), want a %s", tc.id, r.Data, r.Errors, tc.typename)
		}
	}
}

// TestPasswordsAreMasked checks that Password request parameters never come
// back through requestParams.
func TestPasswordsAreMasked(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("alice", `mutation($r: ID!, $s: ID!) { createInstance(input: {resourceId: $r, subscriptionId: $s, cloudProvider: "aws", region: "us-east-1",
		requestParams: {mysqlDatabase: "db", mysqlUser: "u", mysqlPassword: "hunter2-secret"}}) { instance { id requestParams } } }`,
		map[string]any{"r": e.demo.MySQL, "s": e.demo.SubA})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	id := get(r.Data, "createInstance", "instance", "id")
	for _, resp := range []response{r, e.do("owner", `query($id: ID!) { instance(id: $id) { requestParams } }`, map[string]any{"id": id})} {
		params := fmt.Sprint(resp.Data)
		if strings.Contains(params, "hunter2") || !strings.Contains(params, "mysqlPassword:********") || !strings.Contains(params, "mysqlUser:u") {
			t.Errorf("requestParams = %s", params)
		}
	}
}

// TestInstanceLookahead reads an instance with its resource and tier, which
// a lone instance(id:) or node(id:) fetches in one statement, and checks that
// every answer (data, errors, nulls) is the one the same selection gets when
// each object loads on its own (a second root field turns the lookahead
// off), including parents outside the caller's scope.
func TestInstanceLookahead(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	hideFromAlice(t, e)
	const small = `query($id: ID!) { instance(id: $id) { id status resource { name tier { name } } } }`
	for _, tc := range []struct {
		name, who, query, id string
		statements           float64 // extensions.sqlStatements of the lookahead
		data                 bool    // whether the instance comes back
	}{
		{"Visible", "alice", small, d.InstancesA[0], 1, true},
		{"ResourceOutOfScope", "alice", small, d.InstancesA[1], 1, true},
		// A visible resource whose tier is not: the tier answers NOT_FOUND,
		// which direct execution leaves to the resolvers (their one statement
		// after its one).
		{"TierOutOfScope", "alice", small, d.InstancesA[2], 2, true},
		{"InstanceOutOfScope", "bob", small, d.InstancesA[0], 1, false},
		{"Missing", "alice", small, d.InstancesA[0][:len(d.InstancesA[0])-2] + "zz", 1, false},
		{"Provider", "owner", small, d.InstancesA[1], 1, true},
		{"ResourceOnly", "alice", `query($id: ID!) { instance(id: $id) { id resource { id name } } }`, d.InstancesA[0], 1, true},
		{"WithParameters", "alice", `query($id: ID!) { instance(id: $id) { requestParams resource { inputParameters { key } tier { name pricing } } } }`, d.InstancesA[0], 1, true},
		{"Aliases", "alice", `query($id: ID!) { instance(id: $id) { a: resource { name } b: resource { tier { name } } } }`, d.InstancesA[0], 1, true},
		{"Node", "alice", `query($id: ID!) { node(id: $id) { id ... on ResourceInstance { resource { name tier { name } } } } }`, d.InstancesA[2], 1, true},
		{"Fragment", "alice", `query($id: ID!) { instance(id: $id) { ...F } } fragment F on ResourceInstance { resource { ...R } } fragment R on Resource { tier { name } }`, d.InstancesA[0], 1, true},
		{"Edges", "alice", `query($id: ID!) { instance(id: $id) { createdAt subscription { id } resource { key service { name } dependencyIds tier { model { name } pricing } } } }`, d.InstancesA[0], 4, true},
		{"FragmentFields", "alice", `query($id: ID!) { instance(id: $id) { ... on ResourceInstance { status } resource { ... on Resource { name key } ...R } } } fragment R on Resource { description tier { ... on ProductTier { name } ... on Node { id } } }`, d.InstancesA[0], 1, true},
		{"Typename", "alice", `query($id: ID!) { instance(id: $id) { __typename resource { __typename id tier { __typename id } } } }`, d.InstancesA[0], 1, true},
		{"Skipped", "alice", `query($id: ID!) { instance(id: $id) { id resource @skip(if: true) { name } } }`, d.InstancesA[0], 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do(tc.who, tc.query, map[string]any{"id": tc.id})
			// The same selection with a second root field loads each object alone.
			alone := e.do(tc.who, strings.Replace(tc.query, "{", "{ __typename ", 1), map[string]any{"id": tc.id})
			delete(alone.Data, "__typename")
			if fmt.Sprint(got.Data, got.Errors) != fmt.Sprint(alone.Data, alone.Errors) {
				t.Errorf("lookahead answers %v %v\nalone: %v %v", got.Data, got.Errors, alone.Data, alone.Errors)
			}
			if (len(got.Data) > 0 && !allNil(got.Data)) != tc.data {
				t.Errorf("data %v (errors %v), want an instance: %v", got.Data, got.Errors, tc.data)
			}
			if n := got.Extensions["sqlStatements"]; n != tc.statements {
				t.Errorf("%v statements, want %v", n, tc.statements)
			}
		})
	}
}

// hideFromAlice moves the Galera resource and the Free tier to the private
// DEV environment, where Alice cannot read them, under her instances 1 and
// 2 (instance 1's resource becomes Galera; instance 2's, a visible resource
// of the Free tier).
func hideFromAlice(t *testing.T, e *env) {
	t.Helper()
	d := e.demo
	ctx := context.Background()
	db := e.store.DB()
	var freeMySQL string
	if err := db.NewRaw("SELECT id FROM resources WHERE tier_id = ? ORDER BY id LIMIT 1", d.Free).Scan(ctx, &freeMySQL); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE service_environments SET visibility = 'PRIVATE' WHERE id = ?", []any{d.Dev}},
		{"UPDATE resources SET environment_id = ? WHERE id = ?", []any{d.Dev, d.Galera}},
		{"UPDATE product_tiers SET environment_id = ? WHERE id = ?", []any{d.Dev, d.Free}},
		{"UPDATE resource_instances SET resource_id = ? WHERE id = ?", []any{d.Galera, d.InstancesA[1]}},
		{"UPDATE resource_instances SET resource_id = ? WHERE id = ?", []any{freeMySQL, d.InstancesA[2]}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
}
