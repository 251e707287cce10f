package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsClient is a test's websocket to Cairn.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

// dial opens a websocket speaking proto.
func (e *liveEnv) dial(t *testing.T, proto string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if conn.Subprotocol() != proto {
		t.Fatalf("subprotocol %q, want %q", conn.Subprotocol(), proto)
	}
	return &wsClient{t: t, conn: conn}
}

// acked dials as who and initialises; graphql-ws's first ka is read too.
func (e *liveEnv) acked(t *testing.T, proto, who string) *wsClient {
	t.Helper()
	c := e.dial(t, proto)
	c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + e.tokens[who] + `"}`)})
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("connection_init answered %s %s", m.Type, m.Payload)
	}
	if proto == "graphql-ws" {
		if m := c.recv(); m.Type != "ka" {
			t.Fatalf("after connection_ack: %s, want ka", m.Type)
		}
	}
	return c
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, m); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message or the error that ended the connection.
func (c *wsClient) read() (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m wsMsg
	err := wsjson.Read(ctx, c.conn, &m)
	return m, err
}

// recv returns the next message, keepalives included.
func (c *wsClient) recv() wsMsg {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("reading: %v", err)
	}
	return m
}

// next returns the next message that is not a keepalive.
func (c *wsClient) next() wsMsg {
	c.t.Helper()
	for {
		if m := c.recv(); m.Type != "ping" && m.Type != "ka" {
			return m
		}
	}
}

// closedWith reads until the server closes the connection and returns the
// close status and reason.
func (c *wsClient) closedWith() (websocket.StatusCode, string) {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce.Code, ce.Reason
	}
}

// change is one status change of an instance: "id STATUS".
func change(m wsMsg) string {
	var p struct {
		Data struct {
			InstanceStatusChanged struct{ InstanceID, Status string }
		}
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return "undecodable " + string(m.Payload)
	}
	return p.Data.InstanceStatusChanged.InstanceID + " " + p.Data.InstanceStatusChanged.Status
}

const statusQuery = `subscription { instanceStatusChanged { instanceId status } }`

func subscribeMsg(id, query string) wsMsg {
	b, _ := json.Marshal(map[string]any{"query": query})
	return wsMsg{ID: id, Type: "subscribe", Payload: b}
}

