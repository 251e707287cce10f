package cairn_test

import (
	"encoding/json"
	"testing"

	"github.com/cairn-dev/cairn"
)

func TestIntUpdateUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   any
		want *int // nil: null
		code string
	}{
		{"Null", nil, nil, ""},
		{"Int", 5, ptr(5), ""},
		{"Int64", int64(-3), ptr(-3), ""},
		{"Number", json.Number("42"), ptr(42), ""},
		{"WholeFloat", 7.0, ptr(7), ""},
		{"ErrFraction", 2.5, nil, cairn.EBADINPUT},
		{"ErrString", "five", nil, cairn.EBADINPUT},
		{"ErrNumberFraction", json.Number("1.5"), nil, cairn.EBADINPUT},
		{"ErrOutOfRange", int64(1) << 40, nil, cairn.EBADINPUT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u cairn.IntUpdate
			err := u.UnmarshalGQL(tc.in)
			if cairn.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("error %v, want code %q", err, tc.code)
			}
			if tc.code != "" {
				return
			}
			if !u.Set || (u.Value == nil) != (tc.want == nil) || (u.Value != nil && *u.Value != *tc.want) {
				t.Errorf("got %+v, want set to %v", u, tc.want)
			}
		})
	}
}

func ptr(n int) *int { return &n }
