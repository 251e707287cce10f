package store

import "context"

// JobQueueDepth counts the jobs waiting to run: available, scheduled or
// waiting for a retry.
func (s *Store) JobQueueDepth(ctx context.Context) (int, error) {
	var n int
	err := s.db.NewRaw("SELECT count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable')").Scan(ctx, &n)
	return n, err
}
