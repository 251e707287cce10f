package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestInstanceLookaheadRepeated sends each lookahead query several times
// with different variables: the plan of a selection is kept between
// requests (store.planChain), and a selection whose fields depend on the
// variables (@include, @skip) must still answer as each object loading on
// its own does, every time.
func TestInstanceLookaheadRepeated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.demo
	for _, tc := range []struct {
		name, query string
		vars        []map[string]any // one request each, in order
	}{
		{"Plain", `query($id: ID!) { instance(id: $id) { id status resource { name tier { name } } } }`,
			[]map[string]any{{"id": d.InstancesA[0]}, {"id": d.InstancesA[1]}, {"id": d.InstancesA[0]}}},
		{"IncludeTier", `query($id: ID!, $t: Boolean!) { instance(id: $id) { id resource { name tier @include(if: $t) { name } } } }`,
			[]map[string]any{{"id": d.InstancesA[0], "t": true}, {"id": d.InstancesA[0], "t": false}, {"id": d.InstancesA[0], "t": true}}},
		{"SkipResource", `query($id: ID!, $s: Boolean!) { instance(id: $id) { id resource @skip(if: $s) { name tier { name } } } }`,
			[]map[string]any{{"id": d.InstancesA[0], "s": false}, {"id": d.InstancesA[0], "s": true}, {"id": d.InstancesA[0], "s": false}}},
		{"IncludeInFragment", `query($id: ID!, $p: Boolean!) { instance(id: $id) { id ...F } } fragment F on ResourceInstance { resource { name tier { name pricing @include(if: $p) } } }`,
			[]map[string]any{{"id": d.InstancesA[0], "p": false}, {"id": d.InstancesA[0], "p": true}, {"id": d.InstancesA[0], "p": false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, vars := range tc.vars {
				got := e.do("alice", tc.query, vars)
				alone := e.do("alice", strings.Replace(tc.query, "{", "{ __typename ", 1), vars)
				delete(alone.Data, "__typename")
				if len(got.Errors) > 0 || fmt.Sprint(got.Data) != fmt.Sprint(alone.Data) {
					t.Errorf("request %d (%v): lookahead answers %v %v\nalone: %v %v", i, vars, got.Data, got.Errors, alone.Data, alone.Errors)
				}
				if n := got.Extensions["sqlStatements"]; n != float64(1) {
					t.Errorf("request %d (%v): %v statements, want 1", i, vars, n)
				}
			}
		})
	}
}
