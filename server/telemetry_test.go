package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/cairn-dev/cairn/telemetry"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestMetricsMoveAfterARequest checks that a request shows in /metrics (by
// operation, outcome, error code, SQL statements) and in one log line, which
// carries no token.
func TestMetricsMoveAfterARequest(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	d, err := s.SeedDemo(context.Background(), demoHash)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	tel, err := telemetry.New(context.Background(), telemetry.Config{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.Observe(tel.QueryHook(), func(edge string, n int) { tel.LoaderBatch.WithLabelValues(edge).Observe(float64(n)) })
	tel.WatchDB(s.DB().DB)
	key, _ := auth.NewKey()
	tokens, _ := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	limit := server.Edge{UserRate: server.Rate{PerSecond: 0.001, Burst: 2}}
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Telemetry: tel, Edge: limit}))
	defer srv.Close()
	tok, _, _ := tokens.Sign(d.Alice)

	body := postThenMetrics(t, srv, tok,
		`{"query": "query Fleet { instances { totalCount nodes { resource { name } createdBy { id } } } }"}`, // createdBy: through the resolvers
		`{"query": "query Missing { instance(id: \"instance-nope\") { id } }"}`,
		`{"query": "query Refused { __typename }"}`, // the third within the burst of 2: 429
	)
	for _, want := range []string{
		`cairn_graphql_requests_total{operation="Fleet",outcome="ok"} 1`,
		`cairn_graphql_requests_total{operation="Missing",outcome="error"} 1`,
		`cairn_graphql_errors_total{code="NOT_FOUND"} 1`,
		`cairn_graphql_request_duration_seconds_count{operation="Fleet"} 1`,
		`cairn_sql_statements_per_request_count 2`,
		`cairn_loader_batch_size_count{edge="instance.resource"} 1`,
		`cairn_sql_statement_duration_seconds_count`,
		`cairn_rate_limited_total{kind="user"} 1`,
		`cairn_direct_fields_total{outcome="direct"} 1`, // Missing
		`cairn_direct_fields_total{outcome="resolvers"} 1`,
		`go_sql_open_connections{db_name="cairn"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"graphql request"`); n != 2 {
		t.Errorf("%d request log lines, want 2:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"operation":"Fleet"`) || !strings.Contains(logs.String(), `"principal":"`+d.Alice+`"`) || !strings.Contains(logs.String(), `"errors":["NOT_FOUND"]`) {
		t.Errorf("log lines lack operation, principal or error codes:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), tok) {
		t.Error("a log line contains the bearer token")
	}
}

// TestTraces checks the spans of a request: the operation, the resolvers that
// load through the store, and the SQL statements, nested in one trace.
func TestTraces(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	d, err := s.SeedDemo(context.Background(), demoHash)
	if err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Config{Exporter: spans}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.Observe(tel.QueryHook(), nil)
	key, _ := auth.NewKey()
	tokens, _ := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Telemetry: tel}))
	defer srv.Close()
	tok, _, _ := tokens.Sign(d.Alice)
	// Fleet reads a computed field (createdBy): the resolvers answer it.
	// Direct is answered by direct execution.
	postAll(t, srv, tok,
		`{"query": "query Fleet { instances { nodes { resource { name } createdBy { id } } } }"}`,
		`{"query": "query Direct { instances { nodes { resource { name } } } }"}`)
	names := map[string]bool{}
	roots := map[string]string{} // trace → its operation
	for _, sp := range spans.GetSpans() {
		names[sp.Name] = true
		if strings.HasPrefix(sp.Name, "graphql ") {
			roots[sp.SpanContext.TraceID().String()] = sp.Name
		}
	}
	for _, want := range []string{"graphql Fleet", "resolve Query.instances", "resolve ResourceInstance.resource", "sql SELECT",
		"graphql Direct", "direct Query.instances"} {
		if !names[want] {
			t.Errorf("no span %q among %v", want, names)
		}
	}
	for _, sp := range spans.GetSpans() {
		if op := roots[sp.SpanContext.TraceID().String()]; op == "" || strings.HasPrefix(sp.Name, "resolve ") && op != "graphql Fleet" {
			t.Errorf("span %q is in the trace of %q", sp.Name, op)
		}
	}
}

// TestMetricsWithoutRequestLog checks that with the logger above info (as
// the benchmark harness runs cairn) requests write no log line and still
// move the metrics, for each operation name and outcome.
func TestMetricsWithoutRequestLog(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	d, err := s.SeedDemo(context.Background(), demoHash)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	tel, err := telemetry.New(context.Background(), telemetry.Config{}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := auth.NewKey()
	tokens, _ := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Telemetry: tel}))
	defer srv.Close()
	tok, _, _ := tokens.Sign(d.Alice)
	body := postThenMetrics(t, srv, tok,
		`{"query": "query A { viewer { user { id } } }"}`,
		`{"query": "query A { viewer { user { id } } }"}`,
		`{"query": "query B { instance(id: \"instance-nope\") { id } }"}`,
	)
	for _, want := range []string{
		`cairn_graphql_requests_total{operation="A",outcome="ok"} 2`,
		`cairn_graphql_requests_total{operation="B",outcome="error"} 1`,
		`cairn_graphql_errors_total{code="NOT_FOUND"} 1`,
		`cairn_graphql_request_duration_seconds_count{operation="A"} 2`,
		`cairn_sql_statements_per_request_count 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if logs.Len() != 0 {
		t.Errorf("log lines at warn level:\n%s", logs.String())
	}
}

// postThenMetrics posts each body to srv's /graphql with tok, then returns
// what /metrics shows.
func postThenMetrics(t *testing.T, srv *httptest.Server, tok string, bodies ...string) []byte {
	t.Helper()
	postAll(t, srv, tok, bodies...)
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// postAll posts each body to srv's /graphql with tok.
func postAll(t *testing.T, srv *httptest.Server, tok string, bodies ...string) {
	t.Helper()
	for _, q := range bodies {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
}
