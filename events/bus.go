// Package events is Cairn's event bus. Events are rows written in the
// transaction of the change they record (store.insertEvent), which also
// queues a NOTIFY carrying the event's seq. Every replica LISTENs on one
// dedicated connection, reads the new events once, and fans them out to its
// in-memory subscribers. Each subscriber has a bounded buffer: one that falls
// behind is not waited for; it catches up from the table instead.
package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn"
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

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	last int64 // the seq of the last event dispatched; guarded by mu

	cancel context.CancelFunc
	done   chan struct{}
}

// batch is how many events one read of the table returns.
const batch = 500

type subscriber struct {
	ch      chan *cairn.AuditEvent
	lost    chan struct{} // signalled when ch overflowed
	dropped atomic.Bool   // events are not sent to ch until the subscriber caught up
	match   func(*cairn.AuditEvent) bool
}

// offer hands ev to s without ever blocking.
func (s *subscriber) offer(ev *cairn.AuditEvent) {
	if s.dropped.Load() || !s.match(ev) {
		return
	}
	select {
	case s.ch <- ev:
	default:
		s.dropped.Store(true)
		select {
		case s.lost <- struct{}{}:
		default:
		}
	}
}

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
	b := &Bus{cfg: cfg, subs: map[*subscriber]struct{}{}, done: make(chan struct{})}
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

// Close stops the bus; subscriptions end.
func (b *Bus) Close() {
	b.cancel()
	<-b.done
}

func (b *Bus) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, b.cfg.URL)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+store.EventChannel); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return conn, nil
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

// dispatch reads the events after the last one dispatched and offers each
// to every subscriber, in seq order. Events commit in seq order
// (store.eventLock), so nothing is skipped.
func (b *Bus) dispatch(ctx context.Context) error {
	for {
		b.mu.Lock()
		last := b.last
		b.mu.Unlock()
		evs, err := b.cfg.Store.EventsBySeq(ctx, last, batch)
		if err != nil {
			return err
		}
		b.mu.Lock()
		for _, ev := range evs {
			for s := range b.subs {
				s.offer(ev)
			}
			b.last = ev.Seq
		}
		b.mu.Unlock()
		if len(evs) < batch {
			return nil
		}
	}
}

// Stream delivers the events the caller of ctx may read that pass filter
// and keep (nil: all): with after set, first every stored event after that
// seq, then live ones; without, the live ones from now. Events come in seq
// order, without gaps or duplicates, until ctx ends; then the channel is
// closed. A consumer that reads slowly falls behind alone: the bus never
// waits for it, and it catches up from the table.
//
// Returns UNAUTHENTICATED when ctx has no principal.
func (b *Bus) Stream(ctx context.Context, after *int64, filter *cairn.AuditEventFilter, keep func(*cairn.AuditEvent) bool) (<-chan *cairn.AuditEvent, error) {
	tenants, err := b.cfg.Store.ReadableTenants(ctx)
	if err != nil {
		return nil, err
	}
	if keep == nil {
		keep = func(*cairn.AuditEvent) bool { return true }
	}
	s := &subscriber{ch: make(chan *cairn.AuditEvent, b.cfg.Buffer), lost: make(chan struct{}, 1),
		match: func(ev *cairn.AuditEvent) bool {
			return (tenants[ev.TenantID] || tenants[ev.ProviderTenantID]) && filter.Match(ev) && keep(ev)
		}}
	b.mu.Lock()
	last := b.last
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	if b.cfg.OnSubscribe != nil {
		b.cfg.OnSubscribe(1)
	}
	replay := after != nil
	if replay {
		last = *after
	}
	out := make(chan *cairn.AuditEvent)
	go func() {
		defer close(out)
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			if b.cfg.OnSubscribe != nil {
				b.cfg.OnSubscribe(-1)
			}
		}()
		send := func(ev *cairn.AuditEvent) bool {
			if ev.Seq <= last {
				return true
			}
			select {
			case out <- ev:
				last = ev.Seq
				if b.cfg.OnDeliver != nil {
					b.cfg.OnDeliver()
				}
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			if replay {
				// From here on live events reach s.ch again; the table has
				// every one before.
				s.dropped.Store(false)
				for {
					evs, err := b.cfg.Store.EventsAfter(ctx, last, filter, batch)
					if err != nil {
						if ctx.Err() == nil {
							b.cfg.Logger.Warn("events: catching up a subscriber", "err", err)
						}
						return
					}
					for _, ev := range evs {
						if keep(ev) && !send(ev) {
							return
						}
						if ev.Seq > last {
							last = ev.Seq // skipped by keep: still seen
						}
					}
					if len(evs) < batch {
						break
					}
				}
				replay = false
			}
			select {
			case <-ctx.Done():
				return
			case <-b.done:
				return
			case <-s.lost:
				replay = true
			case ev := <-s.ch:
				if !send(ev) {
					return
				}
			}
		}
	}()
	return out, nil
}