// stop stops a RUNNING instance as who (one status change).
func (e *liveEnv) stop(t *testing.T, who, id string) *cairn.Operation {
	t.Helper()
	userID := map[string]string{"alice": e.demo.Alice, "bob": e.demo.Bob}[who]
	p, err := e.store.Principal(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	_, op, err := e.store.InstanceAction(storetest.As(p), cairn.ActionStop, cairn.InstanceActionInput{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// TestWebsocketCloseCodes checks that graphql-transport-ws's protocol
// errors close the connection with the protocol's codes.
func TestWebsocketCloseCodes(t *testing.T) {
	t.Parallel()
	e := setupLiveWith(t, server.Live{Recheck: time.Hour, InitTimeout: time.Second})
	init := func(c *wsClient) {
		c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + e.tokens["alice"] + `"}`)})
		if m := c.next(); m.Type != "connection_ack" {
			t.Fatalf("connection_init answered %s", m.Type)
		}
	}
	for _, tc := range []struct {
		name   string
		do     func(c *wsClient)
		code   websocket.StatusCode
		reason string
	}{
		{"ErrInitTimeout", func(c *wsClient) {}, 4408, "Connection initialisation timeout"},
		{"ErrNotJSON", func(c *wsClient) {
			if err := c.conn.Write(context.Background(), websocket.MessageText, []byte("hello")); err != nil {
				t.Fatal(err)
			}
		}, 4400, "Invalid message"},
		{"ErrSubscribeBeforeInit", func(c *wsClient) { c.send(subscribeMsg("1", statusQuery)) }, 4401, "Unauthorized"},
		{"ErrSecondInit", func(c *wsClient) {
			init(c)
			c.send(wsMsg{Type: "connection_init"})
		}, 4429, "Too many initialisation requests"},
		{"ErrDuplicateID", func(c *wsClient) {
			init(c)
			c.send(subscribeMsg("1", statusQuery))
			c.send(subscribeMsg("1", statusQuery))
		}, 4409, "Subscriber for 1 already exists"},
		{"ErrUnknownType", func(c *wsClient) {
			init(c)
			c.send(wsMsg{Type: "start", ID: "1"})
		}, 4400, `unexpected type "start"`},
		{"ErrBadInitPayload", func(c *wsClient) {
			c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`[1]`)})
		}, 4400, "payload is not a JSON object"},
		{"ErrBadToken", func(c *wsClient) {
			c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"token": "nonsense"}`)})
		}, 4403, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := e.dial(t, "graphql-transport-ws")
			c.t = t
			tc.do(c)
			code, reason := c.closedWith()
			if code != tc.code || !strings.Contains(reason, tc.reason) {
				t.Errorf("closed with %d %q, want %d and a reason containing %q", code, reason, tc.code, tc.reason)
			}
		})
	}
}

// TestWebsocket runs operations over graphql-transport-ws and graphql-ws.
func TestWebsocket(t *testing.T) {
	t.Parallel()
	e := setupLiveWith(t, server.Live{Recheck: time.Hour, KeepAlive: 50 * time.Millisecond})

	t.Run("PingPongAndKeepAlive", func(t *testing.T) {
		c := e.acked(t, "graphql-transport-ws", "alice")
		c.send(wsMsg{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
		var pong, ping bool
		for !pong || !ping {
			switch m := c.recv(); m.Type {
			case "pong":
				pong = true
				if string(m.Payload) != `{"n":1}` {
					t.Errorf("pong payload %s, want the ping's", m.Payload)
				}
			case "ping":
				ping = true // the server's keepalive
				c.send(wsMsg{Type: "pong"})
			default:
				t.Fatalf("unexpected %s", m.Type)
			}
		}
	})

	t.Run("QueryAndMutation", func(t *testing.T) {
		c := e.acked(t, "graphql-transport-ws", "alice")
		id := e.demo.InstancesA[2] // STOPPED
		c.send(subscribeMsg("q", `query { instance(id: "`+id+`") { id } }`))
		c.send(subscribeMsg("m", `mutation { startInstance(input: {id: "`+id+`"}) { instance { status } } }`))
		got := map[string][]string{}
		for len(got["q"]) < 2 || len(got["m"]) < 2 {
			m := c.next()
			got[m.ID] = append(got[m.ID], m.Type+" "+string(m.Payload))
		}
		if q := got["q"]; !strings.Contains(q[0], `"instance":{"id":"`+id+`"}`) || q[1] != "complete " {
			t.Errorf("query answered %q", q)
		}
		if m := got["m"]; !strings.Contains(m[0], `"status":"STARTING"`) || m[1] != "complete " {
			t.Errorf("mutation answered %q", m)
		}
	})

	var bobStop *cairn.Operation // pending after TenantsApart
	t.Run("TenantsApart", func(t *testing.T) {
		alice := e.acked(t, "graphql-transport-ws", "alice")
		bob := e.acked(t, "graphql-transport-ws", "bob")
		aliceQuery := `subscription { instanceStatusChanged(filter: {instanceIds: ["` + e.demo.InstancesA[0] + `"]}) { instanceId status } }`
		alice.send(subscribeMsg("1", aliceQuery))
		bob.send(subscribeMsg("1", statusQuery)) // every instance bob may see
		// Change alice's instance, then bob's: the first change bob sees
		// is his own.
		awaitSubs(t, e, 2)
		e.stop(t, "alice", e.demo.InstancesA[0])
		bobStop = e.stop(t, "bob", e.demo.InstancesB[0])
		if got, want := change(alice.next()), e.demo.InstancesA[0]+" STOPPING"; got != want {
			t.Errorf("alice got %s, want %s", got, want)
		}
		if got, want := change(bob.next()), e.demo.InstancesB[0]+" STOPPING"; got != want {
			t.Errorf("bob got %s, want %s", got, want)
		}
		// Completed by the client, the ID may be used again.
		alice.send(wsMsg{ID: "1", Type: "complete"})
		alice.send(subscribeMsg("1", strings.Replace(aliceQuery, "(filter", `(after: "ev:0", filter`, 1)))
		if got, want := change(alice.next()), e.demo.InstancesA[0]+" STOPPING"; got != want {
			t.Errorf("alice's replay began with %s, want %s", got, want)
		}
	})

	t.Run("OperationUpdated", func(t *testing.T) {
		if bobStop == nil {
			t.Skip("TenantsApart failed")
		}
		c := e.acked(t, "graphql-transport-ws", "bob")
		op := bobStop
		c.send(subscribeMsg("op", `subscription { operationUpdated(id: "`+op.ID+`") { status } }`))
		if m := c.next(); m.Type != "next" || !strings.Contains(string(m.Payload), `"status":"PENDING"`) {
			t.Fatalf("first: %s %s", m.Type, m.Payload)
		}
		if _, err := e.store.FinishTransition(context.Background(), op.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
		if m := c.next(); m.Type != "next" || !strings.Contains(string(m.Payload), `"status":"SUCCEEDED"`) {
			t.Fatalf("second: %s %s", m.Type, m.Payload)
		}
		if m := c.next(); m.Type != "complete" || m.ID != "op" {
			t.Fatalf("after the last status: %s %s", m.Type, m.ID)
		}
	})

	t.Run("LegacyGraphqlWS", func(t *testing.T) {
		c := e.acked(t, "graphql-ws", "alice")
		b, _ := json.Marshal(map[string]any{"query": `subscription { instanceStatusChanged(filter: {instanceIds: ["` + e.demo.InstancesA[1] + `"]}) { instanceId status } }`})
		c.send(wsMsg{ID: "7", Type: "start", Payload: b})
		awaitSubs(t, e, 1)
		e.stop(t, "alice", e.demo.InstancesA[1])
		m := c.next()
		if m.Type != "data" || m.ID != "7" || change(m) != e.demo.InstancesA[1]+" STOPPING" {
			t.Errorf("got %s %s %s", m.Type, m.ID, m.Payload)
		}
		c.send(wsMsg{ID: "7", Type: "stop"})
		c.send(wsMsg{Type: "connection_terminate"})
		if code, _ := c.closedWith(); code != websocket.StatusNormalClosure {
			t.Errorf("connection_terminate closed with %d", code)
		}
	})
}

// awaitSubs waits until n subscriptions are open on e's bus.
func awaitSubs(t *testing.T, e *liveEnv, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.subs.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions open, want %d", e.subs.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebsocketSharedData checks that identical subscriptions, which share
// the data of their responses, each get the right response with their own
// extensions, and that a selection that runs a resolver reads fresh data.
func TestWebsocketSharedData(t *testing.T) {
	t.Parallel()
	e := setupLiveWith(t, server.Live{Recheck: time.Hour})
	const (
		plain = `subscription($t: ID!) { instanceStatusChanged(filter: {tenantId: $t}) { instanceId status } }`
		fresh = `subscription($t: ID!) { instanceStatusChanged(filter: {tenantId: $t}) { instanceId instance { status } } }`
	)
	subs := []struct {
		who, query string
		c          *wsClient
	}{{who: "bob", query: plain}, {who: "bob", query: plain}, {who: "bob", query: plain}, {who: "owner", query: plain}, {who: "bob", query: fresh}, {who: "bob", query: fresh}}
	for i := range subs {
		s := &subs[i]
		s.c = e.acked(t, "graphql-transport-ws", s.who)
		b, _ := json.Marshal(map[string]any{"query": s.query, "variables": map[string]any{"t": e.demo.CustomerB}})
		s.c.send(wsMsg{ID: "s", Type: "subscribe", Payload: b})
	}
	awaitSubs(t, e, int64(len(subs)))
	id := e.demo.InstancesB[0]
	var op *cairn.Operation
	for _, status := range []string{"STOPPING", "STOPPED"} {
		if op == nil {
			op = e.stop(t, "bob", id)
		} else if _, err := e.store.FinishTransition(context.Background(), op.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
		var first json.RawMessage // the data of bob's first plain subscription
		for i, s := range subs {
			m := s.c.next()
			var p struct {
				Data       json.RawMessage
				Extensions map[string]any
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || m.Type != "next" {
				t.Fatalf("subscriber %d: %s %s", i, m.Type, m.Payload)
			}
			want := `{"instanceStatusChanged":{"instanceId":"` + id + `","status":"` + status + `"}}`
			if s.query == fresh {
				want = `{"instanceStatusChanged":{"instanceId":"` + id + `","instance":{"status":"` + status + `"}}}`
			}
			if string(p.Data) != want {
				t.Errorf("subscriber %d (%s) got %s, want %s", i, s.who, p.Data, want)
			}
			if _, ok := p.Extensions["sqlStatements"].(float64); !ok {
				t.Errorf("subscriber %d: extensions %v lack sqlStatements", i, p.Extensions)
			}
			if s.who == "bob" && s.query == plain {
				if first == nil {
					first = p.Data
				} else if !bytes.Equal(first, p.Data) {
					t.Errorf("subscriber %d: %s, bob's first: %s", i, p.Data, first)
				}
			}
		}
	}
}
