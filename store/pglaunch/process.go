package pglaunch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// logFile, inside the data folder, receives postgres's output, appended.
const logFile = "postgres.log"

// How long stop waits for each signal before sending the next: SIGINT (fast
// shutdown, with a checkpoint), SIGQUIT (immediate shutdown), then SIGKILL to
// the whole process group.
const (
	fastShutdownTimeout      = 60 * time.Second
	immediateShutdownTimeout = 5 * time.Second
)

// postmaster is a postgres child process.
type postmaster struct {
	cmd     *exec.Cmd
	logPath string
	logFrom int64         // size of the log before this process started
	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // why it exited; set before done is closed
}

// spawn starts postgres on dataDir in its own process group, so that Ctrl-C
// in a terminal reaches only us and we can stop it cleanly.
func spawn(binDir, dataDir, socketDir string, port int, o *owner, ephemeral bool) (*postmaster, error) {
	logPath := filepath.Join(dataDir, logFile)
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pglaunch: %w", err)
	}
	defer log.Close()
	if err := o.chown(logPath); err != nil {
		return nil, fmt.Errorf("pglaunch: %w", err)
	}
	fi, err := log.Stat()
	if err != nil {
		return nil, fmt.Errorf("pglaunch: %w", err)
	}
	args := []string{"-D", dataDir, "-k", socketDir,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port)}
	if ephemeral {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = "/"
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr(o.credential())
	p := &postmaster{cmd: cmd, logPath: logPath, logFrom: fi.Size(), done: make(chan struct{})}

	started := make(chan error, 1)
	go func() {
		// On Linux the parent-death signal (see sysProcAttr) follows the
		// thread that started the child, so keep that thread for as long
		// as the child runs.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("pglaunch: start postgres: %w", err)
	}
	return p, nil
}

// exited reports whether the process has exited.
func (p *postmaster) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop shuts postgres down fast and waits for it, escalating if it takes too
// long. A postgres that had died by itself is logged, not an error.
func (p *postmaster) stop(logger *slog.Logger) error {
	if p.exited() {
		logger.Warn("postgres had exited before Stop", "err", p.waitErr, "log", p.logPath)
		return nil
	}
	if p.signalWait(syscall.SIGINT, fastShutdownTimeout) {
		return nil
	}
	logger.Warn("postgres fast shutdown timed out; shutting down immediately", "log", p.logPath)
	if p.signalWait(syscall.SIGQUIT, immediateShutdownTimeout) {
		return nil
	}
	p.killGroup()
	return fmt.Errorf("pglaunch: postgres did not shut down in %v; killed it", fastShutdownTimeout+immediateShutdownTimeout)
}

// kill ends postgres at once (immediate shutdown, then SIGKILL) and waits
// for it. It is for a postgres that failed to start.
func (p *postmaster) kill() {
	if !p.signalWait(syscall.SIGQUIT, immediateShutdownTimeout) {
		p.killGroup()
	}
}

// signalWait sends sig to postgres and reports whether it exited within d.
func (p *postmaster) signalWait(sig syscall.Signal, d time.Duration) bool {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return p.exited()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// killGroup kills postgres and all its children, and waits for postgres.
func (p *postmaster) killGroup() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// exitError describes an early exit, with the end of this run's log.
func (p *postmaster) exitError() error {
	return fmt.Errorf("pglaunch: postgres exited during start (%v); end of %s:\n%s", p.waitErr, p.logPath, p.logTail(20))
}

// portTaken reports whether postgres failed because its port was in use.
func (p *postmaster) portTaken() bool {
	return strings.Contains(p.logTail(20), "Address already in use")
}

// sharedMemoryInUse reports whether postgres failed because a crashed
// server's shared memory was still attached.
func (p *postmaster) sharedMemoryInUse() bool {
	return strings.Contains(p.logTail(20), "pre-existing shared memory block")
}

// logTail returns up to n last lines that this process wrote to the log.
func (p *postmaster) logTail(n int) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	const most = 64 << 10
	from := p.logFrom
	if fi, err := f.Stat(); err == nil && fi.Size()-from > most {
		from = fi.Size() - most
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	b, _ := io.ReadAll(f)
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
