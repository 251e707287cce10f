package server_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/server"
)

// TestLimits checks every operation limit answers its code and a message
// naming the measure and the limit.
func TestLimits(t *testing.T) {
	t.Parallel()
	e, _ := setupEdge(t, server.Edge{MaxDepth: 4, MaxCost: 1000, MaxAliases: 2, MaxRootFields: 3})
	for _, tc := range []struct {
		name, query, contains string
	}{
		{"Depth", `{ services { nodes { environments { nodes { id } } } } }`, "is 5 fields deep; the limit is 4"},
		{"DepthThroughFragments", `query { services { ...S } } fragment S on ServiceConnection { nodes { environments { nodes { id } } } }`, "is 5 fields deep; the limit is 4"},
		{"Cost", `{ services(first: 100) { nodes { environments(first: 100) { totalCount } } } }`, "may cost 10201; the limit is 1000"},
		{"CostWithoutFirst", `{ services { nodes { environments { totalCount } } } }`, "may cost 2601; the limit is 1000"},
		{"CostOfVariables", `query($n: Int) { instances(first: $n) { nodes { id status region } } }`, "may cost 2001; the limit is 1000"},
		{"Aliases", `{ a: viewer { user { id } } b: viewer { user { id } } c: viewer { user { id } } }`, "uses 3 aliases; the limit is 2"},
		{"RootFields", `{ viewer { user { id } } services { totalCount } tenants { totalCount } instances { totalCount } }`, "asks for 4 top-level fields; the limit is 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do("alice", tc.query, map[string]any{"n": 500})
			if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, tc.contains) {
				t.Errorf("got %s %v, want BAD_USER_INPUT containing %q", r.code(), r.Errors, tc.contains)
			}
			if r.Data != nil {
				t.Errorf("the operation ran: %v", r.Data)
			}
		})
	}
	t.Run("WithinLimits", func(t *testing.T) {
		r := e.do("alice", `{ services(first: 5) { nodes { environments(first: 5) { totalCount } } } }`, nil)
		if len(r.Errors) > 0 {
			t.Errorf("errors: %v", r.Errors)
		}
	})
	// The measures of an operation are remembered between requests (the
	// query cache gives the same document back); a cost that depends on
	// variables is computed for each request.
	t.Run("SameOperationOtherVariables", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			vars  map[string]any
			cost  string // "" when within the limit
		}{
			{`query($n: Int) { instances(first: $n) { nodes { id status region } } }`, map[string]any{"n": 5}, ""},
			{`query($n: Int) { instances(first: $n) { nodes { id status region } } }`, map[string]any{"n": 500}, "may cost 2001"},
			{`query($n: Int) { instances(first: $n) { nodes { id status region } } }`, map[string]any{"n": 5}, ""},
			{`query($s: [InstanceStatus!]) { instances(first: 100, filter: {status: $s}) { nodes { id status region } } }`, map[string]any{"s": []string{"RUNNING"}}, ""},
			{`query($s: [InstanceStatus!]) { instances(first: 100, filter: {status: $s}) { nodes { id status region } } }`, map[string]any{"s": []string{"STOPPED"}}, ""},
		} {
			r := e.do("alice", tc.query, tc.vars)
			switch {
			case tc.cost == "" && len(r.Errors) > 0 && r.code() == "BAD_USER_INPUT":
				t.Errorf("%v: refused: %v", tc.vars, r.Errors)
			case tc.cost != "" && (r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, tc.cost)):
				t.Errorf("%v: got %s %v, want BAD_USER_INPUT containing %q", tc.vars, r.code(), r.Errors, tc.cost)
			}
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		e, _ := setupEdge(t, server.Edge{Timeout: time.Nanosecond})
		r := e.do("alice", `{ tenants(first: 1) { totalCount } }`, nil)
		if r.code() != "RESOURCE_EXHAUSTED" || !strings.Contains(r.Errors[0].Message, "ran longer than the limit of 1ns") {
			t.Errorf("got %s %v", r.code(), r.Errors)
		}
	})
}

// TestRateLimit: a user's burst passes, the next request answers 429 with
// Retry-After and extensions.retryAfter, and another user is not affected.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e, _ := setupEdge(t, server.Edge{UserRate: server.Rate{PerSecond: 0.01, Burst: 2}})
	for i := range 2 {
		if r := e.do("alice", viewerQuery, nil); len(r.Errors) > 0 {
			t.Fatalf("request %d: %v", i, r.Errors)
		}
	}
	r := e.send(nil, "alice", "POST", "", map[string]any{"query": viewerQuery}, nil)
	secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != http.StatusTooManyRequests || r.code() != "RESOURCE_EXHAUSTED" || secs < 1 || secs > 100 {
		t.Fatalf("got %d Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
	}
	if r.Errors[0].Extensions["retryAfter"] != float64(secs) || !strings.Contains(r.message(), "retry in") {
		t.Errorf("extensions %v message %q", r.Errors[0].Extensions, r.message())
	}
	if r := e.do("bob", viewerQuery, nil); len(r.Errors) > 0 {
		t.Errorf("bob: %v", r.Errors)
	}
}

