package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/pglaunch"

	"github.com/cairn-dev/cairn/internal/benchwire"
)

// cairnServer is a `cairn serve` process.
type cairnServer struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	url    string        // of /graphql
	log    string        // path of its output
}

// startCairn runs cairn serve on a free loopback port over the database at
// dbURL, without demo data (the harness loaded it), and waits till it is ready.
func startCairn(ctx context.Context, bin, dbURL, dir string) (*cairnServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(dir, "cairn.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--database-url", dbURL, "--demo=false", "--log-level", "warn", "--introspection", "false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The deep read costs about 93,000 by the edge's cost model (every
	// field 1, a connection's selection once per item of its first): more
	// than the default limit meant for the open internet. The per-user rate
	// limit (20/s by default) would measure the limiter, not the gateway.
	cmd.Env = append(os.Environ(), "CAIRN_MAX_COST=1000000", "CAIRN_USER_RATE=0")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &cairnServer{cmd: cmd, exited: exited, url: "http://" + addr + "/graphql", log: logPath}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("cairn serve exited: %s", tail(logPath))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("cairn serve not ready after 30 s: %s", tail(logPath))
		}
	}
}

// stop sends SIGTERM and, after the server's grace, SIGKILL.
func (s *cairnServer) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// signIn signs the demo users in through the API and returns their tokens.
func (s *cairnServer) signIn(ctx context.Context) (map[string]string, error) {
	tokens := map[string]string{}
	for who, email := range map[string]string{"owner": store.DemoOwner, "alice": store.DemoAlice, "bob": store.DemoBob} {
		body, _ := json.Marshal(map[string]any{
			"query":     `mutation SignIn($email: String!, $password: String!) { signIn(input: {email: $email, password: $password}) { token } }`,
			"variables": map[string]any{"email": email, "password": store.DemoPassword},
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var out struct {
			Data struct{ SignIn struct{ Token string } }
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || out.Data.SignIn.Token == "" {
			return nil, fmt.Errorf("sign in as %s failed (status %d, %v)", email, res.StatusCode, err)
		}
		tokens[who] = out.Data.SignIn.Token
	}
	return tokens, nil
}

// loadResult is cairnbench's JSON output.
type loadResult = benchwire.Load

// drive runs cairnbench, a separate process, against the server.
func drive(ctx context.Context, o options, url, token string, w *workload) (*loadResult, error) {
	args := []string{"-json", "-url", url, "-token", token, "-query", w.Query,
		"-c", strconv.Itoa(w.Connections), "-d", max(o.Duration, w.MinDuration).String(), "-warmup", o.Warmup.String()}
	if len(w.Vars) > 0 {
		v, _ := json.Marshal(w.Vars)
		args = append(args, "-vars", string(v))
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, o.Load, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cairnbench: %w: %s", err, stderr.String())
	}
	var r loadResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("cairnbench printed %q: %w", stdout.String(), err)
	}
	if r.Errors > 0 && r.Requests == 0 {
		return nil, fmt.Errorf("every request failed: %s", r.FirstError)
	}
	return &r, nil
}

// ceiling is what pgbench measured running a workload's SQL.
type ceiling struct {
	TPS      float64 // scripts (requests) per second
	Latency  float64 // average ms
	Mode     string  // pgbench's query mode: simple, or prepared when the server prepares a statement
	Failures string
}

var (
	tpsLine     = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latencyLine = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	failedLine  = regexp.MustCompile(`number of failed transactions: ([0-9]+)`)
)

// pgbench runs a workload's captured SQL straight against PostgreSQL at the
// same number of connections, the way the server sends it, with JIT
// compilation off as the server's store has it (store.Open), so with
// PGOPTIONS=-c jit=off. bun writes the arguments into the text and the
// store sends each such statement as one simple-protocol query: pgbench
// runs -M simple. The statements the store runs itself (store.queryPrepared,
// some with parameters $1…) it prepares once per connection: a workload
// that has one runs -M prepared, its parameters' values given with -D (the
// other statements of the script are then prepared too, where the server
// sends them as simple queries).
func pgbench(ctx context.Context, dbURL string, w *workload, d time.Duration) (*ceiling, error) {
	bin, err := findPgbench()
	if err != nil {
		return nil, err
	}
	c := &ceiling{Mode: pgbenchMode(w.Prepared)}
	secs := max(1, int(max(d, w.MinDuration).Round(time.Second)/time.Second))
	args := []string{"-n", "-M", c.Mode,
		"-c", strconv.Itoa(w.Connections), "-j", strconv.Itoa(min(w.Connections, 2)),
		"-T", strconv.Itoa(secs), "-f", w.Script}
	for _, def := range w.Defines {
		args = append(args, "-D", def)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, dbURL)...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c jit=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no tps in pgbench's output: %s", out)
	}
	c.TPS, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := latencyLine.FindSubmatch(out); m != nil {
		c.Latency, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := failedLine.FindSubmatch(out); m != nil && string(m[1]) != "0" {
		c.Failures = strings.TrimSpace(string(m[1]))
	}
	return c, nil
}

// pgbenchMode is pgbench's -M for a script, prepared or not.
func pgbenchMode(prepared bool) string {
	if prepared {
		return "prepared"
	}
	return "simple"
}

// findPgbench returns the pgbench next to the PostgreSQL binaries the
// launcher uses, else the newest under /usr/lib/postgresql, else on PATH.
func findPgbench() (string, error) {
	if dir, err := pglaunch.FindBinaries(); err == nil {
		if p := filepath.Join(dir, "pgbench"); isFile(p) {
			return p, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	slices.SortFunc(found, func(a, b string) int { return cmp.Compare(version(b), version(a)) })
	if len(found) > 0 {
		return found[0], nil
	}
	return exec.LookPath("pgbench")
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// version returns the major version in /usr/lib/postgresql/<version>/bin/pgbench.
func version(p string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return n
}
