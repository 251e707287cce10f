package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// demoHash is the hash of store.DemoPassword, computed once: argon2id is
// slow on purpose.
var demoHash = func() string {
	h, err := auth.HashPassword(store.DemoPassword)
	if err != nil {
		panic(err)
	}
	return h
}()

// env is a real Cairn (server.New over a fresh database with the demo data,
// on httptest) and a config folder for cairnctl.
type env struct {
	t      *testing.T
	url    string
	store  *store.Store
	demo   *store.Demo
	vars   map[string]string // cairnctl's environment
	config string
}

func setup(t *testing.T) *env {
	t.Helper()
	s := storetest.New(t)
	d, err := s.SeedDemo(context.Background(), demoHash)
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, s, d, server.Live{})
}

// newEnv serves Cairn over s (seeded with d) on httptest.
func newEnv(t *testing.T, s *store.Store, d *store.Demo, live server.Live) *env {
	key, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://cairn.test", time.Hour, []auth.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: s, Tokens: tokens, Live: live}))
	t.Cleanup(srv.Close)
	dir := filepath.Join(t.TempDir(), "config")
	return &env{t: t, url: srv.URL, store: s, demo: d, config: dir, vars: setupVars(srv.URL, dir)}
}

// result is what one cairnctl run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs cairnctl with args, stdin and the env's variables.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return e.vars[k] })
	return result{code, out.String(), errOut.String()}
}

// must runs cairnctl and fails the test unless it exits 0.
func (e *env) must(args ...string) string {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 0 {
		e.t.Fatalf("cairnctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (e *env) signin(email string) {
	e.t.Helper()
	e.must("signin", "--email", email, "--password", store.DemoPassword)
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

// TestSeedSession is seed 000's session: sign in, create an instance with
// --body, list it (table and JSON), describe it, delete it.
func TestSeedSession(t *testing.T) {
	t.Parallel()
	e := setupLive(t)

	out := e.must("signin", "--email", store.DemoAlice, "--password", store.DemoPassword)
	if !strings.Contains(out, "Signed in to "+e.url+" as "+store.DemoAlice+" (Customer A)") {
		t.Errorf("signin printed %q", out)
	}
	path := filepath.Join(e.config, "credentials.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json has mode %v, want 0600", st.Mode().Perm())
	}
	creds := decode[credentials](t, string(must(os.ReadFile(path))))
	if creds.URL != e.url || strings.Count(creds.Token, ".") != 2 || creds.Email != store.DemoAlice || creds.ExpiresAt.IsZero() {
		t.Errorf("stored credentials %+v", creds)
	}

	body := `{
  "cloud_provider": "aws",
  "region": "us-east-1",
  "requestParams": {"mysqlDatabase": "test", "mysqlPassword": "strongpassword", "mysqlUser": "test"}
}`
	created := decode[map[string]any](t, e.must("instance", "create", "--resource", e.demo.MySQL, "--body", body, "-o", "json"))
	id, _ := created["id"].(string)
	if !strings.HasPrefix(id, "instance-") || (created["status"] != "DEPLOYING" && created["status"] != "RUNNING") || created["subscriptionId"] != e.demo.SubA ||
		created["cloudProvider"] != "aws" || lookup(created, "requestParams.mysqlDatabase") != "test" {
		t.Fatalf("create printed %v", created)
	}

	table := e.must("instance", "list")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "STATUS") || !strings.Contains(table, id) {
		t.Errorf("list (table) printed\n%s", table)
	}
	list := decode[struct {
		TotalCount int
		Nodes      []map[string]any
	}](t, e.must("instance", "list", "-o", "json"))
	if list.TotalCount != 5 || len(list.Nodes) != 5 || !slices.ContainsFunc(list.Nodes, func(n map[string]any) bool { return n["id"] == id }) {
		t.Errorf("list (json): %+v", list)
	}
	filtered := decode[struct{ TotalCount int }](t, e.must("instance", "list", "--status", "stopped", "-o", "json"))
	if filtered.TotalCount != 1 {
		t.Errorf("list --status stopped counted %d, want 1", filtered.TotalCount)
	}

	waited := e.run("", "instance", "describe", "--id", id, "-o", "yaml")
	if waited.code != 0 || !strings.Contains(waited.stdout, "id: "+id+"\n") || !strings.Contains(waited.stdout, "cloudProvider: aws\n") {
		t.Errorf("describe -o yaml: %+v", waited)
	}
	// Delete needs a RUNNING instance: the lifecycle engine gets it there.
	if _, err := e.waitRunning(id); err != nil {
		t.Fatal(err)
	}
	desc := e.must("instance", "describe", id)
	if !strings.Contains(desc, "status:") || !strings.Contains(desc, "RUNNING") || !strings.Contains(desc, "requestParams.mysqlUser:") {
		t.Errorf("describe (table):\n%s", desc)
	}

	del := decode[map[string]any](t, e.must("instance", "delete", id, "-o", "json"))
	if del["id"] != id || del["status"] != "QUARANTINED" {
		t.Errorf("delete printed %v", del)
	}
}

// waitRunning awaits RUNNING through cairnctl's poller (create --wait itself
// is TestWait's).
func (e *env) waitRunning(id string) (string, error) {
	a := &app{ctx: context.Background(), stdin: strings.NewReader(""), stdout: new(bytes.Buffer), stderr: new(bytes.Buffer),
		getenv: func(k string) string { return e.vars[k] }, pollEvery: 20 * time.Millisecond}
	if err := a.g.fromEnv(a.getenv); err != nil {
		return "", err
	}
	if err := a.loadConfig(); err != nil {
		return "", err
	}
	return a.wait(id, "RUNNING", "", 10*time.Second)
}

// TestWaitTimeout: a --wait whose deadline passes is an error naming the
// status it waited for (no lifecycle engine runs here: the instance stays
// DEPLOYING).
func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.signin(store.DemoAlice)
	r := e.run("", "instance", "create", "--resource", e.demo.MySQL, "--subscription", e.demo.SubA, "--cloud-provider", "aws", "--region", "us-east-1",
		"--param", "mysqlDatabase=db", "--param", "mysqlUser=u", "--param", "mysqlPassword=pw", "--wait", "--wait-timeout", "100ms")
	if r.code != 1 || !strings.Contains(r.stderr, "DEPLOYING") || !strings.Contains(r.stderr, "gave up after 100ms waiting for instance") ||
		!strings.Contains(r.stderr, "to be RUNNING (it is DEPLOYING)") {
		t.Errorf("--wait-timeout 100ms: %+v", r)
	}
}

