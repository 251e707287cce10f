package server_test

import (
	"context"
	"testing"

	"github.com/cairn-dev/cairn/store"
)

// deepQuery walks the whole graph down from services to instances, and back
// up from each instance to its service.
const deepQuery = `{
  services(first: 50) { totalCount nodes { id name provider { id }
    environments(first: 10) { totalCount nodes { id service { id }
      models(first: 10) { nodes { id environment { id }
        tiers(first: 10) { nodes { id model { id }
          resources(first: 10) { nodes { id tier { id }
            instances(first: 10) { totalCount nodes { id status
              subscription { id tenant { id } }
              resource { id tier { model { environment { service { id name } } } } }
            } }
          } }
        } }
      } }
    } }
  } }
}`

// TestStatementCountIsBoundedByDepth runs the deep query over a catalog, then
// over one ten times as large, and asserts the number of SQL statements is
// the same: every edge is batched, never one statement per parent.
func TestStatementCountIsBoundedByDepth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		small, larger store.Shape
	}{
		{"TenfoldServices", store.Shape{Services: 2, Environments: 2, Models: 2, Tiers: 2, Resources: 2, Instances: 3}, store.Shape{Services: 20, Environments: 2, Models: 2, Tiers: 2, Resources: 2, Instances: 3}},
		{"TenfoldInstances", store.Shape{Services: 2, Environments: 2, Models: 1, Tiers: 2, Resources: 2, Instances: 2}, store.Shape{Services: 2, Environments: 2, Models: 1, Tiers: 2, Resources: 2, Instances: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			count := func(sh store.Shape) (int, int) {
				e := setup(t)
				if err := e.store.Generate(context.Background(), e.demo.Provider, e.demo.CustomerA, sh); err != nil {
					t.Fatal(err)
				}
				r := e.do("owner", deepQuery, nil)
				if len(r.Errors) > 0 {
					t.Fatalf("deep query: %v", r.Errors)
				}
				n, ok := r.Extensions["sqlStatements"].(float64)
				if !ok {
					t.Fatalf("no sqlStatements in extensions: %v", r.Extensions)
				}
				return int(n), countInstances(r.Data)
			}
			small, smallRows := count(tc.small)
			large, largeRows := count(tc.larger)
			t.Logf("%d statements for %d instances, %d for %d", small, smallRows, large, largeRows)
			if largeRows <= smallRows {
				t.Fatalf("the larger catalog returned %d instances, the small one %d: the data did not grow", largeRows, smallRows)
			}
			if small != large {
				t.Errorf("statements grew with the data: %d for the small catalog, %d for the large one", small, large)
			}
			if large > 25 {
				t.Errorf("%d statements for a query 6 levels deep; expected about 3 per level", large)
			}
		})
	}
}

func countInstances(data map[string]any) int {
	n := 0
	for _, s := range get(data, "services", "nodes").([]any) {
		for _, e := range get(s, "environments", "nodes").([]any) {
			for _, m := range get(e, "models", "nodes").([]any) {
				for _, tr := range get(m, "tiers", "nodes").([]any) {
					for _, r := range get(tr, "resources", "nodes").([]any) {
						n += len(get(r, "instances", "nodes").([]any))
					}
				}
			}
		}
	}
	return n
}
