package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/benchwire"
)

// config is one load run: a request body sent over Connections keep-alive
// connections for Warmup, then measured for Duration.
type config struct {
	URL         string
	Token       string
	Body        []byte
	Connections int
	Duration    time.Duration
	Warmup      time.Duration
}

// result is what a run measured.
type result = benchwire.Load

// worker is the state of one connection's loop.
type worker struct {
	hist       histogram
	ok, errs   int64
	statements int
	size       int
	firstErr   string
}

// load runs cfg and returns what it measured: the requests that complete
// inside the measured window.
func load(ctx context.Context, cfg config) (*result, error) {
	target, err := newTarget(cfg)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	from, until := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	workers := make([]*worker, cfg.Connections)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{}
		workers[i] = w
		wg.Go(func() { w.loop(ctx, target, from, until) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var h histogram
	res := &result{Connections: cfg.Connections, Seconds: cfg.Duration.Seconds()}
	for _, w := range workers {
		h.merge(&w.hist)
		res.Requests += w.ok
		res.Errors += w.errs
		res.SQLStatements = max(res.SQLStatements, w.statements)
		res.ResponseBytes = max(res.ResponseBytes, w.size)
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	res.RPS = float64(res.Requests) / cfg.Duration.Seconds()
	res.P50, res.P90, res.P99, res.Max, res.Mean = ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.max), ms(h.mean())
	return res, nil
}

func (w *worker) loop(ctx context.Context, t *target, from, until time.Time) {
	var c *httpConn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	var buf bytes.Buffer
	for ctx.Err() == nil {
		began := time.Now()
		if !began.Before(until) {
			return
		}
		var err error
		if c == nil {
			c, err = t.dial(ctx)
		}
		if err == nil {
			err = w.do(c, &buf)
			if err != nil || c.closing {
				c.Close()
				c = nil
			}
		}
		ended := time.Now()
		if ended.Before(from) || ended.After(until) {
			continue
		}
		if err != nil {
			w.errs++
			if w.firstErr == "" {
				w.firstErr = err.Error()
			}
			continue
		}
		w.ok++
		w.hist.record(ended.Sub(began))
	}
}

var (
	errorsPrefix = []byte(`{"errors"`)
	statementsAt = []byte(`"sqlStatements":`)
)

// do sends one request and reads the whole response. A response is an error
// when its status is not 200 or it carries GraphQL errors (gqlgen writes
// "errors" first, so the check does not parse a large response).
// do sends the request on c and reads its response into buf.
func (w *worker) do(c *httpConn, buf *bytes.Buffer) error {
	status, err := c.roundTrip(buf)
	if err != nil {
		return err
	}
	b := buf.Bytes()
	if status != http.StatusOK || bytes.HasPrefix(b, errorsPrefix) {
		return fmt.Errorf("status %d: %.300s", status, b)
	}
	w.size = len(b)
	if i := bytes.LastIndex(b, statementsAt); i >= 0 {
		rest := b[i+len(statementsAt):]
		j := bytes.IndexAny(rest, ",}")
		if j > 0 {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(rest[:j]))); err == nil {
				w.statements = max(w.statements, n)
			}
		}
	}
	return nil
}