// TestErrors: API errors print extensions.code and the message and exit 1;
// usage errors exit 2.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.signin(store.DemoAlice)
	for _, tc := range []struct {
		name  string
		args  []string
		vars  map[string]string
		code  int
		wants []string
	}{
		{name: "NotFound", args: []string{"instance", "describe", "instance-doesnotexist"}, code: 1, wants: []string{"cairnctl: NOT_FOUND:", "instance-doesnotexist"}},
		{name: "NotFoundOtherTenant", args: []string{"instance", "describe", e.demo.InstancesB[0]}, code: 1, wants: []string{"NOT_FOUND", e.demo.InstancesB[0]}},
		{name: "NotFoundWrongKind", args: []string{"service", "describe", e.demo.InstancesA[0]}, code: 1, wants: []string{`NOT_FOUND: service "` + e.demo.InstancesA[0] + `" not found`}},
		{name: "BadRegion", args: []string{"instance", "create", "--resource", e.demo.MySQL, "--cloud-provider", "aws", "--region", "mars-1",
			"--param", "mysqlDatabase=a", "--param", "mysqlUser=b", "--param", "mysqlPassword=c"}, code: 1, wants: []string{"BAD_USER_INPUT", "mars-1"}},
		{name: "MissingParam", args: []string{"instance", "create", "--resource", e.demo.MySQL, "--body", `{"cloud_provider": "aws", "region": "us-east-1"}`},
			code: 1, wants: []string{"BAD_USER_INPUT", "mysqlDatabase"}},
		{name: "NotSignedIn", args: []string{"instance", "list"}, vars: map[string]string{"CAIRN_CONFIG_DIR": t.TempDir()}, code: 1,
			wants: []string{"UNAUTHENTICATED", "cairnctl signin"}},
		{name: "BadToken", args: []string{"instance", "list", "--token", "not-a-token"}, code: 1, wants: []string{"UNAUTHENTICATED"}},
		{name: "WrongPassword", args: []string{"signin", "--email", store.DemoAlice, "--password", "wrong"}, code: 1, wants: []string{"UNAUTHENTICATED"}},
		{name: "Unreachable", args: []string{"instance", "list", "--url", "http://127.0.0.1:1", "--token", "x"}, code: 1, wants: []string{"cannot reach Cairn at http://127.0.0.1:1/graphql"}},
		{name: "UsageUnknownCommand", args: []string{"instnace", "list"}, code: 2, wants: []string{`unknown command "instnace"`, "Run 'cairnctl --help'"}},
		{name: "UsageUnknownSubcommand", args: []string{"instance", "launch"}, code: 2, wants: []string{`unknown command "launch" for cairnctl instance`}},
		{name: "UsageMissingCommand", args: []string{"tier"}, code: 2, wants: []string{"missing command", "Commands:"}},
		{name: "UsageUnknownFlag", args: []string{"instance", "list", "--colour"}, code: 2, wants: []string{"flag provided but not defined: -colour", "Run 'cairnctl instance list --help'"}},
		{name: "UsageBadOutput", args: []string{"instance", "list", "-o", "xml"}, code: 2, wants: []string{"-o must be table, json or yaml"}},
		{name: "UsageBadOutputEnv", args: []string{"instance", "list"}, vars: map[string]string{"CAIRN_OUTPUT": "csv"}, code: 2, wants: []string{`not "csv"`}},
		{name: "UsageBadTimeoutEnv", args: []string{"instance", "list"}, vars: map[string]string{"CAIRN_TIMEOUT": "soon"}, code: 2, wants: []string{"CAIRN_TIMEOUT"}},
		{name: "UsageMissingResource", args: []string{"instance", "create", "--region", "us-east-1", "--cloud-provider", "aws"}, code: 2, wants: []string{"missing --resource"}},
		{name: "UsageBadBodyKey", args: []string{"instance", "create", "--body", `{"zone": "a"}`}, code: 2, wants: []string{`unknown key "zone"`, "cloud_provider"}},
		{name: "UsageBadBody", args: []string{"instance", "create", "--body", `{`}, code: 2, wants: []string{"--body is not a JSON object"}},
		{name: "UsageBadParam", args: []string{"instance", "create", "--param", "novalue"}, code: 2, wants: []string{`want key=value, not "novalue"`}},
		{name: "UsageNoID", args: []string{"instance", "describe"}, code: 2, wants: []string{"give the instance ID"}},
		{name: "UsageTwoIDs", args: []string{"instance", "delete", "a", "b"}, code: 2, wants: []string{"give one instance ID"}},
		{name: "UsageFirst", args: []string{"service", "list", "--first", "0"}, code: 2, wants: []string{"--first must be between 1 and 500"}},
		{name: "UsageCompletionShell", args: []string{"completion", "fish"}, code: 2, wants: []string{"bash or zsh"}},
		{name: "UsageSigninEmail", args: []string{"signin", "--password", "x"}, code: 2, wants: []string{"missing --email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := *e
			e.t = t
			e.vars = map[string]string{}
			for k, v := range setupVars(e.url, e.config) {
				e.vars[k] = v
			}
			for k, v := range tc.vars {
				e.vars[k] = v
			}
			r := e.run("", tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func setupVars(url, config string) map[string]string {
	return map[string]string{"CAIRN_URL": url, "CAIRN_CONFIG_DIR": config, "CAIRN_POLL_INTERVAL": "20ms"}
}

// TestVerboseRedacts: --verbose prints requests and responses but never the
// token or the password.
func TestVerboseRedacts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.run("", "signin", "--email", store.DemoAlice, "--password", store.DemoPassword, "--verbose", "-o", "json")
	if r.code != 0 {
		t.Fatalf("signin: %+v", r)
	}
	token, _ := decode[map[string]any](t, r.stdout)["token"].(string)
	if token == "" {
		t.Fatalf("signin -o json printed no token: %s", r.stdout)
	}
	check := func(name, stderr string, wants ...string) {
		t.Helper()
		for _, secret := range []string{token, store.DemoPassword} {
			if strings.Contains(stderr, secret) {
				t.Errorf("%s: --verbose printed a secret %.12q…:\n%s", name, secret, stderr)
			}
		}
		for _, w := range append(wants, "> POST "+e.url+"/graphql", "<redacted>", "< 200 OK") {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: --verbose output lacks %q:\n%s", name, w, stderr)
			}
		}
	}
	check("signin", r.stderr, `"password": "<redacted>"`, `"token": "<redacted>"`, `"email": "alice@customer-a.example"`)

	e.vars["CAIRN_VERBOSE"] = "1"
	r = e.run("", "instance", "list")
	if r.code != 0 {
		t.Fatalf("list: %+v", r)
	}
	check("list", r.stderr, "Authorization: Bearer <redacted>", `"totalCount": 4`)

	r = e.run("", "instance", "list", "--token", token)
	check("list --token", r.stderr, "Authorization: Bearer <redacted>")
}

// TestOutputs: every output format of a list and an object, and the catalog,
// tenant and user commands as the provider's owner sees them.
func TestOutputs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.signin(store.DemoOwner)
	for _, tc := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"service", "list"}, []string{"ID", "NAME", "PROVIDER", e.demo.Service, "MySQL", "Acme Cloud"}},
		{[]string{"service", "describe", e.demo.Service, "-o", "yaml"}, []string{"id: " + e.demo.Service, "name: MySQL", "provider:\n  name: Acme Cloud"}},
		{[]string{"environment", "list", "--type", "prod"}, []string{e.demo.Prod, "PROD"}},
		{[]string{"model", "list", "--environment", e.demo.Prod}, []string{e.demo.Hosted, e.demo.CustomerHosted}},
		{[]string{"tier", "list", "--model", e.demo.Hosted}, []string{e.demo.Premium, e.demo.Free, "us-east-1,eu-west-1"}},
		{[]string{"tier", "describe", e.demo.Premium, "-o", "yaml"}, []string{"awsRegions:\n- us-east-1\n- eu-west-1\n", "gcpRegions:\n- us-central1\n", "azureRegions: []\n"}},
		{[]string{"resource", "list", "--tier", e.demo.Premium}, []string{e.demo.MySQL, e.demo.Galera}},
		{[]string{"resource", "describe", e.demo.MySQL, "-o", "yaml"}, []string{"inputParameters:\n- defaultValue: null\n  description: Name of the first database\n  key: mysqlDatabase\n"}},
		{[]string{"subscription", "list", "--status", "active"}, []string{e.demo.SubA, e.demo.SubB, "Customer A"}},
		{[]string{"tenant", "list", "--kind", "customer"}, []string{e.demo.CustomerA, e.demo.CustomerB, "CUSTOMER"}},
		{[]string{"user", "list", "--email", "customer-a"}, []string{store.DemoAlice}},
		{[]string{"user", "describe", e.demo.Alice}, []string{"email:", store.DemoAlice, "roleBindings.nodes:", "ADMIN"}},
		{[]string{"whoami", "-o", "json"}, []string{`"email": "owner@provider.example"`, `"role": "ROOT"`}},
		{[]string{"instance", "list", "--first", "2", "-o", "yaml"}, []string{"totalCount: 6", "hasNextPage: true", "nodes:\n- id: instance-", "\n  cloudProvider: aws\n", "\n  tenant:\n    name: Customer"}},
		{[]string{"instance", "list", "--first", "2", "--all", "-o", "json"}, []string{`"totalCount": 6`}},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			out := e.must(tc.args...)
			for _, w := range tc.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	all := decode[struct{ Nodes []any }](t, e.must("instance", "list", "--first", "2", "--all", "-o", "json"))
	if len(all.Nodes) != 6 {
		t.Errorf("--all listed %d instances, want 6", len(all.Nodes))
	}
}

