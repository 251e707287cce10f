package pglaunch

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// owner is the system user that runs initdb and postgres. It is nil when
// the launcher is not root: then they run as the current user.
type owner struct {
	name string
	uid  int
	gid  int
	gids []int // every group of the user, the primary one included
}

// runAs returns the user to run PostgreSQL as: the postgres system user when
// the launcher is root (PostgreSQL refuses to run as root), nil otherwise.
func runAs() (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pglaunch: running as root, PostgreSQL must run as the postgres system user, but it cannot be looked up (install PostgreSQL, e.g. `apt-get install postgresql`, or run Cairn as another user): %w", err)
	}
	o := &owner{name: u.Username}
	if o.uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("pglaunch: uid of postgres: %w", err)
	}
	if o.gid, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("pglaunch: gid of postgres: %w", err)
	}
	o.gids = []int{o.gid}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := strconv.Atoi(id); err == nil && !slices.Contains(o.gids, g) {
			o.gids = append(o.gids, g)
		}
	}
	return o, nil
}

// credential is what a child process runs as; nil for the current user.
func (o *owner) credential() *syscall.Credential {
	if o == nil {
		return nil
	}
	groups := make([]uint32, len(o.gids))
	for i, g := range o.gids {
		groups[i] = uint32(g)
	}
	return &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid), Groups: groups}
}

// chown gives path, and everything under it when it is a folder, to o.
// It does nothing when o is nil.
func (o *owner) chown(path string) error {
	if o == nil {
		return nil
	}
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, o.uid, o.gid)
	})
}

// checkReachable returns an error naming the first folder above dir that o
// may not enter, judged by mode bits (ACLs are not read). A postgres user
// that cannot reach its data folder fails with a less helpful message.
func (o *owner) checkReachable(dir string) error {
	if o == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pglaunch: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		var bit fs.FileMode = 0o001
		switch {
		case int(st.Uid) == o.uid:
			bit = 0o100
		case slices.Contains(o.gids, int(st.Gid)):
			bit = 0o010
		}
		if fi.Mode().Perm()&bit == 0 {
			return fmt.Errorf("pglaunch: the %s user runs PostgreSQL but cannot enter %s (mode %04o), which holds the data folder %s; make it traversable (chmod o+x %s) or choose a DataDir elsewhere: %w", o.name, p, uint32(fi.Mode().Perm()), dir, p, ErrUnreachable)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// mkdirAll creates dir with mode 0700 and any missing folder above it with
// mode 0755 whatever the umask, so that the user running PostgreSQL can
// reach it. An existing dir is set to 0700, which postgres requires.
func mkdirAll(dir string) error {
	var missing []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	for _, p := range slices.Backward(missing) {
		if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("pglaunch: %w", err)
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return fmt.Errorf("pglaunch: %w", err)
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("pglaunch: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("pglaunch: %w", err)
	}
	return nil
}
