package store

import (
	"context"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

var apiKeys = kind[cairn.APIKey, cairn.APIKeyFilter]{name: "API key", scope: scopeTenantRows,
	filter: func(q *bun.SelectQuery, f *cairn.APIKeyFilter) *bun.SelectQuery {
		q = eq(q, "tenant_id", f.TenantID)
		if f.Revoked != nil {
			if *f.Revoked {
				return q.Where("?TableAlias.revoked_at IS NOT NULL")
			}
			return q.Where("?TableAlias.revoked_at IS NULL")
		}
		return q
	}}

// apiKeyRow is an API key with the hash of its secret, which no other read
// selects.
type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys,alias:ak"`

	cairn.APIKey `bun:",extend"`
	SecretHash   string `bun:",notnull"`
}

// APIKeys returns a page of the API keys the caller can see. Returns
// UNAUTHENTICATED when not signed in and BAD_USER_INPUT for bad pagination
// arguments.
func (s *Store) APIKeys(ctx context.Context, args cairn.PageArgs, f *cairn.APIKeyFilter) (*cairn.ApiKeyConnection, error) {
	return listKind(ctx, s, apiKeys, args, f, nil)
}

// CreateAPIKey stores a new API key for in.TenantID with the hash of its
// secret (made by the caller, who shows the secret once) and prefix, its first
// characters. Returns UNAUTHENTICATED when not signed in; BAD_USER_INPUT for
// a blank name, an unknown role or an expiry in the past; NOT_FOUND when the
// tenant does not exist or is outside the caller's scope; FORBIDDEN without
// ADMIN on the tenant or for a role higher than the caller holds there;
// FAILED_PRECONDITION when the tenant is DISABLED.
func (s *Store) CreateAPIKey(ctx context.Context, in cairn.CreateAPIKeyInput, secretHash, prefix string) (*cairn.APIKey, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	if !in.Role.Valid() {
		return nil, cairn.FieldError("input.role", "%q is not a role; use ROOT, ADMIN, EDITOR or READER", in.Role)
	}
	now := s.Now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return nil, cairn.FieldError("input.expiresAt", "expiresAt %s is not in the future", in.ExpiresAt.Format(time.RFC3339))
	}
	row := &apiKeyRow{APIKey: cairn.APIKey{ID: cairn.NewID(cairn.PrefixAPIKey), Name: strings.TrimSpace(in.Name), Role: in.Role,
		Prefix: prefix, ExpiresAt: in.ExpiresAt, CreatedAt: now, UpdatedAt: now, Version: 1}, SecretHash: secretHash}
	if p.UserID != "" {
		row.CreatedByUserID = &p.UserID
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := scopedTenantShared(ctx, tx, p, in.TenantID)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, t.ID, "Creating an API key"); err != nil {
			return err
		}
		if err := requireGrantable(ctx, tx, p, in.Role, t.ID); err != nil {
			return err
		}
		if t.State == cairn.TenantDisabled {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "tenant %s is DISABLED; enable it before creating API keys for it", t.ID)
		}
		row.TenantID = t.ID
		_, err = tx.NewInsert().Model(row).Exec(ctx)
		return interpretError(err, "create API key")
	})
	if err != nil {
		return nil, err
	}
	return &row.APIKey, nil
}

// UpdateAPIKey renames a key or changes when it expires; an expiry in the
// past expires it at once. Returns UNAUTHENTICATED when not signed in;
// NOT_FOUND when it does not exist or is outside the caller's scope; CONFLICT
// for a stale expectedVersion; FORBIDDEN without ADMIN on its tenant;
// BAD_USER_INPUT for a blank name.
func (s *Store) UpdateAPIKey(ctx context.Context, in cairn.UpdateAPIKeyInput) (*cairn.APIKey, error) {
	return s.changeAPIKey(ctx, in.ID, in.ExpectedVersion, "Changing an API key", func(k *cairn.APIKey) error {
		if in.Name != nil {
			if err := nonEmpty(*in.Name, "input.name"); err != nil {
				return err
			}
			k.Name = strings.TrimSpace(*in.Name)
		}
		if in.ExpiresAt != nil {
			k.ExpiresAt = in.ExpiresAt
		}
		return nil
	})
}