// TestGraphQLOverHTTP checks content negotiation, status codes, GET for
// queries only, CSRF refusal and CORS.
func TestGraphQLOverHTTP(t *testing.T) {
	t.Parallel()
	e, _ := setupEdge(t, server.Edge{CORSOrigins: []string{"https://console.partner.example"}})
	const gqlJSON = "application/graphql-response+json"
	csrf := map[string]string{"X-Cairn-CSRF": "1"}
	for _, tc := range []struct {
		name, method, query string
		body                any
		header              map[string]string
		status              int
		contentType, code   string
		contains            string
	}{
		{"GraphQLResponseJSON", "POST", "", map[string]any{"query": viewerQuery}, map[string]string{"Accept": gqlJSON}, 200, gqlJSON, "", ""},
		{"GraphQLResponseJSONInvalid", "POST", "", map[string]any{"query": `{ viewer { shoeSize } }`}, map[string]string{"Accept": gqlJSON}, 400, gqlJSON, "BAD_USER_INPUT", "shoeSize"},
		{"GraphQLResponseJSONNotFound", "POST", "", map[string]any{"extensions": apq(strings.Repeat("a", 64))}, map[string]string{"Accept": gqlJSON}, 400, gqlJSON, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"},
		{"GraphQLResponseJSONFieldError", "POST", "", map[string]any{"query": `{ instance(id: "instance-nope") { id } }`}, map[string]string{"Accept": gqlJSON}, 200, gqlJSON, "NOT_FOUND", ""},
		{"ApplicationJSON", "POST", "", map[string]any{"query": viewerQuery}, map[string]string{"Accept": "application/json"}, 200, "application/json", "", ""},
		{"ApplicationJSONInvalid", "POST", "", map[string]any{"query": `{ viewer { shoeSize } }`}, map[string]string{"Accept": "application/json"}, 422, "application/json", "BAD_USER_INPUT", "shoeSize"},
		{"GetQuery", "GET", "?query=" + url.QueryEscape(viewerQuery), nil, csrf, 200, "application/json", "", ""},
		{"GetMutation", "GET", "?query=" + url.QueryEscape(`mutation { signIn(input: {email: "a@b.example", password: "x"}) { token } }`), nil, csrf, 405, "application/json", "BAD_USER_INPUT", "GET requests run queries only"},
		{"CSRFGet", "GET", "?query=" + url.QueryEscape(viewerQuery), nil, nil, 400, "application/json", "BAD_USER_INPUT", "cross-site request forgery"},
		{"CSRFFormPost", "POST", "", []byte("query=mutation"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "application/json", "BAD_USER_INPUT", "cross-site request forgery"},
		{"CSRFTextPost", "POST", "", []byte(`{"query":"mutation { signOut }"}`), map[string]string{"Content-Type": "text/plain"}, 400, "application/json", "BAD_USER_INPUT", "cross-site request forgery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.send(nil, "alice", tc.method, tc.query, tc.body, tc.header)
			ct := r.Header.Get("Content-Type")
			if r.Status != tc.status || !strings.HasPrefix(ct, tc.contentType) || r.code() != tc.code || !strings.Contains(r.message(), tc.contains) {
				t.Errorf("got %d %s %s, want %d %s %s %q", r.Status, ct, r.Raw, tc.status, tc.contentType, tc.code, tc.contains)
			}
			if tc.status == 405 && r.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", r.Header.Get("Allow"))
			}
		})
	}
	t.Run("CORS", func(t *testing.T) {
		t.Parallel()
		pre := func(origin string) httpResult {
			return e.send(nil, "", "OPTIONS", "", nil, map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"})
		}
		ok := pre("https://console.partner.example")
		if ok.Status != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != "https://console.partner.example" ||
			!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("allowed preflight: %d %v", ok.Status, ok.Header)
		}
		if no := pre("https://evil.example"); no.Status != http.StatusForbidden || no.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("refused preflight: %d %v", no.Status, no.Header)
		}
		r := e.send(nil, "alice", "POST", "", map[string]any{"query": viewerQuery}, map[string]string{"Origin": "https://console.partner.example"})
		if r.Header.Get("Access-Control-Allow-Origin") != "https://console.partner.example" {
			t.Errorf("response: %v", r.Header)
		}
	})
}
