package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/server"
)

// TestBadInput sends malformed requests and checks each gets a clear error
// with a code, never a 500 or a panic.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, tc := range []struct {
		name     string
		who      string
		body     string
		status   int
		code     string
		contains string
	}{
		{"MalformedJSON", "alice", `{"query": `, 400, "BAD_USER_INPUT", "not valid JSON"},
		{"NotAnObject", "alice", `"hello"`, 400, "BAD_USER_INPUT", "must be a JSON object"},
		{"Batch", "alice", `[{"query": "{ viewer { user { id } } }"}]`, 400, "BAD_USER_INPUT", "Batched requests"},
		{"QueryNotString", "alice", `{"query": 5}`, 400, "BAD_USER_INPUT", "query must be a string, not a number"},
		{"VariablesNotObject", "alice", `{"query": "{ viewer { user { id } } }", "variables": [1]}`, 400, "BAD_USER_INPUT", "variables must be an object"},
		{"SyntaxError", "alice", `{"query": "{ viewer { "}`, 422, "BAD_USER_INPUT", "Expected Name"},
		{"UnknownField", "alice", `{"query": "{ viewer { shoeSize } }"}`, 422, "BAD_USER_INPUT", "Cannot query field \"shoeSize\""},
		{"UnknownArgument", "alice", `{"query": "{ instances(color: 1) { totalCount } }"}`, 422, "BAD_USER_INPUT", "Unknown argument \"color\""},
		{"WrongVariableType", "alice", `{"query": "query($n: Int) { instances(first: $n) { totalCount } }", "variables": {"n": "ten"}}`, 422, "BAD_USER_INPUT", "cannot use string as Int"},
		{"WrongEnum", "alice", `{"query": "query($s: [InstanceStatus!]) { instances(filter: {status: $s}) { totalCount } }", "variables": {"s": ["SLEEPING"]}}`, 422, "BAD_USER_INPUT", "SLEEPING"},
		{"NegativeFirst", "alice", `{"query": "{ instances(first: -1) { totalCount } }"}`, 200, "BAD_USER_INPUT", "first must be between 0 and 500"},
		{"FirstAndLast", "alice", `{"query": "{ instances(first: 1, last: 1) { totalCount } }"}`, 200, "BAD_USER_INPUT", "first or last, not both"},
		{"BadCursor", "alice", `{"query": "{ instances(after: \"nonsense\") { totalCount } }"}`, 200, "BAD_USER_INPUT", "not a cursor"},
		{"CursorTimeNotATime", "alice", `{"query": "{ instances(after: \"WyJub3QtYS10aW1lIiwici14Il0\") { totalCount } }"}`, 200, "BAD_USER_INPUT", "not a cursor"},
		{"NotSignedIn", "", `{"query": "{ instances { totalCount } }"}`, 200, "UNAUTHENTICATED", "Sign in first"},
		{"MissingRequiredInput", "alice", `{"query": "mutation { createService(input: {description: \"x\"}) { service { id } } }"}`, 422, "BAD_USER_INPUT", "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(tc.who, "application/json", []byte(tc.body))
			if r.Status == http.StatusInternalServerError || r.Status != tc.status {
				t.Errorf("status %d, want %d", r.Status, tc.status)
			}
			if r.code() != tc.code {
				t.Fatalf("code %q, want %q (errors %v)", r.code(), tc.code, r.Errors)
			}
			if !strings.Contains(r.Errors[0].Message, tc.contains) {
				t.Errorf("message %q does not say %q", r.Errors[0].Message, tc.contains)
			}
		})
	}

	t.Run("OversizeBody", func(t *testing.T) {
		big := `{"query": "{ viewer { user { id } } }", "variables": {"pad": "` + strings.Repeat("x", 2<<20) + `"}}`
		r := e.post("alice", "application/json", []byte(big))
		if r.Status != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "larger than") {
			t.Errorf("status %d code %q errors %v", r.Status, r.code(), r.Errors)
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader([]byte(`{"query": "{ viewer { user { id } } }"}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer not-a-token")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", res.StatusCode)
		}
	})
}

// TestIntrospectionOff checks that a server with introspection turned off
// refuses __schema and __type with a clear error, and still answers
// __typename.
func TestIntrospectionOff(t *testing.T) {
	t.Parallel()
	e := setup(t)
	srv := httptest.NewServer(server.New(server.Config{Store: e.store, Tokens: e.tokenSigner, Introspection: false}))
	defer srv.Close()
	e.srv = srv
	for _, tc := range []struct{ name, query, code, contains string }{
		{"Schema", `{ __schema { types { name } } }`, "FORBIDDEN", "introspection is turned off"},
		{"Type", `{ __type(name: "Tenant") { name } }`, "FORBIDDEN", "introspection is turned off"},
		{"ThroughAFragment", `query { ...F } fragment F on Query { __schema { queryType { name } } }`, "FORBIDDEN", "introspection is turned off"},
		{"Typename", `{ __typename }`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("alice", tc.query, nil)
			if r.code() != tc.code || (tc.contains != "" && !strings.Contains(r.Errors[0].Message, tc.contains)) {
				t.Errorf("code %q, errors %v; want %q saying %q", r.code(), r.Errors, tc.code, tc.contains)
			}
		})
	}
}
