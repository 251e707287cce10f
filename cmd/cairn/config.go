package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Config is the configuration of every cairn command. Every flag has a
// CAIRN_* environment variable; a flag given on the command line wins.
type Config struct {
	Addr            string
	DatabaseURL     string
	DataDir         string
	Demo            bool
	Introspection   string // auto, true or false
	LogFormat       string
	LogLevel        slog.Level
	TokenTTL        time.Duration
	Issuer          string
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	OTLPEndpoint    string
	SecretKey       string // seals identity providers' client secrets (cmd/cairn/identity.go)
	DirectReads     bool   // direct execution of plain reads (store/direct.go)
	// Edge holds the limits, rate limits and CORS (cmd/cairn/edge.go).
	Edge edgeConfig
	// Lifecycle holds the workers, the simulated cloud and live updates
	// (cmd/cairn/lifecycle.go).
	Lifecycle lifecycleConfig
}

// errUsage marks errors in the command line; they exit with status 2.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
func (e usageError) Unwrap() error { return errUsage }

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `Cairn is a GraphQL gateway for SaaS control planes.

Usage:
  cairn serve   [flags]   serve the API (default: a private PostgreSQL in --data-dir)
  cairn migrate [flags]   apply database migrations and exit
  cairn seed    [flags]   load the demo data into an empty database and exit

Run 'cairn <command> --help' for the flags of a command.
`

// flags returns the flag set of a command, bound to c, with defaults taken
// from the environment.
func (c *Config) flags(cmd string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cairn "+cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL; empty starts a private PostgreSQL in --data-dir (CAIRN_DATABASE_URL)")
	fs.StringVar(&c.DataDir, "data-dir", "./.cairn", "folder of the private PostgreSQL (CAIRN_DATA_DIR)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json (CAIRN_LOG_FORMAT)")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error (CAIRN_LOG_LEVEL)")
	if cmd == "serve" {
		fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (CAIRN_ADDR)")
		fs.BoolVar(&c.Demo, "demo", true, "load the demo data into an empty database (CAIRN_DEMO)")
		fs.StringVar(&c.Introspection, "introspection", "auto", "allow schema introspection: true, false, or auto = only with the private PostgreSQL (CAIRN_INTROSPECTION)")
		fs.DurationVar(&c.TokenTTL, "token-ttl", 12*time.Hour, "lifetime of session tokens (CAIRN_TOKEN_TTL)")
		fs.StringVar(&c.Issuer, "issuer", "", "issuer of session tokens; default http://<addr> (CAIRN_ISSUER)")
		fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted (CAIRN_MAX_BODY_BYTES)")
		c.Edge.register(fs)
		c.Lifecycle.register(fs)
		fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may finish on shutdown (CAIRN_SHUTDOWN_TIMEOUT)")
		fs.StringVar(&c.SecretKey, "secret-key", "", "32-byte key (hex or base64) that encrypts identity providers' client secrets; empty generates one into --data-dir with the private PostgreSQL (CAIRN_SECRET_KEY)")
		fs.BoolVar(&c.DirectReads, "direct-reads", true, "answer plain queries (columns, nested connections, parents) with one statement per level written straight to JSON, bypassing gqlgen's per-field execution; false runs every field through the resolvers (CAIRN_DIRECT_READS)")
		fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", "", "send traces over OTLP/HTTP to host:port; empty turns traces off (CAIRN_OTLP_ENDPOINT)")
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: cairn %s [flags]\n\nFlags (each also read from its CAIRN_* variable):\n", cmd)
		fs.PrintDefaults()
		if cmd == "serve" {
			fmt.Fprint(out, "\nExample:\n  cairn serve --addr :8080 --database-url postgres://cairn@db/cairn\n")
		}
	}
	return fs
}

// envName returns the environment variable of a flag: data-dir → CAIRN_DATA_DIR.
func envName(flag string) string {
	return "CAIRN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// parse reads the environment, then the command line, into c. A bad value
// stops with a message naming the flag or variable.
func (c *Config) parse(cmd string, args []string, getenv func(string) string, out io.Writer) error {
	fs := c.flags(cmd, out)
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageError{fmt.Sprintf("invalid value %q for %s: %v", v, envName(f.Name), e)}
			}
		}
	})
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; see 'cairn %s --help'", fs.Arg(0), cmd)}
	}
	return c.validate()
}

func (c *Config) validate() error {
	if c.Addr != "" { // serve
		if err := c.Edge.validate(); err != nil {
			return err
		}
		if err := c.Lifecycle.validate(); err != nil {
			return err
		}
	}
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return usageError{fmt.Sprintf("--log-format must be text or json, not %q", c.LogFormat)}
	case c.Introspection != "" && c.Introspection != "auto" && c.Introspection != "true" && c.Introspection != "false":
		return usageError{fmt.Sprintf("--introspection must be auto, true or false, not %q", c.Introspection)}
	case c.TokenTTL < 0 || c.ShutdownTimeout < 0:
		return usageError{"--token-ttl and --shutdown-timeout must not be negative"}
	case c.MaxBodyBytes < 0:
		return usageError{"--max-body-bytes must not be negative"}
	case c.DatabaseURL == "" && c.DataDir == "":
		return usageError{"set --database-url, or --data-dir for a private PostgreSQL"}
	}
	return nil
}

func (c *Config) logger(out io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
