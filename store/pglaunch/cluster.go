package pglaunch

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// superuser is the role initdb creates and every URL connects as.
const superuser = "cairn"

// passwordFile, inside the data folder, keeps the superuser's password
// across starts.
const passwordFile = "cairn-password"

// readPassword returns the password kept in dir, or "" if there is none.
func readPassword(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, passwordFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pglaunch: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writePassword keeps password in dir, readable by its owner only.
func writePassword(dir, password string) error {
	p := filepath.Join(dir, passwordFile)
	if err := os.WriteFile(p, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	return nil
}

// newPassword returns a random password that needs no quoting in a URL or SQL.
func newPassword() string { return rand.Text() }

// createCluster runs initdb in a folder beside dataDir, keeps the password
// in it, and moves it into place, so that a crash or the end of ctx never
// leaves half a cluster in dataDir. dataDir must be empty. The password
// reaches initdb through a file in tmpDir, which o must be able to read.
func createCluster(ctx context.Context, binDir, dataDir, tmpDir, password string, o *owner, ephemeral bool) error {
	if entries, err := os.ReadDir(dataDir); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	} else if len(entries) > 0 {
		return fmt.Errorf("pglaunch: %s holds no PostgreSQL cluster (no PG_VERSION) but is not empty; empty it or choose another DataDir", dataDir)
	}
	work := dataDir + ".initdb"
	if err := os.RemoveAll(work); err != nil { // left by a crash
		return fmt.Errorf("pglaunch: %w", err)
	}
	if err := os.Mkdir(work, 0o700); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	defer os.RemoveAll(work)
	if err := o.chown(work); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	if err := initdb(ctx, binDir, work, tmpDir, password, o, ephemeral); err != nil {
		return err
	}
	if err := writePassword(work, password); err != nil {
		return err
	}
	// Not os.Rename: it refuses to replace a folder, even an empty one.
	if err := syscall.Rename(work, dataDir); err != nil {
		return fmt.Errorf("pglaunch: move %s to %s: %w", work, dataDir, err)
	}
	return syncDir(filepath.Dir(dataDir))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("pglaunch: sync %s: %w", dir, err)
	}
	return nil
}

// initdb runs initdb on dir (empty) with the superuser cairn and password.
func initdb(ctx context.Context, binDir, dir, tmpDir, password string, o *owner, ephemeral bool) error {
	pwfile := filepath.Join(tmpDir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	defer os.Remove(pwfile)
	if err := o.chown(pwfile); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	args := []string{"-D", dir, "-U", superuser,
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile,
		"-E", "UTF8", "--locale=C"}
	if ephemeral {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), args...)
	cmd.Dir = "/"
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.credential()}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pglaunch: initdb: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}

// childEnv is the environment of initdb and postgres: ours without PG*
// variables, which could point them elsewhere, and with messages in English.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_ALL=") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// clearStalePID removes dataDir/postmaster.pid when it names no running
// postgres, as after a crash; postgres would refuse to start if the pid had
// since gone to another process. It returns an error when a postgres still
// runs on dataDir.
func clearStalePID(dataDir string) error {
	p := filepath.Join(dataDir, "postmaster.pid")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && isPostgres(pid) {
		return fmt.Errorf("pglaunch: a PostgreSQL server (pid %d) already runs on %s; stop it, or use another DataDir", pid, dataDir)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pglaunch: remove stale %s: %w", p, err)
	}
	return nil
}

// isPostgres reports whether pid is a live process that looks like postgres.
// Where /proc cannot tell, any live process counts.
func isPostgres(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !procMounted()
	}
	return strings.Contains(string(comm), "postgres") || strings.Contains(string(comm), "postmaster")
}

func procMounted() bool {
	_, err := os.Stat("/proc/self")
	return err == nil
}
