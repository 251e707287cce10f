package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// The methods below are the lifecycle worker's: they act for the system, not
// for a caller, so they are not scoped. Each is safe to repeat: a finished
// operation is left as it is.

// BeginTransition marks an operation RUNNING and counts the attempt. It
// returns the operation and its instance; done is true (and the instance nil)
// when the operation has already finished, so the job has nothing left to do.
func (s *Store) BeginTransition(ctx context.Context, opID string) (op *cairn.Operation, inst *cairn.ResourceInstance, done bool, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		op, err = lockOperation(ctx, tx, opID)
		if err != nil || op.Status.Done() {
			done = err == nil
			return err
		}
		inst = new(cairn.ResourceInstance)
		if err := tx.NewSelect().Model(inst).Where("id = ?", op.InstanceID).Scan(ctx); err != nil {
			return interpretError(err, "instance "+quote(op.InstanceID))
		}
		op.Status, op.Attempts, op.UpdatedAt = cairn.OperationRunning, op.Attempts+1, s.Now()
		_, err = tx.NewUpdate().Model(op).Column("status", "attempts", "updated_at").WherePK().Exec(ctx)
		if err != nil {
			return interpretError(err, "update operation "+quote(opID))
		}
		if op.Action == cairn.ActionDelete && inst.Status == cairn.InstanceQuarantined {
			return s.endQuarantine(ctx, tx, inst, op)
		}
		return nil
	})
	return op, inst, done, err
}

// FinishTransition ends an operation: on success (failure == "") its
// instance reaches the target status with result merged into its
// resultParams (a DELETE removes it); on failure the instance becomes FAILED
// and the event carries the failure. It reports whether it applied the end,
// false when the operation had already finished.
func (s *Store) FinishTransition(ctx context.Context, opID string, result map[string]any, failure string) (applied bool, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		op, err := lockOperation(ctx, tx, opID)
		if err != nil || op.Status.Done() {
			return err
		}
		inst := new(cairn.ResourceInstance)
		err = tx.NewSelect().Model(inst).Where("id = ?", op.InstanceID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			failure = "the instance no longer exists"
			inst = &cairn.ResourceInstance{ID: op.InstanceID, TenantID: op.TenantID, ProviderTenantID: op.ProviderTenantID, ServiceID: op.ServiceID}
		} else if err != nil {
			return interpretError(err, "instance "+quote(op.InstanceID))
		}
		now := s.Now()
		op.UpdatedAt, op.FinishedAt = now, &now
		prev := inst.Status
		e := instanceEvent(inst, op, cairn.SourceInfra, cairn.EventStatusChanged, "")
		e.PreviousStatus, e.Time = &prev, now
		switch {
		case failure != "":
			op.Status, op.Error = cairn.OperationFailed, &failure
			inst.Status = cairn.InstanceFailed
			e.WorkflowFailures = []string{failure}
			e.Message = inst.ID + " " + string(prev) + " → FAILED: " + failure
		case op.Action == cairn.ActionDelete:
			op.Status = cairn.OperationSucceeded
			e.Type, e.Message = cairn.EventInstanceDeleted, inst.ID+" deleted"
			if _, err := tx.NewDelete().Model(inst).WherePK().Exec(ctx); err != nil {
				return interpretError(err, "delete instance "+quote(inst.ID))
			}
		default:
			op.Status = cairn.OperationSucceeded
			inst.Status = *op.TargetStatus
			if inst.ResultParams == nil {
				inst.ResultParams = map[string]any{}
			}
			maps.Copy(inst.ResultParams, result)
			applyParams(inst, op.Params)
			e.Message = inst.ID + " " + string(prev) + " → " + string(inst.Status)
			if op.Action == cairn.ActionCreate {
				user, _ := result["username"].(string)
				if user == "" {
					user = "u_" + inst.ID
				}
				if err := s.createCredential(ctx, tx, inst, user); err != nil {
					return err
				}
			}
		}
		if e.Type == cairn.EventStatusChanged {
			st := inst.Status
			e.Status = &st
			if inst.CreatedAt.IsZero() { // the instance is gone: nothing to update
				e.PreviousStatus = nil
			} else {
				inst.UpdatedAt, inst.Version = now, inst.Version+1
				_, err := tx.NewUpdate().Model(inst).Column("status", "result_params", "request_params", "network_type", "replicas", "updated_at", "version").WherePK().Exec(ctx)
				if err != nil {
					return interpretError(err, "update instance "+quote(inst.ID))
				}
			}
		}
		if _, err := tx.NewUpdate().Model(op).Column("status", "error", "updated_at", "finished_at").WherePK().Exec(ctx); err != nil {
			return interpretError(err, "update operation "+quote(op.ID))
		}
		if err := s.finishSnapshot(ctx, tx, op); err != nil {
			return err
		}
		applied = true
		return s.insertEvent(ctx, tx, e)
	})
	return applied, err
}

// endQuarantine moves a quarantined instance to DELETING when its grace
// period is over.
func (s *Store) endQuarantine(ctx context.Context, tx bun.IDB, inst *cairn.ResourceInstance, op *cairn.Operation) error {
	now := s.Now()
	prev := inst.Status
	inst.Status, inst.UpdatedAt, inst.Version = cairn.InstanceDeleting, now, inst.Version+1
	if _, err := tx.NewUpdate().Model(inst).Column("status", "updated_at", "version").WherePK().Exec(ctx); err != nil {
		return interpretError(err, "update instance "+quote(inst.ID))
	}
	e := instanceEvent(inst, op, cairn.SourceInfra, cairn.EventStatusChanged, inst.ID+" QUARANTINED → DELETING (grace period over)")
	st := inst.Status
	e.PreviousStatus, e.Status, e.Time = &prev, &st, now
	return s.insertEvent(ctx, tx, e)
}

// applyParams sets what a finished UPDATE or capacity change applies.
func applyParams(inst *cairn.ResourceInstance, params map[string]any) {
	if v, ok := params["requestParams"].(map[string]any); ok {
		inst.RequestParams = v
	}
	if v, ok := params["networkType"].(string); ok {
		inst.NetworkType = cairn.NetworkType(v)
	}
	switch v := params["replicas"].(type) { // JSON numbers come back as float64
	case float64:
		inst.Replicas = int(v)
	case int:
		inst.Replicas = v
	}
}

// lockOperation selects and locks an operation, unscoped.
func lockOperation(ctx context.Context, tx bun.IDB, id string) (*cairn.Operation, error) {
	op := new(cairn.Operation)
	if err := tx.NewSelect().Model(op).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, interpretError(err, "operation "+quote(id))
	}
	return op, nil
}
