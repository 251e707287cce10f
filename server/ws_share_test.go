package server

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestShareKey checks which subscriptions may share their data: only the
// same principal (every part of it), document, operation name and
// variables.
func TestShareKey(t *testing.T) {
	t.Parallel()
	bob := func() *cairn.Principal {
		return &cairn.Principal{UserID: "u-bob", TenantID: "t-b", Email: "bob@b.example", Grants: []cairn.Grant{{TenantID: "t-b", Role: cairn.RoleAdmin}}}
	}
	const query = `subscription($t: ID!) { instanceStatusChanged(filter: {tenantId: $t}) { instanceId status } }`
	op := func(query, name string, vars map[string]any) *graphql.OperationContext {
		return &graphql.OperationContext{RawQuery: query, OperationName: name, Variables: vars}
	}
	as := func(p *cairn.Principal) context.Context {
		if p == nil {
			return context.Background()
		}
		return cairn.NewContextWithPrincipal(context.Background(), p)
	}
	base := shareKey(as(bob()), op(query, "", map[string]any{"t": "t-b"}))
	if base == "" {
		t.Fatal("bob's subscription is not shared")
	}
	tests := []struct {
		name  string
		ctx   context.Context
		op    *graphql.OperationContext
		share bool // with base
	}{
		{"SamePrincipalOtherCopy", as(bob()), op(query, "", map[string]any{"t": "t-b"}), true},
		{"OtherUser", as(&cairn.Principal{UserID: "u-alice", TenantID: "t-b", Email: "bob@b.example", Grants: bob().Grants}), op(query, "", map[string]any{"t": "t-b"}), false},
		{"OtherGrants", as(&cairn.Principal{UserID: "u-bob", TenantID: "t-b", Email: "bob@b.example", Grants: []cairn.Grant{{TenantID: "t-b", Role: cairn.RoleReader}}}), op(query, "", map[string]any{"t": "t-b"}), false},
		{"APIKeyOfTheTenant", as(&cairn.Principal{APIKeyID: "k-1", TenantID: "t-b", Grants: bob().Grants}), op(query, "", map[string]any{"t": "t-b"}), false},
		{"OtherVariables", as(bob()), op(query, "", map[string]any{"t": "t-a"}), false},
		{"OtherOperationName", as(bob()), op(query, "Watch", map[string]any{"t": "t-b"}), false},
		{"OtherDocument", as(bob()), op(query+" ", "", map[string]any{"t": "t-b"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := shareKey(tt.ctx, tt.op) == base; got != tt.share {
				t.Errorf("shares with bob's: %v, want %v", got, tt.share)
			}
		})
	}
	if k := shareKey(as(nil), op(query, "", nil)); k != "" {
		t.Errorf("without a principal: key %q, want none", k)
	}
}

// TestShareGroups checks that identical subscriptions join one group, others
// another, and that no group is made while sharing is off.
func TestShareGroups(t *testing.T) {
	t.Parallel()
	tr := &wsTransport{}
	if g := tr.join("k"); g != nil {
		t.Fatal("a group while sharing is off")
	}
	tr.sharing = true
	a, b, c := tr.join("k"), tr.join("k"), tr.join("other")
	if a == nil || a != b {
		t.Errorf("one key: groups %p and %p, want one", a, b)
	}
	if c == nil || c == a {
		t.Errorf("two keys: groups %p and %p, want two", a, c)
	}
	if g := tr.join(""); g != nil {
		t.Error("a group for an unshared operation")
	}
	ev1, ev2 := &cairn.AuditEvent{Seq: 1}, &cairn.AuditEvent{Seq: 5}
	a.put(ev1, []byte("one"))
	if got := a.get(ev1); string(got) != "one" {
		t.Errorf("get(ev1) = %q", got)
	}
	if got := a.get(&cairn.AuditEvent{Seq: 1}); got != nil {
		t.Errorf("another event of the same seq: %q, want none", got)
	}
	a.put(ev2, []byte("five")) // the same slot
	if got := a.get(ev1); got != nil {
		t.Errorf("get(ev1) after ev2 = %q, want none", got)
	}
	if got := c.get(ev2); got != nil {
		t.Errorf("another group has %q", got)
	}
}

// TestMarkUnshared checks that a resolver, a method or a directive keeps a
// response from being shared, and that plain fields do not.
func TestMarkUnshared(t *testing.T) {
	t.Parallel()
	field := func(directives ...string) graphql.CollectedField {
		f := graphql.CollectedField{Field: &ast.Field{Name: "f", Definition: &ast.FieldDefinition{Name: "f"}}}
		for _, d := range directives {
			f.Directives = append(f.Directives, &ast.Directive{Name: d})
		}
		return f
	}
	tests := []struct {
		name     string
		fc       *graphql.FieldContext
		unshared bool
	}{
		{"Plain", &graphql.FieldContext{Field: field()}, false},
		{"IncludeAndSkip", &graphql.FieldContext{Field: field("include", "skip")}, false},
		{"Resolver", &graphql.FieldContext{Field: field(), IsResolver: true}, true},
		{"Method", &graphql.FieldContext{Field: field(), IsMethod: true}, true},
		{"Directive", &graphql.FieldContext{Field: field("auth")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := new(unshared)
			ctx := graphql.WithFieldContext(context.WithValue(context.Background(), unsharedKey{}, u), tt.fc)
			res, err := markUnshared(ctx, func(context.Context) (any, error) { return "v", nil })
			if res != "v" || err != nil {
				t.Errorf("markUnshared answered %v, %v; want the field's", res, err)
			}
			if u.Load() != tt.unshared {
				t.Errorf("unshared = %v, want %v", u.Load(), tt.unshared)
			}
		})
	}
}
