// Command harness is `make bench`: it generates a dataset into its own
// PostgreSQL (store/pglaunch), starts `cairn serve` on loopback as a separate
// process, drives it with cairnbench, runs the same SQL straight against
// PostgreSQL with pgbench as the ceiling, prints a table and writes
// bench/RESULTS.md with the machine it ran on.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/cairn-dev/cairn/store/pglaunch"
)

// options are the harness's flags.
type options struct {
	Cairn, Load string // paths of the cairn and cairnbench binaries
	Out         string // the results file
	Analysis    string // hand-written profile findings quoted in the results, if the file exists
	Profile     string // a CPU profile (go tool pprof -top) quoted in the results, if the file exists
	Duration    time.Duration
	Warmup      time.Duration
	Keep        bool // keep the work folder (pgbench scripts, server log)
	// Only, when set, runs just the workloads whose slug it matches ("live"
	// for workload 5) and prints their rows without writing Out.
	Only *regexp.Regexp
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var o options
	flag.StringVar(&o.Cairn, "cairn", "bin/cairn", "the cairn binary")
	flag.StringVar(&o.Load, "load", "bin/cairnbench", "the cairnbench binary")
	flag.StringVar(&o.Out, "out", "bench/RESULTS.md", "where to write the results")
	flag.StringVar(&o.Analysis, "analysis", "bench/analysis.md", "profile findings to quote in the results (skipped when missing)")
	flag.StringVar(&o.Profile, "profile", "", "pprof -top output to quote in the results (skipped when empty or missing)")
	flag.DurationVar(&o.Duration, "d", 10*time.Second, "how long each workload is measured")
	flag.DurationVar(&o.Warmup, "warmup", 2*time.Second, "warm-up before each measurement")
	flag.BoolVar(&o.Keep, "keep", false, "keep the work folder (pgbench scripts, server log)")
	flag.Func("only", "run only the workloads whose slug matches this regexp (deep-c1, small-c10, page-first, create-c10, live, ...), print their rows and write no results file", func(v string) (err error) {
		o.Only, err = regexp.Compile(v)
		return err
	})
	flag.Parse()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, p := range []*string{&o.Cairn, &o.Load} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%w (build it first: go build -o bin/ ./cmd/cairn ./cmd/cairnbench)", err)
		}
		*p = abs
	}
	work, err := os.MkdirTemp("", "cairn-bench-")
	if err != nil {
		return err
	}
	if err := os.Chmod(work, 0o755); err != nil { // the postgres user must get through
		return err
	}
	if o.Keep {
		fmt.Fprintln(out, "work folder:", work)
	} else {
		defer os.RemoveAll(work)
	}
	loadBefore := loadAverage()
	machine := describeMachine()
	fmt.Fprintf(out, "machine: %s, %d cores, %s memory, %s\n", machine.CPU, machine.Cores, machine.Memory, machine.Go)

	step := stepper(out)
	step("starting PostgreSQL")
	pg, err := pglaunch.Start(ctx, pglaunch.Config{DataDir: filepath.Join(work, "pg"), Logger: log})
	if err != nil {
		return err
	}
	defer pg.Stop()
	if err := pg.CreateDatabase(ctx, "bench", ""); err != nil {
		return err
	}
	url := pg.URL("bench")
	ds, err := buildDataset(ctx, url, step)
	if err != nil {
		return err
	}
	defer ds.close()
	machine.Postgres = ds.postgresVersion

	step("capturing the SQL of each workload for pgbench")
	loads := workloads(ds)
	for _, w := range loads {
		if err := ds.capture(ctx, w, work); err != nil {
			w.Err = fmt.Sprintf("the request failed: %v", err)
			fmt.Fprintf(out, "  %s: %s\n", w.Name, w.Err)
		}
	}

	raiseFileLimit() // inherited by cairn serve and cairnbench
	step("starting cairn serve")
	srv, err := startCairn(ctx, o.Cairn, url, work)
	if err != nil {
		return err
	}
	defer srv.stop()
	tokens, err := srv.signIn(ctx)
	if err != nil {
		return err
	}

	var rows []row
	for _, w := range loads {
		if !o.runs(w.Slug) {
			continue
		}
		step(fmt.Sprintf("%s at %d connection(s)", w.Name, w.Connections))
		r := row{workload: w}
		if w.Err == "" {
			if r.gateway, err = drive(ctx, o, srv.url, tokens[w.Who], w); err != nil {
				w.Err = err.Error()
			}
		}
		if w.Err == "" {
			if r.ceiling, err = pgbench(ctx, url, w, o.Duration); err != nil {
				w.Err = "pgbench: " + err.Error()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rows = append(rows, r)
		fmt.Fprintln(out, "  "+r.summary())
	}
	var live []liveRow
	if o.runs("live") {
		live = runLive(ctx, o, work, url, srv, ds, tokens["bob"], step)
	}
	rep := report{Machine: machine, Dataset: ds.summary, Rows: rows, Live: live, Options: o, Took: time.Since(ds.began), LoadBefore: loadBefore}
	if o.Only != nil {
		fmt.Fprintln(out)
		fmt.Fprint(out, rep.table())
		if live != nil {
			fmt.Fprint(out, "\n"+liveTable(live))
		}
		return nil
	}
	rep.readExtras()
	fmt.Fprintln(out)
	fmt.Fprint(out, rep.table())
	fmt.Fprintln(out)
	fmt.Fprint(out, rep.targets())
	if err := os.WriteFile(o.Out, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nwrote", o.Out)
	return nil
}

// runs reports whether the workload of slug is to run.
func (o options) runs(slug string) bool { return o.Only == nil || o.Only.MatchString(slug) }

// stepper returns a function that prints each step with the time since the
// previous one.
func stepper(out io.Writer) func(string) {
	last := time.Now()
	return func(what string) {
		fmt.Fprintf(out, "[+%5.1fs] %s\n", time.Since(last).Seconds(), what)
		last = time.Now()
	}
}
