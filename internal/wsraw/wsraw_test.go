package wsraw_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/wsraw"
	"github.com/coder/websocket"
)

// echo is a websocket server that pings the client, echoes one message,
// then closes; it reports whether each ping had its pong on pongs.
func echo(t *testing.T) (srv *httptest.Server, pongs <-chan error) {
	ch := make(chan error, 10)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Error(err)
			return
		}
		ws.SetReadLimit(1 << 20)
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		pinged := make(chan error, 1)
		go func() { pinged <- ws.Ping(ctx) }()
		typ, msg, err := ws.Read(ctx)
		if err != nil {
			return // a client the test turned away
		}
		if err := ws.Write(ctx, typ, append([]byte("echo "), msg...)); err != nil {
			t.Errorf("write: %v", err)
		}
		ws.CloseRead(ctx) // reads the pong
		ch <- <-pinged
		ws.Close(websocket.StatusNormalClosure, "bye")
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestConn(t *testing.T) {
	srv, pongs := echo(t)
	tests := []struct{ name, msg string }{
		{"Short", `{"type":"connection_init"}`},
		{"Medium", strings.Repeat("x", 1000)},
		{"Long", strings.Repeat("y", 70000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := wsraw.Dial(srv.URL+"/graphql", "graphql-transport-ws", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.WriteText([]byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			got, err := c.Read(0)
			if err != nil || string(got) != "echo "+tt.msg {
				t.Fatalf("Read = %.40q, %v; want the echo", got, err)
			}
			if _, err := c.Read(0); !errors.Is(err, wsraw.ErrClosed) {
				t.Errorf("Read after the close frame: %v, want ErrClosed", err)
			}
			if err := <-pongs; err != nil {
				t.Errorf("the server's ping: %v", err)
			}
		})
	}
}

func TestDialRefusals(t *testing.T) {
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	srv, _ := echo(t)
	tests := []struct{ name, url, protocol, want string }{
		{"NotAWebsocket", plain.URL, "graphql-transport-ws", "404"},
		{"OtherSubprotocol", srv.URL, "graphql-ws", "subprotocol"},
		{"TLS", "wss://localhost:1/", "graphql-transport-ws", "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := wsraw.Dial(tt.url, tt.protocol, 5*time.Second)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Dial: %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestSubscribe runs the graphql-transport-ws handshake against a server
// that checks each message.
func TestSubscribe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Error(err)
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		for _, want := range []string{
			`{"payload":{"Authorization":"Bearer t"},"type":"connection_init"}`,
			`{"id":"1","payload":{"query":"subscription { x }","variables":{"v":1}},"type":"subscribe"}`,
		} {
			_, msg, err := ws.Read(ctx)
			if err != nil || string(msg) != want {
				t.Errorf("got %s %v, want %s", msg, err, want)
				return
			}
			reply := `{"type":"connection_ack"}`
			if strings.Contains(want, "subscribe") {
				reply = `{"id":"1","type":"next","payload":{"data":{"x":1}}}`
			}
			if err := ws.Write(ctx, websocket.MessageText, []byte(reply)); err != nil {
				t.Error(err)
				return
			}
		}
		ws.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(srv.Close)
	c, err := wsraw.Subscribe(srv.URL, map[string]any{"Authorization": "Bearer t"}, "1", "subscription { x }", map[string]any{"v": 1}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if msg, err := c.Read(0); err != nil || string(msg) != `{"id":"1","type":"next","payload":{"data":{"x":1}}}` {
		t.Errorf("Read = %s, %v; want the next message", msg, err)
	}
}
