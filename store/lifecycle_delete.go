package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// deleteNow deletes a quarantined instance, now DELETING, at once: it runs
// the job of the quarantine's operation without waiting for the end of the
// grace period.
func (s *Store) deleteNow(ctx context.Context, tx bun.Tx, p *cairn.Principal, inst *cairn.ResourceInstance) (*cairn.ResourceInstance, *cairn.Operation, error) {
	op := new(cairn.Operation)
	err := tx.NewSelect().Model(op).Where("instance_id = ? AND action = ? AND status IN (?)", inst.ID, cairn.ActionDelete,
		bun.List([]cairn.OperationStatus{cairn.OperationPending, cairn.OperationRunning})).OrderExpr("created_at DESC, id DESC").Limit(1).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		prev := cairn.InstanceQuarantined
		op, err := s.newOperation(ctx, tx, p, inst, cairn.ActionDelete, &prev, time.Time{}, nil)
		return inst, op, err
	} else if err != nil {
		return nil, nil, interpretError(err, "operation of instance "+quote(inst.ID))
	}
	if err := s.enqueue(ctx, tx, TransitionJob{OperationID: op.ID, InstanceID: inst.ID, Now: true}, time.Time{}); err != nil {
		return nil, nil, err
	}
	prev := cairn.InstanceQuarantined
	e := instanceEvent(inst, op, cairn.SourceCustomer, cairn.EventStatusChanged, inst.ID+" QUARANTINED → DELETING (deleted again during quarantine)")
	st := inst.Status
	e.UserID, e.PreviousStatus, e.Status, e.Time = instanceWriteUser(p), &prev, &st, inst.UpdatedAt
	return inst, op, s.insertEvent(ctx, tx, e)
}

// restore takes a quarantined instance back to the status it had before the
// delete and cancels the delete. Returns FORBIDDEN without ADMIN on the
// instance's tenant or provider, and CONFLICT naming the status when the
// instance is not QUARANTINED.
func (s *Store) restore(ctx context.Context, tx bun.Tx, p *cairn.Principal, inst *cairn.ResourceInstance) (*cairn.ResourceInstance, *cairn.Operation, error) {
	admin := false
	for _, t := range []string{inst.TenantID, inst.ProviderTenantID} {
		ok, err := can(ctx, tx, p, cairn.RoleAdmin, t)
		if err != nil {
			return nil, nil, interpretError(err, "check role")
		}
		admin = admin || ok
	}
	if !admin {
		return nil, nil, cairn.Errorf(cairn.EFORBIDDEN, "Restoring a deleted instance needs the %s role (or higher) on its tenant %s or on the provider tenant %s; ask an admin of either.", cairn.RoleAdmin, inst.TenantID, inst.ProviderTenantID)
	}
	if inst.Status != cairn.InstanceQuarantined {
		return nil, nil, cairn.Errorf(cairn.ECONFLICT, "instance %s is %s, not QUARANTINED: only an instance deleted within the grace period can be restored", inst.ID, inst.Status)
	}
	now := s.Now()
	to := cairn.InstanceStopped
	if inst.QuarantinePreviousStatus != nil {
		to = *inst.QuarantinePreviousStatus
	}
	inst.Status, inst.QuarantinedAt, inst.QuarantinePreviousStatus, inst.UpdatedAt, inst.Version = to, nil, nil, now, inst.Version+1
	_, err := tx.NewUpdate().Model(inst).Column("status", "quarantined_at", "quarantine_previous_status", "updated_at", "version").WherePK().Exec(ctx)
	if err != nil {
		return nil, nil, interpretError(err, "update instance "+quote(inst.ID))
	}
	op := new(cairn.Operation)
	err = tx.NewSelect().Model(op).Where("instance_id = ? AND action = ? AND status = ?", inst.ID, cairn.ActionDelete, cairn.OperationPending).
		OrderExpr("created_at DESC, id DESC").Limit(1).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		op = nil
	} else if err != nil {
		return nil, nil, interpretError(err, "operation of instance "+quote(inst.ID))
	} else {
		// Its job, when it comes, finds the operation done and does nothing.
		op.Status, op.UpdatedAt, op.FinishedAt = cairn.OperationCancelled, now, &now
		if _, err := tx.NewUpdate().Model(op).Column("status", "updated_at", "finished_at").WherePK().Exec(ctx); err != nil {
			return nil, nil, interpretError(err, "cancel operation "+quote(op.ID))
		}
	}
	prev := cairn.InstanceQuarantined
	e := instanceEvent(inst, op, cairn.SourceCustomer, cairn.EventStatusChanged, inst.ID+" QUARANTINED → "+string(to)+" (restored; reset its credentials to connect again)")
	e.UserID, e.PreviousStatus, e.Status, e.Time = instanceWriteUser(p), &prev, &to, now
	return inst, op, s.insertEvent(ctx, tx, e)
}
