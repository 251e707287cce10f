package store

import (
	"context"
	"maps"
	"slices"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// UpdateInstance changes a RUNNING instance's request parameters (the keys
// given, merged into the current ones) or its network type: the instance is
// UPDATING until a job has applied them. With an idempotency key, a retry
// with the same input returns the first call's result.
//
// Returns what InstanceAction returns, and BAD_USER_INPUT naming the field
// for nothing to change, a parameter that is not modifiable, a bad value or
// a bad network type.
func (s *Store) UpdateInstance(ctx context.Context, in cairn.UpdateInstanceInput) (*cairn.ResourceInstance, *cairn.Operation, error) {
	if len(in.RequestParams) == 0 && in.NetworkType == nil {
		return nil, nil, cairn.FieldError("input", "nothing to change: pass requestParams or networkType")
	}
	if in.NetworkType != nil && !cairn.EnumValid("NetworkType", string(*in.NetworkType)) {
		return nil, nil, cairn.FieldError("input.networkType", "networkType %q is not PUBLIC or INTERNAL", *in.NetworkType)
	}
	return s.act(ctx, cairn.ActionUpdate, actionCall{id: in.ID, expected: in.ExpectedVersion, key: in.IdempotencyKey,
		input: map[string]any{"requestParams": in.RequestParams, "networkType": in.NetworkType},
		prepare: func(ctx context.Context, tx bun.Tx, inst *cairn.ResourceInstance) (map[string]any, error) {
			params := map[string]any{}
			if in.NetworkType != nil {
				params["networkType"] = string(*in.NetworkType)
			}
			if len(in.RequestParams) == 0 {
				return params, nil
			}
			var res cairn.Resource
			if err := tx.NewSelect().Model(&res).Where("id = ?", inst.ResourceID).Scan(ctx); err != nil {
				return nil, interpretError(err, "resource "+quote(inst.ResourceID))
			}
			keys := slices.Sorted(maps.Keys(in.RequestParams))
			for _, k := range keys {
				i := slices.IndexFunc(res.InputParameters, func(ip cairn.InputParameter) bool { return ip.Key == k })
				if i >= 0 && !res.InputParameters[i].Modifiable {
					return nil, cairn.FieldError("input.requestParams."+k, "%s cannot be changed after creation; create a new instance instead", k)
				}
			}
			merged := maps.Clone(inst.RequestParams)
			maps.Copy(merged, in.RequestParams)
			v, err := validateRequestParams(res.InputParameters, merged, "input.requestParams")
			if err != nil {
				return nil, err
			}
			params["requestParams"] = v
			return params, nil
		}})
}

// ChangeCapacity adds (ADD_CAPACITY) or removes (REMOVE_CAPACITY) replicas
// of a RUNNING instance, one unless in.Replicas says how many: the instance
// is SCALING until a job has applied it.
//
// Returns what InstanceAction returns; BAD_USER_INPUT naming
// input.replicas for a count below 1; RESOURCE_EXHAUSTED beyond
// cairn.MaxReplicas; FAILED_PRECONDITION when fewer than one replica would
// remain.
func (s *Store) ChangeCapacity(ctx context.Context, action cairn.InstanceAction, in cairn.CapacityInput) (*cairn.ResourceInstance, *cairn.Operation, error) {
	n := 1
	if in.Replicas != nil {
		n = *in.Replicas
	}
	if n < 1 {
		return nil, nil, cairn.FieldError("input.replicas", "replicas must be at least 1 (how many to add or remove)")
	}
	if action != cairn.ActionAddCapacity && action != cairn.ActionRemoveCapacity {
		return nil, nil, cairn.Errorf(cairn.EBADINPUT, "%s is not a change of capacity", action)
	}
	return s.act(ctx, action, actionCall{id: in.ID, expected: in.ExpectedVersion, key: in.IdempotencyKey, input: n,
		prepare: func(ctx context.Context, tx bun.Tx, inst *cairn.ResourceInstance) (map[string]any, error) {
			to := inst.Replicas + n
			if action == cairn.ActionRemoveCapacity {
				to = inst.Replicas - n
			}
			switch {
			case to < 1:
				return nil, cairn.Errorf(cairn.EFAILEDPRECONDITION, "instance %s has %d %s: removing %d would leave none; delete the instance instead", inst.ID, inst.Replicas, plural(inst.Replicas, "replica"), n)
			case to > cairn.MaxReplicas:
				return nil, cairn.Errorf(cairn.ERESOURCEEXHAUSTED, "instance %s has %d %s and can have at most %d", inst.ID, inst.Replicas, plural(inst.Replicas, "replica"), cairn.MaxReplicas)
			}
			return map[string]any{"replicas": to}, nil
		}})
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
