package persisted

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestLiftBody checks that an operation ID given as documentId, doc_id or id
// (the first non-empty string) moves to extensions.persistedDocument.id,
// keeping the other extensions, and that a request without one is left alone.
func TestLiftBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       map[string]any // nil: not lifted
	}{
		{"DocumentID", `{"documentId": "op-1"}`, map[string]any{"extensions": map[string]any{"persistedDocument": map[string]any{"id": "op-1"}}}},
		{"DocIDKeepsExtensions", `{"doc_id": "op-2", "variables": {"a": 1}, "extensions": {"x": true}}`,
			map[string]any{"variables": map[string]any{"a": 1.0}, "extensions": map[string]any{"x": true, "persistedDocument": map[string]any{"id": "op-2"}}}},
		{"FirstNonEmptyString", `{"documentId": "", "doc_id": 5, "id": "op-3", "extensions": null}`, map[string]any{"extensions": map[string]any{"persistedDocument": map[string]any{"id": "op-3"}}}},
		{"None", `{"query": "{ a }"}`, nil},
		{"OnlyEmpty", `{"query": "{ a }", "id": ""}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.body), &req); err != nil {
				t.Fatal(err)
			}
			b, ok := LiftBody(req)
			if ok != (tc.want != nil) {
				t.Fatalf("lifted %v, want %v", ok, tc.want != nil)
			}
			if !ok {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s, want %v", b, tc.want)
			}
		})
	}
}

// TestLiftQuery checks the same for the query string of a GET.
func TestLiftQuery(t *testing.T) {
	for _, tc := range []struct{ url, wantExt string }{
		{"/graphql?doc_id=op-1", `{"persistedDocument":{"id":"op-1"}}`},
		{"/graphql?id=op-2&extensions=%7B%22x%22%3A1%7D", `{"persistedDocument":{"id":"op-2"},"x":1}`},
		{"/graphql?query=%7Ba%7D", ""},
		{"/graphql", ""},
	} {
		r := httptest.NewRequest("GET", tc.url, nil)
		LiftQuery(r)
		if got := r.URL.Query().Get("extensions"); got != tc.wantExt && !(tc.wantExt == "" && got == "") {
			t.Errorf("%s: extensions %q, want %q", tc.url, got, tc.wantExt)
		}
		if r.URL.Query().Has("doc_id") || r.URL.Query().Has("id") {
			t.Errorf("%s: the ID parameter stayed: %s", tc.url, r.URL.RawQuery)
		}
	}
}
