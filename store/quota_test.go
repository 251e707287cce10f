package store_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestInstanceQuotaConcurrentCreates(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx := context.Background()
	d, err := s.SeedDemo(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	as := func(user string) context.Context {
		p, err := s.Principal(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return cairn.NewContextWithPrincipal(ctx, p)
	}
	owner, alice := as(d.Owner), as(d.Alice)
	used := len(d.InstancesA)
	if _, err := s.SetQuota(owner, cairn.SetQuotaInput{TenantID: d.CustomerA, Item: cairn.QuotaInstances, Max: used + 3}); err != nil {
		t.Fatal(err)
	}
	// Two subscriptions, so that only the quota serialises the creates.
	tierA := iwTier(t, s, d, nil)
	tierB := iwTier(t, s, d, nil)
	ins := []cairn.CreateInstanceInput{
		{ResourceID: iwResource(t, s, tierA, false, nil), SubscriptionID: iwSub(t, s, d.CustomerA, tierA, cairn.SubscriptionActive), CloudProvider: "aws", Region: "eu-west-1"},
		{ResourceID: iwResource(t, s, tierB, false, nil), SubscriptionID: iwSub(t, s, d.CustomerA, tierB, cairn.SubscriptionActive), CloudProvider: "aws", Region: "eu-west-1"},
	}
	var n atomic.Int64
	codes := iwConcurrently(8, func() error {
		_, err := s.CreateInstance(alice, ins[n.Add(1)%2])
		return err
	})
	if codes[""] != 3 || codes[cairn.ERESOURCEEXHAUSTED] != 5 {
		t.Errorf("results by code = %v, want 3 successes and 5 RESOURCE_EXHAUSTED", codes)
	}
	if got := iwCount(t, s, "SELECT count(*) FROM resource_instances WHERE tenant_id = ?", d.CustomerA); got != used+3 {
		t.Errorf("customer A has %d instances, want the quota's %d", got, used+3)
	}
	_, err = s.CreateInstance(alice, ins[0])
	iwCheck(t, err, cairn.ERESOURCEEXHAUSTED, "", "the INSTANCES quota of tenant "+d.CustomerA)
}
