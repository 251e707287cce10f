package main

import (
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	t.Parallel()
	for _, us := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 12345, 999999, 1 << 30} {
		i := bucket(us)
		if up := upper(i); up < us {
			t.Errorf("bucket(%d) = %d, whose upper bound %d is below the value", us, i, up)
		}
		if i > 0 && upper(i-1) >= us {
			t.Errorf("bucket(%d) = %d, but bucket %d already reaches %d", us, i, i-1, upper(i-1))
		}
		if us >= 64 && float64(upper(i)-us) > 0.016*float64(us) {
			t.Errorf("bucket of %d µs is too wide: upper bound %d", us, upper(i))
		}
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		samples  []time.Duration
		q        float64
		want     time.Duration
		tolerant float64
	}{
		{"Empty", nil, 0.5, 0, 0},
		{"One", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond, 0.016},
		{"Median", []time.Duration{time.Millisecond, 2 * time.Millisecond, 100 * time.Millisecond}, 0.5, 2 * time.Millisecond, 0.016},
		{"Tail", append(repeat(time.Millisecond, 98), 500*time.Millisecond, 600*time.Millisecond), 0.99, 500 * time.Millisecond, 0.016},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h, other histogram
			for i, s := range tc.samples {
				if i%2 == 0 {
					h.record(s)
				} else {
					other.record(s)
				}
			}
			h.merge(&other)
			got := h.quantile(tc.q)
			if d := float64(got - tc.want); d < 0 || d > tc.tolerant*float64(tc.want) {
				t.Errorf("quantile(%v) = %v, want %v (within %.1f%%)", tc.q, got, tc.want, tc.tolerant*100)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}
