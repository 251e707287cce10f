package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// CreateInstanceOp is CreateInstance that also returns the operation that
// provisions the instance (the first call's, for a retry with the same
// idempotency key). Returns what CreateInstance returns.
func (s *Store) CreateInstanceOp(ctx context.Context, in cairn.CreateInstanceInput) (*cairn.ResourceInstance, *cairn.Operation, error) {
	inst, err := s.CreateInstance(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	var op cairn.Operation
	err = s.db.NewSelect().Model(&op).Where("instance_id = ? AND action = ?", inst.ID, cairn.ActionCreate).
		OrderExpr("created_at, id").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return inst, nil, nil // created before operations existed
	} else if err != nil {
		return nil, nil, interpretError(err, "operation of instance "+quote(inst.ID))
	}
	return inst, &op, nil
}

// startCreate records the CREATE operation of a new instance, its event and
// its job, in the transaction that inserted it.
func (s *Store) startCreate(ctx context.Context, tx bun.IDB, p *cairn.Principal, inst *cairn.ResourceInstance) error {
	_, err := s.newOperation(ctx, tx, p, inst, cairn.ActionCreate, nil, time.Time{}, nil)
	return err
}

// InstanceAction starts action (START, STOP, RESTART, FAILOVER or DELETE) on
// an instance: the instance takes the transition's status and a job does the
// work. With an idempotency key, a retry with the same action and instance
// returns the first call's instance and operation.
//
// Returns UNAUTHENTICATED when not signed in; NOT_FOUND when the instance
// does not exist or is outside the caller's scope; FORBIDDEN without EDITOR
// on its tenant or its provider; CONFLICT, naming the instance's status,
// when the action is not allowed from it, and when the idempotency key was
// used for something else; BAD_USER_INPUT for a blank key.
func (s *Store) InstanceAction(ctx context.Context, action cairn.InstanceAction, in cairn.InstanceActionInput) (*cairn.ResourceInstance, *cairn.Operation, error) {
	return s.act(ctx, action, actionCall{id: in.ID, expected: in.ExpectedVersion, key: in.IdempotencyKey})
}

// actionCall is one call of an instance action: its instance, expected
// version and idempotency key, what else the key's input hash covers, and
// prepare, which checks the call against the locked instance and returns the
// operation's params.
type actionCall struct {
	id       string
	expected *int
	key      *string
	input    any
	prepare  func(ctx context.Context, tx bun.Tx, inst *cairn.ResourceInstance) (map[string]any, error)
}

// act runs an action in one transaction, with its idempotency key.
func (s *Store) act(ctx context.Context, action cairn.InstanceAction, call actionCall) (*cairn.ResourceInstance, *cairn.Operation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	var inst *cairn.ResourceInstance
	var op *cairn.Operation
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var idem *actionIdempotency
		if call.key != nil {
			idem, err = beginActionIdempotency(ctx, tx, p, action, call, s.Now().Add(-s.IdempotencyTTL()))
			if err != nil {
				return err
			}
			if idem.opID != "" {
				inst, op, err = s.replayAction(ctx, tx, p, call.id, idem.opID)
				return err
			}
		}
		inst, op, err = s.instanceAction(ctx, tx, p, action, call)
		if err != nil || idem == nil {
			return err
		}
		idem.used.ResultID = op.ID
		return recordKey(ctx, tx, idem.owner, idem.key, idem.used, s.Now())
	})
	if err != nil {
		return nil, nil, err
	}
	return inst, op, nil
}

