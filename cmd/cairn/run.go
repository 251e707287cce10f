package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/pglaunch"
	"github.com/cairn-dev/cairn/telemetry"
	"github.com/jackc/pgx/v5/pgconn"
)

// Main is the cairn program. Tests run the real Main: Start on port 0, then
// Close.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string

	// Addr is the address the server listens on, once Start returned.
	Addr string

	log *slog.Logger
	tel *telemetry.Telemetry

	// shutdown is closed when Close begins: open subscriptions end.
	shutdown chan struct{}
	pg       *pglaunch.Server
	store    *store.Store
	http     *http.Server
	done     chan error
	live     live // the event bus and the lifecycle engine (lifecycle.go)
}

// NewMain returns a Main that reads the process's environment and writes to
// its standard streams.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Run runs the command of args until it ends or ctx is cancelled.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stdout, usage)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	cmd := args[0]
	if cmd != "serve" && cmd != "migrate" && cmd != "seed" {
		fmt.Fprint(m.Stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	if err := m.Config.parse(cmd, args[1:], m.Getenv, m.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cmd == "serve" {
		if err := m.Start(ctx); err != nil {
			m.Close()
			return err
		}
		select {
		case <-ctx.Done():
		case err := <-m.done:
			m.Close()
			return err
		}
		return m.Close()
	}
	defer m.Close()
	if err := m.open(ctx); err != nil {
		return err
	}
	if cmd == "seed" {
		return m.seed(ctx)
	}
	return nil
}

// Start opens the database (starting the private PostgreSQL if no URL is
// configured), migrates it, loads the demo data into an empty database, and
// starts serving. It returns once the server listens.
func (m *Main) Start(ctx context.Context) error {
	if err := m.open(ctx); err != nil {
		return err
	}
	if m.Config.Demo {
		if err := m.seed(ctx); err != nil {
			return err
		}
	}
	tokens, err := m.tokens(ctx)
	if err != nil {
		return err
	}
	if m.tel, err = telemetry.New(ctx, telemetry.Config{OTLPEndpoint: m.Config.OTLPEndpoint}, m.log); err != nil {
		return err
	}
	tel := m.tel // the callbacks outlive m.tel, which Close clears
	m.store.Observe(tel.QueryHook(), func(edge string, keys int) { tel.LoaderBatch.WithLabelValues(edge).Observe(float64(keys)) })
	m.tel.WatchDB(m.store.DB().DB)
	introspection := m.Config.Introspection == "true" || (m.Config.Introspection == "auto" && m.pg != nil)
	secrets, err := m.secrets() // cmd/cairn/identity.go
	if err != nil {
		return err
	}
	liveCfg, err := m.startLive(ctx) // cmd/cairn/lifecycle.go
	if err != nil {
		return err
	}
	m.shutdown = make(chan struct{})
	handler := server.New(server.Config{Shutdown: m.shutdown, Live: liveCfg, Store: m.store, Tokens: tokens, Logger: m.log, MaxBodyBytes: m.Config.MaxBodyBytes, Introspection: introspection, Telemetry: m.tel, Edge: m.Config.Edge.server(), Secrets: secrets, NoDirect: !m.Config.DirectReads})
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set --addr or CAIRN_ADDR to another address)", m.Config.Addr, err)
	}
	m.Addr = ln.Addr().String()
	m.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	m.done = make(chan error, 1)
	go func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	fmt.Fprintf(m.Stdout, "Cairn is serving on http://%s\n  GraphiQL: http://%s/\n  API:      http://%s/graphql\n", m.Addr, m.Addr, m.Addr)
	return nil
}

// Close stops serving (letting in-flight requests finish within the shutdown
// timeout), closes the database and stops the private PostgreSQL.
func (m *Main) Close() error {
	var errs []error
	if m.shutdown != nil {
		close(m.shutdown)
		m.shutdown = nil
	}
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		errs = append(errs, m.http.Shutdown(ctx))
		cancel()
		m.http = nil
	}
	errs = append(errs, m.stopLive())
	if m.tel != nil {
		errs = append(errs, m.tel.Shutdown(context.Background()))
		m.tel = nil
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
		m.store = nil
	}
	if m.pg != nil {
		errs = append(errs, m.pg.Stop())
		m.pg = nil
	}
	return errors.Join(errs...)
}

func (m *Main) open(ctx context.Context) error {
	m.log = m.Config.logger(m.Stderr)
	url := m.Config.DatabaseURL
	if url == "" {
		var err error
		if url, err = m.startPostgres(ctx); err != nil {
			return err
		}
	}
	s, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	m.live.url = url
	m.store = s
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		m.log.Info("migrated the database", "migrations", applied)
	}
	return nil
}

// startPostgres starts the private PostgreSQL and returns the URL of its
// cairn database, creating it on first start.
func (m *Main) startPostgres(ctx context.Context) (string, error) {
	dir, err := filepath.Abs(filepath.Join(m.Config.DataDir, "pg"))
	if err != nil {
		return "", err
	}
	pg, err := pglaunch.Start(ctx, pglaunch.Config{DataDir: dir, Logger: m.log})
	if errors.Is(err, pglaunch.ErrUnreachable) {
		// As root, PostgreSQL runs as the postgres user, which may not enter
		// the folder (a home folder of mode 0700). Keep the data where it can.
		sum := sha256.Sum256([]byte(dir))
		alt := filepath.Join("/var/lib/cairn", hex.EncodeToString(sum[:6]))
		m.log.Warn("the PostgreSQL user cannot reach the data folder; using another", "wanted", dir, "using", alt)
		pg, err = pglaunch.Start(ctx, pglaunch.Config{DataDir: alt, Logger: m.log})
	}
	if err != nil {
		return "", err
	}
	m.pg = pg
	var pgErr *pgconn.PgError
	if err := pg.CreateDatabase(ctx, "cairn", ""); err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") {
		return "", err
	}
	return pg.URL("cairn"), nil
}

// seed loads the demo data when the database is empty.
func (m *Main) seed(ctx context.Context) error {
	has, err := m.store.HasData(ctx)
	if err != nil {
		return err
	}
	if !has {
		hash, err := auth.HashPassword(store.DemoPassword)
		if err != nil {
			return err
		}
		if _, err := m.store.SeedDemo(ctx, hash); err != nil {
			return err
		}
		m.log.Info("loaded the demo data")
	}
	fmt.Fprintf(m.Stdout, "Demo sign-ins (password %q): %s (provider ROOT), %s (customer A ADMIN), %s (customer B ADMIN)\n",
		store.DemoPassword, store.DemoOwner, store.DemoAlice, store.DemoBob)
	return nil
}

// tokens loads the signing keys shared by every replica, creating the first.
func (m *Main) tokens(ctx context.Context) (*auth.Tokens, error) {
	rows, err := m.store.SigningKeys(ctx, func() (string, []byte, error) {
		k, err := auth.NewKey()
		return k.ID, k.Private, err
	})
	if err != nil {
		return nil, err
	}
	keys := make([]auth.Key, len(rows))
	for i, r := range rows {
		keys[i] = auth.Key{ID: r.ID, Private: ed25519.PrivateKey(r.Private), CreatedAt: r.CreatedAt}
	}
	issuer := m.Config.Issuer
	if issuer == "" {
		issuer = "http://" + m.Config.Addr
	}
	return auth.NewTokens(issuer, m.Config.TokenTTL, keys)
}
