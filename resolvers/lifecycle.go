package resolvers

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/graph/model"
)

// act runs a lifecycle action; the Idempotency-Key header stands in for a
// missing idempotencyKey.
func (r *mutationResolver) act(ctx context.Context, action cairn.InstanceAction, input cairn.InstanceActionInput) (*model.InstancePayload, error) {
	if input.IdempotencyKey == nil {
		input.IdempotencyKey = idempotencyKey(ctx)
	}
	return payload(r.Store.InstanceAction(ctx, action, input))
}

// payload is the payload of a lifecycle mutation.
func payload(inst *cairn.ResourceInstance, op *cairn.Operation, err error) (*model.InstancePayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.InstancePayload{Instance: inst, Operation: op}, nil
}

// freshInstance reads an instance with loaders of its own: a subscription
// lives long, and its request's loaders would answer a stale status.
func (r *Resolver) freshInstance(ctx context.Context, id string) (*cairn.ResourceInstance, error) {
	return orNil(r.Store.NewLoaders(cairn.PrincipalFromContext(ctx)).Instance(ctx, id))
}

// subscribe registers a subscriber on the bus. Returns FAILED_PRECONDITION
// without a bus, BAD_USER_INPUT for a bad cursor, and what Bus.Subscribe
// returns.
func (r *Resolver) subscribe(ctx context.Context, after *string, f *cairn.AuditEventFilter, keep func(*cairn.AuditEvent) bool) (*events.Sub, error) {
	if r.Bus == nil {
		return nil, cairn.Errorf(cairn.EFAILEDPRECONDITION, "live updates are not enabled on this server; poll the queries instead")
	}
	var seq *int64
	if after != nil {
		n, err := cairn.ParseEventCursor(*after, "after")
		if err != nil {
			return nil, err
		}
		seq = &n
	}
	return r.Bus.Subscribe(ctx, seq, f, keep)
}

// feed returns the channel of a subscription resolver, fed from sub: first
// (unless nil) comes first, and ends the subscription when firstLast; then
// conv maps each event to the item sent (nil: none), and last says the
// subscription ends after it. An error of conv ends the subscription. pure
// says conv's item is made of the event alone (the same for any subscriber
// at any moment), so that a transport may send the response it made for the
// event on an identical subscription (events.Driver.Reuse).
//
// Under a transport that drives subscriptions (events.DriverFrom) no
// goroutine runs: the transport pumps one item at a time into a channel of
// one. Otherwise (server-sent events) a goroutine feeds the channel.
func feed[T any](ctx context.Context, sub *events.Sub, first *T, firstLast, pure bool, conv func(*cairn.AuditEvent) (item *T, last bool, err error)) <-chan *T {
	done := first != nil && firstLast
	// produce returns the next item and the event it was made of (nil for
	// first); nil and false when none waits yet, nil and true when the
	// subscription ended.
	produce := func() (*T, *cairn.AuditEvent, bool) {
		if first != nil {
			item := first
			first = nil
			return item, nil, false
		}
		if done {
			return nil, nil, true
		}
		for {
			ev, err := sub.Next()
			if err != nil {
				return nil, nil, true
			}
			if ev == nil {
				return nil, nil, false
			}
			item, last, err := conv(ev)
			if err != nil {
				return nil, nil, true
			}
			if item != nil {
				done = last
				return item, ev, false
			}
		}
	}
	if d := events.DriverFrom(ctx); d != nil {
		out := make(chan *T, 1)
		closed := false
		ready := d.Drive(func() bool {
			if closed {
				return false
			}
			item, ev, end := produce()
			switch {
			case item != nil:
				if pure && ev != nil && d.Reuse(ev) {
					return true // the transport answers it
				}
				out <- item // the transport reads it before it pumps again
				return true
			case end:
				closed = true
				close(out)
				sub.Close()
				return true
			}
			return false
		})
		sub.OnReady(ready)
		if first != nil {
			ready()
		}
		return out
	}
	return events.Pump(ctx, sub, func() (*T, bool) {
		item, _, end := produce()
		return item, end
	})
}

// statusChanges is the change made of the last event the bus delivered: the
// subscribers of one event (thousands on a replica) share it instead of each
// making its own, cursor string included. Changes are never modified once
// made.
var statusChanges perEvent[cairn.InstanceStatusChange]

// perEvent keeps the item made of the last event it was asked about.
type perEvent[T any] struct{ last atomic.Pointer[eventItem[T]] }

type eventItem[T any] struct {
	ev   *cairn.AuditEvent
	item *T
}

// get returns mk(ev), made once for the same event (the same pointer: the
// bus offers one to all its subscribers).
func (p *perEvent[T]) get(ev *cairn.AuditEvent, mk func(*cairn.AuditEvent) *T) *T {
	if last := p.last.Load(); last != nil && last.ev == ev {
		return last.item
	}
	item := mk(ev)
	p.last.Store(&eventItem[T]{ev: ev, item: item})
	return item
}

// statusChange is the change an event records; ev has a status and an
// instance.
func statusChange(ev *cairn.AuditEvent) *cairn.InstanceStatusChange {
	return &cairn.InstanceStatusChange{Event: ev, InstanceID: *ev.InstanceID, PreviousStatus: ev.PreviousStatus, Status: *ev.Status, At: ev.Time, Cursor: ev.Cursor()}
}

// masked replaces the value of a secret request parameter.
const masked = "********"

// maskSecrets returns params with the values of res's Password parameters
// masked. Without the resource (outside the caller's scope), it masks every
// key that names a password or secret.
func maskSecrets(params map[string]any, res *cairn.Resource) map[string]any {
	secret := func(key string) bool {
		k := strings.ToLower(key)
		return strings.Contains(k, "password") || strings.Contains(k, "secret")
	}
	if res != nil {
		types := map[string]string{}
		for _, p := range res.InputParameters {
			types[p.Key] = p.Type
		}
		secret = func(key string) bool { return types[key] == "Password" }
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if secret(k) && v != nil {
			v = masked
		}
		out[k] = v
	}
	return out
}