// RevokeAPIKey revokes a key for good; it keeps its row, with revokedAt set.
// Returns what UpdateAPIKey returns, and FAILED_PRECONDITION when the key is
// already revoked.
func (s *Store) RevokeAPIKey(ctx context.Context, in cairn.DeleteInput) (*cairn.APIKey, error) {
	return s.changeAPIKey(ctx, in.ID, in.ExpectedVersion, "Revoking an API key", func(k *cairn.APIKey) error {
		if k.RevokedAt != nil {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "API key %s was already revoked at %s", k.ID, k.RevokedAt.Format(time.RFC3339))
		}
		now := s.Now()
		k.RevokedAt = &now
		return nil
	})
}

func (s *Store) changeAPIKey(ctx context.Context, id string, expected *int, action string, change func(*cairn.APIKey) error) (*cairn.APIKey, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var out *cairn.APIKey
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		k, err := lockForWrite(ctx, tx, p, apiKeys, id, expected)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, k.TenantID, action); err != nil {
			return err
		}
		if err := change(k); err != nil {
			return err
		}
		err = saveVersioned(ctx, tx, k, s.Now())
		out = k
		return interpretError(err, "update API key "+quote(k.ID))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lastUsedGranularity bounds how often a key's lastUsedAt is written: a key
// used in a tight loop costs one write a minute, not one a request.
const lastUsedGranularity = time.Minute

// APIKeyPrincipal returns the principal of the API key whose secret has the
// hash: its tenant, with its one role there. It records lastUsedAt. It needs
// no principal. Returns UNAUTHENTICATED when there is no such key, or it is
// revoked or expired, or its tenant is DISABLED.
func (s *Store) APIKeyPrincipal(ctx context.Context, secretHash string) (*cairn.Principal, error) {
	var row struct {
		cairn.APIKey `bun:",extend"`
		TenantState  cairn.TenantState `bun:"tenant_state"`
	}
	err := s.db.NewSelect().Model(&row).ModelTableExpr("api_keys AS ak").ColumnExpr("ak.*, t.state AS tenant_state").
		Join("JOIN tenants AS t ON t.id = ak.tenant_id").Where("ak.secret_hash = ?", secretHash).Scan(ctx)
	if cairn.ErrorCode(interpretError(err, "")) == cairn.ENOTFOUND {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "The API key is not known to Cairn (it may have been deleted, or mistyped); ask an admin for a new one.")
	} else if err != nil {
		return nil, interpretError(err, "look up API key")
	}
	now := s.Now()
	switch {
	case row.RevokedAt != nil:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "API key %s was revoked at %s; ask an admin for a new one.", row.ID, row.RevokedAt.UTC().Format(time.RFC3339))
	case row.ExpiresAt != nil && !row.ExpiresAt.After(now):
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "API key %s expired at %s; ask an admin for a new one.", row.ID, row.ExpiresAt.UTC().Format(time.RFC3339))
	case row.TenantState == cairn.TenantDisabled:
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "Tenant %s of API key %s is disabled; its keys can no longer act.", row.TenantID, row.ID)
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= lastUsedGranularity {
		_, err := s.db.NewUpdate().TableExpr("api_keys").Set("last_used_at = ?", now).Where("id = ?", row.ID).Exec(ctx)
		if err != nil {
			return nil, interpretError(err, "record API key use")
		}
	}
	return &cairn.Principal{APIKeyID: row.ID, TenantID: row.TenantID, Grants: []cairn.Grant{{TenantID: row.TenantID, Role: row.Role}}}, nil
}
