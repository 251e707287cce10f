package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type env struct {
	t          *testing.T
	s          *store.Store
	url        string
	d          *store.Demo
	alice, bob context.Context
}

func setup(t *testing.T) *env {
	t.Helper()
	url := storetest.URL(t)
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d, err := s.SeedDemo(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, s: s, url: url, d: d}
	for who, id := range map[*context.Context]string{&e.alice: d.Alice, &e.bob: d.Bob} {
		p, err := s.Principal(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		*who = storetest.As(p)
	}
	return e
}

func (e *env) bus(buffer int) *events.Bus {
	e.t.Helper()
	b, err := events.Start(context.Background(), events.Config{Store: e.s, URL: e.url, Buffer: buffer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(b.Close)
	return b
}

// cycle stops and starts a RUNNING instance of ctx's tenant with no worker,
// finishing each operation by hand: four events.
func (e *env) cycle(ctx context.Context, id string) {
	e.t.Helper()
	for _, a := range []cairn.InstanceAction{cairn.ActionStop, cairn.ActionStart} {
		_, op, err := e.s.InstanceAction(ctx, a, cairn.InstanceActionInput{ID: id})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.s.FinishTransition(context.Background(), op.ID, nil, ""); err != nil {
			e.t.Fatal(err)
		}
	}
}

// read takes n events from ch, failing after 10 seconds.
func read(t *testing.T, ch <-chan *cairn.AuditEvent, n int) []*cairn.AuditEvent {
	t.Helper()
	var out []*cairn.AuditEvent
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream closed after %d events, want %d", len(out), n)
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("got %d events in 10s, want %d", len(out), n)
		}
	}
	return out
}

// transitions renders events as "PREV→STATUS".
func transitions(evs []*cairn.AuditEvent) string {
	var b []string
	for _, ev := range evs {
		b = append(b, fmt.Sprintf("%s→%s", *ev.PreviousStatus, *ev.Status))
	}
	return strings.Join(b, " ")
}

const oneCycle = "RUNNING→STOPPING STOPPING→STOPPED STOPPED→STARTING STARTING→RUNNING"

func TestStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.bus(0)
	ctx, cancel := context.WithCancel(e.alice)
	defer cancel()
	aliceCh, err := b.Stream(ctx, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bobCh, err := b.Stream(e.bob, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.cycle(e.alice, e.d.InstancesA[0])
	e.cycle(e.bob, e.d.InstancesB[0])
	evs := read(t, aliceCh, 4)
	if got := transitions(evs); got != oneCycle {
		t.Errorf("alice got %s", got)
	}
	for i, ev := range evs {
		if *ev.InstanceID != e.d.InstancesA[0] || i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	// Bob's stream has his four and never alice's.
	for _, ev := range read(t, bobCh, 4) {
		if ev.TenantID != e.d.CustomerB {
			t.Errorf("bob got an event of %s", ev.TenantID)
		}
	}

	t.Run("ResumeAfterCursor", func(t *testing.T) {
		last := evs[len(evs)-1].Seq
		cancel() // alice disconnects
		e.cycle(e.alice, e.d.InstancesA[1])
		ch, err := b.Stream(e.alice, &last, &cairn.AuditEventFilter{TenantID: &e.d.CustomerA}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.cycle(e.alice, e.d.InstancesA[1]) // live, after the missed ones
		got := read(t, ch, 8)
		if tr := transitions(got); tr != oneCycle+" "+oneCycle {
			t.Errorf("resumed stream = %s", tr)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Errorf("events out of order: %d after %d", got[i].Seq, got[i-1].Seq)
			}
		}
	})
}

// TestSlowSubscriber has one subscriber that reads nothing while events
// flow: the writer and the other subscriber go on, and the slow one later
// gets every event in order from the table.
func TestSlowSubscriber(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.bus(2)
	slow, err := b.Stream(e.alice, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := b.Stream(e.alice, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const cycles = 5
	done := make(chan []*cairn.AuditEvent)
	go func() { done <- read(t, fast, 4*cycles) }()
	for range cycles {
		e.cycle(e.alice, e.d.InstancesA[0])
	}
	want := strings.TrimSpace(strings.Repeat(oneCycle+" ", cycles))
	if got := transitions(<-done); got != want {
		t.Errorf("fast subscriber got %s", got)
	}
	got := read(t, slow, 4*cycles)
	if tr := transitions(got); tr != want {
		t.Errorf("slow subscriber got %s", tr)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("events out of order: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
}

// TestSubscribe reads a Sub without a goroutine of its own: OnReady's
// function rings when an event waits, Next answers nil when none does, and
// a subscriber with a buffer of 2 that reads nothing while eight events
// come (behind: it reads them from the table) gets them all, in order, then
// bob's stream none of them. Ending the context ends it.
func TestSubscribe(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.bus(2)
	ctx, cancel := context.WithCancel(e.alice)
	defer cancel()
	s, err := b.Subscribe(ctx, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.Subscribe(e.bob, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	rang := make(chan struct{}, 1)
	ring := func() {
		select {
		case rang <- struct{}{}:
		default:
		}
	}
	s.OnReady(ring)
	bobRang := make(chan struct{}, 1)
	bob.OnReady(func() { bobRang <- struct{}{} })
	if ev, err := s.Next(); ev != nil || err != nil {
		t.Fatalf("Next before any event = %v, %v", ev, err)
	}
	e.cycle(e.alice, e.d.InstancesA[0])
	e.cycle(e.alice, e.d.InstancesA[0])
	var got []*cairn.AuditEvent
	timeout := time.After(10 * time.Second)
	for len(got) < 8 {
		ev, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil {
			got = append(got, ev)
			continue
		}
		select {
		case <-rang:
		case <-timeout:
			t.Fatalf("got %d events in 10s, want 8", len(got))
		}
	}
	if tr := transitions(got); tr != oneCycle+" "+oneCycle {
		t.Errorf("got %s", tr)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("events out of order: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
	// Bob's first event is his own, not one of alice's.
	e.cycle(e.bob, e.d.InstancesB[0])
	select {
	case <-bobRang:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's subscriber never rang")
	}
	if ev, err := bob.Next(); err != nil || ev == nil || ev.TenantID != e.d.CustomerB {
		t.Errorf("bob's first event = %+v, %v", ev, err)
	}
	cancel()
	for {
		_, err := s.Next()
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Next after the context ended: %v, want context.Canceled", err)
			}
			break
		}
		<-rang // ended subscribers ring too
	}
}

// TestSubscribersShareTenants checks that subscribers who may read the same
// tenants share one set of them, and others do not.
func TestSubscribersShareTenants(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.bus(2)
	sub := func(ctx context.Context) *events.Sub {
		s, err := b.Subscribe(ctx, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	alice1, alice2, bob := sub(e.alice), sub(e.alice), sub(e.bob)
	if !events.SameTenants(alice1, alice2) {
		t.Error("two subscribers of one principal hold a set of tenants each")
	}
	if events.SameTenants(alice1, bob) {
		t.Error("subscribers of two tenants share their set of tenants")
	}
}
