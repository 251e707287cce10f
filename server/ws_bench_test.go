package server_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/internal/wsraw"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store/storetest"
)

// BenchmarkLiveFanout is issue #8's subscription target in process: N
// graphql-transport-ws subscribers of the real handler watch customer B's
// instance statuses; each round commits one status change and waits until
// every subscriber has it. It reports the last subscriber's delivery (mean
// and worst round, from before the commit) and what the server holds per
// subscriber: heap and stacks (runtime/metrics) and RSS. The clients are
// raw sockets that hold no goroutine while the memory is measured (each
// then costs a few hundred bytes of its own, counted in). The target is
// 10,000 subscribers, p99 < 250 ms and < 20 KiB each; a process may open
// only so many sockets (RLIMIT_NOFILE, both ends here), so the largest size
// is what fits.
//
//	go test ./server -run '^$' -bench LiveFanout -benchtime 20x
func BenchmarkLiveFanout(b *testing.B) {
	limit := openFileLimit()
	for _, n := range []int{1000, 10000} {
		if max := (limit - 1000) / 2; n > max {
			n = max
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, n int) {
	e := setupLiveWith(b, server.Live{Recheck: time.Hour})
	bob, err := e.store.Principal(context.Background(), e.demo.Bob)
	if err != nil {
		b.Fatal(err)
	}
	asBob := storetest.As(bob)
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	query := `subscription($t: ID!) { instanceStatusChanged(filter: {tenantId: $t}) { instanceId status } }`
	vars := map[string]any{"t": e.demo.CustomerB}

	runtime.GC()
	heap0, stacks0, rss0 := liveMemory()
	g0 := runtime.NumGoroutine()
	clients := make([]*rawClient, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, 1)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dialRaw(addr, e.tokens["bob"], query, vars)
			if err != nil {
				select {
				case errs <- fmt.Errorf("subscriber %d: %w", i, err):
				default:
				}
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	defer func() {
		for _, c := range clients {
			c.conn.Close()
		}
	}()
	// The server starts a subscription after reading its message: wait
	// until one event reaches them all, then measure.
	deadline := time.Now().Add(time.Minute)
	for e.subs.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d subscriptions started", e.subs.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	heap1, stacks1, rss1 := liveMemory()
	g1 := runtime.NumGoroutine()
	if path := os.Getenv("CAIRN_LIVE_HEAPPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}

	// Each step is one status change of one of customer B's instances.
	var steps int
	var op *cairn.Operation
	step := func() {
		id := e.demo.InstancesB[0]
		var err error
		switch steps % 4 {
		case 0:
			_, op, err = e.store.InstanceAction(asBob, cairn.ActionStop, cairn.InstanceActionInput{ID: id})
		case 2:
			_, op, err = e.store.InstanceAction(asBob, cairn.ActionStart, cairn.InstanceActionInput{ID: id})
		default:
			_, err = e.store.FinishTransition(context.Background(), op.ID, nil, "")
		}
		if err != nil {
			b.Fatal(err)
		}
		steps++
	}
	for _, c := range clients {
		go c.read()
	}
	step()
	await(b, clients, 1)

	if path := os.Getenv("CAIRN_LIVE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			defer f.Close()
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	var lasts []float64
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		step()
		last := await(b, clients, int64(i+2))
		lasts = append(lasts, float64(last.Sub(t0).Microseconds())/1000)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	slices.Sort(lasts)
	var sum float64
	for _, l := range lasts {
		sum += l
	}
	b.ReportMetric(sum/float64(len(lasts)), "last-ms-mean")
	b.ReportMetric(lasts[len(lasts)/2], "last-ms-p50")
	b.ReportMetric(lasts[len(lasts)-1], "last-ms-max")
	b.ReportMetric(0, "ns/op")
	// The process's CPU time (server and clients) per delivery: wall-clock
	// latency on a shared machine depends on what else runs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/delivery")
	b.ReportMetric(float64(heap1-heap0)/float64(n)/1024, "KiB-heap/sub")
	b.ReportMetric(float64(stacks1-stacks0)/float64(n)/1024, "KiB-stacks/sub")
	b.ReportMetric(float64(rss1-rss0)/float64(n)/1024, "KiB-RSS/sub")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/sub")
}

// await waits until every client has n deliveries and returns when the
// last one arrived.
func await(b *testing.B, clients []*rawClient, n int64) time.Time {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var last int64
		done := true
		for _, c := range clients {
			if c.got.Load() < n {
				done = false
				break
			}
			last = max(last, c.at.Load())
		}
		if done {
			return time.Unix(0, last)
		}
		if time.Now().After(deadline) {
			missing := 0
			for _, c := range clients {
				if c.got.Load() < n {
					missing++
				}
			}
			b.Fatalf("%d of %d subscribers lack delivery %d after 30 s", missing, len(clients), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// liveMemory returns the process's heap objects, its goroutine stacks and
// its RSS, in bytes.
func liveMemory() (heap, stacks, rss int64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	heap, stacks = int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.SplitSeq(string(st), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				rss = kb << 10
			}
		}
	}
	return heap, stacks, rss
}

// cpuTime returns the CPU time the process used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func openFileLimit() int {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 1024
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return int(l.Cur)
}

// rawClient is a graphql-transport-ws client on a bare socket: it holds no
// buffer and no goroutine until read.
type rawClient struct {
	conn *wsraw.Conn
	got  atomic.Int64 // next messages received
	at   atomic.Int64 // when the last arrived, UnixNano
}

// dialRaw connects, initialises with token and subscribes.
func dialRaw(addr, token, query string, vars map[string]any) (*rawClient, error) {
	conn, err := wsraw.Subscribe("ws://"+addr+"/graphql", map[string]any{"Authorization": "Bearer " + token}, "1", query, vars, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &rawClient{conn: conn}, nil
}

// read counts the next messages until the connection ends. It shares the
// CPU with the server, so it reads each frame into buffers it keeps.
func (c *rawClient) read() {
	for {
		msg, err := c.conn.Read(512)
		if err != nil {
			return
		}
		if bytes.Contains(msg, []byte(`"type":"next"`)) {
			c.at.Store(time.Now().UnixNano())
			c.got.Add(1)
		}
	}
}
