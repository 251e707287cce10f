package store

import (
	"context"
	"crypto/rand"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// newPassword returns a random password of 20 letters and digits.
func newPassword() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// createCredential gives a provisioned instance its first credential, once.
func (s *Store) createCredential(ctx context.Context, tx bun.IDB, inst *cairn.ResourceInstance, username string) error {
	pw, now := newPassword(), s.Now()
	c := &cairn.InstanceCredential{ID: cairn.NewID(cairn.PrefixCredential), InstanceID: inst.ID, Username: username, Password: &pw, CreatedAt: now, UpdatedAt: now}
	_, err := tx.NewInsert().Model(c).On("CONFLICT (instance_id, username) DO NOTHING").Exec(ctx)
	return interpretError(err, "create credential")
}

// scrambleCredentials sets every credential of an instance to a password
// nobody knows (seed 002: a quarantined database refuses connections).
func (s *Store) scrambleCredentials(ctx context.Context, tx bun.IDB, instanceID string) error {
	var creds []*cairn.InstanceCredential
	if err := tx.NewSelect().Model(&creds).Where("instance_id = ?", instanceID).For("UPDATE").Scan(ctx); err != nil {
		return interpretError(err, "read credentials")
	}
	for _, c := range creds {
		pw := newPassword()
		c.Password, c.UpdatedAt = &pw, s.Now()
		if _, err := tx.NewUpdate().Model(c).Column("password", "updated_at").WherePK().Exec(ctx); err != nil {
			return interpretError(err, "scramble credential")
		}
	}
	return nil
}

// CredentialsOfInstance lists an instance's credentials without their
// passwords. Returns UNAUTHENTICATED when not signed in and NOT_FOUND when
// the instance does not exist or is outside the caller's scope.
func (s *Store) CredentialsOfInstance(ctx context.Context, instanceID string) ([]*cairn.InstanceCredential, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var creds []*cairn.InstanceCredential
	err = s.db.NewSelect().Model(&creds).ExcludeColumn("password").
		Where("instance_id IN (?)", instances.scope(s.db.NewSelect().Model((*cairn.ResourceInstance)(nil)).Column("id"), p).Where("?TableAlias.id = ?", instanceID)).
		OrderExpr("created_at, id").Scan(ctx)
	return creds, interpretError(err, "list credentials")
}

// InstanceCredential returns a credential with its password. Returns
// UNAUTHENTICATED when not signed in; NOT_FOUND when it does not exist or
// its instance is outside the caller's scope; FORBIDDEN without EDITOR on the
// instance's tenant or provider.
func (s *Store) InstanceCredential(ctx context.Context, id string) (*cairn.InstanceCredential, error) {
	var c *cairn.InstanceCredential
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, _, err = s.credentialForEditor(ctx, tx, id, "Reading a password", false)
		return err
	})
	return c, err
}

// ResetInstanceCredential gives a credential a new generated password and
// returns it. Returns what InstanceCredential returns, and CONFLICT while the
// instance is QUARANTINED (restore it first).
func (s *Store) ResetInstanceCredential(ctx context.Context, id string) (*cairn.InstanceCredential, error) {
	var c *cairn.InstanceCredential
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var inst *cairn.ResourceInstance
		var err error
		if c, inst, err = s.credentialForEditor(ctx, tx, id, "Resetting a password", true); err != nil {
			return err
		}
		if inst.Status == cairn.InstanceQuarantined {
			return cairn.Errorf(cairn.ECONFLICT, "instance %s is QUARANTINED: its credentials stay locked; restore it first (restoreInstance)", inst.ID)
		}
		pw := newPassword()
		c.Password, c.UpdatedAt = &pw, s.Now()
		if _, err := tx.NewUpdate().Model(c).Column("password", "updated_at").WherePK().Exec(ctx); err != nil {
			return interpretError(err, "reset credential "+quote(id))
		}
		e := instanceEvent(inst, nil, cairn.SourceCustomer, "CREDENTIAL_RESET", inst.ID+": password of "+c.Username+" reset")
		p, _ := principal(ctx)
		e.UserID = instanceWriteUser(p)
		return s.insertEvent(ctx, tx, e)
	})
	return c, err
}

// credentialForEditor reads a credential and its instance inside the
// caller's scope (locking both when lock) and checks EDITOR.
func (s *Store) credentialForEditor(ctx context.Context, tx bun.Tx, id, action string, lock bool) (*cairn.InstanceCredential, *cairn.ResourceInstance, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := new(cairn.InstanceCredential)
	q := tx.NewSelect().Model(c).Where("id = ?", id)
	if lock {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, nil, interpretError(err, "credential "+quote(id))
	}
	inst := new(cairn.ResourceInstance)
	if err := instances.scope(tx.NewSelect().Model(inst), p).Where("?TableAlias.id = ?", c.InstanceID).Scan(ctx); err != nil {
		return nil, nil, interpretError(err, "credential "+quote(id)) // outside scope: as missing
	}
	if err := requireEditorOfOwnerOrProvider(ctx, tx, p, inst.TenantID, inst.ProviderTenantID, action); err != nil {
		return nil, nil, err
	}
	return c, inst, nil
}
