package store

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// shape is what a connection's GraphQL selection reads beyond the plain
// columns of its rows, so that a page can skip work nobody asked for: the
// cursors (one JSON and base64 encoding per row) and the JSON columns (one
// map decoded per row and column). A deep read of 27,000 instances asking
// `id status` needs neither.
//
// The zero value skips both; full wants both, and is what a call from outside
// a GraphQL field (or with a selection it cannot follow) gets.
type shape struct {
	cursors bool // edges { cursor } or pageInfo
	json    bool // a field reading a deferred (JSON) column
	// cols are the columns the node's fields read when every one of them is
	// a plain column; nil when any is not (an edge, a computed field).
	cols []string
}

var full = shape{cursors: true, json: true}

// shapeOf returns the shape of the field resolving under ctx: a connection,
// or (with plain nil) a single object.
// jsonFields are the GraphQL fields of the node type that read the deferred
// columns; any of them anywhere under the field counts.
// plain maps the node type's GraphQL fields that read nothing but one column
// to that column.
//
// The field must be of type typeName: a resolver may load objects for another
// purpose than returning them (requestParams reads the resource's parameter
// definitions to mask secrets), and such a load gets every column.
func shapeOf(ctx context.Context, typeName string, plain map[string]string, jsonFields ...string) shape {
	fc := graphql.GetFieldContext(ctx)
	if typeName == "" || fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil || fc.Field.Definition.Type.Name() != typeName {
		return full
	}
	var sh shape
	if !walkShape(fc.Field.Selections, jsonFields, &sh, 0) {
		return full
	}
	if plain != nil {
		set := map[string]bool{}
		if nodeColumns(fc.Field.Selections, plain, set, 0) {
			sh.cols = make([]string, 0, len(set))
			for c := range set {
				sh.cols = append(sh.cols, c)
			}
			slices.Sort(sh.cols)
		}
	}
	return sh
}

// nodeColumns adds to set the columns the nodes of a connection selection
// read (under nodes and edges.node); false if a field is not a plain column.
func nodeColumns(sel ast.SelectionSet, plain map[string]string, set map[string]bool, depth int) bool {
	for _, s := range sel {
		var sub ast.SelectionSet
		next := depth
		switch s := s.(type) {
		case *ast.Field:
			switch {
			case s.Name == "__typename":
				continue
			case depth == 0 && s.Name == "nodes", depth == 1 && s.Name == "node":
				sub, next = s.SelectionSet, 2
			case depth == 0 && s.Name == "edges":
				sub, next = s.SelectionSet, 1
			case depth == 0 || depth == 1:
				continue // totalCount, pageInfo, cursor
			default:
				c, ok := plain[s.Name]
				if !ok {
					return false
				}
				set[c] = true
				continue
			}
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil {
				return false
			}
			sub = s.Definition.SelectionSet
		default:
			return false
		}
		if !nodeColumns(sub, plain, set, next) {
			return false
		}
	}
	return true
}

// walkShape records in sh what sel reads; it returns false on a selection it
// cannot follow (a fragment spread without its definition).
func walkShape(sel ast.SelectionSet, jsonFields []string, sh *shape, depth int) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if depth == 0 && (s.Name == "pageInfo" || s.Name == "edges" && hasField(s.SelectionSet, "cursor")) {
				sh.cursors = true
			}
			for _, f := range jsonFields {
				if s.Name == f {
					sh.json = true
				}
			}
			if !walkShape(s.SelectionSet, jsonFields, sh, depth+1) {
				return false
			}
		case *ast.InlineFragment:
			if !walkShape(s.SelectionSet, jsonFields, sh, depth) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || !walkShape(s.Definition.SelectionSet, jsonFields, sh, depth) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// hasField reports whether sel (with its fragments) selects the field name.
func hasField(sel ast.SelectionSet, name string) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == name {
				return true
			}
		case *ast.InlineFragment:
			if hasField(s.SelectionSet, name) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || hasField(s.Definition.SelectionSet, name) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
