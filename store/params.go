package store

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-dev/cairn"
)

// The types of an input parameter, as the schema's InputParameter.type lists
// them.
const (
	paramString   = "String"
	paramPassword = "Password"
	paramNumber   = "Number"
	paramFloat64  = "Float64"
	paramBoolean  = "Boolean"
)

// validateRequestParams checks the values a caller passes for a resource's
// input parameters and returns them with the defaults of the parameters not
// given filled in. Numbers come back as int64 (Number) or float64 (Float64),
// lists as []any. A null value counts as not given.
//
// Returns BAD_USER_INPUT naming field+"."+key for an unknown key, a missing
// required value, a value of the wrong type and a value not among the
// parameter's options; FAILED_PRECONDITION when the parameter itself is
// broken (an unknown type or a default that does not parse), which only the
// provider can fix.
func validateRequestParams(params []cairn.InputParameter, values map[string]any, field string) (map[string]any, error) {
	byKey := make(map[string]*cairn.InputParameter, len(params))
	keys := make([]string, 0, len(params))
	for i := range params {
		if _, dup := byKey[params[i].Key]; !dup {
			byKey[params[i].Key] = &params[i]
			keys = append(keys, params[i].Key)
		}
	}
	// Unknown keys first, in a stable order, so the same input always gets
	// the same answer.
	given := make([]string, 0, len(values))
	for k := range values {
		given = append(given, k)
	}
	slices.Sort(given)
	for _, k := range given {
		if byKey[k] == nil {
			return nil, cairn.FieldError(field+"."+k, "the resource has no input parameter %q; its parameters are: %s", k, listOrNone(keys))
		}
	}

	out := make(map[string]any, len(params))
	for _, k := range keys {
		ip := byKey[k]
		f := field + "." + k
		v, ok := values[k]
		if !ok || v == nil {
			if ip.DefaultValue != nil {
				d, err := paramDefault(ip)
				if err != nil {
					return nil, err
				}
				out[k] = d
			} else if ip.Required {
				return nil, cairn.FieldError(f, "%s (%s) is required: pass %s", k, ip.Name, paramTypeName(ip))
			}
			continue
		}
		got, err := paramValue(ip, v, f)
		if err != nil {
			return nil, err
		}
		out[k] = got
	}
	return out, nil
}

// paramValue checks one given value against its parameter.
func paramValue(ip *cairn.InputParameter, v any, field string) (any, error) {
	if !ip.IsList {
		return paramScalar(ip, v, field)
	}
	items, ok := v.([]any)
	if !ok {
		if s, isStrings := v.([]string); isStrings {
			items = make([]any, len(s))
			for i := range s {
				items[i] = s[i]
			}
		} else {
			return nil, cairn.FieldError(field, "%s must be %s, not %s", ip.Key, paramTypeName(ip), describeValue(v))
		}
	}
	out := make([]any, len(items))
	for i, item := range items {
		got, err := paramScalar(ip, item, field)
		if err != nil {
			return nil, err
		}
		out[i] = got
	}
	return out, nil
}

// paramScalar checks one value (or one item of a list) against its
// parameter's type and options.
func paramScalar(ip *cairn.InputParameter, v any, field string) (any, error) {
	var (
		got  any
		text string
		ok   bool
	)
	switch ip.Type {
	case paramString, paramPassword:
		var s string
		s, ok = v.(string)
		got, text = s, s
	case paramNumber:
		var n int64
		n, ok = paramInt(v)
		got, text = n, strconv.FormatInt(n, 10)
	case paramFloat64:
		var x float64
		x, ok = paramFloat(v)
		got, text = x, strconv.FormatFloat(x, 'g', -1, 64)
	case paramBoolean:
		var b bool
		b, ok = v.(bool)
		got, text = b, strconv.FormatBool(b)
	default:
		return nil, paramBroken(ip, "has the unknown type %q (use String, Password, Number, Float64 or Boolean)", ip.Type)
	}
	if !ok {
		if ip.IsList {
			return nil, cairn.FieldError(field, "%s must be %s; one item is %s", ip.Key, paramTypeName(ip), describeValue(v))
		}
		return nil, cairn.FieldError(field, "%s must be %s, not %s", ip.Key, paramTypeName(ip), describeValue(v))
	}
	// Options are compared as values of the type, so "1.0" matches 1.
	if len(ip.Options) > 0 && !slices.ContainsFunc(ip.Options, func(o string) bool {
		ov, err := paramParse(ip, o)
		return err == nil && ov == got
	}) {
		return nil, cairn.FieldError(field, "%s must be one of %s, not %q", ip.Key, strings.Join(ip.Options, ", "), text)
	}
	return got, nil
}

