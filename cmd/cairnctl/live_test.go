package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/lifecycle"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// setupLive is setup with what cairn serve runs besides HTTP: the event bus
// (live subscriptions over graphql-ws) and the lifecycle engine over the
// simulated cloud, quick.
func setupLive(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	url := storetest.URL(t)
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d, err := s.SeedDemo(ctx, demoHash)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := events.Start(ctx, events.Config{Store: s, URL: url, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	// The simulated cloud fails the creation of instances whose database is
	// named "fail".
	sim := &lifecycle.Simulated{Delay: 100 * time.Millisecond, FailFunc: func(r lifecycle.Request) string {
		if r.Action == cairn.ActionCreate && r.Instance.RequestParams["mysqlDatabase"] == "fail" {
			return "the simulated cloud has no capacity"
		}
		return ""
	}}
	engine, err := lifecycle.New(lifecycle.Config{Store: s, Provisioner: sim,
		Workers: 4, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.StopAndCancel(context.Background()) })
	return newEnv(t, s, d, server.Live{Bus: bus})
}

// TestLifecycle drives an instance through the real lifecycle with --wait,
// and watches it live over graphql-ws: create, stop, start, restart, delete.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := setupLive(t)
	e.signin(store.DemoAlice)
	inst := decode[map[string]any](t, e.must("instance", "create", "--resource", e.demo.MySQL, "--cloud-provider", "aws", "--region", "us-east-1",
		"--param", "mysqlDatabase=db", "--param", "mysqlUser=u", "--param", "mysqlPassword=pw", "--wait", "--wait-timeout", "30s", "-o", "json"))
	id, _ := inst["id"].(string)
	if inst["status"] != "RUNNING" || lookup(inst, "resultParams.endpoint") == nil {
		t.Fatalf("create --wait printed %v", inst)
	}

	// The newest event's cursor lets watch replay what follows, so the
	// watch below misses nothing however late it subscribes.
	evs := decode[struct{ Nodes []map[string]any }](t, e.must("instance", "events", id, "--first", "1", "-o", "json"))
	if len(evs.Nodes) != 1 || evs.Nodes[0]["status"] != "RUNNING" {
		t.Fatalf("events: %+v", evs)
	}
	cursor, _ := evs.Nodes[0]["cursor"].(string)

	stopped := decode[map[string]any](t, e.must("instance", "stop", id, "-o", "json"))
	if lookup(stopped, "instance.status") != "STOPPING" || lookup(stopped, "operation.id") == nil {
		t.Errorf("stop printed %v", stopped)
	}
	r := e.run("", "instance", "watch", id, "--after", cursor, "--until", "STOPPED", "--timeout", "20s")
	if r.code != 0 || !strings.Contains(r.stdout, id+"  RUNNING → STOPPING\n") || !strings.Contains(r.stdout, id+"  STOPPING → STOPPED\n") {
		t.Errorf("watch --until STOPPED: %+v", r)
	}

	// A second stop is refused by the state machine: CONFLICT, exit 1.
	if r := e.run("", "instance", "stop", id); r.code != 1 || !strings.Contains(r.stderr, "CONFLICT") || !strings.Contains(r.stderr, "STOPPED") {
		t.Errorf("second stop: %+v", r)
	}
	for _, step := range []struct{ verb, want string }{{"start", "RUNNING"}, {"restart", "RUNNING"}, {"failover", "RUNNING"}} {
		got := decode[map[string]any](t, e.must("instance", step.verb, id, "--wait", "-o", "json"))
		if got["status"] != step.want {
			t.Errorf("%s --wait: %v", step.verb, got)
		}
	}
	del := decode[map[string]any](t, e.must("instance", "delete", id, "-o", "json"))
	if del["status"] != "QUARANTINED" || del["quarantineEndsAt"] == nil {
		t.Errorf("delete printed %v", del)
	}
	if got := decode[map[string]any](t, e.must("instance", "restore", id, "--wait", "-o", "json")); got["status"] != "RUNNING" {
		t.Errorf("restore --wait: %v", got)
	}
	del = decode[map[string]any](t, e.must("instance", "delete", id, "--purge", "--wait", "-o", "json"))
	if del["status"] != "DELETED" {
		t.Errorf("delete --purge --wait printed %v", del)
	}
	if r := e.run("", "instance", "describe", id); r.code != 1 || !strings.Contains(r.stderr, "NOT_FOUND") {
		t.Errorf("describe after delete: %+v", r)
	}
}

// TestWaitFailed: --wait reports an instance the cloud failed to create,
// and exits 1.
func TestWaitFailed(t *testing.T) {
	t.Parallel()
	e := setupLive(t)
	e.signin(store.DemoAlice)
	r := e.run("", "instance", "create", "--resource", e.demo.MySQL, "--cloud-provider", "aws", "--region", "eu-west-1",
		"--param", "mysqlDatabase=fail", "--param", "mysqlUser=u", "--param", "mysqlPassword=pw", "--wait", "--wait-timeout", "30s")
	if r.code != 1 || !strings.Contains(r.stderr, "DEPLOYING") || !strings.Contains(r.stderr, "FAILED: instance instance-") {
		t.Errorf("create --wait of a failing instance: %+v", r)
	}
}
