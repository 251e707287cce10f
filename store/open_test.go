package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestOpenSessionDefaults: every connection runs with JIT compilation off
// unless the URL asks otherwise (store.Open says why).
func TestOpenSessionDefaults(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, tc := range []struct {
		name, url, want string
	}{
		{"Default", url, "off"},
		{"URLWins", url + sep + "jit=on", "on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var jit string
			if err := s.DB().QueryRowContext(context.Background(), "SHOW jit").Scan(&jit); err != nil {
				t.Fatal(err)
			}
			if jit != tc.want {
				t.Errorf("jit = %s, want %s", jit, tc.want)
			}
		})
	}
}
