package cairn

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// IntUpdate is an optional Int field of an update input that tells "leave
// it as it is" (the field left out) from "clear it" (null). It is the Go side
// of such a field; gqlgen calls UnmarshalGQL only for a field the input
// names.
type IntUpdate struct {
	Set   bool // the input named the field
	Value *int // its value; nil for null
}

// SetInt returns an IntUpdate that sets v.
func SetInt(v int) IntUpdate { return IntUpdate{Set: true, Value: &v} }

// UnmarshalGQL reads an Int or null.
func (u *IntUpdate) UnmarshalGQL(v any) error {
	u.Set = true
	var n int64
	switch v := v.(type) {
	case nil:
		u.Value = nil
		return nil
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case json.Number:
		var err error
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return Errorf(EBADINPUT, "%s is not an Int", v)
		}
	case float64:
		if v != math.Trunc(v) {
			return Errorf(EBADINPUT, "%v is not an Int", v)
		}
		n = int64(v)
	default:
		return Errorf(EBADINPUT, "%v is not an Int", v)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return Errorf(EBADINPUT, "%d is out of the range of Int (32 bits)", n)
	}
	i := int(n)
	u.Value = &i
	return nil
}

// MarshalGQL writes the value, or null.
func (u IntUpdate) MarshalGQL(w io.Writer) {
	if u.Value == nil {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = io.WriteString(w, strconv.Itoa(*u.Value))
}
