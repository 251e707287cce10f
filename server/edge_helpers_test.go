package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
)

// setupEdge is setup with an edge configuration; extra returns more handlers
// over the same database (replicas).
func setupEdge(t *testing.T, edge server.Edge) (*env, func() *httptest.Server) {
	t.Helper()
	e := setup(t)
	tokens, err := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{mustKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	replica := func() *httptest.Server {
		srv := httptest.NewServer(server.New(server.Config{Store: e.store, Tokens: tokens, Introspection: true, Edge: edge}))
		t.Cleanup(srv.Close)
		return srv
	}
	e.srv = replica()
	for name, id := range map[string]string{"owner": e.demo.Owner, "alice": e.demo.Alice, "bob": e.demo.Bob} {
		tok, _, err := tokens.Sign(id)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = tok
	}
	return e, replica
}

func mustKey(t *testing.T) auth.Key {
	k, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// httpResult is a raw HTTP exchange with /graphql.
type httpResult struct {
	response
	Header http.Header
	Raw    []byte
}

// send sends a request to /graphql of srv (e.srv when nil) as who.
func (e *env) send(srv *httptest.Server, who, method, query string, body any, header map[string]string) httpResult {
	e.t.Helper()
	if srv == nil {
		srv = e.srv
	}
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			b, _ = json.Marshal(body)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, srv.URL+"/graphql"+query, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := httpResult{response: response{Status: res.StatusCode}, Header: res.Header, Raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.response); err != nil {
			e.t.Fatalf("response is not JSON (status %d): %s", res.StatusCode, raw)
		}
		r.Status = res.StatusCode
	}
	return r
}

func (r httpResult) message() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

var _ = store.DemoPassword
