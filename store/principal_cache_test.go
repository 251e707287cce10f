package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// replica is one store with a principal cache over a shared database, and
// the notifications its cache applied.
type replica struct {
	s      *store.Store
	events chan string
}

func newReplica(t *testing.T, url string) *replica {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := &replica{s: s, events: make(chan string, 1024)}
	if err := s.CachePrincipalsObserved(ctx, url, 0, func(e string) {
		select {
		case r.events <- e:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

// await waits until the cache applied an event that pass accepts.
func (r *replica) await(t *testing.T, pass func(string) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.events:
			if pass(e) {
				return
			}
		case <-deadline:
			t.Fatal("the principal cache received no matching notification within 10s")
		}
	}
}

// settle waits until every replica has applied the notifications of what
// was committed so far: a notification committed afterwards reaches each in
// commit order.
func settle(t *testing.T, rs ...*replica) {
	t.Helper()
	if _, err := rs[0].s.DB().ExecContext(context.Background(), "SELECT pg_notify(?, 'user settled')", store.PrincipalChannel); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		r.await(t, func(e string) bool { return e == "user settled" })
	}
}

// principal loads the principal of id and returns the statements it cost.
func (r *replica) principal(id string) (*cairn.Principal, int, error) {
	ctx, n := store.WithStatementCounter(context.Background())
	p, err := r.s.Principal(ctx, id)
	return p, n.Count(), err
}

func hasGrant(p *cairn.Principal, tenant string) bool {
	return p != nil && slices.ContainsFunc(p.Grants, func(g cairn.Grant) bool { return g.TenantID == tenant })
}

// TestPrincipalCacheTwoReplicas caches Alice's principal on two replicas of
// one database, changes it through the first, and checks that the first
// refuses (or narrows) her very next request and the second does as soon as
// the commit's notification arrives, without a statement before the change.
func TestPrincipalCacheTwoReplicas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// change runs on the writing replica; it may prepare first.
		change func(t *testing.T, s *store.Store, d *store.Demo, owner context.Context) (undo func())
		code   string // of Alice's principal after the change
		grant  bool   // whether she still holds a grant on the provider
	}{
		{"DisabledUser", func(t *testing.T, s *store.Store, d *store.Demo, owner context.Context) func() {
			return func() {
				yes := true
				if _, err := s.UpdateUser(owner, cairn.UpdateUserInput{ID: d.Alice, Disabled: &yes}); err != nil {
					t.Fatal(err)
				}
			}
		}, cairn.EUNAUTHENTICATED, false},
		{"DisabledTenant", func(t *testing.T, s *store.Store, d *store.Demo, owner context.Context) func() {
			return func() {
				disabled := cairn.TenantDisabled
				if _, err := s.UpdateTenant(owner, cairn.UpdateTenantInput{ID: d.CustomerA, State: &disabled}); err != nil {
					t.Fatal(err)
				}
			}
		}, cairn.EUNAUTHENTICATED, false},
		{"RemovedRoleBinding", func(t *testing.T, s *store.Store, d *store.Demo, owner context.Context) func() {
			b, err := s.CreateRoleBinding(owner, cairn.CreateRoleBindingInput{UserID: d.Alice, TenantID: d.Provider, Role: cairn.RoleReader})
			if err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := s.DeleteRoleBinding(owner, cairn.DeleteInput{ID: b.ID}); err != nil {
					t.Fatal(err)
				}
			}
		}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := storetest.URL(t)
			a, b := newReplica(t, url), newReplica(t, url)
			d, err := a.s.SeedDemo(context.Background(), "x")
			if err != nil {
				t.Fatal(err)
			}
			op, err := a.s.Principal(context.Background(), d.Owner)
			if err != nil {
				t.Fatal(err)
			}
			commit := tc.change(t, a.s, d, storetest.As(op))
			settle(t, a, b)
			for name, r := range map[string]*replica{"writer": a, "other": b} {
				if _, _, err := r.principal(d.Alice); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if _, n, err := r.principal(d.Alice); err != nil || n != 0 {
					t.Fatalf("%s: cached principal cost %d statements (%v), want 0", name, n, err)
				}
			}
			commit()
			check := func(name string, r *replica) {
				p, _, err := r.principal(d.Alice)
				if cairn.ErrorCode(err) != tc.code {
					t.Errorf("%s: code %q (%v), want %q", name, cairn.ErrorCode(err), err, tc.code)
				}
				if hasGrant(p, d.Provider) != tc.grant {
					t.Errorf("%s: grant on the provider %v, want %v", name, hasGrant(p, d.Provider), tc.grant)
				}
			}
			check("writer", a) // at once: its own commit emptied its cache
			b.await(t, func(e string) bool { return e == "*" || e == "user "+d.Alice })
			check("other", b)
		})
	}
}

// TestPrincipalCacheConnectionLost ends the cache's LISTEN connection and
// checks that the cache is emptied and bypassed until it listens again.
func TestPrincipalCacheConnectionLost(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	r := newReplica(t, url)
	ctx := context.Background()
	d, err := r.s.SeedDemo(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, r)
	if _, _, err := r.principal(d.Alice); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := r.principal(d.Alice); n != 0 {
		t.Fatalf("cached principal cost %d statements, want 0", n)
	}
	if _, err := r.s.DB().ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()", store.PrincipalListener); err != nil {
		t.Fatal(err)
	}
	r.await(t, func(e string) bool { return e == "down" })
	r.await(t, func(e string) bool { return e == "up" })
	if _, n, err := r.principal(d.Alice); err != nil || n != 1 {
		t.Fatalf("after reconnecting: %d statements (%v), want 1 (the cache was emptied)", n, err)
	}
	if _, n, err := r.principal(d.Alice); err != nil || n != 0 {
		t.Fatalf("listening again: %d statements (%v), want 0", n, err)
	}
}

// TestPrincipalCacheSurvivesOtherWrites: a write that changes no principal
// (an instance action) leaves the writer's cache serving, so a busy write
// load does not turn every request back into a principal statement.
func TestPrincipalCacheSurvivesOtherWrites(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	a := newReplica(t, url)
	d, err := a.s.SeedDemo(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, a)
	alice, _, err := a.principal(d.Alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := a.principal(d.Alice); err != nil || n != 0 {
		t.Fatalf("cached principal cost %d statements (%v), want 0", n, err)
	}
	if _, _, err := a.s.InstanceAction(storetest.As(alice), cairn.ActionStop, cairn.InstanceActionInput{ID: d.InstancesA[0]}); err != nil {
		t.Fatal(err)
	}
	settle(t, a)
	if _, n, err := a.principal(d.Alice); err != nil || n != 0 {
		t.Errorf("after an instance action the principal cost %d statements (%v), want 0", n, err)
	}
}
