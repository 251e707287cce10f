package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsPeer is a graphql-transport-ws server for one connection, scripted by
// the test: it checks what cairnctl sends and answers with events. It tests
// cairnctl's side of the protocol; see the report for the real server.
func wsPeer(t *testing.T, token string, events []map[string]any) (url string, got chan wsMessage) {
	got = make(chan wsMessage, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Error(err)
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		var init wsMessage
		if err := wsjson.Read(ctx, c, &init); err != nil {
			t.Error(err)
			return
		}
		got <- init
		var p map[string]string
		_ = json.Unmarshal(init.Payload, &p)
		if init.Type != "connection_init" || p["Authorization"] != "Bearer "+token {
			c.Close(4401, "Unauthorized")
			return
		}
		_ = wsjson.Write(ctx, c, wsMessage{Type: "ping"})
		_ = wsjson.Write(ctx, c, wsMessage{Type: "connection_ack"})
		for {
			var m wsMessage
			if err := wsjson.Read(ctx, c, &m); err != nil {
				return
			}
			got <- m
			if m.Type == "subscribe" {
				break
			}
		}
		for _, ev := range events {
			payload, _ := json.Marshal(map[string]any{"data": map[string]any{"instanceStatusChanged": ev}})
			_ = wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "next", Payload: payload})
		}
		_ = wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "complete"})
		var m wsMessage
		if wsjson.Read(ctx, c, &m) == nil {
			got <- m
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func TestWatchProtocol(t *testing.T) {
	t.Parallel()
	ev := func(prev, status, at string) map[string]any {
		return map[string]any{"instanceId": "instance-w1", "instance": map[string]any{"id": "instance-w1", "status": status}, "previousStatus": prev, "status": status,
			"at": at, "cursor": "c-" + status}
	}
	events := []map[string]any{ev("DEPLOYING", "RUNNING", "2026-01-10T10:00:01Z"), ev("RUNNING", "STOPPING", "2026-01-10T10:00:02Z"), ev("STOPPING", "STOPPED", "2026-01-10T10:00:03Z")}

	t.Run("UntilStatus", func(t *testing.T) {
		t.Parallel()
		url, got := wsPeer(t, "tok-1", events)
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"instance", "watch", "instance-w1", "--until", "stopping", "--url", url, "--token", "tok-1", "-o", "json"},
			strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"status":"RUNNING"`) || !strings.Contains(lines[1], `"cursor":"c-STOPPING"`) {
			t.Errorf("printed %q", out.String())
		}
		if m := <-got; m.Type != "connection_init" {
			t.Errorf("first message %+v", m)
		}
		if m := <-got; m.Type != "pong" {
			t.Errorf("cairnctl answered a ping with %+v", m)
		}
		sub := <-got
		var p struct {
			Query     string
			Variables map[string]any
		}
		_ = json.Unmarshal(sub.Payload, &p)
		if sub.Type != "subscribe" || sub.ID != "1" || !strings.Contains(p.Query, "instanceStatusChanged(filter: {instanceIds: $ids})") ||
			!strings.Contains(p.Query, "instanceId instance { id status } previousStatus status at cursor") || p.Variables["ids"] == nil {
			t.Errorf("subscribe message %+v", p)
		}
		if m := <-got; m.Type != "complete" || m.ID != "1" {
			t.Errorf("after --until cairnctl sent %+v, want complete", m)
		}
	})
	t.Run("TableUntilServerCompletes", func(t *testing.T) {
		t.Parallel()
		url, _ := wsPeer(t, "tok-2", events)
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"instance", "watch", "--url", url, "--token", "tok-2", "--after", "c-0"},
			strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		if code != 0 || strings.Count(out.String(), "\n") != 3 || !strings.Contains(out.String(), "instance-w1  RUNNING → STOPPING") {
			t.Errorf("exit %d, printed %q %q", code, out.String(), errOut.String())
		}
	})
	t.Run("ErrRefusedToken", func(t *testing.T) {
		t.Parallel()
		url, _ := wsPeer(t, "tok-3", events)
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"instance", "watch", "instance-w1", "--url", url, "--token", "wrong"},
			strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		if code != 1 || !strings.Contains(errOut.String(), "UNAUTHENTICATED") {
			t.Errorf("exit %d, stderr %q", code, errOut.String())
		}
	})
}

func TestStatusSubscriptionDocument(t *testing.T) {
	t.Parallel()
	q, vars := statusSubscription(nil, "s-1", "", "cur")
	if !strings.Contains(q, "subscription Watch($service: ID, $after: String)") || !strings.Contains(q, "instanceStatusChanged(filter: {serviceId: $service}, after: $after)") ||
		vars["service"] != "s-1" || vars["after"] != "cur" {
		t.Errorf("document %s, variables %v", q, vars)
	}
	q, _ = statusSubscription(nil, "", "", "")
	if !strings.Contains(q, "subscription Watch {") || !strings.Contains(q, "instanceStatusChanged(filter: {})") {
		t.Errorf("document %s", q)
	}
}

// TestCompletion sources the generated bash script in a real bash and asks
// it to complete partial command lines.
func TestCompletion(t *testing.T) {
	t.Parallel()
	var e env
	e.t, e.vars = t, map[string]string{}
	bashScript := e.must("completion", "bash")
	zshScript := e.must("completion", "zsh")
	if !strings.Contains(zshScript, "#compdef cairnctl") || !strings.Contains(zshScript, "compdef _cairnctl cairnctl") {
		t.Errorf("zsh script:\n%s", zshScript)
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		if out, err := exec.Command(zsh, "-n", "-c", zshScript).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v\n%s", err, out)
		}
	} else {
		t.Log("zsh is not installed: the zsh script is checked as text only")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed: cannot run the bash completion")
	}
	for _, tc := range []struct {
		line string // words typed; the last is completed
		want string
	}{
		{"cairnctl ins", "instance"},
		{"cairnctl instance de", "describe delete"},
		{"cairnctl --url http://x instance cr", "create"},
		{"cairnctl instance create --reg", "--region"},
		{"cairnctl instance list -o y", "yaml"},
		{"cairnctl completion z", "zsh"},
		{"cairnctl tier describe --i", "--id"},
		{"cairnctl operations push --cl", "--client"},
	} {
		words := strings.Fields(tc.line)
		script := bashScript + "\nCOMP_WORDS=(" + strings.Join(words, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_cairnctl\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command(bash, "--norc", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("%q completes to %q, want %q", tc.line, got, tc.want)
		}
	}
}
