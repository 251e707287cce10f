package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// replica starts a `cairn serve` on the database at url.
func replica(t *testing.T, url string, args ...string) *Main {
	t.Helper()
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	args = append([]string{"--addr", "127.0.0.1:0", "--database-url", url, "--log-level", "error"}, args...)
	if err := m.Config.parse("serve", args, m.Getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// gql runs an operation on m over HTTP and returns data, failing on errors.
func gql(t *testing.T, m *Main, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.Addr+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Data   map[string]any
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %v", query, r.Errors)
	}
	return r.Data
}

func signIn(t *testing.T, m *Main, email string) string {
	t.Helper()
	d := gql(t, m, "", `mutation($e: String!) { signIn(input: {email: $e, password: "cairn-demo"}) { token } }`, map[string]any{"e": email})
	return d["signIn"].(map[string]any)["token"].(string)
}

// lastCursor returns the cursor of the newest event the token can see.
func lastCursor(t *testing.T, m *Main, token string) string {
	t.Helper()
	d := gql(t, m, token, `{ auditEvents(first: 1) { edges { cursor } } }`, nil)
	edges := d["auditEvents"].(map[string]any)["edges"].([]any)
	if len(edges) == 0 {
		return "ev:0"
	}
	return edges[0].(map[string]any)["cursor"].(string)
}

// wsClient is a plain graphql-transport-ws client.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dial connects to m's /graphql and authenticates with token at
// connection_init.
func dial(t *testing.T, m *Main, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+m.Addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(fmt.Sprintf(`{"Authorization": "Bearer %s"}`, token))})
	if msg := c.read(); msg.Type != "connection_ack" {
		t.Fatalf("connection_init answered %s %s", msg.Type, msg.Payload)
	}
	return c
}

func (c *wsClient) send(msg wsMessage) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, msg); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() wsMessage {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var msg wsMessage
	if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
		c.t.Fatalf("reading the websocket: %v", err)
	}
	return msg
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

// transitions reads n instanceStatusChanged results of subscription id and
// returns them as "instance PREV→STATUS" and the last cursor.
func (c *wsClient) transitions(id string, n int) ([]string, string) {
	c.t.Helper()
	var out []string
	cursor := ""
	for len(out) < n {
		msg := c.read()
		if msg.Type == "ping" || msg.Type == "pong" {
			continue
		}
		if msg.Type != "next" || msg.ID != id {
			c.t.Fatalf("got %s %s %s, want next of %s", msg.ID, msg.Type, msg.Payload, id)
		}
		var p struct {
			Data struct {
				InstanceStatusChanged struct {
					InstanceID     string
					PreviousStatus *string
					Status         string
					Cursor         string
				}
			}
			Errors []any
		}
		if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
			c.t.Fatalf("next %s: %v", msg.Payload, err)
		}
		ch := p.Data.InstanceStatusChanged
		prev := ""
		if ch.PreviousStatus != nil {
			prev = *ch.PreviousStatus
		}
		out = append(out, ch.InstanceID+" "+prev+"→"+ch.Status)
		cursor = ch.Cursor
	}
	return out, cursor
}

const statusSub = `subscription($after: String) { instanceStatusChanged(after: $after) { instanceId previousStatus status cursor instance { id } } }`

