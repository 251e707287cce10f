package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-dev/cairn/internal/benchwire"
	"github.com/cairn-dev/cairn/internal/wsraw"
)

// liveConfig is workload 5: subscribers on one replica, status changes
// committed through another.
type liveConfig struct {
	URL        string // the subscribers' replica
	TriggerURL string // the replica that commits the changes
	Token      string
	// TriggerToken signs the trigger's requests in (replicas with their own
	// signing keys do not accept each other's tokens); empty means Token.
	TriggerToken string
	Subscribers  int
	Instances    []string // RUNNING instances, one stopped per round
	Tenant       string   // the tenant the subscribers watch
	PID          int      // the subscribers' server, for its RSS; 0 skips it
}

// liveResult is what workload 5 measured.
type liveResult = benchwire.Live

// raiseFileLimit lifts the soft limit on open files to the hard one: each
// subscriber is a socket.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// rss returns the resident set of pid, in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// subscriber is one graphql-transport-ws connection watching the tenant; it
// records when each status of the instance first reached it in this round.
// It is a bare socket (internal/wsraw): this process shares the CPU with
// the server it measures, and a websocket library's per-message work (a
// reader, locks, a goroutine per connection) would be its share.
type subscriber struct {
	conn *wsraw.Conn
	mu   sync.Mutex
	seen map[string]time.Time
}

const liveQuery = `subscription($tenant: ID!) { instanceStatusChanged(filter: {tenantId: $tenant}) { instanceId status } }`

