package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/cairn-dev/cairn/internal/benchwire"
)

// liveRow is workload 5 at one number of subscribers, as cairnbench
// -subscribers reports it (see cmd/cairnbench/live.go).
type liveRow struct {
	benchwire.Live
	Err string `json:"-"`
}

// liveSizes are the numbers of subscribers workload 5 runs with.
var liveSizes = []int{1000, 10000}

// raiseFileLimit lifts the soft limit on open files to the hard one before
// the harness starts its children, which inherit it: 10,000 subscribers are
// 10,000 sockets in cairnbench and as many in cairn serve.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// runLive is workload 5: a second `cairn serve` over the same database
// commits the status changes (stopInstance of 10 of customer B's RUNNING
// instances in turn, as B's admin) that the subscribers of the first replica,
// watching customer B, receive through PostgreSQL's notifications.
func runLive(ctx context.Context, o options, work, dbURL string, srv *cairnServer, ds *dataset, token string, step func(string)) []liveRow {
	step("starting a second cairn serve (the replica that commits)")
	dir := filepath.Join(work, "replica2")
	var rows []liveRow
	fail := func(err error) []liveRow {
		for _, n := range liveSizes {
			rows = append(rows, liveRow{Live: benchwire.Live{Subscribers: n}, Err: err.Error()})
		}
		return rows
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	srv2, err := startCairn(ctx, o.Cairn, dbURL, dir)
	if err != nil {
		return fail(err)
	}
	defer srv2.stop()
	tokens2, err := srv2.signIn(ctx) // each replica signs its own tokens here
	if err != nil {
		return fail(err)
	}
	// Customer B's: workload 4 created instances of customer A, whose jobs
	// may still be changing their statuses; B's subscribers see none of it.
	// Each round stops another RUNNING instance (the job queue may be busy
	// with workload 4's: the change to STOPPING commits in the mutation).
	var instances []string
	if err := ds.store.DB().NewRaw(`SELECT id FROM resource_instances WHERE tenant_id = ? AND status = 'RUNNING'
		ORDER BY created_at DESC, id DESC LIMIT 22`, ds.demo.CustomerB).Scan(ctx, &instances); err != nil || len(instances) < 22 {
		return fail(fmt.Errorf("pick 22 RUNNING instances: %v", err))
	}
	for i, n := range liveSizes {
		step(fmt.Sprintf("5 live status, %d subscribers", n))
		r := liveRow{Live: benchwire.Live{Subscribers: n}}
		cmd := exec.CommandContext(ctx, o.Load, "-url", srv.url, "-trigger-url", srv2.url, "-token", token, "-trigger-token", tokens2["bob"],
			"-subscribers", strconv.Itoa(n), "-instances", strings.Join(instances[11*i:11*i+11], ","), "-tenant", ds.demo.CustomerB, "-pid", strconv.Itoa(srv.cmd.Process.Pid))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			err = json.Unmarshal(out, &r)
		}
		if err != nil {
			r.Err = strings.TrimSpace(fmt.Sprintf("%v %s", err, stderr.String()))
		}
		fmt.Printf("  %d subscribers: last delivery p50 %.1f ms p99 %.1f ms (rounds: %s), %.1f KiB each %s\n", n, r.LastP50, r.LastP99, roundsList(r.Lasts), r.BytesPerSub/1024, r.Err)
		rows = append(rows, r)
	}
	return rows
}

// liveTable renders workload 5's rows.
func liveTable(rows []liveRow) string {
	var sb strings.Builder
	sb.WriteString("| subscribers | rounds | last delivery p50 ms | last delivery p99 ms | any delivery p50 ms | any delivery p99 ms | missed | mutation ms | memory per subscriber | subscribing took | warm-up round's last delivery (not counted) ms |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(&sb, "| %d | not measured: %s | | | | | | | | |\n", r.Subscribers, cell(r.Err))
			continue
		}
		fmt.Fprintf(&sb, "| %d | %d | %.1f | %.1f | %.1f | %.1f | %d | %.1f | %.1f KiB | %.1f s | %.1f |\n", r.Subscribers, r.Rounds,
			r.LastP50, r.LastP99, r.DeliveryP50, r.DeliveryP99, r.Missed, r.MutationMS, r.BytesPerSub/1024, r.SubscribeSecs, r.WarmupMS)
	}
	sb.WriteString("\nThe last delivery of each round, in order (ms):\n\n")
	for _, r := range rows {
		if r.Err == "" {
			fmt.Fprintf(&sb, "- %d subscribers: %s\n", r.Subscribers, roundsList(r.Lasts))
		}
	}
	return sb.String()
}

// roundsList renders ms values as "12.3, 45.6".
func roundsList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(s, ", ")
}

// liveTarget is the targets table's line for workload 5.
func liveTarget(rows []liveRow) string {
	for _, r := range rows {
		if r.Subscribers != 10000 {
			continue
		}
		if r.Err != "" {
			return "| 10,000 subscribers on one replica, delivery p99 < 250 ms, < 20 KiB each | not measured | **gap**: " + cell(r.Err) + " |\n"
		}
		ok := r.LastP99 < 250 && r.BytesPerSub < 20*1024 && r.Missed == 0
		verdict := func(ok bool, miss string) string {
			if ok {
				return "yes"
			}
			return "**no**: " + miss
		}
		return fmt.Sprintf("| 10,000 subscribers on one replica, delivery p99 < 250 ms, < 20 KiB each | last delivery p99 %.0f ms (every delivery p99 %.0f ms), %.1f KiB per subscriber, %d missed | %s |\n",
			r.LastP99, r.DeliveryP99, r.BytesPerSub/1024, r.Missed,
			verdict(ok, liveMiss(r)))
	}
	return "| 10,000 subscribers on one replica, delivery p99 < 250 ms, < 20 KiB each | not measured | **gap** |\n"
}

// liveMiss says which parts of the live target r misses, and by how much.
func liveMiss(r liveRow) string {
	var miss []string
	if r.LastP99 >= 250 {
		miss = append(miss, fmt.Sprintf("delivery p99 %.0f ms over", r.LastP99-250))
	} else {
		miss = append(miss, "delivery met")
	}
	if r.BytesPerSub >= 20*1024 {
		miss = append(miss, fmt.Sprintf("memory %.1f KiB over", r.BytesPerSub/1024-20))
	} else {
		miss = append(miss, "memory met")
	}
	if r.Missed > 0 {
		miss = append(miss, fmt.Sprintf("%d deliveries missed", r.Missed))
	}
	return strings.Join(miss, "; ")
}
