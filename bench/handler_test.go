package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/cairn-dev/cairn/telemetry"
)

// TestMain starts PostgreSQL only when benchmarks run: the package has no
// tests, and `make test` should not pay for a server it does not use.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	storetest.Main(m)
}

// deepShape is the deep read's data: 50 × 3 × 2 × 3 × 3 × 10 = 27,000 instances.
var deepShape = store.Shape{Services: 50, Environments: 3, Models: 2, Tiers: 3, Resources: 3, Instances: 10}

// deepQuery is the harness's workload 1.
const deepQuery = `{
  services(first: 50, filter: {nameContains: "Service"}) { nodes { id
    environments(first: 3) { nodes { id
      models(first: 2) { nodes { id
        tiers(first: 3) { nodes { id
          resources(first: 3) { nodes { id
            instances(first: 10) { nodes { id status } }
          } }
        } }
      } }
    } }
  } }
}`

// fixture is the real handler over a store with the demo data and the deep
// read's generated data.
type fixture struct {
	handler http.Handler
	store   *store.Store
	demo    *store.Demo
	tokens  map[string]string
}

func newFixture(b *testing.B) *fixture { return newFixtureWith(b, nil) }

// newServeFixture is newFixture with telemetry (metrics, no traces) and a
// warn-level logger, as cairn serve runs under the harness.
func newServeFixture(b *testing.B) *fixture {
	tel, err := telemetry.New(context.Background(), telemetry.Config{}, slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		b.Fatal(err)
	}
	return newFixtureWith(b, tel)
}

func newFixtureWith(b *testing.B, tel *telemetry.Telemetry) *fixture {
	b.Helper()
	ctx := context.Background()
	url := storetest.URL(b)
	s, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	hash, err := auth.HashPassword(store.DemoPassword)
	if err != nil {
		b.Fatal(err)
	}
	d, err := s.SeedDemo(ctx, hash)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Generate(ctx, d.Provider, d.CustomerA, deepShape); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	key, err := auth.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://cairn.bench", time.Hour, []auth.Key{key})
	if err != nil {
		b.Fatal(err)
	}
	// As cairn serve does: principals come from the cache, not a statement.
	if err := s.CachePrincipals(ctx, url, 0); err != nil {
		b.Fatal(err)
	}
	if tel != nil {
		s.Observe(tel.QueryHook(), func(edge string, keys int) { tel.LoaderBatch.WithLabelValues(edge).Observe(float64(keys)) })
	}
	f := &fixture{store: s, demo: d, tokens: map[string]string{},
		handler: server.New(server.Config{Store: s, Tokens: tokens, Telemetry: tel, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})}
	for who, id := range map[string]string{"owner": d.Owner, "alice": d.Alice} {
		if f.tokens[who], _, err = tokens.Sign(id); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

// serve runs one request through the handler and fails on GraphQL errors.
func (f *fixture) serve(b *testing.B, who string, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"errors"`)) {
		b.Fatalf("status %d: %.500s", rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Len()
}

func body(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// BenchmarkDeepRead is workload 1 through the real handler, one request at
// a time: 27,000 instances, about 1.3 MB of JSON.
func BenchmarkDeepRead(b *testing.B) {
	f := newFixture(b)
	q := body(deepQuery, nil)
	var n int
	for b.Loop() {
		n = f.serve(b, "owner", q)
	}
	b.SetBytes(int64(n))
}

// BenchmarkDeepReadParallel is workload 1 with GOMAXPROCS requests at once.
func BenchmarkDeepReadParallel(b *testing.B) {
	f := newFixture(b)
	q := body(deepQuery, nil)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.serve(b, "owner", q)
		}
	})
}

// BenchmarkSmallRead is workload 2: one instance with its resource's and
// tier's names.
func BenchmarkSmallRead(b *testing.B) {
	f := newFixture(b)
	q := f.smallRead(b)
	for b.Loop() {
		f.serve(b, "alice", q)
	}
}

// BenchmarkSmallReadServe is workload 2 through the handler as cairn serve
// builds it: with telemetry (metrics; the request log line at info level is
// below the harness's warn level, as under the harness).
func BenchmarkSmallReadServe(b *testing.B) {
	f := newServeFixture(b)
	q := f.smallRead(b)
	defer reportCPU(b)()
	for b.Loop() {
		f.serve(b, "alice", q)
	}
}

// BenchmarkSmallReadServeParallel is BenchmarkSmallReadServe with
// GOMAXPROCS requests at once, as the harness's 10 connections keep the
// server busy.
func BenchmarkSmallReadServeParallel(b *testing.B) {
	f := newServeFixture(b)
	q := f.smallRead(b)
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.serve(b, "alice", q)
		}
	})
}

// reportCPU reports the CPU time (user and system) this process spends per
// operation from now until the returned function runs: the gateway's CPU,
// without PostgreSQL's, and less sensitive to a busy machine than ns/op.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// smallRead returns the body of workload 2 for one of customer A's instances.
func (f *fixture) smallRead(b *testing.B) []byte {
	var id string
	if err := f.store.DB().NewRaw("SELECT id FROM resource_instances WHERE tenant_id = ? LIMIT 1", f.demo.CustomerA).Scan(context.Background(), &id); err != nil {
		b.Fatal(err)
	}
	return body(`query($id: ID!) { instance(id: $id) { id status resource { name tier { name } } } }`, map[string]any{"id": id})
}
