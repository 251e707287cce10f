package cairn_test

import (
	"testing"

	"github.com/cairn-dev/cairn"
)

func TestActionTransition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action  cairn.InstanceAction
		from    cairn.InstanceStatus
		via, to cairn.InstanceStatus
		code    string
		message string
	}{
		{cairn.ActionStop, cairn.InstanceRunning, cairn.InstanceStopping, cairn.InstanceStopped, "", ""},
		{cairn.ActionStart, cairn.InstanceStopped, cairn.InstanceStarting, cairn.InstanceRunning, "", ""},
		{cairn.ActionRestart, cairn.InstanceRunning, cairn.InstanceRestarting, cairn.InstanceRunning, "", ""},
		{cairn.ActionFailover, cairn.InstanceRunning, cairn.InstanceFailover, cairn.InstanceRunning, "", ""},
		{cairn.ActionDelete, cairn.InstanceRunning, cairn.InstanceQuarantined, "", "", ""},
		{cairn.ActionDelete, cairn.InstanceStopped, cairn.InstanceQuarantined, "", "", ""},
		{cairn.ActionDelete, cairn.InstanceFailed, cairn.InstanceQuarantined, "", "", ""},
		{cairn.ActionDelete, cairn.InstanceQuarantined, cairn.InstanceDeleting, "", "", ""},
		{cairn.ActionStart, cairn.InstanceRunning, "", "", cairn.ECONFLICT, "instance i-1 is RUNNING: start needs it STOPPED; wait until it gets there and retry"},
		{cairn.ActionStop, cairn.InstanceDeploying, "", "", cairn.ECONFLICT, "instance i-1 is DEPLOYING: stop needs it RUNNING; wait until it gets there and retry"},
		{cairn.ActionStop, cairn.InstanceStopped, "", "", cairn.ECONFLICT, "instance i-1 is STOPPED: stop needs it RUNNING; wait until it gets there and retry"},
		{cairn.ActionRestart, cairn.InstanceStopping, "", "", cairn.ECONFLICT, "instance i-1 is STOPPING: restart needs it RUNNING; wait until it gets there and retry"},
		{cairn.ActionFailover, cairn.InstanceFailed, "", "", cairn.ECONFLICT, "instance i-1 is FAILED: failover needs it RUNNING; wait until it gets there and retry"},
		{cairn.ActionDelete, cairn.InstanceDeleting, "", "", cairn.ECONFLICT, "instance i-1 is DELETING: delete needs it RUNNING or STOPPED or FAILED or QUARANTINED; wait until it gets there and retry"},
		{cairn.ActionDelete, cairn.InstanceDeploying, "", "", cairn.ECONFLICT, "instance i-1 is DEPLOYING: delete needs it RUNNING or STOPPED or FAILED or QUARANTINED; wait until it gets there and retry"},
		{cairn.ActionCreate, cairn.InstanceRunning, "", "", cairn.EBADINPUT, `"CREATE" is not an action on an existing instance`},
		{"EXPLODE", cairn.InstanceRunning, "", "", cairn.EBADINPUT, `"EXPLODE" is not an action on an existing instance`},
	} {
		t.Run(string(tc.action)+"From"+string(tc.from), func(t *testing.T) {
			t.Parallel()
			via, to, err := tc.action.Transition("i-1", tc.from)
			if cairn.ErrorCode(err) != tc.code || cairn.ErrorMessage(err) != tc.message {
				t.Fatalf("err = %v; want %s %q", err, tc.code, tc.message)
			}
			if via != tc.via || to != tc.to {
				t.Errorf("transition = %s → %s; want %s → %s", via, to, tc.via, tc.to)
			}
		})
	}
}

func TestEventCursor(t *testing.T) {
	t.Parallel()
	if seq, err := cairn.ParseEventCursor(cairn.EventCursor(42), "after"); err != nil || seq != 42 {
		t.Errorf("round trip: %d, %v", seq, err)
	}
	for _, bad := range []string{"", "ev:", "ev:x", "ev:-1", "ev:01", "42", "ev:1 "} {
		if _, err := cairn.ParseEventCursor(bad, "after"); cairn.ErrorCode(err) != cairn.EBADINPUT || cairn.ErrorField(err) != "after" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
