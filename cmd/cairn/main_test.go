package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestServeEndToEnd runs the real Main on port 0 against a fresh database:
// it migrates, loads the demo data, signs a demo user in and answers a
// nested query with that token.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Config.parse("serve", []string{"--addr", "127.0.0.1:0", "--database-url", storetest.URL(t)}, m.Getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	if !strings.Contains(out.String(), "alice@customer-a.example") {
		t.Errorf("start-up output does not show the demo sign-ins:\n%s", out.String())
	}
	base := "http://" + m.Addr
	for _, path := range []string{"/healthz", "/readyz", "/.well-known/jwks.json", "/"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}
	post := func(token, query string) map[string]any {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var r map[string]any
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := post("", `mutation { signIn(input: {email: "alice@customer-a.example", password: "cairn-demo"}) { token user { email } } }`)
	token, _ := r["data"].(map[string]any)["signIn"].(map[string]any)["token"].(string)
	if token == "" {
		t.Fatalf("signIn: %v", r)
	}
	r = post(token, `{ instances { totalCount nodes { resource { tier { model { environment { service { name } } } } } } } }`)
	got, _ := json.Marshal(r["data"])
	if !strings.Contains(string(got), `"totalCount":4`) || !strings.Contains(string(got), `"name":"MySQL"`) {
		t.Errorf("nested query answered %s (errors %v)", got, r["errors"])
	}
	r = post("", `mutation { signIn(input: {email: "alice@customer-a.example", password: "wrong"}) { token } }`)
	if errs, _ := r["errors"].([]any); len(errs) == 0 || !strings.Contains(string(must(json.Marshal(errs))), "UNAUTHENTICATED") {
		t.Errorf("wrong password answered %v", r)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		want  string // error text, "" for none
		check func(c Config) bool
	}{
		{name: "Defaults", check: func(c Config) bool {
			return c.Addr == "127.0.0.1:8080" && c.DataDir == "./.cairn" && c.Demo && c.DatabaseURL == "" && c.DirectReads
		}},
		{name: "DirectReadsOff", env: map[string]string{"CAIRN_DIRECT_READS": "false"},
			check: func(c Config) bool { return !c.DirectReads }},
		{name: "EnvironmentSetsFlags", env: map[string]string{"CAIRN_ADDR": ":9000", "CAIRN_DEMO": "false", "CAIRN_DATABASE_URL": "postgres://x/y"},
			check: func(c Config) bool { return c.Addr == ":9000" && !c.Demo && c.DatabaseURL == "postgres://x/y" }},
		{name: "FlagBeatsEnvironment", args: []string{"--addr", ":7000"}, env: map[string]string{"CAIRN_ADDR": ":9000"},
			check: func(c Config) bool { return c.Addr == ":7000" }},
		{name: "ErrBadBoolInEnvironment", env: map[string]string{"CAIRN_DEMO": "maybe"}, want: `invalid value "maybe" for CAIRN_DEMO`},
		{name: "ErrBadDuration", args: []string{"--token-ttl", "soon"}, want: `invalid value "soon" for flag -token-ttl`},
		{name: "ErrBadLogFormat", env: map[string]string{"CAIRN_LOG_FORMAT": "xml"}, want: "--log-format must be text or json"},
		{name: "ErrBadLogLevel", args: []string{"--log-level", "loud"}, want: `invalid value "loud" for flag -log-level`},
		{name: "ErrUnknownFlag", args: []string{"--colour"}, want: "flag provided but not defined: -colour"},
		{name: "ErrStrayArgument", args: []string{"now"}, want: `unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			err := c.parse("serve", tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			case tc.want != "" && exitCode(err) != 2:
				t.Errorf("exit code %d, want 2", exitCode(err))
			case tc.check != nil && !tc.check(c):
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), []string{"launch"})
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), `unknown command "launch"`) || !strings.Contains(errOut.String(), "cairn serve") {
		t.Errorf("err %v, stderr %q", err, errOut.String())
	}
}
