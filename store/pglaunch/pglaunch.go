// Package pglaunch starts a private PostgreSQL server from the machine's own
// PostgreSQL binaries: Cairn's embedded default and its test database.
//
// The server listens on 127.0.0.1 only, with a password for the superuser
// "cairn" kept in the data folder, and on a Unix socket in a private
// temporary folder. Run as root, the launcher runs initdb and postgres as the
// postgres system user (PostgreSQL refuses to run as root) and gives the data
// folder to that user; every folder above the data folder must then let it
// through (mode o+x). Folders the launcher creates are made so.
package pglaunch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Config says where and how to start a server.
type Config struct {
	DataDir   string       // folder for the cluster; created if missing. PGDATA is DataDir itself.
	BinDir    string       // folder with initdb and postgres; "" = FindBinaries()
	Port      int          // 0 = pick a free loopback port
	Ephemeral bool         // tests: -c fsync=off -c synchronous_commit=off -c full_page_writes=off
	Logger    *slog.Logger // nil = slog.Default()
}

// Server is a running postgres started by Start. Its methods are safe for
// concurrent use.
type Server struct {
	dataDir   string
	socketDir string // holds the Unix socket; removed by Stop
	port      int
	password  string
	logger    *slog.Logger

	proc     *postmaster
	stopOnce sync.Once
	stopErr  error
}

// readyTimeout bounds the wait for a started postgres to accept connections.
const readyTimeout = 30 * time.Second

// Start starts postgres on cfg.DataDir, first creating the cluster with
// initdb if the folder holds none, and returns once it accepts connections.
// ctx bounds the start only, as does a timeout of 30 s; the server runs
// until Stop, or until our process dies. Start fails if another postgres
// already runs on the folder, and the error of a postgres that exits during
// the start quotes the end of DataDir/postgres.log. On error no postgres
// process is left running.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	began := time.Now()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	binDir := cfg.BinDir
	if binDir == "" {
		var err error
		if binDir, err = FindBinaries(); err != nil {
			return nil, err
		}
	}
	if err := checkBinDir(binDir); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("pglaunch: Config.DataDir is empty")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pglaunch: %w", err)
	}
	o, err := runAs()
	if err != nil {
		return nil, err
	}
	if err := mkdirAll(dataDir); err != nil {
		return nil, err
	}
	if dataDir, err = filepath.EvalSymlinks(dataDir); err != nil {
		return nil, fmt.Errorf("pglaunch: %w", err)
	}
	if err := o.checkReachable(dataDir); err != nil {
		return nil, err
	}
	if err := clearStalePID(dataDir); err != nil {
		return nil, err
	}
	socketDir, err := makeSocketDir(o)
	if err != nil {
		return nil, err
	}
	s := &Server{dataDir: dataDir, socketDir: socketDir, logger: logger}
	if err := s.start(ctx, binDir, o, cfg); err != nil {
		os.RemoveAll(socketDir)
		return nil, err
	}
	logger.Info("postgres started", "dir", dataDir, "port", s.port, "took", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// start does the part of Start that needs the socket folder: initdb if
// needed, then postgres, then a check that the URL works.
func (s *Server) start(ctx context.Context, binDir string, o *owner, cfg Config) error {
	var err error
	if s.password, err = readPassword(s.dataDir); err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(s.dataDir, "PG_VERSION"))
	fresh := errors.Is(statErr, fs.ErrNotExist)
	resetPassword := !fresh && s.password == ""
	if s.password == "" {
		s.password = newPassword()
	}
	if fresh {
		t := time.Now()
		if err := createCluster(ctx, binDir, s.dataDir, s.socketDir, s.password, o, cfg.Ephemeral); err != nil {
			return err
		}
		s.logger.Debug("initdb done", "dir", s.dataDir, "took", time.Since(t).Round(time.Millisecond))
	}
	if resetPassword {
		if err := writePassword(s.dataDir, s.password); err != nil {
			return err
		}
	}
	if err := o.chown(s.dataDir); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.spawnReady(ctx, binDir, o, cfg); err != nil {
		return err
	}
	if resetPassword {
		if err := s.setPassword(ctx); err != nil {
			s.proc.kill()
			return err
		}
		s.logger.Warn("data folder had no password file; gave cairn a new password", "dir", s.dataDir)
	}
	if err := s.checkURL(ctx); err != nil {
		s.proc.kill()
		return err
	}
	return nil
}

// spawnReady starts postgres and waits till it accepts connections. When
// the port is ours to pick and was taken in the meantime, it tries another.
func (s *Server) spawnReady(ctx context.Context, binDir string, o *owner, cfg Config) error {
	for attempt := 1; ; attempt++ {
		var err error
		s.port = cfg.Port
		if s.port == 0 {
			if s.port, err = freePort(); err != nil {
				return err
			}
		}
		s.proc, err = spawn(binDir, s.dataDir, s.socketDir, s.port, o, cfg.Ephemeral)
		if err != nil {
			return err
		}
		err = s.waitReady(ctx)
		if err == nil {
			return nil
		}
		s.proc.kill()
		switch {
		case s.proc.sharedMemoryInUse() && attempt < 50:
			// After a crash, the old server's shared memory goes away only
			// when its last process has exited: give it a moment.
			s.logger.Debug("shared memory of a crashed postgres still in use, retrying")
			select {
			case <-ctx.Done():
				return err
			case <-time.After(100 * time.Millisecond):
			}
		case cfg.Port == 0 && attempt < 3 && s.proc.portTaken():
			s.logger.Debug("port taken, trying another", "port", s.port)
		default:
			return err
		}
	}
}

// URL returns a URL for database (postgres if "") that connects as the
// superuser cairn over TCP to 127.0.0.1, with its password and sslmode=disable.
func (s *Server) URL(database string) string {
	if database == "" {
		database = "postgres"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Stop shuts postgres down fast (open transactions are rolled back, a
// checkpoint is written) and waits for it to exit. It may be called more than
// once, and after postgres died by itself, which it logs but does not return.
// It returns an error only if postgres had to be killed.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		t := time.Now()
		s.stopErr = s.proc.stop(s.logger)
		os.RemoveAll(s.socketDir)
		s.logger.Info("postgres stopped", "dir", s.dataDir, "took", time.Since(t).Round(time.Millisecond))
	})
	return s.stopErr
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglaunch: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// makeSocketDir creates a private folder for the Unix socket, owned by o.
// Socket paths are limited to about 107 bytes, so it goes under /tmp when
// the temporary folder's path is long.
func makeSocketDir(o *owner) (string, error) {
	parent := os.TempDir()
	if len(parent) > 60 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "cairn-pg-")
	if err != nil {
		return "", fmt.Errorf("pglaunch: %w", err)
	}
	if err := o.chown(dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("pglaunch: %w", err)
	}
	if err := o.checkReachable(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
