package resolvers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/plugin/federation/fedruntime"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/graph"
	"github.com/cairn-dev/cairn/store"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Federation answers Apollo Federation's _entities and _service
// (graph/federation.go calls it).
func (r *Resolver) Federation() graph.FederationResolver { return federationResolver{r} }

type federationResolver struct{ *Resolver }

// MaxRepresentations bounds the representations of one _entities call.
const MaxRepresentations = 500

// entityLoader loads one entity by ID through the request's loaders.
type entityLoader func(ctx context.Context, l *store.Loaders, id string) (cairn.Node, error)

func entityOf[T any](load func(*store.Loaders, context.Context, string) (*T, error)) entityLoader {
	return func(ctx context.Context, l *store.Loaders, id string) (cairn.Node, error) {
		v, err := load(l, ctx, id)
		if err != nil || v == nil {
			return nil, err // a nil interface, never a typed nil
		}
		return v, nil
	}
}

// entities are the types with @key(fields: "id"), by GraphQL type name.
var entities = map[string]entityLoader{
	"Tenant":             entityOf((*store.Loaders).Tenant),
	"User":               entityOf((*store.Loaders).User),
	"Service":            entityOf((*store.Loaders).Service),
	"ServiceEnvironment": entityOf((*store.Loaders).ServiceEnvironment),
	"ProductTier":        entityOf((*store.Loaders).ProductTier),
	"Resource":           entityOf((*store.Loaders).Resource),
	"ResourceInstance":   entityOf((*store.Loaders).Instance),
}

// Entities resolves each representation {__typename, id} through the
// request's loaders, all at once so that lookups of one type share one
// statement. An entity that does not exist or is outside the caller's scope
// is null, with no error. A representation of an unknown type or without an
// id is null with a BAD_USER_INPUT error at its index; more than
// MaxRepresentations, or no signed-in caller, fails them all (BAD_USER_INPUT,
// UNAUTHENTICATED).
func (f federationResolver) Entities(ctx context.Context, reps []map[string]any) []cairn.Node {
	out := make([]cairn.Node, len(reps))
	if len(reps) > MaxRepresentations {
		graphql.AddError(ctx, cairn.FieldError("representations", "Pass at most %d representations at once, not %d.", MaxRepresentations, len(reps)))
		return out
	}
	if cairn.PrincipalFromContext(ctx) == nil {
		graphql.AddError(ctx, cairn.Errorf(cairn.EUNAUTHENTICATED, "Sign in first: send Authorization: Bearer <token> (signIn returns one)."))
		return out
	}
	l := f.Store.For(ctx)
	errs := make([]error, len(reps))
	var wg sync.WaitGroup
	for i, rep := range reps {
		load, id, err := representation(rep)
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = graphql.GetOperationContext(ctx).Recover(ctx, p)
				}
			}()
			out[i], errs[i] = load(ctx, l, id)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || cairn.ErrorCode(err) == cairn.ENOTFOUND {
			continue
		}
		out[i] = nil
		path := append(slices.Clone(graphql.GetPath(ctx)), ast.PathIndex(i))
		graphql.AddError(ctx, &gqlerror.Error{Message: err.Error(), Path: path, Err: err})
	}
	return out
}

// representation reads {__typename, id}. Returns BAD_USER_INPUT for a type
// that is not an entity of Cairn's or a missing id.
func representation(rep map[string]any) (entityLoader, string, error) {
	typename, _ := rep["__typename"].(string)
	load, ok := entities[typename]
	if !ok {
		return nil, "", cairn.FieldError("representations", "%q is not an entity of this subgraph; the entities are %s.", typename, entityNames())
	}
	id, _ := rep["id"].(string)
	if id == "" {
		return nil, "", cairn.FieldError("representations", "A %s representation needs its id: {__typename: %q, id: \"…\"}.", typename, typename)
	}
	return load, id, nil
}

func entityNames() string {
	names := make([]string, 0, len(entities))
	for n := range entities {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Service returns the subgraph schema: the schema files with their @key and
// @link, without the federation vocabulary (schema/federation.graphqls).
func (f federationResolver) Service(ctx context.Context) (fedruntime.Service, error) {
	sdl, err := subgraphSDL()
	if err != nil {
		return fedruntime.Service{}, err
	}
	return fedruntime.Service{SDL: sdl}, nil
}

var subgraphSDL = sync.OnceValues(func() (string, error) { return SubgraphSDL(graph.Sources()) })

// SubgraphSDL formats the schema of sources as Apollo Federation's
// _service.sdl: everything but the definitions a federation router brings
// itself (_Any, _Entity, _Service, the _entities and _service fields, and the
// definitions of the directives @link imports).
func SubgraphSDL(sources []*ast.Source) (string, error) {
	var own []*ast.Source
	for _, s := range sources {
		if !s.BuiltIn {
			own = append(own, s)
		}
	}
	doc, err := parser.ParseSchemas(own...)
	if err != nil {
		return "", fmt.Errorf("parse the schema: %w", err)
	}
	doc.Directives = slices.DeleteFunc(doc.Directives, func(d *ast.DirectiveDefinition) bool {
		return d.Name == "link" || d.Name == "key" || d.Name == "shareable"
	})
	doc.Definitions = withoutFederation(doc.Definitions)
	doc.Extensions = withoutFederation(doc.Extensions)
	var b strings.Builder
	formatter.NewFormatter(&b).FormatSchemaDocument(doc)
	return b.String(), nil
}

func withoutFederation(defs ast.DefinitionList) ast.DefinitionList {
	return slices.DeleteFunc(defs, func(d *ast.Definition) bool {
		switch d.Name {
		case "_Any", "_Entity", "_Service":
			return true
		case "Query":
			n := len(d.Fields)
			d.Fields = slices.DeleteFunc(d.Fields, func(f *ast.FieldDefinition) bool {
				return f.Name == "_entities" || f.Name == "_service"
			})
			return n > 0 && len(d.Fields) == 0 && len(d.Directives) == 0
		}
		return false
	})
}
