package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Persisted operations: automatic persisted queries (APQ), trusted documents
// registered per client, and persisted-only settings. The in-memory caches in
// front of these tables live in package persisted.

// APQDocument returns the text stored under an APQ hash; found is false when
// none is. It needs no principal: a hash names a text, which runs under the
// scope of whoever sends it. Errors are INTERNAL.
func (s *Store) APQDocument(ctx context.Context, sha256 string) (body string, found bool, err error) {
	err = s.db.NewSelect().Table("apq_documents").Column("body").Where("sha256 = ?", sha256).Scan(ctx, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, interpretError(err, "read persisted query")
	}
	return body, true, nil
}

// AddAPQDocument stores body under its hash (the caller checked that it is
// the body's SHA-256). Storing a hash again is a no-op. Errors are INTERNAL.
func (s *Store) AddAPQDocument(ctx context.Context, sha256, body string) error {
	_, err := s.db.NewRaw("INSERT INTO apq_documents (sha256, body, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
		sha256, body, s.Now()).Exec(ctx)
	return interpretError(err, "store persisted query")
}

type persistedDocumentRow struct {
	bun.BaseModel `bun:"table:persisted_documents"`

	ClientName    string `bun:",pk"`
	ID            string `bun:",pk"`
	SHA256        string `bun:"sha256"`
	Body          string
	OperationName *string
}

func (r *persistedDocumentRow) doc() *cairn.PersistedDocument {
	d := &cairn.PersistedDocument{ClientName: r.ClientName, ID: r.ID, SHA256: r.SHA256, Body: r.Body}
	if r.OperationName != nil {
		d.OperationName = *r.OperationName
	}
	return d
}

// PersistedDocument returns the trusted document id of client; with client
// "", the first registered under id by any client. Returns NOT_FOUND when
// there is none. It needs no principal (documents run under the caller's
// scope).
func (s *Store) PersistedDocument(ctx context.Context, client, id string) (*cairn.PersistedDocument, error) {
	row := new(persistedDocumentRow)
	q := s.db.NewSelect().Model(row).Where("id = ?", id).OrderExpr("created_at, client_name").Limit(1)
	if client != "" {
		q = q.Where("client_name = ?", client)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err, "persisted document "+quote(id))
	}
	return row.doc(), nil
}

// PersistedDocumentRegistered reports whether a document with the SHA-256
// sha256 is registered for client (any client when client is ""). Errors are
// INTERNAL.
func (s *Store) PersistedDocumentRegistered(ctx context.Context, client, sha256 string) (bool, error) {
	q := s.db.NewSelect().Model((*persistedDocumentRow)(nil)).Where("sha256 = ?", sha256)
	if client != "" {
		q = q.Where("client_name = ?", client)
	}
	ok, err := q.Exists(ctx)
	return ok, interpretError(err, "read persisted documents")
}

// RegisterResult tells what a registration changed.
type RegisterResult struct {
	Registered int // new documents
	Unchanged  int // documents already registered with the same text
}

// RegisterDocuments registers docs (all of one client) for client, owned by
// tenantID: the first registration of a client name makes tenantID its owner.
// Returns UNAUTHENTICATED when not signed in, FORBIDDEN unless the caller is an
// EDITOR (or above) of the client's owner tenant, NOT_FOUND when tenantID is
// outside the caller's scope, and CONFLICT when an ID is already registered
// with another text (IDs are immutable: clients rely on them).
func (s *Store) RegisterDocuments(ctx context.Context, tenantID, client string, docs []cairn.PersistedDocument) (*RegisterResult, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	res := &RegisterResult{}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		owner, err := clientOwner(ctx, tx, p, tenantID, client)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, owner, "Registering operations of client "+quote(client)); err != nil {
			return err
		}
		rows := make([]persistedDocumentRow, len(docs))
		ids := make([]string, len(docs))
		for i, d := range docs {
			rows[i] = persistedDocumentRow{ClientName: client, ID: d.ID, SHA256: d.SHA256, Body: d.Body}
			if d.OperationName != "" {
				rows[i].OperationName = &d.OperationName
			}
			ids[i] = d.ID
		}
		var existing []persistedDocumentRow
		if err := tx.NewSelect().Model(&existing).Where("client_name = ?", client).Where("id = ANY(?)", pgdialect.Array(ids)).Scan(ctx); err != nil {
			return interpretError(err, "read persisted documents")
		}
		have := map[string]string{}
		for _, e := range existing {
			have[e.ID] = e.SHA256
		}
		var fresh []persistedDocumentRow
		for _, r := range rows {
			switch sha, ok := have[r.ID]; {
			case !ok:
				fresh = append(fresh, r)
				have[r.ID] = r.SHA256
			case sha == r.SHA256:
				res.Unchanged++
			default:
				return cairn.Errorf(cairn.ECONFLICT, "operation %q of client %q is already registered with another text; registered IDs never change: give the new text a new ID", r.ID, client)
			}
		}
		if len(fresh) > 0 {
			if _, err := tx.NewInsert().Model(&fresh).Exec(ctx); err != nil {
				return interpretError(err, "register operations")
			}
		}
		res.Registered = len(fresh)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// clientOwner returns the tenant owning client, creating the client for
