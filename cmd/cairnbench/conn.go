package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// target is where the load goes: the address to dial and the bytes of the
// one request every worker sends, written once.
//
// The workers speak HTTP/1.1 on keep-alive connections of their own: each
// request is one write of those bytes, each response is read by net/http's
// parser (http.ReadResponse: chunked or sized bodies, Connection: close).
// net/http's Client would do the same work through two goroutines per
// connection and a handoff per request; this process shares the CPU with
// the server it measures (as wrk and pgbench keep their own share small).
type target struct {
	addr string
	tls  *tls.Config // nil for http
	req  []byte
	ask  *http.Request // for http.ReadResponse: the method
}

func newTarget(cfg config) (*target, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	t := &target{addr: u.Host}
	switch u.Scheme {
	case "http":
		if u.Port() == "" {
			t.addr = net.JoinHostPort(u.Hostname(), "80")
		}
	case "https":
		t.tls = &tls.Config{ServerName: u.Hostname()}
		if u.Port() == "" {
			t.addr = net.JoinHostPort(u.Hostname(), "443")
		}
	default:
		return nil, fmt.Errorf("-url %q: http or https only", cfg.URL)
	}
	req, err := http.NewRequest(http.MethodPost, cfg.URL, bytes.NewReader(cfg.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cairnbench")
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	t.req, t.ask = b.Bytes(), &http.Request{Method: http.MethodPost}
	return t, nil
}

// httpConn is one keep-alive connection of a worker.
type httpConn struct {
	net.Conn
	t       *target
	br      *bufio.Reader
	closing bool // the server asked to close after the last response
}

func (t *target) dial(ctx context.Context) (*httpConn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	var c net.Conn
	var err error
	if t.tls != nil {
		c, err = (&tls.Dialer{NetDialer: d, Config: t.tls}).DialContext(ctx, "tcp", t.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", t.addr)
	}
	if err != nil {
		return nil, err
	}
	return &httpConn{Conn: c, t: t, br: bufio.NewReaderSize(c, 16<<10)}, nil
}

// roundTrip sends the target's request and reads the response's body into
// buf; it returns the status. A minute bounds the whole exchange.
func (c *httpConn) roundTrip(buf *bytes.Buffer) (int, error) {
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := c.Write(c.t.req); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(c.br, c.t.ask)
	if err != nil {
		return 0, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("the response's body ended early: %w", err)
	}
	c.closing = res.Close
	return res.StatusCode, err
}
