package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// captureHook records every statement run on the store while it is on.
// bun formats its arguments into the text, and the store's driver sends
// such a statement as one simple query. The store's own statements
// (store.queryPrepared) it prepares once per connection, some with
// PostgreSQL parameters ($1, $2…), whose values the hook records too.
type captureHook struct {
	mu    sync.Mutex
	on    bool
	stmts []statement
}

// statement is one statement the store ran: its text, whether it ran
// prepared, and the values of its parameters (nil without).
type statement struct {
	SQL      string
	Prepared bool
	Args     []any
}

func (h *captureHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *captureHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.on {
		return
	}
	// bun's own events have the template its arguments went into
	// (QueryTemplate) and keep those arguments, already in Query;
	// queryPrepared's have no template, and their QueryArgs are the
	// statement's parameters.
	st := statement{SQL: e.Query, Prepared: e.QueryTemplate == ""}
	if st.Prepared {
		st.Args = slices.Clone(e.QueryArgs)
	}
	h.stmts = append(h.stmts, st)
}

// record runs fn and returns the statements it ran.
func (h *captureHook) record(fn func() error) ([]statement, error) {
	h.mu.Lock()
	h.on, h.stmts = true, nil
	h.mu.Unlock()
	err := fn()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.on = false
	return h.stmts, err
}

// do runs w once through the in-process handler and returns the response
// body and the statements the server reported.
func (d *dataset) do(ctx context.Context, w workload) ([]byte, int, error) {
	body, _ := json.Marshal(map[string]any{"query": w.Query, "variables": w.Vars})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.tokens[w.Who])
	rec := httptest.NewRecorder()
	d.handler.ServeHTTP(rec, req)
	var res struct {
		Errors     []json.RawMessage
		Extensions struct{ SQLStatements int }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != http.StatusOK || len(res.Errors) > 0 {
		return nil, 0, fmt.Errorf("status %d: %.500s", rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes(), res.Extensions.SQLStatements, nil
}

// capture runs w in process with the hook on and writes its statements as a
// pgbench script (pgbenchScript). A mutation is captured twice: the IDs
// that differ between the two runs are the ones it generates, and the
// script draws fresh ones on every run so that its INSERTs do not collide.
func (d *dataset) capture(ctx context.Context, w *workload, dir string) error {
	var first, second []statement
	var err error
	if !w.Mutation { // the principal into the cache, as a running server has it
		if _, _, err := d.do(ctx, *w); err != nil {
			return err
		}
	}
	first, err = d.hook.record(func() error {
		_, w.Statements, err = d.do(ctx, *w)
		return err
	})
	if err != nil {
		return err
	}
	w.Captured = len(first)
	if w.Mutation {
		if second, err = d.hook.record(func() error { _, _, err := d.do(ctx, *w); return err }); err != nil {
			return err
		}
	}
	sc, err := pgbenchScript(first, second)
	if err != nil {
		return fmt.Errorf("writing its pgbench script: %w", err)
	}
	w.Script, w.Defines, w.Prepared = filepath.Join(dir, w.Slug+".sql"), sc.Defines, sc.Prepared
	if err := os.WriteFile(w.Script, []byte(sc.Text), 0o644); err != nil {
		return err
	}
	// Next to the script (kept with -keep), the arguments it needs, one a
	// line: xargs -d '\n' -a <slug>.args pgbench -n -f <slug>.sql <url>.
	var args strings.Builder
	args.WriteString("-M\n" + pgbenchMode(sc.Prepared) + "\n")
	for _, def := range sc.Defines {
		args.WriteString("-D\n" + def + "\n")
	}
	return os.WriteFile(strings.TrimSuffix(w.Script, ".sql")+".args", []byte(args.String()), 0o644)
}
