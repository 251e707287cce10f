package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// drPrepared returns the statements prepared on conn, by text, with how
// often each ran (its custom plans and its generic plan's uses), leaving
// out its own query (prepared only where the URL asks every statement to be).
func drPrepared(t testing.TB, ctx context.Context, conn bun.IConn) map[string]int {
	t.Helper()
	rows, err := conn.QueryContext(ctx, "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var text string
		var n int
		if err := rows.Scan(&text, &n); err != nil {
			t.Fatal(err)
		}
		got[text] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPreparedArgs: on the store's connections a statement with arguments
// is prepared once and then reused, one without (bun's) runs as a simple
// query, a mode given with the arguments wins, and a URL that sets the mode
// sets it for every statement.
func TestPreparedArgs(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	type call func(ctx context.Context, conn *bun.Conn) error
	query := func(q string, args ...any) call {
		return func(ctx context.Context, conn *bun.Conn) error {
			rows, err := conn.Conn.QueryContext(ctx, q, args...) // database/sql's, as River calls it
			if err != nil {
				return err
			}
			return rows.Close()
		}
	}
	exec := func(q string, args ...any) call {
		return func(ctx context.Context, conn *bun.Conn) error {
			_, err := conn.Conn.ExecContext(ctx, q, args...)
			return err
		}
	}
	bunRaw := func(q string, args ...any) call {
		return func(ctx context.Context, conn *bun.Conn) error {
			var n int
			return conn.NewRaw(q, args...).Scan(ctx, &n)
		}
	}
	for _, tc := range []struct {
		name, url string
		run       call
		prepared  string // the text prepared, or "" for none
	}{
		{"QueryArgs", url, query("SELECT $1::int + 1", 1), "SELECT $1::int + 1"},
		{"ExecArgs", url, exec("SELECT $1::int + 2", 1), "SELECT $1::int + 2"},
		{"NamedArgs", url, query("SELECT @n::int + 3", pgx.NamedArgs{"n": 1}), "SELECT $1::int + 3"},
		{"QueryNoArgs", url, query("SELECT 4"), ""},
		{"ExecNoArgs", url, exec("SELECT 5"), ""},
		{"Bun", url, bunRaw("SELECT ?::int + 6", 1), ""},
		{"ModeSimple", url, query("SELECT $1::int + 7", pgx.QueryExecModeSimpleProtocol, 1), ""},
		{"ModeExec", url, exec("SELECT $1::int + 8", pgx.QueryExecModeExec, 1), ""},
		{"ModeAfterRewriter", url, query("SELECT @n::int + 9", pgx.NamedArgs{"n": 1}, pgx.QueryExecModeSimpleProtocol), ""},
		{"URLSimple", url + sep + "default_query_exec_mode=simple_protocol", query("SELECT $1::int + 10", 1), ""},
		{"URLCache", url + sep + "default_query_exec_mode=cache_statement", query("SELECT 11"), "SELECT 11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			conn, err := s.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for range 2 {
				if err := tc.run(ctx, &conn); err != nil {
					t.Fatal(err)
				}
			}
			got := drPrepared(t, ctx, conn)
			if tc.prepared == "" {
				if len(got) != 0 {
					t.Errorf("prepared %v, want none", got)
				}
			} else if len(got) != 1 || got[tc.prepared] != 2 {
				t.Errorf("prepared %v, want %q run twice", got, tc.prepared)
			}
		})
	}
}

// TestPreparedArgsRiver: River's insert of a create's job is prepared once
// per connection and reused by the next create, inside bun's transaction,
// while none of bun's statements is prepared.
func TestPreparedArgsRiver(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	s.DB().SetMaxOpenConns(1) // every statement on one connection
	alice := storetest.As(ps["alice"])
	for range 2 {
		if _, _, err := s.CreateInstanceOp(alice, iwMySQL(d)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := drPrepared(t, ctx, conn)
	conn.Close() // the pool's one connection, wanted back below
	inserts := 0
	for text, n := range got {
		t.Logf("prepared, run %d times: %.80s", n, strings.Join(strings.Fields(text), " "))
		if !strings.Contains(text, "$1") {
			t.Errorf("prepared a statement without arguments: %s", text)
		}
		if strings.Contains(text, "INSERT INTO") && strings.Contains(text, "river_job") {
			inserts++
			if n != 2 {
				t.Errorf("River's insert ran %d times prepared, want 2", n)
			}
		}
	}
	if inserts != 1 {
		t.Errorf("%d prepared inserts of River's jobs, want 1 (prepared: %d statements)", inserts, len(got))
	}
	if n := iwCount(t, s, "SELECT count(*) FROM river_job WHERE kind = ?", store.TransitionJob{}.Kind()); n != 2 {
		t.Errorf("%d jobs, want 2", n)
	}
}

// BenchmarkCreateInstance creates instances of customer A, each with its
// job, through three stores on one database: "simple", whose URL makes
// every statement a simple query (the store before preparedArgs);
// "prepared-args", the default (statements with arguments, River's,
// prepared); "cache-all", whose URL makes pgx prepare and cache every
// statement (its default, the store before simple_protocol).
//
// Serial creates one at a time, the stores taking turns so that other work
// on the machine weighs on each alike, and reports each one's mean time per
// create (ms). Parallel/<store> creates from 10 goroutines, as the bench's
// 10 connections; the creates of one subscription wait for each other (its
// row's lock), so its time per create is the locked part of a create. Run
// the three alternately (-bench 'CreateInstance/Parallel/simple', then the
// others, a few times) to compare them.
func BenchmarkCreateInstance(b *testing.B) {
	url := storetest.URL(b)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	ctx := context.Background()
	seed, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer seed.Close()
	d, err := seed.SeedDemo(ctx, "x")
	if err != nil {
		b.Fatal(err)
	}
	// No limit on the tier, as the bench's generated tiers.
	_, err = seed.DB().NewUpdate().Model((*cairn.ProductTier)(nil)).Set("max_number_of_instances = NULL").Where("id = ?", d.Premium).Exec(ctx)
	if err != nil {
		b.Fatal(err)
	}
	p, err := seed.Principal(ctx, d.Alice)
	if err != nil {
		b.Fatal(err)
	}
	alice := cairn.NewContextWithPrincipal(ctx, p)
	in := iwMySQL(d)
	modes := []struct{ name, url string }{
		{"simple", url + sep + "default_query_exec_mode=simple_protocol"},
		{"prepared-args", url},
		{"cache-all", url + sep + "default_query_exec_mode=cache_statement"},
	}
	stores := make([]*store.Store, len(modes))
	for i, m := range modes {
		if stores[i], err = store.Open(ctx, m.url); err != nil {
			b.Fatal(err)
		}
		defer stores[i].Close()
	}
	b.Run("Serial", func(b *testing.B) {
		nanos := make([]time.Duration, len(modes))
		counts := make([]int, len(modes))
		i := 0
		for b.Loop() {
			i = (i + 1) % len(modes)
			start := time.Now()
			if _, err := stores[i].CreateInstance(alice, in); err != nil {
				b.Fatal(err)
			}
			nanos[i] += time.Since(start)
			counts[i]++
		}
		for i, m := range modes {
			if counts[i] > 0 {
				b.ReportMetric(float64(nanos[i])/1e6/float64(counts[i]), m.name+"-ms/op")
			}
		}
	})
	for i, m := range modes {
		b.Run("Parallel/"+m.name, func(b *testing.B) {
			b.SetParallelism(5) // 10 goroutines on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := stores[i].CreateInstance(alice, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
