// Package scalar marshals Cairn's custom GraphQL scalars, Time and JSON. Its
// unmarshalers answer bad values with BAD_USER_INPUT errors that say what was
// expected, so that the error presenter can treat any other error reaching a
// client as INTERNAL.
package scalar

import (
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
)

// MarshalTime writes a time in RFC 3339 form; the zero time is null.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads an RFC 3339 time. Returns BAD_USER_INPUT for anything
// else.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, cairn.Errorf(cairn.EBADINPUT, "a Time must be a string in RFC 3339 form (2026-01-10T00:00:00Z), not %s", kind(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, cairn.Errorf(cairn.EBADINPUT, "%q is not a time in RFC 3339 form (2026-01-10T00:00:00Z)", s)
	}
	return t, nil
}

// MarshalJSON writes a free-form JSON object.
func MarshalJSON(m map[string]any) graphql.Marshaler { return graphql.MarshalMap(m) }

// UnmarshalJSON reads a free-form JSON object. Returns BAD_USER_INPUT for any
// other value.
func UnmarshalJSON(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, cairn.Errorf(cairn.EBADINPUT, "a JSON value here must be an object ({...}), not %s", kind(v))
	}
	return m, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
