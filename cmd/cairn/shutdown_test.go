package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/coder/websocket"
)

// TestShutdownFinishesInFlightRequests starts a request, begins the shutdown
// while the request is still being sent, and checks that the request is
// answered in full, new connections are refused, and Close returns cleanly.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Config.parse("serve", []string{"--addr", "127.0.0.1:0", "--database-url", storetest.URL(t), "--shutdown-timeout", "20s"}, m.Getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", m.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// With Expect: 100-continue the server answers "100 Continue" once the
	// handler reads the body: from then on the request is in flight.
	body := `{"query": "{ __typename }"}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	rd := bufio.NewReader(conn)
	if line, err := rd.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("expected 100 Continue, got %q (%v)", line, err)
	}
	if _, err := rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	closed := make(chan error, 1)
	addr := m.Addr
	go func() { closed <- m.Close() }()
	// Wait until the server refuses new connections: the shutdown has begun.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 10 s after Close began")
		}
		time.Sleep(10 * time.Millisecond) // polling the listener; there is no event to await
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v (Close: %v)", err, <-closed)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(got), `"__typename":"Query"`) {
		t.Errorf("in-flight request answered %d %s", res.StatusCode, got)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return")
	}
}

// TestShutdownClosesSubscriptions opens a subscription and checks that Close
// ends it with a websocket close frame (1000) promptly, rather than cutting
// the connection or waiting out the shutdown timeout.
func TestShutdownClosesSubscriptions(t *testing.T) {
	t.Parallel()
	m := replica(t, storetest.URL(t), "--shutdown-timeout", "30s")
	c := dial(t, m, signIn(t, m, "alice@customer-a.example"))
	c.subscribe("1", `subscription { instanceStatusChanged { status } }`, nil)
	began := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := c.conn.Read(ctx)
	if code := websocket.CloseStatus(err); code != websocket.StatusNormalClosure {
		t.Fatalf("the subscription ended with %v (close code %d), want a close frame 1000", err, code)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10 s")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("shutdown took %v with a subscription open", took)
	}
}
