// Package resolvers holds Cairn's GraphQL resolvers: they read arguments, call
// the store or its loaders, and map the results. No SQL and no authorization
// decisions live here: the store scopes every read and write.
package resolvers

import (
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/persisted"
	"github.com/cairn-dev/cairn/store"
)

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	Store  *store.Store
	Tokens *auth.Tokens
	// Persisted registers trusted documents and persisted-only settings.
	Persisted *persisted.Registry
	// OIDC federates sign-in to identity providers (resolvers/identity.resolvers.go).
	OIDC *auth.OIDC
	// Bus delivers live events to subscriptions (resolvers/lifecycle.resolvers.go);
	// nil answers subscriptions FAILED_PRECONDITION.
	Bus *events.Bus
}

// pageArgs gathers a connection field's Relay arguments.
func pageArgs(first *int, after *string, last *int, before *string) cairn.PageArgs {
	return cairn.PageArgs{First: first, After: after, Last: last, Before: before}
}

// orNil turns NOT_FOUND into a null edge: a nullable edge to an object outside
// the caller's scope reads as null, not as an error.
func orNil[T any](v *T, err error) (*T, error) {
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, nil
	}
	return v, err
}

// deleted is the payload of every delete.
func deleted(id string, err error) (*deletePayload, error) {
	if err != nil {
		return nil, err
	}
	return &deletePayload{DeletedID: id}, nil
}
