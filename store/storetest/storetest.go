// Package storetest gives tests a real PostgreSQL: one server per test binary,
// a migrated template database, and a fresh database cloned from it per test.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/pglaunch"
)

const template = "cairn_template"

var (
	server *pglaunch.Server
	seq    atomic.Int64
)

// Main runs the tests of a package against one PostgreSQL server. Call it
// from TestMain: func TestMain(m *testing.M) { storetest.Main(m) }.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cairn-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	server, err = pglaunch.Start(ctx, pglaunch.Config{DataDir: filepath.Join(dir, "pg"), Ephemeral: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest: start PostgreSQL:", err)
		return 1
	}
	defer server.Stop()
	if err := server.CreateDatabase(ctx, template, ""); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	s, err := store.Open(ctx, server.URL(template))
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	_, err = s.Migrate(ctx)
	s.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest: migrate:", err)
		return 1
	}
	return m.Run()
}

// URL returns the URL of a fresh, migrated database for the test; it is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	if server == nil {
		t.Fatal("storetest: no server; call storetest.Main from TestMain")
	}
	ctx := context.Background()
	name := fmt.Sprintf("cairn_test_%d", seq.Add(1))
	if err := server.CreateDatabase(ctx, name, template); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := server.DropDatabase(context.Background(), name); err != nil {
			t.Errorf("storetest: drop database: %v", err)
		}
	})
	return server.URL(name)
}

// New returns a store on a fresh, migrated database for the test.
func New(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// As returns a context in which the request acts as p.
func As(p *cairn.Principal) context.Context {
	return cairn.NewContextWithPrincipal(context.Background(), p)
}
