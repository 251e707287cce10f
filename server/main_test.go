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
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// env is a running Cairn handler over a real store loaded with the demo data.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	store  *store.Store
	demo   *store.Demo
	tokens map[string]string // demo user → session token

	tokenSigner *auth.Tokens
}

// hash of store.DemoPassword, computed once: argon2id is slow on purpose.
var demoHash = func() string {
	h, err := auth.HashPassword(store.DemoPassword)
	if err != nil {
		panic(err)
	}
	return h
}()

func setup(t *testing.T) *env {
	t.Helper()
	s := storetest.New(t)
	ctx := context.Background()
	d, err := s.SeedDemo(ctx, demoHash)
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
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Introspection: true}))
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, store: s, demo: d, tokens: map[string]string{}, tokenSigner: tokens}
	for name, email := range map[string]string{"owner": store.DemoOwner, "alice": store.DemoAlice, "bob": store.DemoBob} {
		tok, _, err := tokens.Sign(map[string]string{"owner": d.Owner, "alice": d.Alice, "bob": d.Bob}[name])
		if err != nil {
			t.Fatal(err)
		}
		_ = email
		e.tokens[name] = tok
	}
	return e
}

// response is a GraphQL response.
type response struct {
	Status     int
	Data       map[string]any
	Errors     []gqlError
	Extensions map[string]any
}

type gqlError struct {
	Message    string
	Path       []any
	Extensions map[string]any
}

func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// post sends a raw body to /graphql as who ("" for nobody).
func (e *env) post(who, contentType string, body []byte) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode}
	if err := json.Unmarshal(raw, &r); err != nil {
		e.t.Fatalf("response is not JSON (status %d): %s", res.StatusCode, raw)
	}
	return r
}

// do runs a GraphQL operation as who.
func (e *env) do(who, query string, vars map[string]any) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return e.post(who, "application/json", body)
}

// get walks a path of keys and indexes into decoded JSON.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}