func (s *Store) instanceAction(ctx context.Context, tx bun.Tx, p *cairn.Principal, action cairn.InstanceAction, call actionCall) (*cairn.ResourceInstance, *cairn.Operation, error) {
	inst, err := lockForWrite(ctx, tx, p, instances, call.id, call.expected)
	if err != nil {
		return nil, nil, err
	}
	if action == cairn.ActionRestore {
		return s.restore(ctx, tx, p, inst)
	}
	verb := strings.ToUpper(string(action)[:1]) + strings.ToLower(string(action)[1:]) + "ing an instance"
	if err := requireEditorOfOwnerOrProvider(ctx, tx, p, inst.TenantID, inst.ProviderTenantID, verb); err != nil {
		return nil, nil, err
	}
	via, _, err := action.Transition(inst.ID, inst.Status)
	if err != nil {
		return nil, nil, err
	}
	var params map[string]any
	if call.prepare != nil {
		if params, err = call.prepare(ctx, tx, inst); err != nil {
			return nil, nil, err
		}
	}
	grace := s.QuarantineGrace()
	if via == cairn.InstanceQuarantined && grace == 0 {
		via = cairn.InstanceDeleting
	}
	prev, now := inst.Status, s.Now()
	inst.Status, inst.UpdatedAt, inst.Version = via, now, inst.Version+1
	cols := []string{"status", "updated_at", "version"}
	var at time.Time
	if via == cairn.InstanceQuarantined {
		// Seed 002: a quarantined database's credentials stop working.
		inst.QuarantinedAt, inst.QuarantinePreviousStatus, at = &now, &prev, now.Add(grace)
		cols = append(cols, "quarantined_at", "quarantine_previous_status")
		if err := s.scrambleCredentials(ctx, tx, inst.ID); err != nil {
			return nil, nil, err
		}
	}
	if _, err := tx.NewUpdate().Model(inst).Column(cols...).WherePK().Exec(ctx); err != nil {
		return nil, nil, interpretError(err, "update instance "+quote(inst.ID))
	}
	if prev == cairn.InstanceQuarantined {
		return s.deleteNow(ctx, tx, p, inst)
	}
	op, err := s.newOperation(ctx, tx, p, inst, action, &prev, at, params)
	if err != nil {
		return nil, nil, err
	}
	return inst, op, nil
}

// replayAction returns the instance and the operation of an earlier call
// with the same idempotency key.
func (s *Store) replayAction(ctx context.Context, tx bun.IDB, p *cairn.Principal, instanceID, opID string) (*cairn.ResourceInstance, *cairn.Operation, error) {
	op := new(cairn.Operation)
	if err := tx.NewSelect().Model(op).Where("id = ?", opID).Scan(ctx); err != nil {
		return nil, nil, interpretError(err, "operation "+quote(opID))
	}
	inst := new(cairn.ResourceInstance)
	err := instances.scope(tx.NewSelect().Model(inst), p).Where("?TableAlias.id = ?", instanceID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) && op.Action == cairn.ActionDelete {
		// Deleted since: answer with the instance as the operation left it.
		return &cairn.ResourceInstance{ID: instanceID, TenantID: op.TenantID, ProviderTenantID: op.ProviderTenantID, ServiceID: op.ServiceID, Status: cairn.InstanceDeleting}, op, nil
	} else if err != nil {
		return nil, nil, interpretError(err, "instance "+quote(instanceID))
	}
	return inst, op, nil
}

// actionIdempotency is the idempotency key of an instance action, locked for
// the rest of the transaction; opID is the first call's operation, if any.
type actionIdempotency struct {
	owner, key string
	used       usedKey // the operation and hash of this call
	opID       string
}

// beginActionIdempotency locks in's key and looks up what it recorded since
// since. Returns CONFLICT when the key was used with another action or
// instance (or by a create), and BAD_USER_INPUT for a blank key or a caller
// a key cannot belong to.
func beginActionIdempotency(ctx context.Context, tx bun.IDB, p *cairn.Principal, action cairn.InstanceAction, call actionCall, since time.Time) (*actionIdempotency, error) {
	key := *call.key
	owner, err := keyOwner(p, key)
	if err != nil {
		return nil, err
	}
	input, err := json.Marshal(call.input) // maps marshal with sorted keys
	if err != nil {
		return nil, cairn.FieldError("input", "the input must hold only JSON values")
	}
	sum := sha256.Sum256([]byte(string(action) + "\x00" + call.id + "\x00" + string(input)))
	i := &actionIdempotency{owner: owner, key: key, used: usedKey{Operation: strings.ToLower(string(action)) + "Instance", InputHash: hex.EncodeToString(sum[:])}}
	used, err := lockKey(ctx, tx, owner, key, since)
	if err != nil || used == nil {
		return i, err
	}
	if used.Operation != i.used.Operation || used.InputHash != i.used.InputHash {
		return nil, cairn.Errorf(cairn.ECONFLICT, "idempotency key %q was used with a different input (by %s); retry with the same input or use a new key", key, used.Operation)
	}
	i.opID = used.ResultID
	return i, nil
}
