package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn/store"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

var smallReadBody = []byte(`{"query":"query($id: ID!) { instance(id: $id) { id status resource { name tier { name } } } }","variables":{"id":"instance-y9c4acl48"}}`)

// decodeSlow is what limitBody does when decodeRequest declines: check, then
// decode member by member.
func decodeSlow(body []byte) (*graphql.RawParams, error) {
	req, err := checkRequest(body)
	if err != nil {
		return nil, err
	}
	return paramsOf(req), nil
}

// TestDecodeRequest checks that the one-pass decoding (decodeRequest) gives
// exactly what checkRequest and paramsOf give, and takes the common requests.
func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct {
		name       string
		body       string
		decoded    bool // decodeRequest takes it
		wantErrMsg string
	}{
		{"SmallRead", string(smallReadBody), true, ""},
		{"Spaced", " {\n\t\"query\" : \"{ a }\" ,\r\n \"operationName\": \"A\", \"variables\": { } } \n", true, ""},
		{"Escapes", `{"query": "query A {\n  x(s: \"a\\\\b\/c\")\t}\b\f\r"}`, true, ""},
		{"Unicode", `{"query": "{ x(s: \"héllo ✓\") }"}`, true, ""},
		{"UnicodeEscape", `{"query": "{ x(s: \"\u00e9\") }"}`, true, ""},
		{"Nulls", `{"query": null, "operationName": null, "variables": null}`, true, ""},
		{"VariableKinds", `{"query": "q", "variables": {"s": "x", "i": 12, "n": -0.5e+3, "z": 0, "t": true, "f": false, "u": null, "big": 123456789012345678901234567890}}`, true, ""},
		{"NestedVariables", `{"query": "q", "variables": {"in": {"a": [1, 2]}}}`, true, ""},
		{"Extensions", `{"query": "q", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}`, true, ""},
		{"CaseVariant", `{"Query": "q", "OPERATIONNAME": "A"}`, true, ""},
		{"UnknownMember", `{"query": "q", "other": [1, {"x": null}]}`, true, ""},
		{"DocumentID", `{"documentId": "op-1", "extensions": {"a": 1}}`, false, ""},
		{"DocIDNotString", `{"doc_id": 5, "id": "op-2"}`, false, ""},
		{"Duplicate", `{"query": "a", "query": "b"}`, true, ""},
		{"EmptyObject", `{}`, true, ""},
		{"Null", `null`, true, ""},
		{"InvalidUTF8", "{\"query\": \"\xff\"}", true, ""},
		{"LeadingZero", `{"query": "q", "variables": {"n": 01}}`, false, "not valid JSON"},
		{"Trailing", `{"query": "q"} x`, false, "not valid JSON"},
		{"TrailingComma", `{"query": "q",}`, false, "not valid JSON"},
		{"Truncated", `{"query": "q`, false, "not valid JSON"},
		{"ControlChar", "{\"query\": \"a\x01b\"}", false, "not valid JSON"},
		{"QueryNumber", `{"query": 5}`, false, "query must be a string, not a number (5)"},
		{"QueryNumberCase", `{"QUERY": 5}`, false, "query must be a string, not a number (5)"},
		{"VariablesArray", `{"query": "q", "variables": [1]}`, false, "variables must be an object, not an array"},
		{"Batch", `[{"query": "q"}]`, false, "Batched requests"},
		{"NotObject", `"q"`, false, "must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			slow, err := decodeSlow(body)
			if tc.wantErrMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrMsg) {
					t.Fatalf("checkRequest: %v, want an error saying %q", err, tc.wantErrMsg)
				}
			} else if err != nil {
				t.Fatalf("checkRequest: %v", err)
			}
			decoded, ok := decodeRequest(body)
			if ok != tc.decoded {
				t.Errorf("decodeRequest took it: %v, want %v", ok, tc.decoded)
			}
			if ok && !reflect.DeepEqual(decoded, slow) {
				t.Errorf("decodeRequest: %#v, want %#v", decoded, slow)
			}
		})
	}
}

// FuzzDecodeRequest checks that whatever the one-pass decoding takes, it
// decodes as checkRequest and paramsOf do.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{string(smallReadBody), `{"query": "a\"b\\n", "variables": {"n": -1.5E3, "b": true}}`, `{"operationName": null}`, `{"query": "q", "variables": {"a": {"b": 1}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		slow, err := decodeSlow(body)
		if p, ok := decodeRequest(body); ok {
			if err != nil {
				t.Fatalf("decodeRequest took %q, which checkRequest refuses: %v", body, err)
			}
			if !reflect.DeepEqual(p, slow) {
				t.Fatalf("decodeRequest(%q) = %#v, want %#v", body, p, slow)
			}
		}
	})
}

