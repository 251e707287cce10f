package pglaunch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// newDataDir returns a data folder path, not yet created, in a fresh folder
// the postgres user may enter (t.TempDir's folders are mode 0700).
func newDataDir(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "pglaunch-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(parent, "cluster", "data")
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start starts an ephemeral server on dataDir and stops it when the test ends.
func start(t *testing.T, dataDir string) *Server {
	t.Helper()
	s, err := Start(t.Context(), Config{DataDir: dataDir, Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func connect(t *testing.T, s *Server, database string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), s.URL(database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// postgresPIDs returns the pids of processes started with -D dataDir.
func postgresPIDs(t *testing.T, dataDir string) []string {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []string
	for _, p := range cmdlines {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "\x00-D\x00"+dataDir+"\x00") {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

func TestServer(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	s := start(t, dataDir)
	ctx := t.Context()

	var one int
	if err := connect(t, s, "").QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 = %d, %v", one, err)
	}
	if err := s.CreateDatabase(ctx, "tmpl", ""); err != nil {
		t.Fatal(err)
	}
	tmpl := connect(t, s, "tmpl")
	if _, err := tmpl.Exec(ctx, "create table widgets (name text); insert into widgets values ('w')"); err != nil {
		t.Fatal(err)
	}
	tmpl.Close(ctx) // a template must have no connections

	for _, tc := range []struct{ name, template string }{
		{"plain", ""},
		{`odd "name"; drop`, ""},
		{"copy", "tmpl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateDatabase(ctx, tc.name, tc.template); err != nil {
				t.Fatal(err)
			}
			conn := connect(t, s, tc.name)
			var n int
			err := conn.QueryRow(ctx, "select count(*) from pg_tables where tablename = 'widgets'").Scan(&n)
			if want := map[bool]int{true: 1, false: 0}[tc.template != ""]; err != nil || n != want {
				t.Fatalf("widgets tables = %d, %v; want %d", n, err, want)
			}
			if err := s.CreateDatabase(ctx, tc.name, ""); err == nil {
				t.Fatal("creating it again: no error")
			}
			// conn stays open: WITH (FORCE) ends it.
			if err := s.DropDatabase(ctx, tc.name); err != nil {
				t.Fatal(err)
			}
			_, err = pgx.Connect(ctx, s.URL(tc.name))
			if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
				t.Fatalf("connect after drop: %v; want SQLSTATE 3D000", err)
			}
			if err := s.DropDatabase(ctx, tc.name); err != nil {
				t.Fatalf("dropping it again: %v", err)
			}
		})
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if pids := postgresPIDs(t, dataDir); len(pids) > 0 {
		t.Errorf("postgres still runs after Stop: pids %v", pids)
	}
	if _, err := os.Stat(s.socketDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket folder %s left after Stop: %v", s.socketDir, err)
	}
}

func TestRestartKeepsDataAndPassword(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	began := time.Now()
	s := start(t, dataDir)
	t.Logf("cold start (initdb + start): %v", time.Since(began))
	if _, err := connect(t, s, "").Exec(t.Context(), "create table kept (id int); insert into kept values (7)"); err != nil {
		t.Fatal(err)
	}
	url := s.URL("")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	began = time.Now()
	s = start(t, dataDir)
	t.Logf("warm start: %v", time.Since(began))
	if s.password != strings.Split(strings.Split(url, ":")[2], "@")[0] {
		t.Errorf("password changed across starts: URL %s, then %s", url, s.URL(""))
	}
	var id int
	if err := connect(t, s, "").QueryRow(t.Context(), "select id from kept").Scan(&id); err != nil || id != 7 {
		t.Fatalf("select id from kept = %d, %v", id, err)
	}

	for _, tc := range []struct {
		path string
		mode fs.FileMode
	}{{dataDir, 0o700}, {filepath.Join(dataDir, passwordFile), 0o600}, {filepath.Dir(dataDir), 0o755}} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode().Perm(), tc.mode)
		}
	}
}

func TestPasswordFileLost(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	s := start(t, dataDir)
	old := s.password
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dataDir, passwordFile)); err != nil {
		t.Fatal(err)
	}
	s = start(t, dataDir)
	if s.password == old {
		t.Fatal("password not renewed")
	}
	connect(t, s, "") // with the new password
}

func TestStalePostmasterPID(t *testing.T) {
	t.Parallel()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	alive := exec.Command("sleep", "600")
	if err := alive.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alive.Process.Kill(); alive.Wait() })

	for _, tc := range []struct {
		name string
		pid  string
	}{
		{"DeadPID", fmt.Sprint(dead.Process.Pid)},
		{"PIDNowAnotherProgram", fmt.Sprint(alive.Process.Pid)},
		{"Garbage", "not a pid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dataDir := newDataDir(t)
			if err := start(t, dataDir).Stop(); err != nil {
				t.Fatal(err)
			}
			pidFile := filepath.Join(dataDir, "postmaster.pid")
			if err := os.WriteFile(pidFile, []byte(tc.pid+"\n"+dataDir+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			start(t, dataDir)
		})
	}
}