// awaitStatus polls m until the instance has status.
func awaitStatus(t *testing.T, m *Main, token, id, status string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d := gql(t, m, token, `query($id: ID!) { instance(id: $id) { status } }`, map[string]any{"id": id})
		if got := d["instance"].(map[string]any)["status"]; got == status {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("instance %s is %v after 15s, want %s", id, got, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const createMutation = `mutation($sub: ID!, $res: ID!) { createInstance(input: {resourceId: $res, subscriptionId: $sub, cloudProvider: "aws", region: "us-east-1",
  requestParams: {mysqlDatabase: "app", mysqlUser: "app", mysqlPassword: "s3cret"}}) { instance { id status } operation { id status } } }`

// aliceSub returns alice's subscription and the MySQL resource.
func aliceSub(t *testing.T, m *Main, token string) (sub, res string) {
	t.Helper()
	d := gql(t, m, token, `{ serviceSubscriptions(first: 1) { nodes { id tier { resources { nodes { id name } } } } } }`, nil)
	node := d["serviceSubscriptions"].(map[string]any)["nodes"].([]any)[0].(map[string]any)
	for _, r := range node["tier"].(map[string]any)["resources"].(map[string]any)["nodes"].([]any) {
		if r.(map[string]any)["name"] == "MySQL" {
			return node["id"].(string), r.(map[string]any)["id"].(string)
		}
	}
	t.Fatal("no MySQL resource")
	return "", ""
}

// TestCrossReplica subscribes on one replica, acts on the other and sees
// every transition in order; bob's subscription never sees alice's
// instance; a reconnect with after: gets the missed transitions first.
func TestCrossReplica(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	a := replica(t, url, "--provision-delay", "20ms")
	b := replica(t, url, "--provision-delay", "20ms")
	alice, bob := signIn(t, b, "alice@customer-a.example"), signIn(t, b, "bob@customer-b.example")
	start := lastCursor(t, a, alice)

	ws := dial(t, a, alice)
	ws.subscribe("1", statusSub, map[string]any{"after": start})
	bobWS := dial(t, a, bob)
	bobWS.subscribe("b", statusSub, map[string]any{"after": start})

	sub, res := aliceSub(t, b, alice)
	d := gql(t, b, alice, createMutation, map[string]any{"sub": sub, "res": res})
	id := d["createInstance"].(map[string]any)["instance"].(map[string]any)["id"].(string)
	got, cursor := ws.transitions("1", 2)
	if want := []string{id + " →DEPLOYING", id + " DEPLOYING→RUNNING"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("alice saw %v, want %v", got, want)
	}
	gql(t, b, alice, `mutation($id: ID!) { stopInstance(input: {id: $id}) { operation { id } } }`, map[string]any{"id": id})
	got, cursor2 := ws.transitions("1", 2)
	if want := []string{id + " RUNNING→STOPPING", id + " STOPPING→STOPPED"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("alice saw %v, want %v", got, want)
	}
	if cursor2 <= cursor {
		t.Errorf("cursors do not grow: %s then %s", cursor, cursor2)
	}

	// Alice disconnects; meanwhile the instance starts again.
	ws.conn.Close(websocket.StatusNormalClosure, "")
	gql(t, b, alice, `mutation($id: ID!) { startInstance(input: {id: $id}) { operation { id } } }`, map[string]any{"id": id})
	awaitStatus(t, b, alice, id, "RUNNING")
	again := dial(t, a, alice)
	again.subscribe("2", statusSub, map[string]any{"after": cursor2})
	got, _ = again.transitions("2", 2)
	if want := []string{id + " STOPPED→STARTING", id + " STARTING→RUNNING"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("resumed subscription saw %v, want %v", got, want)
	}

	// Bob's first transition is his own, though alice's came first.
	d = gql(t, b, bob, `{ instances(filter: {status: [RUNNING]}) { nodes { id } } }`, nil)
	bobs := d["instances"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["id"].(string)
	gql(t, b, bob, `mutation($id: ID!) { stopInstance(input: {id: $id}) { operation { id } } }`, map[string]any{"id": bobs})
	got, _ = bobWS.transitions("b", 2)
	if want := []string{bobs + " RUNNING→STOPPING", bobs + " STOPPING→STOPPED"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("bob saw %v, want %v", got, want)
	}
}

// TestReplicaKilledMidWorkflow kills the replica running a provisioning
// job; another replica finishes it, and the instance reaches RUNNING once.
func TestReplicaKilledMidWorkflow(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	a := replica(t, url, "--provision-delay", "400ms")
	alice := signIn(t, a, "alice@customer-a.example")
	sub, res := aliceSub(t, a, alice)
	d := gql(t, a, alice, createMutation, map[string]any{"sub": sub, "res": res})
	c := d["createInstance"].(map[string]any)
	id, opID := c["instance"].(map[string]any)["id"].(string), c["operation"].(map[string]any)["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := gql(t, a, alice, `query($id: ID!) { operation(id: $id) { status } }`, map[string]any{"id": opID})
		if d["operation"].(map[string]any)["status"] == "RUNNING" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("operation %v after 10s", d["operation"])
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Kill: the job is cancelled mid-provisioning, as by a crash.
	if err := a.live.engine.StopAndCancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := replica(t, url, "--provision-delay", "20ms")
	awaitStatus(t, b, alice, id, "RUNNING")
	d = gql(t, b, alice, `query($id: ID!) { instance(id: $id) { events(first: 10) { nodes { previousStatus status } } operations { status attempts } } }`, map[string]any{"id": id})
	inst := d["instance"].(map[string]any)
	if evs := inst["events"].(map[string]any)["nodes"].([]any); len(evs) != 2 {
		t.Errorf("events %v, want →DEPLOYING and DEPLOYING→RUNNING once", evs)
	}
	if ops := inst["operations"].([]any); len(ops) != 1 || ops[0].(map[string]any)["status"] != "SUCCEEDED" || ops[0].(map[string]any)["attempts"].(float64) != 2 {
		t.Errorf("operations %v", ops)
	}
}
