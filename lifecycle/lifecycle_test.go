package lifecycle_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/lifecycle"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type env struct {
	t     *testing.T
	s     *store.Store
	d     *store.Demo
	alice context.Context
	bob   context.Context
	sim   *lifecycle.Simulated
}

// setup gives a demo store and a simulated cloud taking delay per action;
// start starts engines on it.
func setup(t *testing.T, delay time.Duration) *env {
	t.Helper()
	s := storetest.New(t)
	ctx := context.Background()
	d, err := s.SeedDemo(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, s: s, d: d, sim: &lifecycle.Simulated{Delay: delay}}
	for who, id := range map[*context.Context]string{&e.alice: d.Alice, &e.bob: d.Bob} {
		p, err := s.Principal(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		*who = storetest.As(p)
	}
	return e
}

// start starts an engine; it stops at the end of the test.
func (e *env) start() *lifecycle.Engine {
	e.t.Helper()
	eng, err := lifecycle.New(lifecycle.Config{Store: e.s, Provisioner: e.sim, PollInterval: 10 * time.Millisecond, RetryDelay: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eng.StopAndCancel(ctx)
	})
	return eng
}

func (e *env) create(key *string) (*cairn.ResourceInstance, *cairn.Operation) {
	e.t.Helper()
	inst, op, err := e.s.CreateInstanceOp(e.alice, cairn.CreateInstanceInput{ResourceID: e.d.MySQL, SubscriptionID: e.d.SubA,
		CloudProvider: "aws", Region: "us-east-1", IdempotencyKey: key,
		RequestParams: map[string]any{"mysqlDatabase": "app", "mysqlUser": "app", "mysqlPassword": "s3cret"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return inst, op
}

// await polls until the operation is done, for at most 10 seconds.
func (e *env) await(opID string) *cairn.Operation {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		op, err := e.s.Operation(e.alice, opID)
		if err != nil {
			e.t.Fatal(err)
		}
		if op.Status.Done() {
			return op
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("operation %s still %s after 10s", opID, op.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) instance(id string) *cairn.ResourceInstance {
	e.t.Helper()
	inst, err := e.s.For(e.alice).Instance(e.alice, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inst
}

// transitions returns the status transitions recorded for an instance, as
// "PREV→STATUS" ("→STATUS" for the first).
func (e *env) transitions(instanceID string) []string {
	e.t.Helper()
	evs, err := e.s.EventsAfter(e.alice, 0, &cairn.AuditEventFilter{InstanceID: &instanceID}, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Status == nil {
			out = append(out, ev.Type)
			continue
		}
		prev := ""
		if ev.PreviousStatus != nil {
			prev = string(*ev.PreviousStatus)
		}
		out = append(out, prev+"→"+string(*ev.Status))
	}
	return out
}

func TestCreateProvisions(t *testing.T) {
	t.Parallel()
	e := setup(t, 20*time.Millisecond)
	e.start()
	inst, op := e.create(nil)
	if inst.Status != cairn.InstanceDeploying || op == nil || op.Action != cairn.ActionCreate || op.Status != cairn.OperationPending || op.InstanceID != inst.ID {
		t.Fatalf("create = %+v, %+v", inst, op)
	}
	if op = e.await(op.ID); op.Status != cairn.OperationSucceeded || op.Error != nil || op.FinishedAt == nil {
		t.Fatalf("operation = %+v", op)
	}
	got := e.instance(inst.ID)
	if got.Status != cairn.InstanceRunning || got.ResultParams["endpoint"] == nil || got.Version != 2 {
		t.Errorf("instance = %+v", got)
	}
	if tr := strings.Join(e.transitions(inst.ID), " "); tr != "→DEPLOYING DEPLOYING→RUNNING" {
		t.Errorf("transitions = %s", tr)
	}
	if n := e.sim.Started(); n != 1 {
		t.Errorf("provisioner started %d pieces of work, want 1", n)
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.start()
	inst, op := e.create(nil)
	e.await(op.ID)
	for _, step := range []struct {
		action   cairn.InstanceAction
		via, end cairn.InstanceStatus
	}{
		{cairn.ActionStop, cairn.InstanceStopping, cairn.InstanceStopped},
		{cairn.ActionStart, cairn.InstanceStarting, cairn.InstanceRunning},
		{cairn.ActionRestart, cairn.InstanceRestarting, cairn.InstanceRunning},
		{cairn.ActionFailover, cairn.InstanceFailover, cairn.InstanceRunning},
	} {
		got, op, err := e.s.InstanceAction(e.alice, step.action, cairn.InstanceActionInput{ID: inst.ID})
		if err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		if got.Status != step.via || op.Action != step.action || op.TargetStatus == nil || *op.TargetStatus != step.end {
			t.Fatalf("%s = %+v, %+v", step.action, got, op)
		}
		if op = e.await(op.ID); op.Status != cairn.OperationSucceeded {
			t.Fatalf("%s: operation %+v", step.action, op)
		}
		if st := e.instance(inst.ID).Status; st != step.end {
			t.Fatalf("after %s: %s, want %s", step.action, st, step.end)
		}
	}
	want := "→DEPLOYING DEPLOYING→RUNNING RUNNING→STOPPING STOPPING→STOPPED STOPPED→STARTING STARTING→RUNNING " +
		"RUNNING→RESTARTING RESTARTING→RUNNING RUNNING→FAILOVER FAILOVER→RUNNING"
	if tr := strings.Join(e.transitions(inst.ID), " "); tr != want {
		t.Errorf("transitions = %s\nwant          %s", tr, want)
	}

	t.Run("ErrNotAllowed", func(t *testing.T) {
		_, _, err := e.s.InstanceAction(e.alice, cairn.ActionStart, cairn.InstanceActionInput{ID: inst.ID})
		if cairn.ErrorCode(err) != cairn.ECONFLICT || !strings.Contains(cairn.ErrorMessage(err), "is RUNNING: start needs it STOPPED") {
			t.Errorf("start of a RUNNING instance: %v", err)
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		_, _, err := e.s.InstanceAction(e.bob, cairn.ActionStop, cairn.InstanceActionInput{ID: inst.ID})
		if cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob stops alice's instance: %v", err)
		}
	})
	t.Run("DeleteQuarantinesThenDeletes", func(t *testing.T) {
		got, op, err := e.s.InstanceAction(e.alice, cairn.ActionDelete, cairn.InstanceActionInput{ID: inst.ID})
		if err != nil || got.Status != cairn.InstanceQuarantined || got.QuarantinedAt == nil || op.Status != cairn.OperationPending {
			t.Fatalf("delete = %+v, %+v, %v", got, op, err)
		}
		restored, cancelled, err := e.s.InstanceAction(e.alice, cairn.ActionRestore, cairn.InstanceActionInput{ID: inst.ID})
		if err != nil || restored.Status != cairn.InstanceRunning || restored.QuarantinedAt != nil || cancelled.ID != op.ID || cancelled.Status != cairn.OperationCancelled {
			t.Fatalf("restore = %+v, %+v, %v", restored, cancelled, err)
		}
		if _, _, err := e.s.InstanceAction(e.alice, cairn.ActionRestore, cairn.InstanceActionInput{ID: inst.ID}); cairn.ErrorCode(err) != cairn.ECONFLICT || !strings.Contains(cairn.ErrorMessage(err), "is RUNNING, not QUARANTINED") {
			t.Errorf("restore of a RUNNING instance: %v", err)
		}
		if _, op, err = e.s.InstanceAction(e.alice, cairn.ActionDelete, cairn.InstanceActionInput{ID: inst.ID}); err != nil {
			t.Fatal(err)
		}
		// Deleting again deletes now, through the quarantine's operation.
		got, again, err := e.s.InstanceAction(e.alice, cairn.ActionDelete, cairn.InstanceActionInput{ID: inst.ID})
		if err != nil || got.Status != cairn.InstanceDeleting || again.ID != op.ID {
			t.Fatalf("second delete = %+v, %+v, %v", got, again, err)
		}
		if op = e.await(op.ID); op.Status != cairn.OperationSucceeded {
			t.Fatalf("operation %+v", op)
		}
		if _, err := e.s.For(e.alice).Instance(e.alice, inst.ID); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("deleted instance read: %v", err)
		}
		tr := e.transitions(inst.ID)
		want := "RUNNING→QUARANTINED QUARANTINED→RUNNING RUNNING→QUARANTINED QUARANTINED→DELETING " + cairn.EventInstanceDeleted
		if got := strings.Join(tr[len(tr)-5:], " "); got != want {
			t.Errorf("last transitions %s\nwant             %s", got, want)
		}
	})
}

// TestQuarantineGrace lets the grace period of a deleted instance end: it
// is deleted without another call.
func TestQuarantineGrace(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.s.SetQuarantineGrace(100 * time.Millisecond)
	e.start()
	inst, op := e.create(nil)
	e.await(op.ID)
	got, op, err := e.s.InstanceAction(e.alice, cairn.ActionDelete, cairn.InstanceActionInput{ID: inst.ID})
	if err != nil || got.Status != cairn.InstanceQuarantined {
		t.Fatalf("delete = %+v, %v", got, err)
	}
	if op = e.await(op.ID); op.Status != cairn.OperationSucceeded {
		t.Fatalf("operation %+v", op)
	}
	tr := e.transitions(inst.ID)
	if got := strings.Join(tr[2:], " "); got != "RUNNING→QUARANTINED QUARANTINED→DELETING "+cairn.EventInstanceDeleted {
		t.Errorf("transitions %s", got)
	}
	if ended := op.FinishedAt.Sub(*got.QuarantinedAt); ended < 100*time.Millisecond {
		t.Errorf("deleted %s after the quarantine began, before the grace period ended", ended)
	}
}

// TestCredentials: a provisioned instance has a credential; lists hide its
// password, reading one shows it to an editor, reset changes it, and a
// quarantine locks it.
func TestCredentials(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.start()
	inst, op := e.create(nil)
	e.await(op.ID)
	creds, err := e.s.CredentialsOfInstance(e.alice, inst.ID)
	if err != nil || len(creds) != 1 || creds[0].Password != nil || creds[0].Username == "" {
		t.Fatalf("credentials = %+v, %v", creds, err)
	}
	id := creds[0].ID
	c, err := e.s.InstanceCredential(e.alice, id)
	if err != nil || c.Password == nil || len(*c.Password) != 20 {
		t.Fatalf("credential = %+v, %v", c, err)
	}
	first := *c.Password
	reader := storetest.As(&cairn.Principal{UserID: "user-reader", TenantID: e.d.CustomerA, Grants: []cairn.Grant{{TenantID: e.d.CustomerA, Role: cairn.RoleReader}}})
	for name, tc := range map[string]struct {
		ctx  context.Context
		code string
	}{
		"ErrOtherTenant": {e.bob, cairn.ENOTFOUND},
		"ErrReader":      {reader, cairn.EFORBIDDEN},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := e.s.InstanceCredential(tc.ctx, id); cairn.ErrorCode(err) != tc.code {
				t.Errorf("read: %v, want %s", err, tc.code)
			}
			if _, err := e.s.ResetInstanceCredential(tc.ctx, id); cairn.ErrorCode(err) != tc.code {
				t.Errorf("reset: %v, want %s", err, tc.code)
			}
		})
	}
	if c, err = e.s.ResetInstanceCredential(e.alice, id); err != nil || *c.Password == first {
		t.Fatalf("reset = %+v, %v", c, err)
	}
	second := *c.Password
	if _, _, err := e.s.InstanceAction(e.alice, cairn.ActionDelete, cairn.InstanceActionInput{ID: inst.ID}); err != nil {
		t.Fatal(err)
	}
	if c, err = e.s.InstanceCredential(e.alice, id); err != nil || *c.Password == second {
		t.Errorf("the quarantine left the password as it was: %+v, %v", c, err)
	}
	if _, err := e.s.ResetInstanceCredential(e.alice, id); cairn.ErrorCode(err) != cairn.ECONFLICT {
		t.Errorf("reset in quarantine: %v", err)
	}
}

func TestIdempotentActions(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.start()
	key := "create-1"
	inst, op := e.create(&key)
	again, op2 := e.create(&key)
	if again.ID != inst.ID || op2 == nil || op2.ID != op.ID {
		t.Fatalf("retried create = %s/%v, want %s/%s", again.ID, op2, inst.ID, op.ID)
	}
	e.await(op.ID)
	stopKey := "stop-1"
	in := cairn.InstanceActionInput{ID: inst.ID, IdempotencyKey: &stopKey}
	_, first, err := e.s.InstanceAction(e.alice, cairn.ActionStop, in)
	if err != nil {
		t.Fatal(err)
	}
	_, retry, err := e.s.InstanceAction(e.alice, cairn.ActionStop, in)
	if err != nil || retry.ID != first.ID {
		t.Fatalf("retried stop = %v, %v; want operation %s", retry, err, first.ID)
	}
	for name, tc := range map[string]struct {
		action cairn.InstanceAction
		in     cairn.InstanceActionInput
	}{
		"ErrOtherAction":   {cairn.ActionStart, in},
		"ErrOtherInstance": {cairn.ActionStop, cairn.InstanceActionInput{ID: e.d.InstancesA[0], IdempotencyKey: &stopKey}},
		"ErrKeyOfCreate":   {cairn.ActionStop, cairn.InstanceActionInput{ID: inst.ID, IdempotencyKey: &key}},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := e.s.InstanceAction(e.alice, tc.action, tc.in)
			if cairn.ErrorCode(err) != cairn.ECONFLICT || !strings.Contains(cairn.ErrorMessage(err), "was used with a different input") {
				t.Errorf("err = %v", err)
			}
		})
	}
	e.await(first.ID)
	if tr := strings.Join(e.transitions(inst.ID), " "); tr != "→DEPLOYING DEPLOYING→RUNNING RUNNING→STOPPING STOPPING→STOPPED" {
		t.Errorf("transitions = %s", tr)
	}
}

// TestCrashResume stops a replica's engine in the middle of provisioning, as
// a crash would, and starts another: the instance ends RUNNING once, and the
// cloud did the work once.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	e := setup(t, 300*time.Millisecond)
	first := e.start()
	inst, op := e.create(nil)
	deadline := time.Now().Add(10 * time.Second)
	for e.sim.Started() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("provisioning did not start within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.StopAndCancel(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.instance(inst.ID).Status; st != cairn.InstanceDeploying {
		t.Fatalf("after the crash: %s", st)
	}
	e.start()
	op = e.await(op.ID)
	if op.Status != cairn.OperationSucceeded || op.Attempts != 2 {
		t.Errorf("operation = %+v, want SUCCEEDED after 2 attempts", op)
	}
	if tr := strings.Join(e.transitions(inst.ID), " "); tr != "→DEPLOYING DEPLOYING→RUNNING" {
		t.Errorf("transitions = %s", tr)
	}
	if n := e.sim.Started(); n != 1 {
		t.Errorf("provisioner started %d pieces of work, want 1", n)
	}
}

func TestProvisioningFailure(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.sim.FailFunc = func(r lifecycle.Request) string { return "no capacity in " + r.Instance.Region }
	e.start()
	inst, op := e.create(nil)
	op = e.await(op.ID)
	if op.Status != cairn.OperationFailed || op.Error == nil || *op.Error != "no capacity in us-east-1" {
		t.Errorf("operation = %+v", op)
	}
	if st := e.instance(inst.ID).Status; st != cairn.InstanceFailed {
		t.Errorf("status %s", st)
	}
	evs, err := e.s.EventsAfter(e.alice, 0, &cairn.AuditEventFilter{InstanceID: &inst.ID}, 10)
	if err != nil || len(evs) != 2 || len(evs[1].WorkflowFailures) != 1 || evs[1].Source != cairn.SourceInfra {
		t.Errorf("events = %+v, %v", evs, err)
	}
}

func TestUpdateAndCapacity(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.start()
	inst, op := e.create(nil)
	e.await(op.ID)
	internal := cairn.NetworkType("INTERNAL")
	got, op, err := e.s.UpdateInstance(e.alice, cairn.UpdateInstanceInput{ID: inst.ID, RequestParams: map[string]any{"instanceType": "large"}, NetworkType: &internal})
	if err != nil || got.Status != cairn.InstanceUpdating || op.Action != cairn.ActionUpdate {
		t.Fatalf("update = %+v, %+v, %v", got, op, err)
	}
	if op = e.await(op.ID); op.Status != cairn.OperationSucceeded {
		t.Fatalf("operation %+v", op)
	}
	if got = e.instance(inst.ID); got.Status != cairn.InstanceRunning || got.RequestParams["instanceType"] != "large" ||
		got.RequestParams["mysqlDatabase"] != "app" || got.NetworkType != internal {
		t.Errorf("updated instance = %+v", got)
	}
	for name, tc := range map[string]struct {
		in          cairn.UpdateInstanceInput
		code, field string
	}{
		"ErrNothing":       {cairn.UpdateInstanceInput{ID: inst.ID}, cairn.EBADINPUT, "input"},
		"ErrNotModifiable": {cairn.UpdateInstanceInput{ID: inst.ID, RequestParams: map[string]any{"mysqlDatabase": "other"}}, cairn.EBADINPUT, "input.requestParams.mysqlDatabase"},
		"ErrNotAnOption":   {cairn.UpdateInstanceInput{ID: inst.ID, RequestParams: map[string]any{"instanceType": "huge"}}, cairn.EBADINPUT, "input.requestParams.instanceType"},
		"ErrUnknownKey":    {cairn.UpdateInstanceInput{ID: inst.ID, RequestParams: map[string]any{"colour": "red"}}, cairn.EBADINPUT, "input.requestParams.colour"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := e.s.UpdateInstance(e.alice, tc.in)
			if cairn.ErrorCode(err) != tc.code || cairn.ErrorField(err) != tc.field {
				t.Errorf("err = %v; want %s at %s", err, tc.code, tc.field)
			}
		})
	}

	two := 2
	if _, op, err = e.s.ChangeCapacity(e.alice, cairn.ActionAddCapacity, cairn.CapacityInput{ID: inst.ID, Replicas: &two}); err != nil {
		t.Fatal(err)
	}
	e.await(op.ID)
	if got = e.instance(inst.ID); got.Replicas != 3 || got.Status != cairn.InstanceRunning {
		t.Errorf("after adding 2: %d replicas, %s", got.Replicas, got.Status)
	}
	if _, op, err = e.s.ChangeCapacity(e.alice, cairn.ActionRemoveCapacity, cairn.CapacityInput{ID: inst.ID}); err != nil {
		t.Fatal(err)
	}
	e.await(op.ID)
	if got = e.instance(inst.ID); got.Replicas != 2 {
		t.Errorf("after removing 1: %d replicas", got.Replicas)
	}
	_, _, err = e.s.ChangeCapacity(e.alice, cairn.ActionRemoveCapacity, cairn.CapacityInput{ID: inst.ID, Replicas: &two})
	if cairn.ErrorCode(err) != cairn.EFAILEDPRECONDITION || !strings.Contains(cairn.ErrorMessage(err), "would leave none") {
		t.Errorf("removing every replica: %v", err)
	}
	if tr := strings.Join(e.transitions(inst.ID)[2:], " "); tr != "RUNNING→UPDATING UPDATING→RUNNING RUNNING→SCALING SCALING→RUNNING RUNNING→SCALING SCALING→RUNNING" {
		t.Errorf("transitions %s", tr)
	}
	// The same key with another count is another input.
	key := "scale-1"
	if _, _, err := e.s.ChangeCapacity(e.alice, cairn.ActionAddCapacity, cairn.CapacityInput{ID: inst.ID, IdempotencyKey: &key}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.s.ChangeCapacity(e.alice, cairn.ActionAddCapacity, cairn.CapacityInput{ID: inst.ID, Replicas: &two, IdempotencyKey: &key})
	if cairn.ErrorCode(err) != cairn.ECONFLICT {
		t.Errorf("reused key with another count: %v", err)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	e.start()
	inst, op := e.create(nil)
	e.await(op.ID)
	got, op, err := e.s.CreateSnapshot(e.alice, cairn.InstanceActionInput{ID: inst.ID})
	if err != nil || got.Status != cairn.InstanceSnapshotting {
		t.Fatalf("snapshot = %+v, %v", got, err)
	}
	snapID, _ := op.Params["snapshotId"].(string)
	if op = e.await(op.ID); op.Status != cairn.OperationSucceeded {
		t.Fatalf("operation %+v", op)
	}
	snaps, err := e.s.SnapshotsOfInstance(e.alice, inst.ID)
	if err != nil || len(snaps) != 1 || snaps[0].ID != snapID || snaps[0].Status != cairn.SnapshotAvailable {
		t.Fatalf("snapshots = %+v, %v", snaps, err)
	}
	if snaps, _ := e.s.SnapshotsOfInstance(e.bob, inst.ID); len(snaps) != 0 {
		t.Errorf("bob sees alice's snapshots")
	}
	// Change a parameter, then restore: the snapshot's value comes back.
	if _, op, err = e.s.UpdateInstance(e.alice, cairn.UpdateInstanceInput{ID: inst.ID, RequestParams: map[string]any{"instanceType": "medium"}}); err != nil {
		t.Fatal(err)
	}
	e.await(op.ID)
	_, _, err = e.s.RestoreSnapshot(e.alice, cairn.SnapshotInput{ID: inst.ID, SnapshotID: "snap-nothere"})
	if cairn.ErrorCode(err) != cairn.ENOTFOUND || cairn.ErrorField(err) != "input.snapshotId" {
		t.Errorf("restore from a missing snapshot: %v", err)
	}
	got, op, err = e.s.RestoreSnapshot(e.alice, cairn.SnapshotInput{ID: inst.ID, SnapshotID: snapID})
	if err != nil || got.Status != cairn.InstanceRestoring {
		t.Fatalf("restore = %+v, %v", got, err)
	}
	e.await(op.ID)
	if got = e.instance(inst.ID); got.Status != cairn.InstanceRunning || got.RequestParams["instanceType"] != "small" {
		t.Errorf("restored instance = %s, %v", got.Status, got.RequestParams)
	}
	if tr := strings.Join(e.transitions(inst.ID)[2:], " "); tr != "RUNNING→SNAPSHOTTING SNAPSHOTTING→RUNNING RUNNING→UPDATING UPDATING→RUNNING RUNNING→RESTORING RESTORING→RUNNING" {
		t.Errorf("transitions %s", tr)
	}
}

// TestExpireIdempotencyKeys: the engine's leader deletes the keys past their
// TTL when it starts, and leaves the others.
func TestExpireIdempotencyKeys(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Millisecond)
	ctx := context.Background()
	for _, key := range []string{"old", "fresh"} {
		e.create(&key)
	}
	if _, err := e.s.DB().ExecContext(ctx, "UPDATE idempotency_keys SET created_at = created_at - make_interval(secs => ?) WHERE key = 'old'",
		(store.DefaultIdempotencyTTL + time.Minute).Seconds()); err != nil {
		t.Fatal(err)
	}
	e.start()
	keys := func() []string {
		var keys []string
		if err := e.s.DB().NewSelect().Table("idempotency_keys").Column("key").Order("key").Scan(ctx, &keys); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	deadline := time.Now().Add(10 * time.Second)
	for slices.Contains(keys(), "old") {
		if time.Now().After(deadline) {
			t.Fatalf("the expired key is still there after 10s: %v", keys())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := keys(); !slices.Equal(got, []string{"fresh"}) {
		t.Errorf("keys = %v, want [fresh]", got)
	}
}
