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
			idem, err = beginActionIdempotency(ctx, tx, p, action, call)
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
		_, err = tx.NewRaw("INSERT INTO idempotency_keys (principal_id, key, operation, input_hash, result_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			idem.principalID, idem.key, idem.operation, idem.hash, op.ID, s.Now()).Exec(ctx)
		return interpretError(err, "idempotency key "+quote(idem.key))
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
	principalID, key, operation, hash string
	opID                              string
}

// beginActionIdempotency locks in's key and looks it up. Returns CONFLICT
// when the key was used with another action or instance (or by a create),
// and BAD_USER_INPUT for a blank key or a caller a key cannot belong to.
func beginActionIdempotency(ctx context.Context, tx bun.IDB, p *cairn.Principal, action cairn.InstanceAction, call actionCall) (*actionIdempotency, error) {
	key := *call.key
	if strings.TrimSpace(key) == "" {
		return nil, cairn.FieldError("input.idempotencyKey", "idempotencyKey must not be blank; leave it out or pass a unique string")
	}
	principalID := p.UserID
	if principalID == "" {
		principalID = p.APIKeyID
	}
	if principalID == "" {
		return nil, cairn.FieldError("input.idempotencyKey", "an idempotency key needs a signed-in user or an API key to belong to; leave it out")
	}
	input, err := json.Marshal(call.input) // maps marshal with sorted keys
	if err != nil {
		return nil, cairn.FieldError("input", "the input must hold only JSON values")
	}
	sum := sha256.Sum256([]byte(string(action) + "\x00" + call.id + "\x00" + string(input)))
	i := &actionIdempotency{principalID: principalID, key: key, operation: strings.ToLower(string(action)) + "Instance", hash: hex.EncodeToString(sum[:])}
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(?, hashtext(?))", instanceIdemLockClass, principalID+" "+key).Exec(ctx); err != nil {
		return nil, interpretError(err, "lock idempotency key")
	}
	var row struct {
		Operation string `bun:"operation"`
		InputHash string `bun:"input_hash"`
		ResultID  string `bun:"result_id"`
	}
	err = tx.NewSelect().Table("idempotency_keys").Column("operation", "input_hash", "result_id").
		Where("principal_id = ? AND key = ?", principalID, key).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return i, nil
	} else if err != nil {
		return nil, interpretError(err, "read idempotency key")
	}
	if row.Operation != i.operation || row.InputHash != i.hash {
		return nil, cairn.Errorf(cairn.ECONFLICT, "idempotency key %q was used with a different input (by %s); retry with the same input or use a new key", key, row.Operation)
	}
	i.opID = row.ResultID
	return i, nil
}
