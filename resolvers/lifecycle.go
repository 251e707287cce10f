package resolvers

import (
	"context"
	"strings"

	"github.com/cairn-dev/cairn"
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

// stream opens a stream of events on the bus. Returns FAILED_PRECONDITION
// without a bus, BAD_USER_INPUT for a bad cursor, and what Bus.Stream returns.
func (r *Resolver) stream(ctx context.Context, after *string, f *cairn.AuditEventFilter, keep func(*cairn.AuditEvent) bool) (<-chan *cairn.AuditEvent, error) {
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
	return r.Bus.Stream(ctx, seq, f, keep)
}

// relay maps a stream of events to a stream of T until either ends.
func relay[T any](ctx context.Context, in <-chan *cairn.AuditEvent, conv func(*cairn.AuditEvent) *T) <-chan *T {
	out := make(chan *T)
	go func() {
		defer close(out)
		for ev := range in {
			select {
			case out <- conv(ev):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
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
