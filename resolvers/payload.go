package resolvers

import (
	"context"

	"github.com/cairn-dev/cairn/graph/model"
)

type deletePayload = model.DeletePayload

type idempotencyKeyCtx struct{}

// WithIdempotencyKey returns a copy of ctx carrying the Idempotency-Key header
// of the request; creates that take an idempotencyKey use it when the input
// has none.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyCtx{}, key)
}

func idempotencyKey(ctx context.Context) *string {
	if k, ok := ctx.Value(idempotencyKeyCtx{}).(string); ok && k != "" {
		return &k
	}
	return nil
}
