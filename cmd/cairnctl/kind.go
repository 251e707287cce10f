package main

import (
	"flag"
	"fmt"
	"strings"
)

// kind is an object type cairnctl lists and describes.
type kind struct {
	name       string // as on the command line: instance
	typeName   string // the GraphQL type: ResourceInstance
	listField  string // the Query field of the connection: instances
	filterType string // its filter input: ResourceInstanceFilter
	fields     string // selection of describe
	listFields string // selection of a list row
	columns    []column
}

// paging are the flags of a list.
type paging struct {
	first int
	after string
	all   bool
}

func (p *paging) register(fs *flag.FlagSet) {
	fs.IntVar(&p.first, "first", 50, "how many to list (at most 500)")
	fs.StringVar(&p.after, "after", "", "list those after this cursor (the endCursor of the page before)")
	fs.BoolVar(&p.all, "all", false, "list every page")
}

// list prints the objects of k that match filter (nil for all).
func (a *app) list(k kind, p paging, filter map[string]any) error {
	if p.first < 1 || p.first > 500 {
		return usagef("--first must be between 1 and 500, not %d", p.first)
	}
	if len(filter) == 0 {
		filter = nil
	}
	q := fmt.Sprintf(`query List($first: Int, $after: String, $filter: %s) {
  %s(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { %s }
  }
}`, k.filterType, k.listField, k.listFields)
	var nodes []any
	vars := map[string]any{"first": p.first, "filter": filter}
	if p.after != "" {
		vars["after"] = p.after
	}
	for {
		var data map[string]map[string]any
		if err := a.do(q, vars, &data); err != nil {
			return err
		}
		conn := data[k.listField]
		page, _ := conn["nodes"].([]any)
		nodes = append(nodes, page...)
		pi, _ := conn["pageInfo"].(map[string]any)
		if !p.all || pi["hasNextPage"] != true {
			conn["nodes"] = nodes
			return a.emit(conn, k.columns)
		}
		vars["after"] = pi["endCursor"]
	}
}

// fetch returns the object of k with the ID. Returns NOT_FOUND when it does
// not exist, is outside the caller's scope, or is of another kind.
func (a *app) fetch(k kind, id string) (map[string]any, error) {
	q := fmt.Sprintf(`query Describe($id: ID!) { node(id: $id) { __typename ... on %s { %s } } }`, k.typeName, k.fields)
	var data struct{ Node map[string]any }
	if err := a.do(q, map[string]any{"id": id}, &data); err != nil {
		return nil, err
	}
	if data.Node == nil || data.Node["__typename"] != k.typeName {
		return nil, notFound(k.name, id)
	}
	delete(data.Node, "__typename")
	return data.Node, nil
}

func (a *app) describe(k kind, id string) error {
	obj, err := a.fetch(k, id)
	if err != nil {
		return err
	}
	return a.emit(obj, nil)
}

// oneID returns the single ID of a command, given as an argument or --id.
func oneID(args []string, flagID, what string) (string, error) {
	switch {
	case flagID != "" && len(args) == 0:
		return flagID, nil
	case flagID == "" && len(args) == 1:
		return args[0], nil
	case flagID == "" && len(args) == 0:
		return "", usagef("give the %s ID as an argument or --id", what)
	}
	return "", usagef("give one %s ID, not %s", what, strings.Join(append(args, flagID), " "))
}

// listDescribe returns the list and describe subcommands of k; filters
// registers the list's filter flags and returns the filter they make.
func listDescribe(k kind, listExample, describeExample string, filters func(fs *flag.FlagSet) func() (map[string]any, error)) []*command {
	return []*command{
		{
			name: "list", summary: "List " + k.name + "s you can see", example: listExample,
			setup: func(fs *flag.FlagSet) action {
				var p paging
				p.register(fs)
				filter := func() (map[string]any, error) { return nil, nil }
				if filters != nil {
					filter = filters(fs)
				}
				return func(a *app, args []string) error {
					if len(args) > 0 {
						return usagef("list takes no arguments, got %q", args[0])
					}
					f, err := filter()
					if err != nil {
						return err
					}
					return a.list(k, p, f)
				}
			},
		},
		{
			name: "describe", summary: "Show one " + k.name, args: "<id>", example: describeExample,
			setup: func(fs *flag.FlagSet) action {
				id := fs.String("id", "", "the "+k.name+"'s ID (or give it as the argument)")
				return func(a *app, args []string) error {
					v, err := oneID(args, *id, k.name)
					if err != nil {
						return err
					}
					return a.describe(k, v)
				}
			},
		},
	}
}

// setIf sets m[key] to v when v is not empty.
func setIf(m map[string]any, key string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case enum:
		if x == "" {
			return
		}
		v = strings.ToUpper(string(x))
	}
	m[key] = v
}
