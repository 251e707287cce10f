// Package events is Cairn's event bus. Events are rows written in the
// transaction of the change they record (store.insertEvent), which also
// queues a NOTIFY carrying the event's seq. Every replica LISTENs on one
// dedicated connection, reads the new events once, and fans them out to its
// in-memory subscribers. Each subscriber has a bounded buffer: one that falls
// behind is not waited for; it catches up from the table instead.
//
// A subscriber holds no goroutine: Subscribe returns a Sub that is read with
// Next and calls a function when an event is waiting (see Sub.OnReady), so a
// transport can deliver without a goroutine per subscription. Stream wraps
// a Sub in a channel (and a goroutine) for consumers that want one.
package events

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/internal/intern"
	"github.com/cairn-dev/cairn/store"
	"github.com/jackc/pgx/v5"
)

// Config configures a Bus.
type Config struct {
	Store *store.Store
	// URL is the PostgreSQL URL the bus LISTENs on (one connection).
	URL string
	// Buffer is how many events a subscriber may have waiting (default 256).
	Buffer int
	// Poll is how often the bus reads new events without a notification, as a
	// safety net (default 5s).
	Poll   time.Duration
	Logger *slog.Logger
	// OnSubscribe, if set, is told +1 when a stream opens and -1 when it
	// closes; OnDeliver, if set, once per event a stream delivers.
	OnSubscribe func(delta int)
	OnDeliver   func()
}

// Bus fans committed events out to the subscribers of one replica. It is safe
// for concurrent use.
type Bus struct {
	cfg Config

	mu     sync.Mutex
	subs   []*Sub // each knows its index; guarded by mu
	last   int64  // the seq of the last event dispatched; guarded by mu
	closed bool   // guarded by mu

	snap []*Sub // the subscribers of one dispatch; only run uses it

	tenantSets intern.Pool[tenantSet] // by their sorted IDs

	cancel context.CancelFunc
	done   chan struct{}
}

// batch is how many events one read of the table returns.
const batch = 500

// ErrClosed ends the subscriptions of a bus that was closed.
var ErrClosed = errors.New("events: the bus is closed")

// Start connects, LISTENs and starts dispatching; every event committed
// after Start returns reaches the subscribers.
func Start(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Bus{cfg: cfg, done: make(chan struct{})}
	conn, err := b.listen(ctx)
	if err != nil {
		return nil, err
	}
	if b.last, err = cfg.Store.LastEventSeq(ctx); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go b.run(runCtx, conn)
	return b, nil
}

// Close stops the bus; subscriptions end with ErrClosed.
func (b *Bus) Close() {
	b.cancel()
	<-b.done
	b.mu.Lock()
	b.closed = true
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	for _, s := range subs {
		s.end(ErrClosed, false)
	}
}

func (b *Bus) listen(ctx context.Context) (*pgx.Conn, error) {
	return store.Listen(ctx, b.cfg.URL, store.EventChannel, "cairn event bus")
}

// run waits for notifications and dispatches; it reconnects when the
// connection drops and catches up on what it missed meanwhile.
func (b *Bus) run(ctx context.Context, conn *pgx.Conn) {
	defer close(b.done)
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = b.listen(ctx); err != nil {
				b.cfg.Logger.Warn("events: reconnecting", "err", err, "in", backoff)
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
		}
		wctx, cancel := context.WithTimeout(ctx, b.cfg.Poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			b.cfg.Logger.Warn("events: connection lost", "err", err)
			conn.Close(context.Background())
			conn = nil
		}
		// A notification, a quiet interval or a reconnection: read what is new.
		if err := b.dispatch(ctx); err != nil && ctx.Err() == nil {
			b.cfg.Logger.Warn("events: reading new events", "err", err)
		}
	}
}

