package store_test

import (
	"context"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// demo returns a store loaded with the demo data and the principals of its
// three users.
func demo(t *testing.T) (*store.Store, *store.Demo, map[string]*cairn.Principal) {
	t.Helper()
	s := storetest.New(t)
	ctx := context.Background()
	d, err := s.SeedDemo(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	ps := map[string]*cairn.Principal{}
	for name, id := range map[string]string{"owner": d.Owner, "alice": d.Alice, "bob": d.Bob} {
		if ps[name], err = s.Principal(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	return s, d, ps
}

func TestListScope(t *testing.T) {
	t.Parallel()
	s, _, ps := demo(t)
	for _, tc := range []struct {
		who                           string
		instances, subs, tenants, svc int
	}{
		{"owner", 6, 2, 3, 1},
		{"alice", 4, 1, 1, 1},
		{"bob", 2, 1, 1, 1},
	} {
		t.Run(tc.who, func(t *testing.T) {
			ctx := storetest.As(ps[tc.who])
			inst, err := s.Instances(ctx, cairn.PageArgs{}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := inst.TotalCount(ctx)
			if err != nil || n != tc.instances || len(inst.Edges) != tc.instances {
				t.Errorf("instances: count %d (%v), edges %d; want %d", n, err, len(inst.Edges), tc.instances)
			}
			subs, err := s.ServiceSubscriptions(ctx, cairn.PageArgs{}, nil, nil)
			if err != nil || len(subs.Edges) != tc.subs {
				t.Errorf("subscriptions: %d (%v), want %d", len(subs.Edges), err, tc.subs)
			}
			ten, err := s.Tenants(ctx, cairn.PageArgs{}, nil, nil)
			if err != nil || len(ten.Edges) != tc.tenants {
				t.Errorf("tenants: %d (%v), want %d", len(ten.Edges), err, tc.tenants)
			}
			svc, err := s.Services(ctx, cairn.PageArgs{}, nil, nil)
			if err != nil || len(svc.Edges) != tc.svc {
				t.Errorf("services: %d (%v), want %d", len(svc.Edges), err, tc.svc)
			}
		})
	}
}

func TestKeysetPagination(t *testing.T) {
	t.Parallel()
	s, _, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	two := 2
	var seen []string
	var after *string
	for range 4 {
		c, err := s.Instances(ctx, cairn.PageArgs{First: &two, After: after}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range c.Edges {
			seen = append(seen, e.Node.ID)
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		after = c.PageInfo.EndCursor
	}
	if len(seen) != 6 {
		t.Fatalf("paged through %d instances, want 6: %v", len(seen), seen)
	}
	// Backward from the end gives the same last two.
	c, err := s.Instances(ctx, cairn.PageArgs{Last: &two}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{c.Edges[0].Node.ID, c.Edges[1].Node.ID}; got[0] != seen[4] || got[1] != seen[5] || !c.PageInfo.HasPreviousPage {
		t.Errorf("last 2 = %v (hasPrevious %v), want %v", got, c.PageInfo.HasPreviousPage, seen[4:])
	}
}
