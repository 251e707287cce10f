package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestRequestParams drives the validation of request parameters through
// CreateInstance, on a resource with a parameter of every type.
func TestRequestParams(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice := storetest.As(ps["alice"])
	tier := iwTier(t, s, d, nil)
	sub := iwSub(t, s, d.CustomerA, tier, cairn.SubscriptionActive)
	res := iwResource(t, s, tier, false, []cairn.InputParameter{
		{Key: "name", Name: "Name", Type: "String", Required: true},
		{Key: "pw", Name: "Password", Type: "Password"},
		{Key: "count", Name: "Count", Type: "Number", DefaultValue: iwPtr("2")},
		{Key: "size", Name: "Size", Type: "Number", Options: []string{"1", "2", "4"}},
		{Key: "ratio", Name: "Ratio", Type: "Float64", DefaultValue: iwPtr("0.5"), Options: []string{"0.5", "1.5", "1"}},
		{Key: "on", Name: "On", Type: "Boolean", DefaultValue: iwPtr("true")},
		{Key: "tags", Name: "Tags", Type: "String", IsList: true},
		{Key: "ports", Name: "Ports", Type: "Number", IsList: true, DefaultValue: iwPtr("[80, 443]")},
		{Key: "zones", Name: "Zones", Type: "String", IsList: true, DefaultValue: iwPtr("a, b")},
	})
	create := func(values map[string]any) (*cairn.ResourceInstance, error) {
		return s.CreateInstance(alice, cairn.CreateInstanceInput{ResourceID: res, SubscriptionID: sub, CloudProvider: "aws", Region: "us-east-1", RequestParams: values})
	}
	defaults := `{"count":2,"name":"x","on":true,"ports":[80,443],"ratio":0.5,"zones":["a","b"]}`

	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string // the stored requestParams as JSON
	}{
		{"DefaultsFilled", map[string]any{"name": "x"}, defaults},
		{"NullIsNotGiven", map[string]any{"name": "x", "count": nil}, defaults},
		{"NumberSpellings", map[string]any{"name": "x", "count": json.Number("7"), "size": 4.0, "ratio": json.Number("1.5"), "ports": []any{int64(8080), 22, json.Number("3306.0")}},
			`{"count":7,"name":"x","on":true,"ports":[8080,22,3306],"ratio":1.5,"size":4,"zones":["a","b"]}`},
		{"IntegerForFloat", map[string]any{"name": "x", "ratio": 1, "on": false}, `{"count":2,"name":"x","on":false,"ports":[80,443],"ratio":1,"zones":["a","b"]}`},
		{"Lists", map[string]any{"name": "x", "tags": []any{"p", "q"}, "zones": []string{"c"}, "ports": []any{}, "pw": "secret"},
			`{"count":2,"name":"x","on":true,"ports":[],"pw":"secret","ratio":0.5,"tags":["p","q"],"zones":["c"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inst, err := create(tc.values)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(inst.RequestParams)
			var stored string
			if err := s.DB().NewRaw("SELECT request_params::text FROM resource_instances WHERE id = ?", inst.ID).Scan(context.Background(), &stored); err != nil {
				t.Fatal(err)
			}
			var norm any
			_ = json.Unmarshal([]byte(stored), &norm)
			storedJSON, _ := json.Marshal(norm)
			if string(got) != tc.want || string(storedJSON) != tc.want {
				t.Errorf("requestParams = %s, stored %s; want %s", got, storedJSON, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		values map[string]any
		field  string
		msg    string
	}{
		{"ErrUnknownKey", map[string]any{"name": "x", "colour": "red"}, "colour", `no input parameter "colour"; its parameters are: name, pw, count`},
		{"ErrRequiredMissing", map[string]any{"count": 3}, "name", "name (Name) is required: pass a string"},
		{"ErrRequiredNull", map[string]any{"name": nil}, "name", "is required"},
		{"ErrStringGotNumber", map[string]any{"name": 1}, "name", "name must be a string, not the whole number 1"},
		{"ErrPasswordGotBool", map[string]any{"name": "x", "pw": true}, "pw", "pw must be a string, not a boolean"},
		{"ErrNumberGotFraction", map[string]any{"name": "x", "count": 2.5}, "count", "count must be a whole number, not the number 2.5"},
		{"ErrNumberGotString", map[string]any{"name": "x", "count": "3"}, "count", "count must be a whole number, not a string"},
		{"ErrNumberGotFractionText", map[string]any{"name": "x", "count": json.Number("1.25")}, "count", "must be a whole number"},
		{"ErrFloatGotString", map[string]any{"name": "x", "ratio": "0.5"}, "ratio", "ratio must be a number, not a string"},
		{"ErrBooleanGotString", map[string]any{"name": "x", "on": "true"}, "on", "on must be a boolean (true or false), not a string"},
		{"ErrListGotScalar", map[string]any{"name": "x", "tags": "p"}, "tags", "tags must be a list of strings, not a string"},
		{"ErrListItemType", map[string]any{"name": "x", "tags": []any{"p", 1}}, "tags", "tags must be a list of strings; one item is the whole number 1"},
		{"ErrNumberListItem", map[string]any{"name": "x", "ports": []any{1.5}}, "ports", "ports must be a list of whole numbers; one item is the number 1.5"},
		{"ErrNumberNotOption", map[string]any{"name": "x", "size": 3}, "size", "size must be one of 1, 2, 4, not \"3\""},
		{"ErrFloatNotOption", map[string]any{"name": "x", "ratio": 0.25}, "ratio", "ratio must be one of 0.5, 1.5, 1"},
		{"ErrObject", map[string]any{"name": map[string]any{"a": 1}}, "name", "not an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inst, err := create(tc.values)
			iwCheck(t, err, cairn.EBADINPUT, "input.requestParams."+tc.field, tc.msg)
			if inst != nil {
				t.Errorf("instance = %+v, want nil", inst)
			}
		})
	}

	// A resource whose parameters are broken (written around the catalog's
	// checks) fails with FAILED_PRECONDITION: only the provider can fix it.
	for _, tc := range []struct {
		name  string
		param cairn.InputParameter
		msg   string
	}{
		{"ErrUnknownType", cairn.InputParameter{Key: "n", Name: "N", Type: "Integer"}, `input parameter "n" of the resource has the unknown type "Integer"`},
		{"ErrBadDefault", cairn.InputParameter{Key: "n", Name: "N", Type: "Number", DefaultValue: iwPtr("many")}, `has the default value "many", which is not a Number`},
		{"ErrDefaultNotOption", cairn.InputParameter{Key: "n", Name: "N", Type: "String", DefaultValue: iwPtr("c"), Options: []string{"a", "b"}}, `has the default value "c", which is not valid`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			broken := iwResource(t, s, tier, false, []cairn.InputParameter{tc.param})
			values := map[string]any{}
			if tc.param.DefaultValue == nil {
				values["n"] = "x"
			}
			_, err := s.CreateInstance(alice, cairn.CreateInstanceInput{ResourceID: broken, SubscriptionID: sub, CloudProvider: "aws", Region: "us-east-1", RequestParams: values})
			iwCheck(t, err, cairn.EFAILEDPRECONDITION, "", tc.msg)
		})
	}
}
