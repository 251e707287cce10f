package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine is what the results say about the machine.
type machine struct {
	CPU, Memory, Go, Postgres, Kernel string
	Cores                             int
}

func describeMachine() machine {
	m := machine{CPU: "unknown", Memory: "unknown", Cores: runtime.NumCPU(), Go: runtime.Version(), Kernel: runtime.GOOS}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(strings.TrimPrefix(string(out), "go version "))
	}
	return m
}

// row is one workload's measurements.
type row struct {
	workload *workload
	gateway  *loadResult
	ceiling  *ceiling
}

func (r row) summary() string {
	if r.workload.Err != "" {
		return "not measured: " + cell(r.workload.Err)
	}
	g, c := r.gateway, r.ceiling
	s := fmt.Sprintf("%.1f req/s, p50 %.1f ms, p99 %.1f ms, %d SQL/request; pgbench %.1f/s", g.RPS, g.P50, g.P99, g.SQLStatements, c.TPS)
	if g.Errors > 0 {
		s += fmt.Sprintf("; %d errors, first: %s", g.Errors, g.FirstError)
	}
	return s
}

// report is the whole result.
type report struct {
	Machine machine
	Dataset datasetSummary
	Rows    []row
	Live    []liveRow // workload 5
	Options options
	Took    time.Duration
	// LoadBefore is the 1-minute load average when the run began.
	LoadBefore string
	analysis   string // hand-written profile findings
	profile    string // pprof -top output
}

func (r *report) readExtras() {
	if b, err := os.ReadFile(r.Options.Analysis); err == nil {
		r.analysis = string(b)
	}
	if r.Options.Profile != "" {
		if b, err := os.ReadFile(r.Options.Profile); err == nil {
			r.profile = string(b)
		}
	}
}

func (r *report) table() string {
	var sb strings.Builder
	fmt.Fprintln(&sb, "| workload | conns | requests/s | p50 ms | p99 ms | errors | SQL/request (server · on the wire) | response | pgbench, same SQL (/s) | pgbench mode | gateway ÷ pgbench |")
	fmt.Fprintln(&sb, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|")
	for _, x := range r.Rows {
		g, c, w := x.gateway, x.ceiling, x.workload
		if w.Err != "" {
			fmt.Fprintf(&sb, "| %s | %d | not measured: %s | | | | | | | | |\n", w.Name, w.Connections, cell(w.Err))
			continue
		}
		ratio := "–"
		if c.TPS > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*g.RPS/c.TPS)
		}
		fails := ""
		if c.Failures != "" {
			fails = " (" + c.Failures + " failed)"
		}
		fmt.Fprintf(&sb, "| %s | %d | %.1f | %.2f | %.2f | %d | %d · %d | %s | %.1f%s | %s | %s |\n",
			w.Name, w.Connections, g.RPS, g.P50, g.P99, g.Errors, g.SQLStatements, w.Captured, size(g.ResponseBytes), c.TPS, fails, c.Mode, ratio)
	}
	return sb.String()
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func (r *report) find(slug string) *row {
	for i := range r.Rows {
		if r.Rows[i].workload.Slug == slug && r.Rows[i].workload.Err == "" {
			return &r.Rows[i]
		}
	}
	return nil
}

// targets is the table of the targets and whether they are met.
func (r *report) targets() string {
	var sb strings.Builder
	fmt.Fprintln(&sb, "| target | measured | met? |")
	fmt.Fprintln(&sb, "|---|---|---|")
	verdict := func(ok bool, miss string) string {
		if errs := r.errors(); errs > 0 {
			return fmt.Sprintf("**unknown**: %d requests failed (see the results)", errs)
		}
		if ok {
			return "yes"
		}
		return "**no**: " + miss
	}
	ds := r.Dataset
	st := ds.DeepStatements
	same := len(st) == 3 && st[0] == st[1] && st[1] == st[2]
	fmt.Fprintf(&sb, "| deep read: statements constant when the data grows tenfold | %d statements for %d instances, %d for %d (tenfold), %d with customer B's 100,000 more | %s |\n",
		st[0], ds.DeepInstances[0], st[1], ds.DeepInstances[1], st[2], verdict(same, "the count grows with the data"))
	if d := r.find("deep-c10"); d != nil {
		g := d.gateway
		fmt.Fprintf(&sb, "| deep read at 10 connections: ≥ 30 requests/s | %.1f requests/s | %s |\n", g.RPS,
			verdict(g.RPS >= 30, fmt.Sprintf("%.1f short (%.0f%% of the target)", 30-g.RPS, 100*g.RPS/30)))
		fmt.Fprintf(&sb, "| deep read at 10 connections: p99 < 1 s | p99 %.0f ms | %s |\n", g.P99,
			verdict(g.P99 < 1000, fmt.Sprintf("%.0f ms over", g.P99-1000)))
	}
	if s := r.find("small-c10"); s != nil {
		g := s.gateway
		fmt.Fprintf(&sb, "| small read: ≥ 5,000 requests/s | %.0f requests/s at 10 connections | %s |\n", g.RPS,
			verdict(g.RPS >= 5000, fmt.Sprintf("%.0f short (%.0f%% of the target)", 5000-g.RPS, 100*g.RPS/5000)))
	}
	if f, d := r.find("page-first"), r.find("page-deep"); f != nil && d != nil {
		ratio := d.gateway.RPS / f.gateway.RPS
		fmt.Fprintf(&sb, "| deep pages cost the same as first pages (within 20%%) | deep page %.0f requests/s (p50 %.2f ms), first page %.0f requests/s (p50 %.2f ms): %.0f%% | %s |\n",
			d.gateway.RPS, d.gateway.P50, f.gateway.RPS, f.gateway.P50, 100*ratio,
			verdict(ratio >= 0.8 && ratio <= 1.2, fmt.Sprintf("%.0f%% apart", 100*abs(1-ratio))))
	}
	sb.WriteString(liveTarget(r.Live))
	return sb.String()
}