// TestWriteResponse checks that postTransport's writing of a response is
// json.Marshal's, with extensions.sqlStatements.
func TestWriteResponse(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name string
		resp *graphql.Response
	}{
		{"Data", &graphql.Response{Data: json.RawMessage(`{"instance":{"id":"instance-1","status":"RUNNING"}}`)}},
		{"HTMLAndSeparators", &graphql.Response{Data: json.RawMessage("{\"s\":\"<b>&amp;</b> \u2028 \u2029\"}")}},
		{"NoData", &graphql.Response{Errors: gqlerror.List{{Message: "bad <input>", Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}}},
		{"ErrorsAndData", &graphql.Response{Data: json.RawMessage(`{"instance":null}`), Errors: gqlerror.List{{Message: "Not found", Path: ast.Path{ast.PathName("instance")}, Extensions: map[string]any{"code": "NOT_FOUND"}}}}},
		{"OtherExtensions", &graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"other": "x"}}},
		{"Incremental", &graphql.Response{Data: json.RawMessage(`{}`), HasNext: &yes}},
	} {
		for _, counted := range []bool{true, false} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				want := *tc.resp
				if counted {
					var c *store.StatementCounter
					ctx, c = store.WithStatementCounter(ctx)
					_ = c
					ext := map[string]any{"sqlStatements": 0}
					for k, v := range tc.resp.Extensions {
						ext[k] = v
					}
					want.Extensions = ext
				}
				wantJSON, err := json.Marshal(&want)
				if err != nil {
					t.Fatal(err)
				}
				resp := *tc.resp
				if resp.Extensions != nil {
					resp.Extensions = map[string]any{}
					for k, v := range tc.resp.Extensions {
						resp.Extensions[k] = v
					}
				}
				for _, buffered := range []bool{true, false} {
					rec := httptest.NewRecorder()
					var got []byte
					if buffered {
						rb := &responseBuffer{w: rec}
						writeResponse(rb, ctx, &resp)
						got = bytes.Clone(rb.buffer().Bytes())
						if rb.status != 200 {
							t.Errorf("status %d, want 200", rb.status)
						}
					} else {
						writeResponse(rec, ctx, &resp)
						got = rec.Body.Bytes()
					}
					if !bytes.Equal(got, wantJSON) {
						t.Errorf("buffered %v:\n got %s\nwant %s", buffered, got, wantJSON)
					}
				}
			})
		}
	}
}

// TestFixedCost checks which operations' costs no variable can change.
func TestFixedCost(t *testing.T) {
	for _, tc := range []struct {
		query string
		fixed bool
	}{
		{`{ instances(first: 10) { nodes { id } } }`, true},
		{`query($id: ID!) { instance(id: $id) { id status resource { name tier { name } } } }`, true},
		{`query($n: Int) { instances(first: $n) { nodes { id } } }`, false},
		{`query($n: Int) { services { nodes { environments(last: $n) { nodes { id } } } } }`, false},
		{`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, false},
		{`query($a: ID!) { nodes(ids: ["x", $a]) { id } }`, false},
		{`query($s: String) { instances(first: 2, filter: {nameContains: $s}) { nodes { id } } }`, true},
		{`query($b: Boolean!) { instances { nodes { id status @include(if: $b) } } }`, false},
		{`query($b: Boolean!) { ... @skip(if: $b) { instances { totalCount } } }`, false},
		{`query($n: Int) { ...F } fragment F on Query { instances(first: $n) { totalCount } }`, false},
		{`query($n: Int) { ...F } fragment F on Query { instances(first: 3) { totalCount } }`, true},
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range doc.Fragments {
			for _, op := range doc.Operations {
				linkSpreads(op.SelectionSet, f)
			}
		}
		if got := fixedCost(doc.Operations[0].SelectionSet, 0); got != tc.fixed {
			t.Errorf("fixedCost(%s) = %v, want %v", tc.query, got, tc.fixed)
		}
	}
}

// linkSpreads does what validation does for the spreads of f: point them to
// their definition.
func linkSpreads(set ast.SelectionSet, f *ast.FragmentDefinition) {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.FragmentSpread:
			if s.Name == f.Name {
				s.Definition = f
			}
		case *ast.Field:
			linkSpreads(s.SelectionSet, f)
		case *ast.InlineFragment:
			linkSpreads(s.SelectionSet, f)
		}
	}
}

// BenchmarkDecodeRequest is limitBody's decoding of the small read's body.
func BenchmarkDecodeRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if p, ok := decodeRequest(smallReadBody); !ok || p.Query == "" {
			b.Fatal("not decoded")
		}
	}
}

// BenchmarkDecodeRequestSlow is the decoding of a request decodeRequest
// declines.
func BenchmarkDecodeRequestSlow(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if p, err := decodeSlow(smallReadBody); err != nil || p.Query == "" {
			b.Fatal("not decoded")
		}
	}
}
