// Package wsraw is a websocket client on a bare socket, for load generators
// and benchmarks that hold thousands of connections on the machine they
// measure: a Conn holds no goroutine and no buffer of its own until it is
// read, and reading a frame allocates nothing once its buffer has grown.
// It speaks just what a GraphQL client needs: one subprotocol, text frames
// out (masked), unfragmented frames in, pings answered.
package wsraw

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Conn is a client's websocket.
type Conn struct {
	net.Conn
	br *bufio.Reader // set once by Dial (the handshake) or the first Read

	wmu sync.Mutex // one frame at a time
	h   [8]byte
	p   []byte
}

// Dial opens a websocket to rawURL (ws:// or http://, wss is not
// supported) asking for subprotocol, within timeout.
func Dial(rawURL, subprotocol string, timeout time.Duration) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws", "http":
	default:
		return nil, fmt.Errorf("wsraw: scheme %q (ws or http only)", u.Scheme)
	}
	conn, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	u.Scheme = "http"
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	var key [16]byte
	_, _ = rand.Read(key[:])
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key[:]))
	req.Header.Set("Sec-WebSocket-Protocol", subprotocol)
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 256)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("wsraw: upgrade answered %s", res.Status)
	}
	if got := res.Header.Get("Sec-WebSocket-Protocol"); got != subprotocol {
		conn.Close()
		return nil, fmt.Errorf("wsraw: the server chose subprotocol %q, not %q", got, subprotocol)
	}
	_ = conn.SetDeadline(time.Time{})
	c := &Conn{Conn: conn}
	if br.Buffered() > 0 {
		c.br = br // the server spoke first: keep what it said
	}
	return c, nil
}

// WriteText writes p as one masked text frame.
func (c *Conn) WriteText(p []byte) error { return c.write(0x1, p) }

func (c *Conn) write(opcode byte, p []byte) error {
	f := make([]byte, 0, 14+len(p))
	f = append(f, 0x80|opcode)
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	f = append(f, key[:]...)
	for i, b := range p {
		f = append(f, b^key[i&3])
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.Conn.Write(f)
	return err
}

// ErrClosed is returned by Read when the server sent a close frame.
var ErrClosed = errors.New("wsraw: the server closed the websocket")

// Read returns the payload of the next text or binary frame, valid until
// the next Read; it answers pings on the way. Only one goroutine may read.
// The first Read gives the connection a buffer of bufSize bytes (512 when
// 0): what a reader that waits keeps.
func (c *Conn) Read(bufSize int) ([]byte, error) {
	if c.br == nil {
		if bufSize <= 0 {
			bufSize = 512
		}
		c.br = bufio.NewReaderSize(c.Conn, bufSize)
	}
	for {
		h := c.h[:2]
		if _, err := io.ReadFull(c.br, h); err != nil {
			return nil, err
		}
		opcode, fin := h[0]&0x0f, h[0]&0x80 != 0
		if h[1]&0x80 != 0 {
			return nil, errors.New("wsraw: the server masked a frame")
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, c.h[:2]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(c.h[:2]))
		case 127:
			if _, err := io.ReadFull(c.br, c.h[:8]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(c.h[:8])
		}
		if n > 64<<20 {
			return nil, fmt.Errorf("wsraw: a frame of %d bytes", n)
		}
		if uint64(cap(c.p)) < n {
			c.p = make([]byte, n)
		}
		p := c.p[:n]
		if _, err := io.ReadFull(c.br, p); err != nil {
			return nil, err
		}
		switch {
		case opcode == 0x8:
			// Answer with the server's status, as the protocol asks.
			_ = c.write(0x8, p[:min(len(p), 2)])
			return nil, ErrClosed
		case opcode == 0x9:
			if err := c.write(0xA, p); err != nil {
				return nil, err
			}
		case opcode == 0xA:
		case !fin || opcode == 0x0:
			return nil, errors.New("wsraw: fragmented messages are not supported")
		default:
			return p, nil
		}
	}
}

// Subscribe opens a graphql-transport-ws connection to rawURL: it sends
// connection_init with initPayload, waits for connection_ack, and starts
// subscription id of query with vars. Read the messages that follow with
// Read.
func Subscribe(rawURL string, initPayload any, id, query string, vars map[string]any, timeout time.Duration) (*Conn, error) {
	c, err := Dial(rawURL, "graphql-transport-ws", timeout)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Conn, error) {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	init, err := json.Marshal(map[string]any{"type": "connection_init", "payload": initPayload})
	if err != nil {
		return fail(err)
	}
	if err := c.WriteText(init); err != nil {
		return fail(err)
	}
	for {
		msg, err := c.Read(256)
		if err != nil {
			return fail(fmt.Errorf("wsraw: waiting for connection_ack: %w", err))
		}
		var m struct{ Type string }
		if err := json.Unmarshal(msg, &m); err != nil {
			return fail(fmt.Errorf("wsraw: waiting for connection_ack: %w", err))
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type != "ping" && m.Type != "pong" {
			return fail(fmt.Errorf("wsraw: %s before connection_ack", msg))
		}
	}
	sub, err := json.Marshal(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	if err != nil {
		return fail(err)
	}
	if err := c.WriteText(sub); err != nil {
		return fail(err)
	}
	_ = c.SetDeadline(time.Time{})
	if c.br.Buffered() == 0 {
		c.br = nil // a reader that waits gets its buffer when it reads
	}
	return c, nil
}
