package store

import (
	"context"
	"maps"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// CreateSnapshot takes a snapshot of a RUNNING instance: the instance is
// SNAPSHOTTING and the snapshot CREATING until a job has taken it. The
// operation's params name the snapshot (snapshotId).
//
// Returns what InstanceAction returns.
func (s *Store) CreateSnapshot(ctx context.Context, in cairn.InstanceActionInput) (*cairn.ResourceInstance, *cairn.Operation, error) {
	return s.act(ctx, cairn.ActionSnapshot, actionCall{id: in.ID, expected: in.ExpectedVersion, key: in.IdempotencyKey,
		prepare: func(ctx context.Context, tx bun.Tx, inst *cairn.ResourceInstance) (map[string]any, error) {
			now := s.Now()
			snap := &cairn.InstanceSnapshot{ID: cairn.NewID(cairn.PrefixSnapshot), InstanceID: inst.ID, Status: cairn.SnapshotCreating,
				RequestParams: maps.Clone(inst.RequestParams), CreatedAt: now, UpdatedAt: now}
			if snap.RequestParams == nil {
				snap.RequestParams = map[string]any{}
			}
			if _, err := tx.NewInsert().Model(snap).Exec(ctx); err != nil {
				return nil, interpretError(err, "create snapshot")
			}
			return map[string]any{"snapshotId": snap.ID}, nil
		}})
}

// RestoreSnapshot puts an AVAILABLE snapshot of an instance back: the
// instance is RESTORING until a job has restored the data, then RUNNING with
// the snapshot's request parameters.
//
// Returns what InstanceAction returns; NOT_FOUND (naming input.snapshotId)
// when the snapshot is not one of the instance's; FAILED_PRECONDITION when
// it is not AVAILABLE.
func (s *Store) RestoreSnapshot(ctx context.Context, in cairn.SnapshotInput) (*cairn.ResourceInstance, *cairn.Operation, error) {
	return s.act(ctx, cairn.ActionRestoreSnapshot, actionCall{id: in.ID, expected: in.ExpectedVersion, key: in.IdempotencyKey, input: in.SnapshotID,
		prepare: func(ctx context.Context, tx bun.Tx, inst *cairn.ResourceInstance) (map[string]any, error) {
			snap := new(cairn.InstanceSnapshot)
			err := tx.NewSelect().Model(snap).Where("id = ? AND instance_id = ?", in.SnapshotID, inst.ID).Scan(ctx)
			if err != nil {
				if cairn.ErrorCode(interpretError(err, "")) == cairn.ENOTFOUND {
					return nil, &cairn.Error{Code: cairn.ENOTFOUND, Field: "input.snapshotId", Message: "instance " + inst.ID + " has no snapshot " + quote(in.SnapshotID)}
				}
				return nil, interpretError(err, "snapshot "+quote(in.SnapshotID))
			}
			if snap.Status != cairn.SnapshotAvailable {
				return nil, cairn.Errorf(cairn.EFAILEDPRECONDITION, "snapshot %s is %s, not AVAILABLE; restore from an AVAILABLE one", snap.ID, snap.Status)
			}
			return map[string]any{"snapshotId": snap.ID, "requestParams": snap.RequestParams}, nil
		}})
}

// SnapshotsOfInstance lists an instance's snapshots, newest first. Returns
// UNAUTHENTICATED when not signed in; an instance outside the caller's scope
// has none.
func (s *Store) SnapshotsOfInstance(ctx context.Context, instanceID string) ([]*cairn.InstanceSnapshot, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var snaps []*cairn.InstanceSnapshot
	err = s.db.NewSelect().Model(&snaps).
		Where("instance_id IN (?)", instances.scope(s.db.NewSelect().Model((*cairn.ResourceInstance)(nil)).Column("id"), p).Where("?TableAlias.id = ?", instanceID)).
		OrderExpr("created_at DESC, id DESC").Scan(ctx)
	return snaps, interpretError(err, "list snapshots")
}

// finishSnapshot marks the snapshot of a finished SNAPSHOT operation.
func (s *Store) finishSnapshot(ctx context.Context, tx bun.IDB, op *cairn.Operation) error {
	id, _ := op.Params["snapshotId"].(string)
	if op.Action != cairn.ActionSnapshot || id == "" {
		return nil
	}
	status := cairn.SnapshotAvailable
	if op.Status != cairn.OperationSucceeded {
		status = cairn.SnapshotFailed
	}
	_, err := tx.NewUpdate().Model((*cairn.InstanceSnapshot)(nil)).Set("status = ?", status).Set("updated_at = ?", s.Now()).Where("id = ?", id).Exec(ctx)
	return interpretError(err, "update snapshot "+quote(id))
}
