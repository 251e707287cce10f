// Command cairnbench drives a Cairn server with one GraphQL operation over
// HTTP keep-alive connections and reports requests/s and the latency
// histogram (p50, p99), with the SQL statements each request cost as the
// server reports them in extensions.sqlStatements. `make bench` runs it from
// bench/harness; it works against any Cairn server:
//
//	cairnbench -url http://127.0.0.1:8080/graphql -token "$TOKEN" -c 10 -d 10s \
//	  -query '{ instances(first: 100) { nodes { id status } } }'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cairnbench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("cairnbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint")
	fs.StringVar(&cfg.Token, "token", "", "session token sent as Authorization: Bearer")
	query := fs.String("query", "", "the GraphQL operation; @file reads it from a file")
	vars := fs.String("vars", "", "variables as a JSON object")
	fs.IntVar(&cfg.Connections, "c", 1, "concurrent connections, each sending one request at a time")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "how long to measure")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "how long to send requests before measuring")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	var lc liveConfig
	fs.IntVar(&lc.Subscribers, "subscribers", 0, "workload 5: this many graphql-transport-ws subscribers instead of -query")
	fs.StringVar(&lc.TriggerURL, "trigger-url", "", "workload 5: the replica that commits the status changes (default -url)")
	fs.StringVar(&lc.TriggerToken, "trigger-token", "", "workload 5: the session token for -trigger-url (default -token)")
	instances := fs.String("instances", "", "workload 5: RUNNING instances, comma-separated; each round stops the next")
	fs.StringVar(&lc.Tenant, "tenant", "", "workload 5: the tenant the subscribers watch")
	fs.IntVar(&lc.PID, "pid", 0, "workload 5: the process ID of the subscribers' server, for its memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if lc.Subscribers > 0 {
		lc.Instances = strings.Split(*instances, ",")
		lc.URL, lc.Token = cfg.URL, cfg.Token
		if lc.TriggerURL == "" {
			lc.TriggerURL = cfg.URL
		}
		if lc.TriggerToken == "" {
			lc.TriggerToken = cfg.Token
		}
		res, err := live(ctx, lc)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(res)
	}
	if *query == "" || cfg.Connections < 1 || cfg.Duration <= 0 {
		fs.Usage()
		return fmt.Errorf("%w: -query is required, -c must be at least 1 and -d positive", flag.ErrHelp)
	}
	q := *query
	if name, ok := strings.CutPrefix(q, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		q = string(b)
	}
	body := map[string]any{"query": q}
	if *vars != "" {
		var v map[string]any
		if err := json.Unmarshal([]byte(*vars), &v); err != nil {
			return fmt.Errorf("-vars is not a JSON object: %w", err)
		}
		body["variables"] = v
	}
	var err error
	if cfg.Body, err = json.Marshal(body); err != nil {
		return err
	}
	res, err := load(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%d connections, %s: %d requests (%d errors), %.1f requests/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d SQL statements/request, %d bytes/response\n",
		res.Connections, cfg.Duration, res.Requests, res.Errors, res.RPS, res.P50, res.P99, res.Max, res.SQLStatements, res.ResponseBytes)
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "first error: %s\n", res.FirstError)
	}
	return nil
}
