package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noIntrospection refuses operations that ask for __schema or __type when
// introspection is off, with FORBIDDEN before anything runs. (gqlgen's own
// refusal is a bare error the presenter could not tell from an internal one.)
type noIntrospection struct{}

var _ graphql.OperationContextMutator = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "CairnNoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !asksIntrospection(oc.Operation.SelectionSet, oc.Doc, map[string]bool{}) {
		return nil
	}
	err := cairn.Errorf(cairn.EFORBIDDEN, "Schema introspection is turned off on this server; ask its operator for the schema (or for --introspection=true).")
	return &gqlerror.Error{Message: err.Message, Err: err}
}

// asksIntrospection reports whether a selection set asks for __schema or
// __type, through fragments too.
func asksIntrospection(set ast.SelectionSet, doc *ast.QueryDocument, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" || asksIntrospection(s.SelectionSet, doc, seen) {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(s.SelectionSet, doc, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if f := doc.Fragments.ForName(s.Name); f != nil && asksIntrospection(f.SelectionSet, doc, seen) {
				return true
			}
		}
	}
	return false
}
