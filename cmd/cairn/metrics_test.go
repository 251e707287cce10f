package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/store/storetest"
)

// TestLiveMetrics checks that jobs, open subscriptions and delivered events
// show in /metrics as they happen.
func TestLiveMetrics(t *testing.T) {
	t.Parallel()
	m := replica(t, storetest.URL(t), "--provision-delay", "20ms")
	token := signIn(t, m, "alice@customer-a.example")
	c := dial(t, m, token)
	c.subscribe("1", `subscription { instanceStatusChanged { status } }`, nil)
	sub, res := aliceSub(t, m, token)
	d := gql(t, m, token, createMutation, map[string]any{"sub": sub, "res": res})
	id := d["createInstance"].(map[string]any)["instance"].(map[string]any)["id"].(string)
	awaitStatus(t, m, token, id, "RUNNING")
	c.transitions("1", 2) // DEPLOYING, then RUNNING: both delivered

	metrics := func() string {
		res, err := http.Get("http://" + m.Addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	want := []string{
		`cairn_jobs_total{kind="cairn_instance_transition",outcome="ok"} 1`,
		`cairn_jobs_waiting 0`,
		`cairn_subscriptions_active 1`,
		`cairn_events_delivered_total 2`,
	}
	// The job's counter moves just after the worker returns: await it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, missing := metrics(), ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s", missing)
		}
		time.Sleep(20 * time.Millisecond) // polling /metrics; there is no event to await
	}
}
