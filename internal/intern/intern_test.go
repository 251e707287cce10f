package intern

import (
	"runtime"
	"testing"
	"time"
)

func TestPoolSharesWhileHeld(t *testing.T) {
	var p Pool[[]string]
	made := 0
	mk := func(v ...string) func() *[]string {
		return func() *[]string { made++; return &v }
	}
	a := p.Get("k", mk("x"))
	b := p.Get("k", mk("y"))
	if a != b || made != 1 || (*b)[0] != "x" {
		t.Fatalf("a %p b %p made %d: the second Get of a held key must return the first value", a, b, made)
	}
	if c := p.Get("other", mk("z")); c == a || made != 2 {
		t.Fatalf("another key shared a value (made %d)", made)
	}
	runtime.KeepAlive(a)
}

func TestPoolForgetsWhatNobodyHolds(t *testing.T) {
	var p Pool[[]string]
	for i := range 100 {
		v := p.Get(string(rune('a'+i%26))+string(rune('a'+i/26)), func() *[]string { return &[]string{"v"} })
		_ = v
	}
	// The cleanups run after a collection, on the runtime's goroutine:
	// collect until they have (no fixed sleep).
	deadline := time.Now().Add(10 * time.Second)
	for p.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d keys still held after their values were dropped", p.Len())
		}
		runtime.GC()
		runtime.Gosched()
	}
}
