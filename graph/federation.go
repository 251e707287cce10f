package graph

// Written by hand, not generated. gqlgen's executor sends the Query fields
// _entities and _service to two executionContext methods that only its
// federation plugin generates, and that plugin cannot run here: autobind has
// bound _Service to cairn.Service before the plugin reserves the name. These
// methods stand in for the plugin's output and delegate to the resolvers
// (resolvers/federation.go). Regeneration leaves this file alone.

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/plugin/federation/fedruntime"
	"github.com/cairn-dev/cairn"
	"github.com/vektah/gqlparser/v2/ast"
)

// FederationResolver answers Apollo Federation's two Query fields. The root
// resolver provides it through a Federation() method.
type FederationResolver interface {
	// Entities returns the entity of each representation, in their order,
	// with nil where one is missing or outside the caller's scope. It reports
	// errors with graphql.AddError.
	Entities(ctx context.Context, representations []map[string]any) []cairn.Node
	// Service returns this subgraph's SDL.
	Service(ctx context.Context) (fedruntime.Service, error)
}

// Sources returns the schema files the executor was generated from.
func Sources() []*ast.Source { return sources }

func (ec *executionContext) federation() FederationResolver {
	if r, ok := ec.Resolvers.(interface{ Federation() FederationResolver }); ok {
		return r.Federation()
	}
	return nil
}

func (ec *executionContext) __resolve_entities(ctx context.Context, representations []map[string]any) []cairn.Node {
	f := ec.federation()
	if f == nil {
		graphql.AddError(ctx, cairn.Errorf(cairn.EINTERNAL, "Federation is not set up on this server."))
		return make([]cairn.Node, len(representations))
	}
	return f.Entities(ctx, representations)
}

func (ec *executionContext) __resolve__service(ctx context.Context) (fedruntime.Service, error) {
	if ec.DisableIntrospection {
		return fedruntime.Service{}, cairn.Errorf(cairn.EFORBIDDEN, "Schema introspection is turned off on this server, and _service with it; compose the supergraph from a server that allows it.")
	}
	f := ec.federation()
	if f == nil {
		return fedruntime.Service{}, cairn.Errorf(cairn.EINTERNAL, "Federation is not set up on this server.")
	}
	return f.Service(ctx)
}
