package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// defaultURL is where cairnctl finds Cairn when neither --url, CAIRN_URL nor
// the stored credentials say otherwise: what `cairn serve` listens on.
const defaultURL = "http://127.0.0.1:8080"

// globals are the flags every command takes. Each has a CAIRN_* variable; a
// flag on the command line wins.
type globals struct {
	url     string // "" until set by flag or variable
	token   string
	timeout time.Duration
	output  string
	verbose bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.url, "url", g.url, "Cairn's `URL` (CAIRN_URL; default: the signed-in URL, else "+defaultURL+")")
	fs.StringVar(&g.token, "token", g.token, "bearer `token` or API key (CAIRN_TOKEN; default: the one signin stored)")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "longest wait for one answer (CAIRN_TIMEOUT)")
	fs.StringVar(&g.output, "o", g.output, "output `format`: table, json or yaml (CAIRN_OUTPUT)")
	fs.StringVar(&g.output, "output", g.output, "same as -o `format`")
	fs.BoolVar(&g.verbose, "v", g.verbose, "print each request and response on stderr, secrets redacted (CAIRN_VERBOSE)")
	fs.BoolVar(&g.verbose, "verbose", g.verbose, "same as -v")
}

// fromEnv sets the defaults of the global flags from the environment.
func (g *globals) fromEnv(getenv func(string) string) error {
	g.timeout, g.output = 30*time.Second, "table"
	g.url, g.token = getenv("CAIRN_URL"), getenv("CAIRN_TOKEN")
	if v := getenv("CAIRN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return usageError{fmt.Sprintf("CAIRN_TIMEOUT=%q is not a duration such as 30s or 2m", v)}
		}
		g.timeout = d
	}
	if v := getenv("CAIRN_OUTPUT"); v != "" {
		g.output = v
	}
	if v := getenv("CAIRN_VERBOSE"); v != "" {
		g.verbose = v == "1" || strings.EqualFold(v, "true")
	}
	return nil
}

func (g *globals) validate() error {
	switch {
	case g.output != "table" && g.output != "json" && g.output != "yaml":
		return usageError{fmt.Sprintf("-o must be table, json or yaml, not %q", g.output)}
	case g.timeout <= 0:
		return usageError{"--timeout must be positive"}
	}
	return nil
}

// usageError is a mistake in the command line; cairnctl exits with 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// app is one run of cairnctl: its streams, environment and global flags.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	g      globals

	configDir string
	creds     *credentials // stored credentials; nil when none
	pollEvery time.Duration
}

// run is cairnctl: it runs the command of args and returns the exit status,
// 0 on success, 1 when the command failed and 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, pollEvery: 500 * time.Millisecond}
	path, err := a.dispatch(args)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "cairnctl: %v\nRun '%s --help' for usage.\n", err, path)
		return 2
	default:
		fmt.Fprintf(stderr, "cairnctl: %v\n", err)
		return 1
	}
}

// dispatch finds the command of args and runs it. It returns the command's
// path (for the usage hint) and its error.
func (a *app) dispatch(args []string) (string, error) {
	if err := a.g.fromEnv(a.getenv); err != nil {
		return "cairnctl", err
	}
	cmd, path := root(), "cairnctl"
	fs := newFlagSet(path)
	a.g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(a.stdout, cmd, path)
		}
		return path, flagError(err)
	}
	rest := fs.Args()
	for cmd.setup == nil {
		if len(rest) == 0 {
			printHelp(a.stderr, cmd, path)
			return path, usagef("missing command")
		}
		if rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
			printHelp(a.stdout, cmd, path)
			return path, flag.ErrHelp
		}
		sub := cmd.find(rest[0])
		if sub == nil {
			return path, usagef("unknown command %q for %s", rest[0], path)
		}
		cmd, path, rest = sub, path+" "+sub.name, rest[1:]
	}
	fs = newFlagSet(path)
	a.g.register(fs)
	act := cmd.setup(fs)
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(a.stdout, cmd, path)
		}
		return path, flagError(err)
	}
	if err := a.g.validate(); err != nil {
		return path, err
	}
	if err := a.loadConfig(); err != nil {
		return path, err
	}
	return path, act(a, pos)
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err.Error()}
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments; everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, tail []string
	for i, arg := range args {
		if arg == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// loadConfig reads the stored credentials.
func (a *app) loadConfig() error {
	dir, err := configDir(a.getenv)
	if err != nil {
		return err
	}
	a.configDir = dir
	a.creds, err = loadCredentials(dir)
	if err != nil {
		return err
	}
	if v := a.getenv("CAIRN_POLL_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			a.pollEvery = d
		}
	}
	return nil
}

// baseURL is --url, else CAIRN_URL, else the URL signin stored, else the default.
func (a *app) baseURL() string {
	switch {
	case a.g.url != "":
		return a.g.url
	case a.creds != nil && a.creds.URL != "":
		return a.creds.URL
	}
	return defaultURL
}

// client returns a client of the API. With authenticated, it needs a token:
// --token, CAIRN_TOKEN, or the one signin stored for the same URL.
func (a *app) client(authenticated bool) (*client, error) {
	c := &client{url: endpoint(a.baseURL()), token: a.g.token, timeout: a.g.timeout, http: http.DefaultClient}
	if c.token == "" && a.creds != nil && endpoint(a.creds.URL) == c.url {
		c.token = a.creds.Token
	}
	if authenticated && c.token == "" {
		return nil, &apiError{Code: "UNAUTHENTICATED", Message: fmt.Sprintf("not signed in to %s: run 'cairnctl signin', or pass --token or CAIRN_TOKEN", a.baseURL())}
	}
	if a.g.verbose {
		c.verbose = a.stderr
	}
	return c, nil
}

// do runs one operation with the caller's token.
func (a *app) do(query string, vars map[string]any, out any) error {
	c, err := a.client(true)
	if err != nil {
		return err
	}
	return c.do(a.ctx, query, vars, out)
}