func TestStartOnRunningDataDir(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	s := start(t, dataDir)
	_, err := Start(t.Context(), Config{DataDir: dataDir, Ephemeral: true, Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "already runs on "+dataDir) {
		t.Fatalf("second Start: %v; want an error saying postgres already runs", err)
	}
	connect(t, s, "") // the first one is untouched
}

func TestStopAfterCrash(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	s := start(t, dataDir)
	pid := s.proc.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.proc.done
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop after crash: %v", err)
	}
	// The crashed postmaster's children go with it; wait till its group is gone.
	for syscall.Kill(-pid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
	// Over the crash's postmaster.pid, with recovery. (Ephemeral servers may
	// lose their last commits in a crash, so there is no data to look for.)
	s = start(t, dataDir)
	connect(t, s, "")
}

func TestStartFails(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })

	for _, tc := range []struct {
		name    string
		root    bool                                            // only when run as root
		prepare func(t *testing.T, cfg *Config) context.Context // may change cfg
		want    string                                          // in the error
	}{
		{
			name: "BinDirWithoutBinaries",
			prepare: func(t *testing.T, cfg *Config) context.Context {
				cfg.BinDir = t.TempDir()
				return t.Context()
			},
			want: "has no runnable initdb",
		},
		{
			name: "PortInUse",
			prepare: func(t *testing.T, cfg *Config) context.Context {
				cfg.Port = busy.Addr().(*net.TCPAddr).Port
				return t.Context()
			},
			want: "Address already in use",
		},
		{
			name: "ContextEnds",
			prepare: func(t *testing.T, cfg *Config) context.Context {
				if err := start(t, cfg.DataDir).Stop(); err != nil { // initdb done
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			want: "context deadline exceeded",
		},
		{
			name: "DataDirNotEmpty",
			prepare: func(t *testing.T, cfg *Config) context.Context {
				if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(cfg.DataDir, "notes.txt"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return t.Context()
			},
			want: "holds no PostgreSQL cluster (no PG_VERSION) but is not empty",
		},
		{
			name: "ParentClosedToPostgres",
			root: true,
			prepare: func(t *testing.T, cfg *Config) context.Context {
				if err := os.Chmod(filepath.Dir(filepath.Dir(cfg.DataDir)), 0o700); err != nil {
					t.Fatal(err)
				}
				return t.Context()
			},
			want: "user runs PostgreSQL but cannot enter",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root")
			}
			cfg := Config{DataDir: newDataDir(t), Ephemeral: true, Logger: testLogger(t)}
			ctx := tc.prepare(t, &cfg)
			s, err := Start(ctx, cfg)
			if err == nil {
				s.Stop()
				t.Fatal("Start: no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start: %v\nwant an error containing %q", err, tc.want)
			}
			if pids := postgresPIDs(t, cfg.DataDir); len(pids) > 0 {
				t.Errorf("failed Start left postgres running: pids %v", pids)
			}
		})
	}
}

func TestInitdbInterrupted(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if s, err := Start(ctx, Config{DataDir: dataDir, Ephemeral: true, Logger: testLogger(t)}); err == nil {
		s.Stop()
		t.Skip("initdb finished within 200ms; nothing interrupted")
	}
	if entries, err := os.ReadDir(dataDir); err != nil || len(entries) > 0 {
		t.Fatalf("data folder after interrupted initdb: %d entries, %v; want it empty", len(entries), err)
	}
	connect(t, start(t, dataDir), "")
}

// TestOrphanedServerStops kills a process that started a server, as a crash
// of Cairn would, and expects the server to go too.
func TestOrphanedServerStops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs the Linux parent-death signal")
	}
	t.Parallel()
	dataDir := newDataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "PGLAUNCH_HELPER_DATADIR="+dataDir)
	cmd.Stderr = t.Output()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	socketDir, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}
	t.Cleanup(func() { os.RemoveAll(socketDir) }) // a killed Cairn leaves it
	if len(postgresPIDs(t, dataDir)) == 0 {
		t.Fatal("no postgres runs for the helper")
	}
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(30 * time.Second); len(postgresPIDs(t, dataDir)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("postgres still runs 30s after its parent died: pids %v", postgresPIDs(t, dataDir))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHelperServer is the process TestOrphanedServerStops kills: it starts a
// server, says so with its socket folder, and waits.
func TestHelperServer(t *testing.T) {
	dataDir := os.Getenv("PGLAUNCH_HELPER_DATADIR")
	if dataDir == "" {
		t.Skip("helper process for TestOrphanedServerStops")
	}
	s, err := Start(t.Context(), Config{DataDir: dataDir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready", s.socketDir)
	select {}
}

// TestFindBinaries changes PATH and libRoot, so it runs alone.
func TestFindBinaries(t *testing.T) {
	t.Run("EmptyPATH", func(t *testing.T) {
		t.Setenv("PATH", "")
		dir, err := FindBinaries()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(dir, "/usr/lib/postgresql/") || checkBinDir(dir) != nil {
			t.Fatalf("FindBinaries() = %s", dir)
		}
	})
	t.Run("ErrNoBinaries", func(t *testing.T) {
		t.Setenv("PATH", "")
		old := libRoot
		libRoot = t.TempDir()
		t.Cleanup(func() { libRoot = old })
		if err := os.MkdirAll(filepath.Join(libRoot, "16", "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := FindBinaries()
		if !errors.Is(err, ErrNoBinaries) {
			t.Fatalf("FindBinaries: %v; want ErrNoBinaries", err)
		}
		const want = "pglaunch: no PostgreSQL binaries found (looked on PATH and in /usr/lib/postgresql/*/bin); install PostgreSQL (e.g. `apt-get install postgresql`) or set CAIRN_DATABASE_URL to use an existing server"
		if err.Error() != want {
			t.Errorf("message %q\nwant %q", err, want)
		}
	})
	t.Run("HighestVersionFirst", func(t *testing.T) {
		t.Setenv("PATH", "")
		old := libRoot
		libRoot = t.TempDir()
		t.Cleanup(func() { libRoot = old })
		for _, v := range []string{"9.6", "16", "15", "head"} {
			bin := filepath.Join(libRoot, v, "bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"initdb", "postgres"} {
				if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		if dir, err := FindBinaries(); err != nil || dir != filepath.Join(libRoot, "16", "bin") {
			t.Fatalf("FindBinaries() = %s, %v; want version 16", dir, err)
		}
	})
}
