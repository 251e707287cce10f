package store

import "context"

// CachePrincipalsObserved is CachePrincipals telling on every notification it
// applies and every change of its connection ("up", "down").
func (s *Store) CachePrincipalsObserved(ctx context.Context, url string, size int, on func(string)) error {
	return s.cachePrincipals(ctx, url, size, on)
}
