package store

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

var operations = kind[cairn.Operation, struct{}]{name: "operation", scope: scopeOwned}

// Operation returns the operation with id. Returns UNAUTHENTICATED when not
// signed in and NOT_FOUND when it does not exist or is outside the caller's
// scope (that of its instance).
func (s *Store) Operation(ctx context.Context, id string) (*cairn.Operation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	op := new(cairn.Operation)
	err = operations.scope(s.db.NewSelect().Model(op), p).Where("?TableAlias.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, interpretError(err, "operation "+quote(id))
	}
	return op, nil
}

// OperationsOfInstance returns the operations of an instance, newest first,
// at most limit. Returns UNAUTHENTICATED when not signed in.
func (s *Store) OperationsOfInstance(ctx context.Context, instanceID string, limit int) ([]*cairn.Operation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var ops []*cairn.Operation
	err = operations.scope(s.db.NewSelect().Model(&ops), p).Where("?TableAlias.instance_id = ?", instanceID).
		OrderExpr("?TableAlias.created_at DESC, ?TableAlias.id DESC").Limit(int64(limit)).Scan(ctx)
	return ops, interpretError(err, "list operations")
}

// newOperation inserts an operation of action on inst, enqueues its job (to
// run at at, if set; params are what it applies) and records the event of inst entering the
// transition's status (from prev; nil for a create) in tx.
func (s *Store) newOperation(ctx context.Context, tx bun.IDB, p *cairn.Principal, inst *cairn.ResourceInstance, action cairn.InstanceAction, prev *cairn.InstanceStatus, at time.Time, params map[string]any) (*cairn.Operation, error) {
	now := s.Now()
	op := &cairn.Operation{
		ID: cairn.NewID(cairn.PrefixOperation), Action: action, Status: cairn.OperationPending, InstanceID: inst.ID,
		TenantID: inst.TenantID, ProviderTenantID: inst.ProviderTenantID, ServiceID: inst.ServiceID,
		CreatedByUserID: instanceWriteUser(p), CreatedAt: now, UpdatedAt: now,
	}
	if op.Params = params; params == nil {
		op.Params = map[string]any{}
	}
	if t := action.Target(); t != "" {
		op.TargetStatus = &t
	}
	if _, err := tx.NewInsert().Model(op).Exec(ctx); err != nil {
		return nil, interpretError(err, "create operation")
	}
	btx, ok := tx.(bun.Tx)
	if !ok {
		return nil, errors.New("store: an operation's job must be enqueued in its transaction")
	}
	if err := s.enqueue(ctx, btx, TransitionJob{OperationID: op.ID, InstanceID: inst.ID}, at); err != nil {
		return nil, err
	}
	typ, msg := cairn.EventInstanceCreated, inst.ID+" created"
	if prev != nil {
		typ, msg = cairn.EventStatusChanged, inst.ID+" "+string(*prev)+" → "+string(inst.Status)+" ("+string(action)+" requested)"
	}
	if inst.Status == cairn.InstanceQuarantined {
		msg += "; deleted at " + at.UTC().Format(time.RFC3339) + " unless an admin restores it"
	}
	e := instanceEvent(inst, op, cairn.SourceCustomer, typ, msg)
	e.UserID, e.PreviousStatus = instanceWriteUser(p), prev
	st := inst.Status
	e.Status = &st
	e.Time = now
	return op, s.insertEvent(ctx, tx, e)
}
