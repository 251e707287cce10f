package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
)

// The shapes of the generated data. The deep read walks the first; it is
// generated in two steps (a tenth, then the rest) to check that the deep
// read's statement count stays the same when the data grows tenfold. The
// page workload lists the instances of customer B, generated with the
// second shape: 4 × 1 × 1 × 5 × 5 × 1,000 = 100,000 instances.
var (
	deepTenth = store.Shape{Services: 5, Environments: 3, Models: 2, Tiers: 3, Resources: 3, Instances: 10}
	deepRest  = store.Shape{Services: 45, Environments: 3, Models: 2, Tiers: 3, Resources: 3, Instances: 10}
	pageShape = store.Shape{Services: 4, Environments: 1, Models: 1, Tiers: 5, Resources: 5, Instances: 1000}
)

// dataset is the generated data, a store on it and an in-process handler
// whose SQL the capture hook records.
type dataset struct {
	began           time.Time
	store           *store.Store
	demo            *store.Demo
	handler         http.Handler
	tokens          map[string]string // demo user → token of the in-process handler
	hook            *captureHook
	postgresVersion string

	smallID           string // an instance of customer A
	resourceID, subID string // where createInstance creates
	deepCursor        string // a cursor 4/5 into customer B's RUNNING instances
	summary           datasetSummary
}

// datasetSummary is what the results say about the data.
type datasetSummary struct {
	Instances, TenantBInstances, TenantBRunning int
	DeepInstances                               []int // instances the deep read returned, at a tenth, in full, with all data
	DeepStatements                              []int // its statements reported by the server, same steps
	DeepCursorPosition                          int   // rows before the deep page
}

func buildDataset(ctx context.Context, url string, step func(string)) (*dataset, error) {
	d := &dataset{began: time.Now(), hook: &captureHook{}}
	step("migrating and seeding the demo data")
	s, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	d.store = s
	// Through Observe, as cairn serve installs its own hook: it puts the hook
	// on the store's bun.DB and also hands it to the statements the store
	// runs without bun (store.queryPrepared: the small read's instance chain,
	// the pages of listOwned), which a hook added to s.DB() alone never sees.
	// It replaces the store's *bun.DB with a copy, so it comes before any use.
	s.Observe(d.hook, nil)
	if _, err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(store.DemoPassword)
	if err != nil {
		return nil, err
	}
	if d.demo, err = s.SeedDemo(ctx, hash); err != nil {
		return nil, err
	}
	// As cairn serve: principals come from memory, kept exact by NOTIFY.
	// capture warms it, so the scripts hold what the server runs.
	if err := s.CachePrincipals(ctx, url, 0); err != nil {
		return nil, err
	}
	if err := s.DB().NewRaw("SHOW server_version").Scan(ctx, &d.postgresVersion); err != nil {
		return nil, err
	}
	if err := d.inProcess(); err != nil {
		return nil, err
	}

	deep := workloads(d)[0]
	measure := func() error {
		n, stmts, err := d.deepRead(ctx, *deep)
		d.summary.DeepInstances = append(d.summary.DeepInstances, n)
		d.summary.DeepStatements = append(d.summary.DeepStatements, stmts)
		return err
	}
	step(fmt.Sprintf("generating a tenth of the deep read's data (%d instances)", count(deepTenth)))
	if err := s.Generate(ctx, d.demo.Provider, d.demo.CustomerA, deepTenth); err != nil {
		return nil, err
	}
	if err := d.analyze(ctx); err != nil {
		return nil, err
	}
	if err := measure(); err != nil {
		return nil, err
	}
	step(fmt.Sprintf("generating the rest (%d instances)", count(deepRest)))
	if err := s.Generate(ctx, d.demo.Provider, d.demo.CustomerA, deepRest); err != nil {
		return nil, err
	}
	if err := d.analyze(ctx); err != nil {
		return nil, err
	}
	if err := measure(); err != nil {
		return nil, err
	}
	step(fmt.Sprintf("generating customer B's %d instances, half of them STOPPED", count(pageShape)))
	if err := s.Generate(ctx, d.demo.Provider, d.demo.CustomerB, pageShape); err != nil {
		return nil, err
	}
	// Every other instance of B (in creation order) stops, so the status
	// filter selects half of them.
	if _, err := s.DB().ExecContext(ctx, `UPDATE resource_instances AS ri SET status = 'STOPPED'
		FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM resource_instances WHERE tenant_id = ?) AS o
		WHERE ri.id = o.id AND o.n % 2 = 0`, d.demo.CustomerB); err != nil {
		return nil, err
	}
	if err := d.analyze(ctx); err != nil {
		return nil, err
	}
	if err := measure(); err != nil {
		return nil, err
	}
	return d, d.pick(ctx)
}