// paramDefault parses the default value of a parameter into its type. A list
// default is a JSON array or, failing that, comma-separated values.
func paramDefault(ip *cairn.InputParameter) (any, error) {
	s := *ip.DefaultValue
	var v any
	if ip.IsList {
		var items []any
		if err := json.Unmarshal([]byte(s), &items); err != nil {
			items = nil
			for part := range strings.SplitSeq(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					items = append(items, part)
				}
			}
		}
		for i, item := range items {
			if str, isString := item.(string); isString {
				parsed, err := paramParse(ip, str)
				if err != nil {
					return nil, err
				}
				items[i] = parsed
			}
		}
		v = items
		if items == nil {
			v = []any{}
		}
	} else {
		parsed, err := paramParse(ip, s)
		if err != nil {
			return nil, err
		}
		v = parsed
	}
	got, err := paramValue(ip, v, "")
	if err != nil {
		if cairn.ErrorCode(err) == cairn.EBADINPUT {
			return nil, paramBroken(ip, "has the default value %q, which is not valid: %s", s, cairn.ErrorMessage(err))
		}
		return nil, err
	}
	return got, nil
}

// paramParse turns the text of a default value into the parameter's type.
func paramParse(ip *cairn.InputParameter, s string) (any, error) {
	var (
		v   any
		err error
	)
	switch ip.Type {
	case paramNumber:
		v, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case paramFloat64:
		v, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
	case paramBoolean:
		v, err = strconv.ParseBool(strings.TrimSpace(s))
	default:
		v = s
	}
	if err != nil {
		return nil, paramBroken(ip, "has the default value %q, which is not a %s", s, ip.Type)
	}
	return v, nil
}

func paramBroken(ip *cairn.InputParameter, format string, args ...any) error {
	return cairn.Errorf(cairn.EFAILEDPRECONDITION, "input parameter %q of the resource %s; ask the service provider to fix the resource", ip.Key, fmt.Sprintf(format, args...))
}

// paramInt returns v as an integer if it is an integer-valued number of any
// of the representations a JSON decoder or a Go caller produces.
func paramInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		return int64(n), n <= math.MaxInt64
	case uint64:
		return int64(n), n <= math.MaxInt64
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	}
	f, ok := paramFloat(v)
	// 2^63 is the first float64 out of int64's range.
	if !ok || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// paramFloat returns v as a finite float64 if it is a number.
func paramFloat(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		i, ok := paramIntOnly(v)
		return float64(i), ok
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// paramIntOnly returns v as an int64 if it is a Go integer.
func paramIntOnly(v any) (int64, bool) {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return paramInt(v)
	}
	return 0, false
}

// paramTypeName says what a value of the parameter looks like, for messages:
// "a string", "a list of whole numbers".
func paramTypeName(ip *cairn.InputParameter) string {
	one, many := ip.Type, ip.Type+" values"
	switch ip.Type {
	case paramString, paramPassword:
		one, many = "a string", "strings"
	case paramNumber:
		one, many = "a whole number", "whole numbers"
	case paramFloat64:
		one, many = "a number", "numbers"
	case paramBoolean:
		one, many = "a boolean (true or false)", "booleans (true or false)"
	}
	if ip.IsList {
		return "a list of " + many
	}
	return one
}

// describeValue names the JSON type of v for messages, without echoing
// values that may be secrets.
func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	if f, ok := paramFloat(v); ok {
		if f == math.Trunc(f) {
			return "the whole number " + strconv.FormatFloat(f, 'f', -1, 64)
		}
		return "the number " + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprintf("a value of type %T", v)
}

func listOrNone(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
