// Package intern shares equal values among their holders: a Pool hands out
// one value per key for as long as something holds it, and forgets it when
// nothing does. Thousands of subscriptions of one replica typically hold the
// same principal's tenants and the same document; one copy each is memory
// per subscriber that a shared one saves.
package intern

import (
	"runtime"
	"sync"
	"weak"
)

// Pool holds, by key, the values its callers hold. The zero Pool is ready
// to use; it is safe for concurrent use.
type Pool[T any] struct {
	mu sync.Mutex
	m  map[string]weak.Pointer[T]
}

// Get returns the value of key that is still held, or makes one with make
// (called with the pool locked, at most once per call) and keeps it for as
// long as a caller holds it.
func (p *Pool[T]) Get(key string, make func() *T) *T {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.m[key].Value(); v != nil {
		return v
	}
	if p.m == nil {
		p.m = map[string]weak.Pointer[T]{}
	}
	v := make()
	p.m[key] = weak.Make(v)
	runtime.AddCleanup(v, p.forget, key)
	return v
}

// forget drops key's entry once its value is gone (unless a new value took
// its place).
func (p *Pool[T]) forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[key].Value() == nil {
		delete(p.m, key)
	}
}

// Len returns how many keys the pool holds (values not yet collected
// included).
func (p *Pool[T]) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
