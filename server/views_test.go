package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestPageViews checks that a page which fetches less for a narrow selection
// (only some columns, no cursors) answers exactly what a full one would, and
// that two selections of the same connection with the same arguments do not
// share rows fetched for the narrower one.
func TestPageViews(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const q = `query($tenant: ID!) {
  narrow: instances(first: 3, filter: {tenantId: $tenant}) { nodes { id status } }
  full: instances(first: 3, filter: {tenantId: $tenant}) {
    edges { cursor node { id status requestParams resultParams resource { name } } }
    pageInfo { endCursor hasNextPage }
  }
  tenant(id: $tenant) {
    narrow: instances(first: 3) { nodes { id region } }
    full: instances(first: 3) { nodes { id requestParams resource { name } } }
  }
}`
	r := e.do("alice", q, map[string]any{"tenant": e.demo.CustomerA})
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %v", r.Errors)
	}
	for i := range 3 {
		id := get(r.Data, "narrow", "nodes", i, "id")
		if id == nil || id != get(r.Data, "full", "edges", i, "node", "id") {
			t.Errorf("node %d: narrow %v, full %v", i, id, get(r.Data, "full", "edges", i, "node", "id"))
		}
		if c, _ := get(r.Data, "full", "edges", i, "cursor").(string); c == "" {
			t.Errorf("edge %d has no cursor", i)
		}
		for _, path := range [][]any{
			{"full", "edges", i, "node", "requestParams", "mysqlDatabase"},
			{"full", "edges", i, "node", "resource", "name"},
			{"tenant", "full", "nodes", i, "requestParams", "mysqlDatabase"},
			{"tenant", "full", "nodes", i, "resource", "name"},
			{"tenant", "narrow", "nodes", i, "region"},
		} {
			if v, _ := get(r.Data, path...).(string); v == "" {
				t.Errorf("%v is empty", path)
			}
		}
	}
	end, _ := get(r.Data, "full", "pageInfo", "endCursor").(string)
	if end == "" {
		t.Fatal("no endCursor")
	}
	// A cursor from a page works as after for a narrow page.
	r = e.do("alice", `query($after: String) { instances(first: 1, after: $after) { nodes { id } } }`, map[string]any{"after": end})
	if len(r.Errors) > 0 || get(r.Data, "instances", "nodes", 0, "id") == nil {
		t.Errorf("page after endCursor: %v %v", r.Errors, r.Data)
	}
}

// TestPasswordsAreMaskedInPages checks the masking of Password parameters
// when the instance comes from a page whose resource edge fetches the
// resource without its parameter definitions (nobody selected them).
func TestPasswordsAreMaskedInPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("alice", `mutation($r: ID!, $s: ID!) { createInstance(input: {resourceId: $r, subscriptionId: $s, cloudProvider: "aws", region: "us-east-1",
		requestParams: {mysqlDatabase: "db", mysqlUser: "u", mysqlPassword: "hunter2-secret"}}) { instance { id } } }`,
		map[string]any{"r": e.demo.MySQL, "s": e.demo.SubA})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	id := get(r.Data, "createInstance", "instance", "id")
	for _, q := range []string{
		`query($id: ID!) { instance(id: $id) { resource { name } requestParams } }`,
		`query($tenant: ID!) { instances(first: 100, filter: {tenantId: $tenant}) { nodes { resource { name } requestParams } } }`,
		`query($tenant: ID!) { tenant(id: $tenant) { instances(first: 100) { nodes { resource { name } requestParams } } } }`,
	} {
		vars := map[string]any{"tenant": e.demo.CustomerA}
		if strings.Contains(q, "$id") {
			vars = map[string]any{"id": id}
		}
		resp := e.do("owner", q, vars)
		params := fmt.Sprint(resp.Data)
		if len(resp.Errors) > 0 || strings.Contains(params, "hunter2") || !strings.Contains(params, "mysqlPassword:********") {
			t.Errorf("%s: %v %s", q, resp.Errors, params)
		}
	}
}