func count(sh store.Shape) int {
	return sh.Services * sh.Environments * sh.Models * sh.Tiers * sh.Resources * sh.Instances
}

// analyze brings the planner's statistics up to date after a bulk load, as
// autovacuum would after a while.
func (d *dataset) analyze(ctx context.Context) error {
	_, err := d.store.DB().ExecContext(ctx, "VACUUM ANALYZE")
	return err
}

// inProcess builds the in-process handler used to capture SQL and count
// statements, with its own signing key.
func (d *dataset) inProcess() error {
	key, err := auth.NewKey()
	if err != nil {
		return err
	}
	tokens, err := auth.NewTokens("http://cairn.bench", time.Hour, []auth.Key{key})
	if err != nil {
		return err
	}
	d.tokens = map[string]string{}
	for who, id := range map[string]string{"owner": d.demo.Owner, "alice": d.demo.Alice, "bob": d.demo.Bob} {
		if d.tokens[who], _, err = tokens.Sign(id); err != nil {
			return err
		}
	}
	d.handler = server.New(server.Config{Store: d.store, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return nil
}

// pick chooses the objects the workloads use, reading them back with SQL.
func (d *dataset) pick(ctx context.Context) error {
	db := d.store.DB()
	if err := db.NewRaw(`SELECT id FROM resource_instances WHERE tenant_id = ? ORDER BY created_at DESC, id LIMIT 1`, d.demo.CustomerA).Scan(ctx, &d.smallID); err != nil {
		return fmt.Errorf("pick an instance: %w", err)
	}
	// A generated resource of the last deep service, outside the first
	// pages the deep read walks.
	err := db.NewRaw(`SELECT r.id, s.id FROM resources AS r JOIN service_subscriptions AS s ON s.tier_id = r.tier_id AND s.tenant_id = ?
		WHERE r.description = 'generated' ORDER BY r.created_at DESC, r.id LIMIT 1`, d.demo.CustomerA).Scan(ctx, &d.resourceID, &d.subID)
	if err != nil {
		return fmt.Errorf("pick a resource: %w", err)
	}
	if err := db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE status = 'RUNNING') FROM resource_instances WHERE tenant_id = ?`, d.demo.CustomerB).
		Scan(ctx, &d.summary.TenantBInstances, &d.summary.TenantBRunning); err != nil {
		return err
	}
	if err := db.NewRaw(`SELECT count(*) FROM resource_instances`).Scan(ctx, &d.summary.Instances); err != nil {
		return err
	}
	// The cursor format is the API's: base64url of ["<created_at>", "<id>"].
	d.summary.DeepCursorPosition = d.summary.TenantBRunning * 4 / 5
	var at time.Time
	var id string
	if err := db.NewRaw(`SELECT created_at, id FROM resource_instances WHERE tenant_id = ? AND status = 'RUNNING'
		ORDER BY created_at, id OFFSET ? LIMIT 1`, d.demo.CustomerB, d.summary.DeepCursorPosition-1).Scan(ctx, &at, &id); err != nil {
		return fmt.Errorf("pick a deep cursor: %w", err)
	}
	b, _ := json.Marshal([]string{at.UTC().Format(time.RFC3339Nano), id})
	d.deepCursor = base64.RawURLEncoding.EncodeToString(b)
	return nil
}

func (d *dataset) close() { d.store.Close() }

// deepRead runs the deep read in process and returns the instances it
// returned and the statements the server reported.
func (d *dataset) deepRead(ctx context.Context, w workload) (int, int, error) {
	body, stmts, err := d.do(ctx, w)
	if err != nil {
		return 0, 0, err
	}
	var res struct {
		Data struct {
			Services nodes[nodes[nodes[nodes[nodes[nodes[struct{}]]]]]]
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, 0, err
	}
	n := 0
	for _, s := range res.Data.Services.Nodes {
		for _, e := range s.Environments.Nodes {
			for _, m := range e.Models.Nodes {
				for _, t := range m.Tiers.Nodes {
					for _, r := range t.Resources.Nodes {
						n += len(r.Instances.Nodes)
					}
				}
			}
		}
	}
	return n, stmts, nil
}

// nodes decodes any of the deep read's connections: whichever child list
// the level has lands in the field of that name.
type nodes[T any] struct {
	Nodes []struct {
		Environments, Models, Tiers, Resources, Instances T
	}
}