func subscribe(cfg liveConfig) (*subscriber, error) {
	conn, err := wsraw.Subscribe(cfg.URL, map[string]any{"Authorization": "Bearer " + cfg.Token}, "1", liveQuery, map[string]any{"tenant": cfg.Tenant}, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &subscriber{conn: conn, seen: map[string]time.Time{}}, nil
}

// read records the deliveries of s until its connection ends. It finds the
// change without decoding the JSON (falling back to decoding it when the
// fast path does not recognise it); the time recorded is when the whole
// message had been read.
func (s *subscriber) read() {
	var key []byte
	for {
		msg, err := s.conn.Read(512)
		if err != nil {
			return
		}
		now := time.Now()
		instance, status, typ, ok := parseNext(msg)
		switch {
		case !ok:
			continue
		case typ == "ping":
			if s.conn.WriteText([]byte(`{"type":"pong"}`)) != nil {
				return
			}
			continue
		case typ != "next" || instance == nil || status == nil:
			continue
		}
		key = append(append(append(key[:0], instance...), ' '), status...)
		s.mu.Lock()
		if _, seen := s.seen[string(key)]; !seen {
			s.seen[string(key)] = now
		}
		s.mu.Unlock()
	}
}

// nextPrefix and changePrefix are how Cairn writes a next message and the
// change it carries; parseNext decodes anything else.
const (
	nextPrefix   = `{"id":"1","type":"next","payload":{"data":{"instanceStatusChanged":{"instanceId":"`
	changeStatus = `","status":"`
)

// parseNext returns the type of a graphql-transport-ws message and, for a
// next message, the instance and status of its change (nil when the payload
// has none). ok is false when msg is not a message.
func parseNext(msg []byte) (instance, status []byte, typ string, ok bool) {
	if rest, found := bytes.CutPrefix(msg, []byte(nextPrefix)); found {
		if i := bytes.IndexByte(rest, '"'); i > 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			if after, found := bytes.CutPrefix(rest[i:], []byte(changeStatus)); found {
				if j := bytes.IndexByte(after, '"'); j > 0 && bytes.IndexByte(after[:j], '\\') < 0 && bytes.HasPrefix(after[j:], []byte(`"}}`)) {
					return rest[:i], after[:j], "next", true
				}
			}
		}
	}
	var m struct {
		Type    string `json:"type"`
		Payload struct {
			Data struct {
				Change *struct {
					InstanceID string `json:"instanceId"`
					Status     string `json:"status"`
				} `json:"instanceStatusChanged"`
			} `json:"data"`
		} `json:"payload"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return nil, nil, "", false
	}
	if c := m.Payload.Data.Change; c != nil && c.InstanceID != "" && c.Status != "" {
		return []byte(c.InstanceID), []byte(c.Status), m.Type, true
	}
	return nil, nil, m.Type, true
}

// post sends one GraphQL request and decodes its data.
func post(ctx context.Context, url, token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("%s", r.Errors[0].Message)
	}
	return json.Unmarshal(r.Data, out)
}

func live(ctx context.Context, cfg liveConfig) (*liveResult, error) {
	raiseFileLimit()
	res := &liveResult{Subscribers: cfg.Subscribers}
	if cfg.PID > 0 {
		res.RSSBefore = rss(cfg.PID)
	}
	// The subscriptions already open (a previous run's may still be
	// closing): wait until their count settles.
	active0, err := activeSubscriptions(ctx, cfg.URL)
	for settled := false; err == nil && !settled; {
		time.Sleep(200 * time.Millisecond)
		var n int
		n, err = activeSubscriptions(ctx, cfg.URL)
		settled, active0 = n == active0, n
	}
	if err != nil {
		return nil, err
	}
	start := time.Now()
	subs := make([]*subscriber, cfg.Subscribers)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var firstErr error
	for i := range subs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := subscribe(cfg)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("subscriber %d: %w", i, err)
				}
				mu.Unlock()
				return
			}
			subs[i] = s
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	defer func() {
		for _, s := range subs {
			s.conn.Close()
		}
	}()
	for _, s := range subs {
		go s.read()
	}
	// The server starts each subscription after reading its subscribe
	// message: wait until it has started them all.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		n, err := activeSubscriptions(ctx, cfg.URL)
		if err != nil {
			return nil, err
		}
		if n >= active0+cfg.Subscribers {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the server started %d of %d subscriptions in 2 minutes", n-active0, cfg.Subscribers)
		}
		time.Sleep(50 * time.Millisecond) // polling /metrics: there is no event to await
	}
	res.SubscribeSecs = time.Since(start).Seconds()
	if cfg.PID > 0 {
		res.RSSAfter = rss(cfg.PID)
		res.BytesPerSub = float64(res.RSSAfter-res.RSSBefore) / float64(cfg.Subscribers)
	}
	var lasts, all, mutations []float64
	// Each round stops another RUNNING instance: the mutation commits the
	// change to STOPPING in its own transaction, whatever the job queue.
	// The first round warms up, as the other workloads do: the first
	// event after subscribing meets every subscription's first delivery
	// and the collection of what subscribing allocated. Its last delivery
	// is reported on its own (WarmupMS), not counted.
	for i, instance := range cfg.Instances {
		warmup := i == 0 && len(cfg.Instances) > 1
		var d map[string]struct {
			Instance struct{ Status string } `json:"instance"`
		}
		t0 := time.Now()
		if err := post(ctx, cfg.TriggerURL, cfg.TriggerToken, `mutation($id: ID!) { r: stopInstance(input: {id: $id}) { instance { status } } }`, map[string]any{"id": instance}, &d); err != nil {
			return nil, fmt.Errorf("stopInstance: %w", err)
		}
		mutations = append(mutations, ms(time.Since(t0)))
		want := instance + " " + d["r"].Instance.Status
		deadline := time.Now().Add(30 * time.Second)
		// Each poll looks only at the subscribers still waiting: this
		// process shares the CPU with the server it measures (the times
		// are the subscribers' own, not the poll's).
		waiting := slices.Clone(subs)
		for {
			waiting = slices.DeleteFunc(waiting, func(s *subscriber) bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				_, ok := s.seen[want]
				return ok
			})
			if len(waiting) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		var last float64
		var round []float64
		for _, s := range subs {
			s.mu.Lock()
			at, ok := s.seen[want]
			s.mu.Unlock()
			if !ok {
				res.Missed++
				continue
			}
			l := ms(at.Sub(t0))
			round = append(round, l)
			last = max(last, l)
		}
		if warmup {
			res.WarmupMS = last
			mutations = mutations[:0]
		} else {
			all = append(all, round...)
			lasts = append(lasts, last)
		}
		time.Sleep(200 * time.Millisecond) // let the round's deliveries drain
	}
	res.Rounds = len(lasts)
	res.Lasts = slices.Clone(lasts)
	res.LastP50, res.LastP99 = quantile(lasts, 0.5), quantile(lasts, 0.99)
	res.DeliveryP50, res.DeliveryP99 = quantile(all, 0.5), quantile(all, 0.99)
	res.MutationMS = quantile(mutations, 0.5)
	return res, nil
}

// activeSubscriptions reads the gauge cairn_subscriptions_active from the
// /metrics of the server of endpoint.
func activeSubscriptions(ctx context.Context, endpoint string) (int, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return 0, err
	}
	u.Path, u.RawQuery = "/metrics", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	return parseGauge(body, "cairn_subscriptions_active")
}

// parseGauge returns the value of the unlabelled metric name in a
// Prometheus text exposition.
func parseGauge(body []byte, name string) (int, error) {
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("/metrics has no %s (is telemetry off?)", name)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quantile returns the q-quantile of v (nearest rank).
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
