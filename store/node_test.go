package store_test

import (
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestNodeOfEveryKind: Loaders.Node resolves snapshots, API keys and events
// for whoever may read them, and answers NOT_FOUND to a tenant outside
// their scope, as for every other kind.
func TestNodeOfEveryKind(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice, bob := storetest.As(ps["alice"]), storetest.As(ps["bob"])
	_, op, err := s.CreateSnapshot(alice, cairn.InstanceActionInput{ID: d.InstancesA[0]})
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := op.Params["snapshotId"].(string)
	key, err := s.CreateAPIKey(alice, cairn.CreateAPIKeyInput{Name: "ci", TenantID: d.CustomerA, Role: cairn.RoleReader}, "hash", "ck_")
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.EventsAfter(alice, 0, nil, 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("events = %v, %v", events, err)
	}
	for _, id := range []string{snap, key.ID, events[0].ID} {
		t.Run(id, func(t *testing.T) {
			n, err := s.NewLoaders(ps["alice"]).Node(alice, id)
			if err != nil || n == nil {
				t.Fatalf("alice: node(%s) = %v, %v", id, n, err)
			}
			if _, err := s.NewLoaders(ps["bob"]).Node(bob, id); cairn.ErrorCode(err) != cairn.ENOTFOUND {
				t.Errorf("bob (another customer): node(%s) error = %v, want NOT_FOUND", id, err)
			}
		})
	}
	if _, err := s.NewLoaders(ps["alice"]).Node(alice, "snap-nosuchthing"); cairn.ErrorCode(err) != cairn.ENOTFOUND {
		t.Errorf("unknown snapshot: error = %v, want NOT_FOUND", err)
	}
}
