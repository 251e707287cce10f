package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/lifecycle"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// cairnEnv is a real Cairn as cairn serve runs it, on httptest: a fresh
// database with the demo data, the event bus, and the lifecycle engine over
// a simulated cloud that takes provisionDelay per transition.
type cairnEnv struct {
	url    string
	demo   *store.Demo
	tokens *auth.Tokens
}

const provisionDelay = 300 * time.Millisecond

func serve(t *testing.T) *cairnEnv {
	t.Helper()
	ctx := context.Background()
	url := storetest.URL(t)
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hash, err := auth.HashPassword(store.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.SeedDemo(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := events.Start(ctx, events.Config{Store: s, URL: url, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	engine, err := lifecycle.New(lifecycle.Config{Store: s, Provisioner: &lifecycle.Simulated{Delay: provisionDelay},
		Workers: 4, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.StopAndCancel(context.Background()) })
	secret := make([]byte, auth.SecretKeySize)
	_, _ = rand.Read(secret)
	box, err := auth.NewSecretBox(secret)
	if err != nil {
		t.Fatal(err)
	}
	tokens := mustTokens(t)
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Secrets: box, Live: server.Live{Bus: bus}}))
	t.Cleanup(srv.Close)
	return &cairnEnv{url: srv.URL, demo: d, tokens: tokens}
}

// do runs a GraphQL operation as user and decodes its data into out; it
// fails the test on any error.
func (e *cairnEnv) do(t *testing.T, user, query string, vars map[string]any, out any) {
	t.Helper()
	token, _, err := e.tokens.Sign(user)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %v %+v", query, err, r.Errors)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatal(err)
	}
}

// instanceStatus reads an instance's status as user.
func (e *cairnEnv) instanceStatus(t *testing.T, user, id string) string {
	t.Helper()
	var d struct{ Instance struct{ Status string } }
	e.do(t, user, `query($id: ID!) { instance(id: $id) { status } }`, map[string]any{"id": id}, &d)
	return d.Instance.Status
}

// TestHandler checks how the console is served: the redirect, the files
// with their types, the security headers, and GET only.
func TestHandler(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(server.New(server.Config{Store: storetest.New(t), Tokens: mustTokens(t)}))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		name, method, path string
		status             int
		header, want       string // a header and its expected value
	}{
		{"Redirect", "GET", "/console", http.StatusFound, "Location", "/console/"},
		{"Index", "GET", "/console/", http.StatusOK, "Content-Type", "text/html; charset=utf-8"},
		{"IndexPolicy", "GET", "/console/", http.StatusOK, "Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
		{"Module", "GET", "/console/js/app.js", http.StatusOK, "Content-Type", "text/javascript; charset=utf-8"},
		{"Style", "GET", "/console/console.css", http.StatusOK, "Content-Type", "text/css; charset=utf-8"},
		{"NoSniff", "GET", "/console/js/live.js", http.StatusOK, "X-Content-Type-Options", "nosniff"},
		{"Missing", "GET", "/console/nope.js", http.StatusNotFound, "", ""},
		{"Post", "POST", "/console/", http.StatusMethodNotAllowed, "Allow", "GET, HEAD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.header != "" && res.Header.Get(tc.header) != tc.want {
				t.Errorf("%s: %q, want %q", tc.header, res.Header.Get(tc.header), tc.want)
			}
		})
	}
}

func mustTokens(t *testing.T) *auth.Tokens {
	key, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}
