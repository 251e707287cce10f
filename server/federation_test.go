package server_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// federationSpec declares what Apollo Federation v2.3 defines for the
// directives Cairn's SDL imports, as a router brings them: the SDL must load
// against them.
const federationSpec = `
scalar FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
directive @link(url: String!, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
`

var entityTypes = []string{"Tenant", "User", "Service", "ServiceEnvironment", "ProductTier", "Resource", "ResourceInstance"}

// TestFederationSDL reads _service { sdl } and checks it as a router would:
// it loads against the federation spec's definitions, links federation v2,
// keys the seven entities by id, and leaves out what the router brings itself.
func TestFederationSDL(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("", `{ _service { sdl } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("_service: %v", r.Errors)
	}
	sdl, _ := get(r.Data, "_service", "sdl").(string)
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "federation.graphql", Input: federationSpec, BuiltIn: true}, &ast.Source{Name: "cairn.graphql", Input: sdl})
	if err != nil {
		t.Fatalf("the SDL does not load against the federation spec: %v", err)
	}
	if !strings.Contains(sdl, `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key","@shareable"])`) {
		t.Errorf("the SDL does not link federation v2.3:\n%.300s", sdl)
	}
	for _, name := range entityTypes {
		def := schema.Types[name]
		if def == nil {
			t.Errorf("no type %s in the SDL", name)
			continue
		}
		key := def.Directives.ForName("key")
		if key == nil || key.Arguments.ForName("fields").Value.Raw != "id" || def.Fields.ForName("id") == nil {
			t.Errorf("%s is not keyed by id: %v", name, def.Directives)
		}
		if !strings.Contains(sdl, "type "+name+` implements Node @key(fields: "id")`) {
			t.Errorf("the SDL does not show %s's @key on its type line", name)
		}
	}
	for _, absent := range []string{"_entities", "_service", "_Any", "_Entity", "_Service", "directive @key", "directive @link"} {
		if strings.Contains(sdl, absent) {
			t.Errorf("the SDL holds %q, which a router brings itself", absent)
		}
	}
	// Only the seven entities carry a key.
	for name, def := range schema.Types {
		if def.Directives.ForName("key") != nil && !slices.Contains(entityTypes, name) {
			t.Errorf("%s has a @key but is not one of Cairn's entities", name)
		}
	}
}

// TestFederationSDLNeedsIntrospection: with introspection off, the SDL is
// refused too, or it would serve the same schema.
func TestFederationSDLNeedsIntrospection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: e.store, Tokens: tokens}))
	t.Cleanup(srv.Close)
	e.srv = srv
	r := e.do("", `{ _service { sdl } }`, nil)
	if r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "introspection is turned off") {
		t.Fatalf("_service with introspection off: %+v; want FORBIDDEN", r.Errors)
	}
}