// tenantID when it does not exist. Returns NOT_FOUND when tenantID is outside
// the caller's scope.
func clientOwner(ctx context.Context, tx bun.IDB, p *cairn.Principal, tenantID, client string) (string, error) {
	t := new(cairn.Tenant)
	if err := scopeTenants(tx.NewSelect().Model(t), p).Where("?TableAlias.id = ?", tenantID).Scan(ctx); err != nil {
		return "", interpretError(err, "tenant "+quote(tenantID))
	}
	if _, err := tx.NewRaw("INSERT INTO persisted_clients (name, tenant_id) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
		client, tenantID).Exec(ctx); err != nil {
		return "", interpretError(err, "client "+quote(client))
	}
	var owner string
	if err := tx.NewSelect().Table("persisted_clients").Column("tenant_id").Where("name = ?", client).Scan(ctx, &owner); err != nil {
		return "", interpretError(err, "client "+quote(client))
	}
	return owner, nil
}

// SetPersistedOnly records a persisted-only setting. Returns UNAUTHENTICATED
// when not signed in, NOT_FOUND when the tenant (or, for a client, the client)
// is outside the caller's scope, and FORBIDDEN unless the caller is an ADMIN
// (or above) of the tenant — for a client, of the tenant owning it.
func (s *Store) SetPersistedOnly(ctx context.Context, in cairn.PersistedOnlySetting) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t := new(cairn.Tenant)
		if err := scopeTenants(tx.NewSelect().Model(t), p).Where("?TableAlias.id = ?", in.TenantID).Scan(ctx); err != nil {
			return interpretError(err, "tenant "+quote(in.TenantID))
		}
		if in.Kind == cairn.PersistedOnlyClient {
			var owner string
			err := tx.NewSelect().Table("persisted_clients").Column("tenant_id").Where("name = ?", in.Subject).
				Where("tenant_id IN "+treeSQL, ids(p, cairn.RoleReader)).Scan(ctx, &owner)
			if err != nil {
				return interpretError(err, "client "+quote(in.Subject)+" (register its operations first)")
			}
			in.TenantID = owner
		}
		if err := require(ctx, tx, p, cairn.RoleAdmin, in.TenantID, "Setting persisted-only mode"); err != nil {
			return err
		}
		_, err := tx.NewRaw(`INSERT INTO persisted_only (kind, subject, tenant_id, enabled, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind, subject, tenant_id) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at`,
			string(in.Kind), in.Subject, in.TenantID, in.Enabled, s.Now()).Exec(ctx)
		return interpretError(err, "persisted-only setting")
	})
}

// PersistedOnly reports whether a request by API key apiKeyID (home tenant
// keyTenantID), or by client, must run registered documents only: an
// enabled API-key setting of a tenant above the key's home tenant, or an
// enabled setting of the client. Empty arguments are ignored. One statement;
// errors are INTERNAL.
func (s *Store) PersistedOnly(ctx context.Context, apiKeyID, keyTenantID, client string) (bool, error) {
	if apiKeyID == "" && client == "" {
		return false, nil
	}
	var on bool
	err := s.db.NewSelect().ColumnExpr(`EXISTS (SELECT 1 FROM persisted_only AS po WHERE po.enabled AND (
		(po.kind = 'API_KEY' AND po.subject = ? AND po.subject <> '' AND
		 EXISTS (SELECT 1 FROM tenants WHERE id = ? AND ancestors @> ARRAY[po.tenant_id]))
		OR (po.kind = 'CLIENT' AND po.subject = ? AND po.subject <> '')))`, apiKeyID, keyTenantID, client).Scan(ctx, &on)
	return on, interpretError(err, "read persisted-only settings")
}
