package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/persisted"
	"github.com/cairn-dev/cairn/server"
)

const viewerQuery = `{ viewer { user { id } } }`

func apq(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// TestAPQ: a miss answers PERSISTED_QUERY_NOT_FOUND; the text sent once with
// its hash is then found by hash, over POST and GET (with an ETag), and by
// another replica over the same database.
func TestAPQ(t *testing.T) {
	t.Parallel()
	e, replica := setupEdge(t, server.Edge{})
	hash := persisted.Hash(viewerQuery)

	miss := e.send(nil, "alice", "POST", "", map[string]any{"extensions": apq(hash)}, nil)
	if miss.code() != "PERSISTED_QUERY_NOT_FOUND" || !strings.HasPrefix(miss.message(), "PersistedQueryNotFound") {
		t.Fatalf("miss: %d %s", miss.Status, miss.Raw)
	}
	bad := e.send(nil, "alice", "POST", "", map[string]any{"query": viewerQuery, "extensions": apq(strings.Repeat("0", 64))}, nil)
	if bad.code() != "BAD_USER_INPUT" || !strings.Contains(bad.message(), "not the SHA-256") {
		t.Fatalf("wrong hash: %s", bad.Raw)
	}
	reg := e.send(nil, "alice", "POST", "", map[string]any{"query": viewerQuery, "extensions": apq(hash)}, nil)
	if len(reg.Errors) > 0 || get(reg.Data, "viewer", "user", "id") != e.demo.Alice {
		t.Fatalf("register: %s", reg.Raw)
	}
	hit := e.send(nil, "alice", "POST", "", map[string]any{"extensions": apq(hash)}, nil)
	if len(hit.Errors) > 0 || get(hit.Data, "viewer", "user", "id") != e.demo.Alice {
		t.Fatalf("hit: %s", hit.Raw)
	}

	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	qs := "?extensions=" + url.QueryEscape(ext)
	csrf := map[string]string{"X-Cairn-CSRF": "1"}
	g := e.send(nil, "alice", "GET", qs, nil, csrf)
	if g.Status != http.StatusOK || get(g.Data, "viewer", "user", "id") != e.demo.Alice {
		t.Fatalf("GET: %d %s", g.Status, g.Raw)
	}
	etag := g.Header.Get("ETag")
	if etag == "" || !strings.Contains(g.Header.Get("Vary"), "Authorization") || !strings.Contains(g.Header.Get("Cache-Control"), "private") {
		t.Fatalf("GET is not cacheable: %v", g.Header)
	}
	again := e.send(nil, "alice", "GET", qs, nil, map[string]string{"X-Cairn-CSRF": "1", "If-None-Match": etag})
	if again.Status != http.StatusNotModified || len(again.Raw) != 0 {
		t.Fatalf("revalidation: %d %s", again.Status, again.Raw)
	}

	other := replica() // another replica, with its own (empty) memory
	r2 := e.send(other, "bob", "GET", qs, nil, csrf)
	if len(r2.Errors) > 0 || get(r2.Data, "viewer", "user", "id") != e.demo.Bob {
		t.Fatalf("replica: %s", r2.Raw)
	}
}

func apolloManifest(ops ...[2]string) map[string]any {
	var list []any
	for _, op := range ops {
		list = append(list, map[string]any{"id": persisted.Hash(op[1]), "name": op[0], "type": "query", "body": op[1]})
	}
	return map[string]any{"format": "apollo-persisted-query-manifest", "version": 1, "operations": list}
}

const registerMutation = `mutation($in: RegisterOperationsInput!) { registerOperations(input: $in) { clientName registered unchanged } }`

// TestTrustedDocuments registers an Apollo manifest and a Relay map, calls
// their operations by ID, and puts the client in persisted-only mode: then an
// unregistered document (even one that does not parse) is refused before it
// is parsed, while registered ones still run.
func TestTrustedDocuments(t *testing.T) {
	t.Parallel()
	e, _ := setupEdge(t, server.Edge{})
	const tenantsQuery = `query Tenants { tenants(first: 5) { totalCount } }`
	apollo := apolloManifest([2]string{"Viewer", viewerQuery}, [2]string{"Tenants", tenantsQuery})

	r := e.do("alice", registerMutation, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "partner-app", "format": "APOLLO", "manifest": apollo}})
	if len(r.Errors) > 0 || get(r.Data, "registerOperations", "registered") != float64(2) {
		t.Fatalf("register: %+v", r)
	}
	r = e.do("alice", registerMutation, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "partner-app", "format": "APOLLO", "manifest": apollo}})
	if get(r.Data, "registerOperations", "unchanged") != float64(2) {
		t.Fatalf("re-register: %+v", r)
	}
	relay := map[string]any{"relay-viewer-1": viewerQuery}
	r = e.do("alice", registerMutation, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "partner-relay", "format": "RELAY", "manifest": relay}})
	if len(r.Errors) > 0 || get(r.Data, "registerOperations", "registered") != float64(1) {
		t.Fatalf("register relay: %+v", r)
	}

	for _, tc := range []struct {
		name, who, query, code, contains string
		vars                             map[string]any
	}{
		{"ErrChangedText", "alice", registerMutation, "CONFLICT", "already registered with another text",
			map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "partner-relay", "format": "RELAY", "manifest": map[string]any{"relay-viewer-1": tenantsQuery}}}},
		{"ErrOtherTenantsClient", "bob", registerMutation, "FORBIDDEN", "EDITOR",
			map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerB, "clientName": "partner-app", "format": "RELAY", "manifest": map[string]any{"x": viewerQuery}}}},
		{"ErrBadManifest", "alice", registerMutation, "BAD_USER_INPUT", "apollo-persisted-query-manifest",
			map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "partner-app", "format": "APOLLO", "manifest": map[string]any{"x": viewerQuery}}}},
		{"ErrBadClientName", "alice", registerMutation, "BAD_USER_INPUT", "clientName",
			map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "no spaces", "format": "RELAY", "manifest": relay}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.who, tc.query, tc.vars)
			if r.code() != tc.code || !strings.Contains(r.Errors[0].Message, tc.contains) {
				t.Errorf("got %s %v, want %s containing %q", r.code(), r.Errors, tc.code, tc.contains)
			}
		})
	}

	app := map[string]string{"X-Cairn-Client": "partner-app"}
	byID := e.send(nil, "alice", "POST", "", map[string]any{"extensions": apq(persisted.Hash(tenantsQuery))}, app)
	if len(byID.Errors) > 0 || get(byID.Data, "tenants", "totalCount") == nil {
		t.Fatalf("Apollo ID: %s", byID.Raw)
	}
	relayByID := e.send(nil, "bob", "POST", "", map[string]any{"doc_id": "relay-viewer-1"}, map[string]string{"X-Cairn-Client": "partner-relay"})
	if len(relayByID.Errors) > 0 || get(relayByID.Data, "viewer", "user", "id") != e.demo.Bob {
		t.Fatalf("Relay ID: %s", relayByID.Raw)
	}
	unknown := e.send(nil, "alice", "POST", "", map[string]any{"documentId": "nope"}, app)
	if unknown.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown ID: %s", unknown.Raw)
	}

	set := e.do("alice", `mutation($in: SetPersistedOnlyInput!) { setPersistedOnly(input: $in) { clientName enabled } }`,
		map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "clientName": "partner-app", "enabled": true}})
	if len(set.Errors) > 0 {
		t.Fatalf("setPersistedOnly: %+v", set.Errors)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"UnregisteredDocument", map[string]any{"query": `{ instances(first: 1) { totalCount } }`}, "PERSISTED_QUERY_NOT_ALLOWED"},
		{"UnparsableDocument", map[string]any{"query": `{ this is not GraphQL`}, "PERSISTED_QUERY_NOT_ALLOWED"},
		{"APQRegistration", map[string]any{"query": `{ viewer { email } }`, "extensions": apq(persisted.Hash(`{ viewer { email } }`))}, "PERSISTED_QUERY_NOT_ALLOWED"},
		{"RegisteredText", map[string]any{"query": viewerQuery}, ""},
		{"RegisteredID", map[string]any{"extensions": apq(persisted.Hash(viewerQuery))}, ""},
	} {
		t.Run("PersistedOnly/"+tc.name, func(t *testing.T) {
			r := e.send(nil, "alice", "POST", "", tc.body, app)
			if r.code() != tc.code {
				t.Fatalf("got %s, want %q", r.Raw, tc.code)
			}
			if tc.code != "" {
				if !strings.Contains(r.message(), "registered operations only") {
					t.Errorf("message %q", r.message())
				}
				if _, ok := r.Extensions["sqlStatements"]; ok && tc.name == "UnparsableDocument" && r.Status == 422 {
					t.Errorf("the document was parsed: %s", r.Raw)
				}
			}
		})
	}
	// Another client is not restricted.
	free := e.send(nil, "alice", "POST", "", map[string]any{"query": `{ instances(first: 1) { totalCount } }`}, map[string]string{"X-Cairn-Client": "partner-relay"})
	if len(free.Errors) > 0 {
		t.Fatalf("unrestricted client: %s", free.Raw)
	}
}
