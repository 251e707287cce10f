// Package lifecycle runs the instance lifecycle: River workers move instances
// through their transitions by calling a Provisioner, and the built-in
// simulated provisioner stands in for a cloud.
package lifecycle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn"
)

// Request is one piece of work for a provisioner.
type Request struct {
	// OperationID identifies the work: a provisioner must do the work of one
	// operation once, however often it is asked (a retried job asks again).
	OperationID string
	Action      cairn.InstanceAction
	Instance    *cairn.ResourceInstance
}

// Provisioner does the cloud side of lifecycle actions. Do returns the
// values the instance reports (resultParams: endpoint, connection
// credentials, …); a *Failure when the work failed for good (the operation
// fails and the instance becomes FAILED); any other error is retried.
type Provisioner interface {
	Do(ctx context.Context, r Request) (map[string]any, error)
}

// Failure is a permanent failure of a provisioner's work.
type Failure struct{ Reason string }

func (f *Failure) Error() string { return "provisioning failed: " + f.Reason }

// Simulated is a provisioner that simulates a cloud: each action takes a
// delay, may fail at a configured rate, and yields an endpoint and
// credentials. Like a cloud's API with client tokens, it starts the work of
// an operation once: a repeated request joins the running work or gets the
// finished result, and the work goes on if the caller goes away.
// It is safe for concurrent use.
type Simulated struct {
	// Delay is how long an action takes; Delays overrides it per action.
	Delay  time.Duration
	Delays map[cairn.InstanceAction]time.Duration
	// FailureRate is the probability in [0, 1] that an action fails.
	FailureRate float64
	// FailFunc, if set, decides failures instead: it returns a reason to
	// fail r, or "".
	FailFunc func(r Request) string

	mu      sync.Mutex
	work    map[string]*simWork // by operation ID
	started atomic.Int64
}

type simWork struct {
	done    chan struct{}
	result  map[string]any
	failure string
}

// Started returns how many pieces of work the simulated cloud has started:
// one per operation, however often it was asked.
func (s *Simulated) Started() int { return int(s.started.Load()) }

// Do starts (once per operation) or joins the work of r and waits for it.
func (s *Simulated) Do(ctx context.Context, r Request) (map[string]any, error) {
	s.mu.Lock()
	if s.work == nil {
		s.work = map[string]*simWork{}
	}
	w, ok := s.work[r.OperationID]
	if !ok {
		w = &simWork{done: make(chan struct{})}
		s.work[r.OperationID] = w
		s.started.Add(1)
		go s.run(w, r)
	}
	s.mu.Unlock()
	select {
	case <-w.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if w.failure != "" {
		return nil, &Failure{Reason: w.failure}
	}
	return w.result, nil
}

func (s *Simulated) run(w *simWork, r Request) {
	defer close(w.done)
	delay := s.Delay
	if d, ok := s.Delays[r.Action]; ok {
		delay = d
	}
	time.Sleep(delay)
	switch {
	case s.FailFunc != nil:
		w.failure = s.FailFunc(r)
	case s.FailureRate > 0 && rand.Float64() < s.FailureRate:
		w.failure = fmt.Sprintf("simulated %s failure in %s %s", strings.ToLower(string(r.Action)), r.Instance.CloudProvider, r.Instance.Region)
	}
	if w.failure != "" {
		return
	}
	w.result = map[string]any{}
	if r.Action == cairn.ActionCreate {
		host := r.Instance.ID + "." + r.Instance.Region + "." + r.Instance.CloudProvider + ".cairn.example"
		w.result["endpoint"] = host + ":5432"
		w.result["host"] = host
		w.result["port"] = 5432
		w.result["username"] = "u_" + strings.TrimPrefix(r.Instance.ID, cairn.PrefixInstance+"-")
	}
	if r.Action == cairn.ActionFailover {
		w.result["lastFailoverAt"] = time.Now().UTC().Format(time.RFC3339)
	}
}
