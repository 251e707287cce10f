package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets: 64 buckets per power of
// two of microseconds, so a quantile is exact to within 1.6%. The zero value
// is ready to use; it is not safe for concurrent use (each worker keeps its
// own and they are merged).
type histogram struct {
	counts [64 * 64]int64
	n      int64
	max    time.Duration
	sum    time.Duration
}

const subBuckets = 64

// bucket returns the bucket of a latency in microseconds.
func bucket(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - 7 // us >> exp is in [64, 128)
	return (exp+1)*subBuckets + int(us>>uint(exp)) - subBuckets
}

// upper returns the largest latency, in microseconds, of bucket i.
func upper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	exp := i/subBuckets - 1
	mant := uint64(i%subBuckets + subBuckets)
	return (mant+1)<<uint(exp) - 1
}

func (h *histogram) record(d time.Duration) {
	us := uint64(d.Microseconds())
	i := min(bucket(us), len(h.counts)-1)
	h.counts[i]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the samples lie
// (the upper edge of the bucket holding it); 0 without samples.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = max(1, min(rank, h.n))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(upper(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