const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
	__typename
	... on Tenant { id name }
	... on User { id email tenant { id } }
	... on Service { id name }
	... on ServiceEnvironment { id name service { id } }
	... on ProductTier { id name }
	... on Resource { id name tier { id } }
	... on ResourceInstance { id status resource { id name } tenant { id } }
} }`

func rep(typename, id string) map[string]any { return map[string]any{"__typename": typename, "id": id} }

// TestFederationEntities resolves a batch of representations of every entity
// type, in order, through the scoped loaders.
func TestFederationEntities(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	reps := []any{
		rep("Service", d.Service), rep("ProductTier", d.Premium), rep("Resource", d.MySQL),
		rep("ResourceInstance", d.InstancesA[0]), rep("Tenant", d.CustomerA), rep("User", d.Alice),
		rep("ServiceEnvironment", d.Prod), rep("ResourceInstance", d.InstancesB[0]), rep("ResourceInstance", d.InstancesA[1]),
		rep("Tenant", d.CustomerB), rep("User", d.Bob),
	}
	r := e.do("alice", entitiesQuery, map[string]any{"r": reps})
	if len(r.Errors) > 0 {
		t.Fatalf("_entities: %v", r.Errors)
	}
	got, _ := get(r.Data, "_entities").([]any)
	if len(got) != len(reps) {
		t.Fatalf("%d entities for %d representations: %v", len(got), len(reps), got)
	}
	for i, want := range reps {
		w := want.(map[string]any)
		foreign := slices.Contains([]string{d.InstancesB[0], d.CustomerB, d.Bob}, w["id"].(string))
		switch {
		case foreign && got[i] != nil:
			t.Errorf("entity %d (%v, bob's) reads as %v for alice; want null", i, w, got[i])
		case !foreign && (get(got[i], "id") != w["id"] || get(got[i], "__typename") != w["__typename"]):
			t.Errorf("entity %d is %v; want %v", i, got[i], w)
		}
	}
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{3, "resource", "id"}, d.MySQL},
		{[]any{3, "tenant", "id"}, d.CustomerA},
		{[]any{5, "email"}, store.DemoAlice},
		{[]any{5, "tenant", "id"}, d.CustomerA},
		{[]any{6, "service", "id"}, d.Service},
		{[]any{2, "tier", "id"}, d.Premium},
	} {
		if v := get(got, c.path...); v != c.want {
			t.Errorf("_entities%v = %v; want %v", c.path, v, c.want)
		}
	}
	for _, i := range []int{0, 1, 2, 4, 6} {
		if name, _ := get(got, i, "name").(string); name == "" {
			t.Errorf("entity %d has no name: %v", i, got[i])
		}
	}
}

// TestFederationEntitiesStatements resolves representations of every type,
// then the same with many more instances: the number of SQL statements does
// not grow with the batch.
func TestFederationEntitiesStatements(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	if err := e.store.Generate(context.Background(), d.Provider, d.CustomerA, store.Shape{Services: 1, Environments: 1, Models: 1, Tiers: 1, Resources: 1, Instances: 8}); err != nil {
		t.Fatal(err)
	}
	all := e.do("alice", `{ instances(first: 100) { nodes { id } } }`, nil)
	var instances []string
	for _, n := range get(all.Data, "instances", "nodes").([]any) {
		instances = append(instances, get(n, "id").(string))
	}
	if len(instances) < 12 {
		t.Fatalf("alice sees %d instances; want at least 12", len(instances))
	}
	statements := func(instances []string) int {
		reps := []any{rep("Service", d.Service), rep("ProductTier", d.Premium), rep("Resource", d.MySQL),
			rep("Tenant", d.CustomerA), rep("User", d.Alice), rep("ServiceEnvironment", d.Prod)}
		for _, id := range instances {
			reps = append(reps, rep("ResourceInstance", id))
		}
		r := e.do("alice", entitiesQuery, map[string]any{"r": reps})
		if len(r.Errors) > 0 {
			t.Fatalf("_entities: %v", r.Errors)
		}
		for i, v := range get(r.Data, "_entities").([]any) {
			if v == nil {
				t.Fatalf("entity %d of %v is null", i, reps[i])
			}
		}
		n, ok := r.Extensions["sqlStatements"].(float64)
		if !ok {
			t.Fatalf("no sqlStatements in extensions: %v", r.Extensions)
		}
		return int(n)
	}
	small := statements(instances[:len(instances)/2])
	large := statements(instances)
	t.Logf("%d statements for %d instance representations, %d for %d", small, len(instances)/2, large, len(instances))
	if large != small {
		t.Errorf("statements grew with the batch: %d for %d instances, %d for %d", small, len(instances)/2, large, len(instances))
	}
	// One lookup per entity type, then one per edge the query follows.
	if large > 15 {
		t.Errorf("%d statements for 7 entity types and 7 edges; expected at most 15", large)
	}
}

// TestFederationEntitiesErrors: representations Cairn cannot resolve.
func TestFederationEntitiesErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	tooMany := make([]any, 501)
	for i := range tooMany {
		tooMany[i] = rep("Service", d.Service)
	}
	for _, tc := range []struct {
		name, who string
		reps      []any
		code      string
		message   string
		path      []any // of the error; nil for _entities itself
		resolved  []int // indexes that still resolve
	}{
		{"UnknownType", "alice", []any{rep("Invoice", "inv-1"), rep("Service", d.Service)}, "BAD_USER_INPUT", `"Invoice" is not an entity of this subgraph`, []any{"_entities", float64(0)}, []int{1}},
		{"NoTypename", "alice", []any{rep("Service", d.Service), map[string]any{"id": d.Service}}, "BAD_USER_INPUT", `"" is not an entity of this subgraph`, []any{"_entities", float64(1)}, []int{0}},
		{"NoID", "alice", []any{map[string]any{"__typename": "Tenant"}, rep("Tenant", d.CustomerA)}, "BAD_USER_INPUT", "A Tenant representation needs its id", []any{"_entities", float64(0)}, []int{1}},
		{"TooMany", "alice", tooMany, "BAD_USER_INPUT", "Pass at most 500 representations at once, not 501.", []any{"_entities"}, nil},
		{"Unauthenticated", "", []any{rep("Service", d.Service)}, "UNAUTHENTICATED", "Sign in first", []any{"_entities"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.who, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }`, map[string]any{"r": tc.reps})
			if len(r.Errors) != 1 || r.code() != tc.code || !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Fatalf("errors %+v; want one %s saying %q", r.Errors, tc.code, tc.message)
			}
			if !slices.Equal(r.Errors[0].Path, tc.path) {
				t.Errorf("error path %v; want %v", r.Errors[0].Path, tc.path)
			}
			got, _ := get(r.Data, "_entities").([]any)
			if len(got) != len(tc.reps) {
				t.Fatalf("%d entities for %d representations", len(got), len(tc.reps))
			}
			for i, v := range got {
				if resolves := slices.Contains(tc.resolved, i); resolves != (v != nil) {
					t.Errorf("entity %d is %v; resolves: %v", i, v, resolves)
				}
			}
		})
	}
}
