package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// SigningKey is a private key that signs Cairn's session tokens, shared by
// every replica through the database.
type SigningKey struct {
	ID        string
	Private   []byte
	CreatedAt time.Time
}

type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys"`

	ID         string `bun:",pk"`
	PrivateKey []byte `bun:",notnull"`
	CreatedAt  time.Time
}

// signingKeyLock is the pg_advisory_xact_lock key that serialises the
// creation of the first signing key ("cairnkey" in ASCII).
const signingKeyLock int64 = 0x636169726e6b6579

// SigningKeys returns every signing key, oldest first. When there is none it
// creates one with create, under a transaction-scoped advisory lock, so that
// replicas starting together end up with one key. It needs no principal.
// Errors (of the database or of create) are INTERNAL.
func (s *Store) SigningKeys(ctx context.Context, create func() (id string, private []byte, err error)) ([]SigningKey, error) {
	var keys []SigningKey
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		rows, err := signingKeyRows(ctx, tx)
		if err != nil || len(rows) > 0 {
			keys = rows
			return err
		}
		if _, err := tx.NewSelect().ColumnExpr("pg_advisory_xact_lock(?)", signingKeyLock).Exec(ctx); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		// Another replica may have created the key while this one waited.
		if rows, err = signingKeyRows(ctx, tx); err != nil || len(rows) > 0 {
			keys = rows
			return err
		}
		id, private, err := create()
		if err != nil {
			return fmt.Errorf("create signing key: %w", err)
		}
		row := &signingKeyRow{ID: id, PrivateKey: private, CreatedAt: s.Now()}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return interpretError(err, "store signing key")
		}
		keys, err = signingKeyRows(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// signingKeyRows returns the signing keys oldest first.
func signingKeyRows(ctx context.Context, db bun.IDB) ([]SigningKey, error) {
	var rows []signingKeyRow
	if err := db.NewSelect().Model(&rows).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, interpretError(err, "read signing keys")
	}
	keys := make([]SigningKey, len(rows))
	for i, r := range rows {
		keys[i] = SigningKey{ID: r.ID, Private: r.PrivateKey, CreatedAt: r.CreatedAt}
	}
	return keys, nil
}