// TestSigninPasswordStdin reads the password from stdin, and signout
// forgets the token.
func TestSigninPasswordStdin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.run(store.DemoPassword+"\n", "signin", "--email", store.DemoBob, "--password-stdin")
	if r.code != 0 {
		t.Fatalf("signin --password-stdin: %+v", r)
	}
	who := decode[map[string]any](t, e.must("whoami", "-o", "json"))
	if lookup(who, "user.email") != store.DemoBob {
		t.Errorf("whoami: %v", who)
	}
	if out := e.must("signout"); !strings.Contains(out, "Signed out") {
		t.Errorf("signout printed %q", out)
	}
	if r := e.run("", "whoami"); r.code != 1 || !strings.Contains(r.stderr, "UNAUTHENTICATED") {
		t.Errorf("whoami after signout: %+v", r)
	}
}

// TestHelpEverywhere: every command answers --help with its usage and exits 0.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	var e env
	e.t, e.vars = t, map[string]string{}
	paths := []string{""}
	for p, c := range leafPaths(root(), "") {
		paths = append(paths, p)
		if c.example == "" {
			t.Errorf("%s has no examples", p)
		}
	}
	for _, c := range root().subs {
		if c.setup == nil {
			paths = append(paths, c.name)
		}
	}
	for _, p := range paths {
		for _, flag := range []string{"--help", "-h"} {
			args := append(strings.Fields(p), flag)
			r := e.run("", args...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage:\n  cairnctl "+p) || !strings.Contains(r.stdout, "Global flags") {
				t.Errorf("cairnctl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPartnerPath mints an API key, uses it as the token, registers a
// persisted-operation manifest, and revokes the key.
func TestPartnerPath(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.signin(store.DemoAlice)
	created := decode[map[string]any](t, e.must("apikey", "create", "--name", "billing-sync", "--role", "READER", "--expires", "720h", "-o", "json"))
	secret, _ := created["secret"].(string)
	keyID, _ := lookup(created, "apiKey.id").(string)
	if secret == "" || !strings.HasPrefix(keyID, "apikey-") || lookup(created, "apiKey.tenantId") != e.demo.CustomerA || lookup(created, "apiKey.role") != "READER" {
		t.Fatalf("apikey create printed %v", created)
	}
	if out := e.must("apikey", "list"); !strings.Contains(out, keyID) || !strings.Contains(out, "billing-sync") {
		t.Errorf("apikey list:\n%s", out)
	}
	list := decode[struct{ TotalCount int }](t, e.must("instance", "list", "--token", secret, "-o", "json"))
	if list.TotalCount != 4 {
		t.Errorf("with the API key, instance list counted %d, want 4", list.TotalCount)
	}

	manifest := filepath.Join(t.TempDir(), "relay.json")
	if err := os.WriteFile(manifest, []byte(`{"q1": "query Instances { instances { totalCount } }"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	pushed := decode[map[string]any](t, e.must("operations", "push", manifest, "--client", "partner-app", "-o", "json"))
	if pushed["clientName"] != "partner-app" || pushed["registered"] != float64(1) {
		t.Errorf("operations push printed %v", pushed)
	}
	again := decode[map[string]any](t, e.must("operations", "push", manifest, "--client", "partner-app", "-o", "json"))
	if again["registered"] != float64(0) || again["unchanged"] != float64(1) {
		t.Errorf("second push printed %v", again)
	}

	revoked := decode[map[string]any](t, e.must("apikey", "revoke", keyID, "-o", "json"))
	if revoked["revokedAt"] == nil {
		t.Errorf("apikey revoke printed %v", revoked)
	}
	if r := e.run("", "instance", "list", "--token", secret); r.code != 1 || !strings.Contains(r.stderr, "UNAUTHENTICATED") {
		t.Errorf("a revoked key: %+v", r)
	}
}
