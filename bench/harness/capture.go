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
	"regexp"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// captureHook records the SQL text of every statement run on the store
// while it is on. bun formats the arguments into the text, so a recorded
// statement runs as is.
type captureHook struct {
	mu   sync.Mutex
	on   bool
	sqls []string
}

func (h *captureHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *captureHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.on {
		h.sqls = append(h.sqls, e.Query)
	}
}

// record runs fn and returns the statements it ran.
func (h *captureHook) record(fn func() error) ([]string, error) {
	h.mu.Lock()
	h.on, h.sqls = true, nil
	h.mu.Unlock()
	err := fn()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.on = false
	return h.sqls, err
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
// pgbench script. A mutation is captured twice: the quoted IDs that differ
// between the two runs are the ones it generates, and the script draws
// fresh ones on every run so that its INSERTs do not collide.
func (d *dataset) capture(ctx context.Context, w *workload, dir string) error {
	var first []string
	var err error
	first, err = d.hook.record(func() error {
		_, w.Statements, err = d.do(ctx, *w)
		return err
	})
	if err != nil {
		return err
	}
	w.Captured = len(first)
	script := strings.Join(first, ";\n") + ";\n"
	if w.Mutation {
		second, err := d.hook.record(func() error { _, _, err := d.do(ctx, *w); return err })
		if err != nil {
			return err
		}
		if script, err = parameterize(first, second); err != nil {
			return err
		}
	}
	w.Script = filepath.Join(dir, w.Slug+".sql")
	return os.WriteFile(w.Script, []byte(script), 0o644)
}

var (
	quoted = regexp.MustCompile(`'(?:[^']|'')*'`)
	idLike = regexp.MustCompile(`^'([a-z]+)-[0-9a-z]+'$`)
)

// parameterize turns two captures of one mutation into a pgbench script in
// which the IDs that differ between them are drawn afresh on each run.
func parameterize(first, second []string) (string, error) {
	if len(first) != len(second) {
		return "", fmt.Errorf("the mutation ran %d statements, then %d: cannot line them up", len(first), len(second))
	}
	vars := map[string]string{} // literal of the first run → variable
	var prelude []string
	for i := range first {
		a, b := quoted.FindAllString(first[i], -1), quoted.FindAllString(second[i], -1)
		if len(a) != len(b) {
			return "", fmt.Errorf("statement %d has %d literals, then %d", i+1, len(a), len(b))
		}
		for j := range a {
			m := idLike.FindStringSubmatch(a[j])
			if a[j] == b[j] || m == nil || vars[a[j]] != "" {
				continue
			}
			v := fmt.Sprintf("benchid%d", len(vars)+1)
			vars[a[j]] = v
			prelude = append(prelude, fmt.Sprintf("'%s-' || substr(md5(random()::text), 1, 12) AS %s", m[1], v))
		}
	}
	var sb strings.Builder
	if len(prelude) > 0 {
		sb.WriteString("SELECT " + strings.Join(prelude, ", ") + " \\gset\n")
	}
	for _, sql := range first {
		sb.WriteString(quoted.ReplaceAllStringFunc(sql, func(lit string) string {
			if v := vars[lit]; v != "" {
				return "':" + v + "'"
			}
			return lit
		}))
		sb.WriteString(";\n")
	}
	return sb.String(), nil
}
