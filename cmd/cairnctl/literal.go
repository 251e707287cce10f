package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// enum is a GraphQL enum value: a literal writes it bare (RUNNING), not
// quoted.
type enum string

// variable is a reference to an operation variable ($id) inside a literal.
type variable string

// literal writes v as a GraphQL input literal. cairnctl writes the inputs of
// mutations other engineers may still be shaping this way, so that an
// operation needs no input type names, only the field names of the issues.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case enum:
		return string(v)
	case variable:
		return "$" + string(v)
	case string:
		b, _ := json.Marshal(v) // JSON string escapes are GraphQL's
		return string(b)
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(v)
	case []string:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = literal(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = literal(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + literal(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	panic(fmt.Sprintf("cairnctl: no GraphQL literal for %T", v))
}
