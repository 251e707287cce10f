package events

import (
	"context"

	"github.com/cairn-dev/cairn"
)

// Driver delivers a subscription without a goroutine of its own. A
// transport that can (server/ws.go) puts one in the context of each
// subscription it runs; the subscription's resolver, instead of feeding its
// channel from a goroutine, hands the driver a pump.
type Driver interface {
	// Drive registers pump for the operation and returns ready, which the
	// resolver (or the Sub it reads, through OnReady) calls when an item may
	// wait. After ready, the transport calls pump, never two at once, until
	// it returns false: each call that returns true has put one item in the
	// resolver's channel, or closed it, so that gqlgen's response handler
	// then reads the channel without waiting.
	Drive(pump func() bool) (ready func())
	// Reuse is called by a pump, before it puts an item in the channel,
	// when the item is made of ev alone (nothing of the subscriber's or of
	// the moment). True means the transport answers with the response it
	// made for ev on an identical subscription (same document, variables
	// and principal), and the pump puts nothing in the channel; the pump
	// still returns true.
	Reuse(ev *cairn.AuditEvent) bool
}

type driverKey struct{}

// WithDriver returns ctx carrying d.
func WithDriver(ctx context.Context, d Driver) context.Context {
	return context.WithValue(ctx, driverKey{}, d)
}

// DriverFrom returns the Driver of ctx, nil if none.
func DriverFrom(ctx context.Context) Driver {
	d, _ := ctx.Value(driverKey{}).(Driver)
	return d
}
