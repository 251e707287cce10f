package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// DefaultIdempotencyTTL is how long an idempotency key is remembered unless
// SetIdempotencyTTL says otherwise: a retry within it returns the first
// call's result; after it, the key is free and the call runs anew.
const DefaultIdempotencyTTL = 24 * time.Hour

// SetIdempotencyTTL sets how long idempotency keys are remembered; zero or
// negative means DefaultIdempotencyTTL.
func (s *Store) SetIdempotencyTTL(d time.Duration) { s.jobs.idemTTL.Store(int64(d)) }

// IdempotencyTTL returns how long idempotency keys are remembered.
func (s *Store) IdempotencyTTL() time.Duration {
	if d := time.Duration(s.jobs.idemTTL.Load()); d > 0 {
		return d
	}
	return DefaultIdempotencyTTL
}

// idemLockClass is the first key of the advisory locks taken on idempotency
// keys (the two-key lock space, apart from one-key locks).
const idemLockClass = 0x1de7

// usedKey is what an idempotency key recorded: the operation it was used
// with, the hash of that call's input and the ID of what it made.
type usedKey struct {
	Operation string `bun:"operation"`
	InputHash string `bun:"input_hash"`
	ResultID  string `bun:"result_id"`
}

// keyOwner returns whom an idempotency key belongs to: the signed-in user or
// the API key. The key must not be blank.
func keyOwner(p *cairn.Principal, key string) (string, error) {
	if strings.TrimSpace(key) == "" {
		return "", cairn.FieldError("input.idempotencyKey", "idempotencyKey must not be blank; leave it out or pass a unique string")
	}
	owner := p.UserID
	if owner == "" {
		owner = p.APIKeyID
	}
	if owner == "" {
		return "", cairn.FieldError("input.idempotencyKey", "an idempotency key needs a signed-in user or an API key to belong to; leave it out")
	}
	return owner, nil
}

// lockKey takes owner's key for the rest of tx and returns what it recorded
// since since, or nil when it is unused or expired. Concurrent calls with
// the same key wait here until the first commits or rolls back.
func lockKey(ctx context.Context, tx bun.IDB, owner, key string, since time.Time) (*usedKey, error) {
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(?, hashtext(?))", idemLockClass, owner+" "+key).Exec(ctx); err != nil {
		return nil, interpretError(err, "lock idempotency key")
	}
	var used usedKey
	err := tx.NewSelect().Table("idempotency_keys").Column("operation", "input_hash", "result_id").
		Where("principal_id = ? AND key = ? AND created_at > ?", owner, key, since).Scan(ctx, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, interpretError(err, "read idempotency key")
	}
	return &used, nil
}

// recordKey records that owner's key, held by lockKey, made resultID. An
// expired record of the key, not yet swept, is replaced.
func recordKey(ctx context.Context, tx bun.IDB, owner, key string, used usedKey, now time.Time) error {
	_, err := tx.NewRaw(`INSERT INTO idempotency_keys (principal_id, key, operation, input_hash, result_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (principal_id, key) DO UPDATE SET operation = EXCLUDED.operation, input_hash = EXCLUDED.input_hash,
	result_id = EXCLUDED.result_id, created_at = EXCLUDED.created_at`,
		owner, key, used.Operation, used.InputHash, used.ResultID, now).Exec(ctx)
	return interpretError(err, "idempotency key "+quote(key))
}

// ExpireIdempotencyKeys deletes the idempotency keys older than the TTL
// (which lookups ignore already) and returns how many it deleted.
func (s *Store) ExpireIdempotencyKeys(ctx context.Context) (int64, error) {
	res, err := s.db.NewDelete().Table("idempotency_keys").Where("created_at <= ?", s.Now().Add(-s.IdempotencyTTL())).Exec(ctx)
	if err != nil {
		return 0, interpretError(err, "expire idempotency keys")
	}
	return res.RowsAffected()
}
