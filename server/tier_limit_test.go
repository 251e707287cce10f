package server_test

import (
	"testing"
)

// TestTierLimitNullClears: updateProductTier tells a maxNumberOfInstances
// left out (kept) from null (no limit), in literals and in variables.
func TestTierLimitNullClears(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tier := e.demo.Free
	for _, step := range []struct {
		name  string
		query string
		vars  map[string]any
		want  any // the limit afterwards; nil for none
		code  string
	}{
		{"SetLiteral", `mutation($id: ID!) { updateProductTier(input: {id: $id, maxNumberOfInstances: 5}) { productTier { maxNumberOfInstances } } }`, nil, 5.0, ""},
		{"LeftOutKeeps", `mutation($id: ID!) { updateProductTier(input: {id: $id, description: "kept"}) { productTier { maxNumberOfInstances } } }`, nil, 5.0, ""},
		{"NullLiteralClears", `mutation($id: ID!) { updateProductTier(input: {id: $id, maxNumberOfInstances: null}) { productTier { maxNumberOfInstances } } }`, nil, nil, ""},
		{"SetVariable", `mutation($id: ID!, $n: Int) { updateProductTier(input: {id: $id, maxNumberOfInstances: $n}) { productTier { maxNumberOfInstances } } }`, map[string]any{"n": 7}, 7.0, ""},
		{"NullVariableClears", `mutation($id: ID!, $n: Int) { updateProductTier(input: {id: $id, maxNumberOfInstances: $n}) { productTier { maxNumberOfInstances } } }`, map[string]any{"n": nil}, nil, ""},
		{"ErrNegative", `mutation($id: ID!) { updateProductTier(input: {id: $id, maxNumberOfInstances: -2}) { productTier { maxNumberOfInstances } } }`, nil, nil, "BAD_USER_INPUT"},
		{"ErrNotAnInt", `mutation($id: ID!, $n: Int) { updateProductTier(input: {id: $id, maxNumberOfInstances: $n}) { productTier { maxNumberOfInstances } } }`, map[string]any{"n": 2.5}, nil, "BAD_USER_INPUT"},
	} {
		// In order: each step starts from the one before.
		vars := map[string]any{"id": tier}
		for k, v := range step.vars {
			vars[k] = v
		}
		r := e.do("owner", step.query, vars)
		if step.code != "" {
			if r.code() != step.code {
				t.Errorf("%s: code %q (errors %v), want %s", step.name, r.code(), r.Errors, step.code)
			}
			continue
		}
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %v", step.name, r.Errors)
		}
		if got := get(r.Data, "updateProductTier", "productTier", "maxNumberOfInstances"); got != step.want {
			t.Errorf("%s: maxNumberOfInstances = %v, want %v", step.name, got, step.want)
		}
	}
}
