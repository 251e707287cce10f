package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestQueryPreparedScansAsBun checks that queryPrepared, which reads pgx's
// rows itself, fills its destination exactly as bun does from
// database/sql's rows: every column type of the catalog (text, enums,
// jsonb, text[], timestamps, nullable columns), the NULL columns of a
// parent joined out of scope, a slice of pointers, columns the model does
// not have, and no rows at all.
func TestQueryPreparedScansAsBun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	d, err := s.SeedDemo(ctx, "not-a-hash")
	if err != nil {
		t.Fatal(err)
	}
	// Galera moves to the private DEV environment, out of Customer A's
	// scope, and so does the resource of A's second instance.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE service_environments SET visibility = 'PRIVATE' WHERE id = ?", []any{d.Dev}},
		{"UPDATE resources SET environment_id = ? WHERE id = ?", []any{d.Dev, d.Galera}},
		{"UPDATE resource_instances SET resource_id = ? WHERE id = ?", []any{d.Galera, d.InstancesA[1]}},
	} {
		if _, err := s.DB().ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := store.RunsOnPgx(ctx, s); err != nil || !ok {
		t.Fatalf("queryPrepared does not find pgx's connection (%v): it would test database/sql against itself", err)
	}
	chain, err := store.ChainStatement(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Chain", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			readers []string
			rows    int
			parents bool // whether the resource and tier join
		}{
			{"Joined", d.InstancesA[0], []string{d.CustomerA, d.Provider}, 1, true},
			{"ProviderReads", d.InstancesA[1], []string{d.Provider, d.CustomerA}, 1, true},
			{"ParentsOutOfScope", d.InstancesA[1], []string{d.CustomerA}, 1, false},
			{"NoRow", d.InstancesA[0], []string{d.CustomerB}, 0, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var direct, viaSQL []store.ChainRow
				if err := store.ScanBothWays(ctx, s, &direct, &viaSQL, chain, tc.id, tc.readers); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(direct, viaSQL) {
					t.Errorf("queryPrepared scanned\n%+v\nbun scans\n%+v", direct, viaSQL)
				}
				if len(direct) != tc.rows {
					t.Fatalf("%d rows, want %d", len(direct), tc.rows)
				}
				if tc.rows > 0 && (direct[0].R.ID != "" || direct[0].T.ID != "") != tc.parents {
					t.Errorf("parents joined: resource %q tier %q, want %v", direct[0].R.ID, direct[0].T.ID, tc.parents)
				}
			})
		}
	})
	t.Run("Pointers", func(t *testing.T) {
		var direct, viaSQL []*cairn.ProductTier
		if err := store.ScanBothWays(ctx, s, &direct, &viaSQL, "SELECT *, 1 AS not_a_column FROM product_tiers WHERE provider_tenant_id = $1 ORDER BY id", d.Provider); err != nil {
			t.Fatal(err)
		}
		if len(direct) == 0 || !reflect.DeepEqual(direct, viaSQL) {
			t.Errorf("queryPrepared scanned\n%+v\nbun scans\n%+v", direct, viaSQL)
		}
	})
	t.Run("Resources", func(t *testing.T) {
		var direct, viaSQL []cairn.Resource
		if err := store.ScanBothWays(ctx, s, &direct, &viaSQL, "SELECT * FROM resources WHERE provider_tenant_id = $1 ORDER BY id", d.Provider); err != nil {
			t.Fatal(err)
		}
		if len(direct) == 0 || !reflect.DeepEqual(direct, viaSQL) {
			t.Errorf("queryPrepared scanned\n%+v\nbun scans\n%+v", direct, viaSQL)
		}
	})
}
