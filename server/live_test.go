package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// liveEnv is a Cairn handler with an event bus, and a token clock the test
// can move forward.
type liveEnv struct {
	srv    *httptest.Server
	store  *store.Store
	demo   *store.Demo
	tokens map[string]string
	skew   *atomic.Int64
	subs   atomic.Int64 // open subscriptions on the bus
}

func setupLive(t testing.TB) *liveEnv {
	return setupLiveWith(t, server.Live{Recheck: 20 * time.Millisecond})
}

// setupLiveWith is setupLive with live's settings (its Bus is set here).
func setupLiveWith(t testing.TB, live server.Live) *liveEnv {
	t.Helper()
	url := storetest.URL(t)
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d, err := s.SeedDemo(context.Background(), demoHash)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	skew := new(atomic.Int64)
	tokens.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	e := &liveEnv{store: s, demo: d, tokens: map[string]string{}, skew: skew}
	bus, err := events.Start(context.Background(), events.Config{Store: s, URL: url, OnSubscribe: func(d int) { e.subs.Add(int64(d)) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	live.Bus = bus
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Live: live}))
	t.Cleanup(srv.Close)
	e.srv = srv
	for name, id := range map[string]string{"alice": d.Alice, "bob": d.Bob, "owner": d.Owner} {
		if e.tokens[name], _, err = tokens.Sign(id); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// connect opens a graphql-transport-ws connection and sends connection_init
// with payload; it returns the connection and the server's first answer
// (or the error that ended the connection).
func (e *liveEnv) connect(t *testing.T, payload string) (*websocket.Conn, wsMsg, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(payload)}); err != nil {
		t.Fatal(err)
	}
	var msg wsMsg
	err = wsjson.Read(ctx, conn, &msg)
	return conn, msg, err
}

func TestLiveAuth(t *testing.T) {
	t.Parallel()
	e := setupLive(t)
	for _, tc := range []struct {
		name, payload, reason string
	}{
		{"ErrNoToken", `{}`, "Send your token in connection_init"},
		{"ErrBadToken", `{"Authorization": "Bearer nonsense"}`, "malformed"},
		{"ErrWrongScheme", `{"Authorization": "Basic YWxpY2U6eA=="}`, "does not use the Bearer scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, msg, err := e.connect(t, tc.payload)
			var ce websocket.CloseError
			if err == nil || !errors.As(err, &ce) {
				t.Fatalf("connection_init answered %s %s, want the connection closed", msg.Type, msg.Payload)
			}
			if ce.Code != 4403 || !strings.Contains(strings.ToLower(ce.Reason), strings.ToLower(tc.reason)) {
				t.Errorf("closed with %d %q, want a reason containing %q", ce.Code, ce.Reason, tc.reason)
			}
		})
	}

	// subscribed connects as who and subscribes; it returns the connection.
	subscribed := func(t *testing.T, who string) *websocket.Conn {
		conn, msg, err := e.connect(t, `{"Authorization": "Bearer `+e.tokens[who]+`"}`)
		if err != nil || msg.Type != "connection_ack" {
			t.Fatalf("connection_init: %s %v", msg.Type, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = wsjson.Write(ctx, conn, wsMsg{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query": "subscription { auditEventAdded { id } }"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	// closed waits until the server closes conn, which it must do with 4403
	// and a reason.
	closed := func(t *testing.T, conn *websocket.Conn) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			var msg wsMsg
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				if ctx.Err() != nil {
					t.Fatal("still connected after 10s")
				}
				var ce websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != 4403 || !strings.Contains(ce.Reason, "no longer accepted") {
					t.Errorf("closed with %v, want 4403 saying the credentials are no longer accepted", err)
				}
				return
			}
		}
	}
	t.Run("DisabledUserDisconnected", func(t *testing.T) {
		conn := subscribed(t, "bob")
		if _, err := e.store.DB().NewRaw("UPDATE users SET disabled = true WHERE id = ?", e.demo.Bob).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		closed(t, conn)
	})
	t.Run("ExpiredTokenDisconnected", func(t *testing.T) {
		conn := subscribed(t, "alice")
		e.skew.Store(int64(2 * time.Hour))
		closed(t, conn)
	})
}

// TestSSE watches instanceStatusChanged over server-sent events: with after,
// the stored transitions come first, then live ones.
func TestSSE(t *testing.T) {
	t.Parallel()
	e := setupLive(t)
	alice, err := e.store.Principal(context.Background(), e.demo.Alice)
	if err != nil {
		t.Fatal(err)
	}
	ctx := storetest.As(alice)
	id := e.demo.InstancesA[0]
	_, op, err := e.store.InstanceAction(ctx, cairn.ActionStop, cairn.InstanceActionInput{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": `subscription { instanceStatusChanged(after: "ev:0") { instanceId previousStatus status } }`})
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+e.tokens["alice"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	if _, err := e.store.FinishTransition(context.Background(), op.ID, nil, ""); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	var got []string
	for len(got) < 2 && sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var p struct {
			Data struct {
				InstanceStatusChanged struct{ InstanceID, PreviousStatus, Status string }
			}
		}
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		c := p.Data.InstanceStatusChanged
		got = append(got, c.InstanceID+" "+c.PreviousStatus+"→"+c.Status)
	}
	if want := id + " RUNNING→STOPPING," + id + " STOPPING→STOPPED"; strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