// errors returns the failed requests of every measured workload.
func (r *report) errors() int64 {
	var n int64
	for _, x := range r.Rows {
		if x.gateway != nil {
			n += x.gateway.Errors
		}
	}
	return n
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func (r *report) markdown() string {
	var sb strings.Builder
	m, ds := r.Machine, r.Dataset
	fmt.Fprintf(&sb, "# Benchmark results\n\nWritten by `make bench` (bench/harness) on %s; the run took %s. Each workload ran %s (the deep read at 10 connections 30 s) after a %s warm-up, counting the requests that completed in that time; then its SQL ran for as long under pgbench.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second), r.Options.Duration, r.Options.Warmup)
	fmt.Fprintf(&sb, "## Machine\n\n| | |\n|---|---|\n| CPU | %s |\n| cores | %d |\n| memory | %s |\n| OS | %s |\n| Go | %s |\n| PostgreSQL | %s (durable defaults: fsync and synchronous_commit on) |\n\n",
		m.CPU, m.Cores, m.Memory, m.Kernel, m.Go, m.Postgres)
	fmt.Fprintf(&sb, "PostgreSQL, `cairn serve`, the load generator (`cairnbench`) and pgbench all share these cores, as the issue asks. Load average (1 min) when the run began: %s; when it ended: %s. Above the core count, other work competed for the CPU and every figure here is lower than the machine gives a benchmark alone.\n\n", r.LoadBefore, loadAverage())
	fmt.Fprintf(&sb, "## Data\n\n%d instances in all. The provider (Acme Cloud, signed in as its owner) has the demo's MySQL service and generated ones: 50 services × 3 environments × 2 models × 3 tiers × 3 resources × 10 instances for customer A (the deep read's 27,000), and 4 × 1 × 1 × 5 × 5 × 1,000 = %d instances for customer B, of which %d are RUNNING (every other one is STOPPED). Statistics are up to date (`VACUUM ANALYZE` after loading).\n\n",
		ds.Instances, ds.TenantBInstances, ds.TenantBRunning)
	sb.WriteString("## Workloads\n\n" +
		"1. **deep read**, as the provider's owner: `services(first: 50)` → environments → models → tiers → resources → `instances(first: 10)`, `id status` at the leaves.\n" +
		"2. **small read**, as customer A's admin: `instance(id:) { id status resource { name tier { name } } }`.\n" +
		"3. **page of 100** RUNNING instances, as customer B's admin (100,000 instances in the tenant): the first page, and the page after a cursor " +
		fmt.Sprintf("%d rows into the list.\n", r.deepCursorPosition()) +
		"4. **createInstance** as customer A's admin, with `cairn serve`'s lifecycle workers running (its defaults); the rate is of accepted creates, each with its job enqueued.\n" +
		"5. **live status**: customer B's admin holds N graphql-transport-ws subscriptions to `instanceStatusChanged(filter: {tenantId: B})` on the first `cairn serve`; a second `cairn serve` over the same database commits `stopInstance` of one of B's RUNNING instances per round (10 rounds after one warm-up round, whose last delivery is shown apart and not counted, as every other workload's warm-up: it meets each subscription's first delivery and the collection of what subscribing allocated; the change to STOPPING commits in the mutation's transaction, so the job queue, still busy with workload 4's instances of A, does not enter the figure). *Last delivery* is the time from sending that mutation (its response time is given: the commit happens before it) to the moment the last of the N subscribers has the change; *memory per subscriber* is the first server's RSS growth while subscribing, over N.\n\n" +
		"*SQL/request* gives the count the server reports in `extensions.sqlStatements`, then the statements that reached PostgreSQL when the harness ran the request once in process (with the principal cache warm, as in `cairn serve`; a mutation adds BEGIN and COMMIT). Those captured statements, with their values, are the pgbench script: *pgbench* is the rate at which PostgreSQL alone runs one request's worth of SQL at the same number of connections, the ceiling a gateway can approach. pgbench sends them as the server does, with JIT compilation off (`PGOPTIONS=-c jit=off`, the server's session setting). bun writes the values into each statement, so the server's driver sends it as one simple query rather than preparing a text that never repeats: `-M simple`. The statements the store prepares once per connection instead (the small read's instance with its resource and tier, whose ID and readable tenants are PostgreSQL parameters; a page of a list) make their workload's script run `-M prepared`, each parameter a pgbench variable given the captured value with `-D` (*pgbench mode*); pgbench then prepares the script's other statements too.\n\n")
	sb.WriteString("## Results\n\n" + r.table() + "\n")
	sb.WriteString("### 5 live status\n\n" + liveTable(r.Live) + "\n")
	sb.WriteString("## Targets\n\n" + r.targets() + "\n")
	if r.profile != "" {
		sb.WriteString("## CPU profile of the deep read\n\n`go test ./bench -run '^$' -bench DeepRead -cpuprofile` (the real handler in process, over the same data shape); `go tool pprof -top`:\n\n```\n" + r.profile + "```\n\n")
	}
	if r.analysis != "" {
		sb.WriteString(r.analysis)
		if !strings.HasSuffix(r.analysis, "\n") {
			sb.WriteString("\n")
		}
	}
	sb.WriteString("\nRun it yourself: `make bench` (see the README).\n")
	return sb.String()
}

func (r *report) deepCursorPosition() int { return r.Dataset.DeepCursorPosition }

// cell makes text fit a table cell: one line, no pipes, at most 200 bytes.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