// dispatch reads the events after the last one dispatched and offers them
// to every subscriber, each subscriber's in seq order. Events commit in seq
// order (store.eventLock), so nothing is skipped.
func (b *Bus) dispatch(ctx context.Context) error {
	for {
		b.mu.Lock()
		last := b.last
		b.mu.Unlock()
		evs, err := b.cfg.Store.EventsBySeq(ctx, last, batch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		// A subscriber that joins after this snapshot starts after evs.
		b.mu.Lock()
		b.snap = append(b.snap[:0], b.subs...)
		b.last = evs[len(evs)-1].Seq
		b.mu.Unlock()
		fanOut(b.snap, evs)
		clear(b.snap) // let ended subscribers go
		if len(evs) < batch {
			return nil
		}
	}
}

// fanMin is how many subscribers make it worth a worker of their own.
const fanMin = 512

// fanOut offers evs to subs, spread over GOMAXPROCS workers; it returns
// when every subscriber has been offered every event. Offering never waits
// for a subscriber.
func fanOut(subs []*Sub, evs []*cairn.AuditEvent) {
	offer := func(subs []*Sub) {
		for _, s := range subs {
			for _, ev := range evs {
				s.offer(ev)
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(subs)/fanMin)
	if workers <= 1 {
		offer(subs)
		return
	}
	var wg sync.WaitGroup
	per := (len(subs) + workers - 1) / workers
	for lo := per; lo < len(subs); lo += per {
		wg.Go(func() { offer(subs[lo:min(lo+per, len(subs))]) })
	}
	offer(subs[:per])
	wg.Wait()
}

// Stream delivers the events the caller of ctx may read that pass filter
// and keep (nil: all): with after set, first every stored event after that
// seq, then live ones; without, the live ones from now. Events come in seq
// order, without gaps or duplicates, until ctx ends; then the channel is
// closed. A consumer that reads slowly falls behind alone: the bus never
// waits for it, and it catches up from the table.
//
// Stream runs a goroutine per stream; Subscribe runs none.
//
// Returns UNAUTHENTICATED when ctx has no principal.
func (b *Bus) Stream(ctx context.Context, after *int64, filter *cairn.AuditEventFilter, keep func(*cairn.AuditEvent) bool) (<-chan *cairn.AuditEvent, error) {
	s, err := b.Subscribe(ctx, after, filter, keep)
	if err != nil {
		return nil, err
	}
	return Pump(ctx, s, func() (*cairn.AuditEvent, bool) {
		ev, err := s.Next()
		return ev, err != nil
	}), nil
}

// Pump feeds the items next makes of s into a channel from a goroutine of its
// own, until next reports the end or ctx ends; then it closes s and the
// channel. next returns nil (and false) when nothing waits yet: Pump sleeps
// until s is ready again. It is for consumers that read a channel (SSE);
// a transport that drives subscriptions (Driver) needs no goroutine.
func Pump[T any](ctx context.Context, s *Sub, next func() (item *T, end bool)) <-chan *T {
	wake := make(chan struct{}, 1)
	s.OnReady(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	out := make(chan *T)
	go func() {
		defer close(out)
		defer s.Close()
		for {
			item, end := next()
			if end {
				return
			}
			if item == nil {
				select {
				case <-wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- item:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Subscribe registers a subscriber to the events the caller of ctx may read
// that pass filter and keep (nil: all): with after set, first every stored
// event after that seq, then live ones; without, the live ones from now.
// Read it with Next once OnReady's function says an event waits. It ends
// when ctx ends, when the bus closes or when Close is called.
//
// Returns UNAUTHENTICATED when ctx has no principal.
func (b *Bus) Subscribe(ctx context.Context, after *int64, filter *cairn.AuditEventFilter, keep func(*cairn.AuditEvent) bool) (*Sub, error) {
	tenants, err := b.readableTenants(ctx)
	if err != nil {
		return nil, err
	}
	s := &Sub{b: b, ctx: ctx, tenants: tenants, filter: filter, keep: keep}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, cairn.Errorf(cairn.EFAILEDPRECONDITION, "live updates are stopping on this server; reconnect to another replica")
	}
	s.cursor = b.last
	s.idx = len(b.subs)
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	if after != nil {
		s.cursor, s.table = *after, true
	}
	if b.cfg.OnSubscribe != nil {
		b.cfg.OnSubscribe(1)
	}
	s.stop = context.AfterFunc(ctx, func() { s.end(ctx.Err(), true) })
	return s, nil
}

// tenantSet is a set of tenant IDs, read-only once made.
type tenantSet struct{ ids map[string]bool }

// readableTenants returns the tenants the caller of ctx may read, as a set
// shared with the subscribers that may read the same (a console's thousands
// of subscriptions are mostly one principal's).
func (b *Bus) readableTenants(ctx context.Context) (*tenantSet, error) {
	set, err := b.cfg.Store.ReadableTenants(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return b.tenantSets.Get(strings.Join(ids, " "), func() *tenantSet { return &tenantSet{set} }), nil
}

// Sub is one subscriber of a Bus (see Bus.Subscribe). Next must not be
// called by two goroutines at once; the other methods may be.
type Sub struct {
	b       *Bus
	ctx     context.Context
	tenants *tenantSet
	filter  *cairn.AuditEventFilter
	keep    func(*cairn.AuditEvent) bool
	stop    func() bool // stops the context.AfterFunc of Subscribe

	idx int // in b.subs, -1 once removed; guarded by b.mu

	mu      sync.Mutex          // guards what follows
	queue   []*cairn.AuditEvent // live events offered and not yet read, from head
	head    int
	behind  bool                // the queue overflowed: offers are dropped until Next reads the table
	table   bool                // Next reads the table after cursor first
	pending []*cairn.AuditEvent // read from the table, not yet returned
	cursor  int64               // the seq of the last event returned or read
	ended   error
	closed  bool // end ran
	ready   func()
	rung    bool // ready was called and Next has not yet answered nil since
}

// match reports whether the subscriber may and wants to see ev.
func (s *Sub) match(ev *cairn.AuditEvent) bool {
	return (s.tenants.ids[ev.TenantID] || s.tenants.ids[ev.ProviderTenantID]) && s.filter.Match(ev) && (s.keep == nil || s.keep(ev))
}

// offer hands ev to s without ever blocking.
func (s *Sub) offer(ev *cairn.AuditEvent) {
	if !s.match(ev) {
		return
	}
	s.mu.Lock()
	if s.ended != nil || s.behind {
		s.mu.Unlock()
		return
	}
	if len(s.queue)-s.head >= s.b.cfg.Buffer {
		// Behind: drop what waits, the table has it all.
		s.behind, s.table = true, true
		s.reset()
	} else {
		s.queue = append(s.queue, ev)
	}
	ring := s.ring()
	s.mu.Unlock()
	if ring != nil {
		ring()
	}
}

// reset empties the queue, keeping its array. s.mu must be held.
func (s *Sub) reset() {
	clear(s.queue)
	s.queue, s.head = s.queue[:0], 0
}

// ring returns the ready function when it is to be called (once until Next
// answers nil). s.mu must be held.
func (s *Sub) ring() func() {
	if s.rung || s.ready == nil {
		return nil
	}
	s.rung = true
	return s.ready
}

// OnReady sets the function called, without s.mu held and on any goroutine,
// when an event waits for Next or the subscription ended, once until Next
// answers nil. It is called at once if something waits already.
func (s *Sub) OnReady(ready func()) {
	s.mu.Lock()
	s.ready = ready
	var ring func()
	if s.ended != nil || s.table || len(s.pending) > 0 || len(s.queue) > s.head {
		ring = s.ring()
	}
	s.mu.Unlock()
	if ring != nil {
		ring()
	}
}

// Next returns the subscriber's next event, in seq order without gaps or
// duplicates, without waiting for one: nil when none waits (OnReady's
// function is called when one does). It reads the table when the
// subscriber started with after or fell behind. It returns an error once
// the subscription ended: its context's error, ErrClosed, or the error of
// reading the table.
func (s *Sub) Next() (*cairn.AuditEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.ended != nil:
			return nil, s.ended
		case len(s.pending) > 0:
			ev := s.pending[0]
			s.pending[0] = nil
			s.pending = s.pending[1:]
			s.delivered()
			return ev, nil
		case s.table:
			// Everything offered so far is in the table: read it from there,
			// and take live offers again meanwhile.
			s.table, s.behind = false, false
			s.reset()
			after := s.cursor
			s.mu.Unlock()
			evs, err := s.b.cfg.Store.EventsAfter(s.ctx, after, s.filter, batch)
			s.mu.Lock()
			if err != nil {
				if s.ctx.Err() == nil {
					s.b.cfg.Logger.Warn("events: catching up a subscriber", "err", err)
				}
				s.endLocked(err)
				continue
			}
			if len(evs) == batch {
				s.table = true // more after this batch
			}
			s.pending = s.pending[:0]
			for _, ev := range evs {
				if s.keep == nil || s.keep(ev) {
					s.pending = append(s.pending, ev)
				}
			}
			if len(evs) > 0 {
				s.cursor = evs[len(evs)-1].Seq // skipped by keep: still seen
			}
		case len(s.queue) > s.head:
			ev := s.queue[s.head]
			s.queue[s.head] = nil
			if s.head++; s.head == len(s.queue) {
				s.queue, s.head = s.queue[:0], 0
			}
			if ev.Seq <= s.cursor {
				continue // read from the table already
			}
			s.cursor = ev.Seq
			s.delivered()
			return ev, nil
		default:
			s.rung = false
			return nil, nil
		}
	}
}

func (s *Sub) delivered() {
	if s.b.cfg.OnDeliver != nil {
		s.b.cfg.OnDeliver()
	}
}

// Close ends the subscription; Next answers context.Canceled from then on.
func (s *Sub) Close() { s.end(context.Canceled, true) }

// end ends s with err and takes it off the bus (unless the bus did).
func (s *Sub) end(err error, unlist bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.endLocked(err)
	ring := s.ring()
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	if unlist {
		b := s.b
		b.mu.Lock()
		if i := s.idx; i >= 0 && i < len(b.subs) && b.subs[i] == s {
			last := b.subs[len(b.subs)-1]
			b.subs[i], last.idx = last, i
			b.subs[len(b.subs)-1] = nil
			b.subs = b.subs[:len(b.subs)-1]
		}
		s.idx = -1
		b.mu.Unlock()
	}
	if s.b.cfg.OnSubscribe != nil {
		s.b.cfg.OnSubscribe(-1)
	}
	if ring != nil {
		ring()
	}
}

// endLocked records err as the end of s and drops what waits. s.mu must be
// held.
func (s *Sub) endLocked(err error) {
	if s.ended == nil {
		s.ended = err
	}
	s.reset()
	s.pending = nil
}
