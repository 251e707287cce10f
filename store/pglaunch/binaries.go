package pglaunch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned, wrapped, by FindBinaries (and so by Start with an
// empty Config.BinDir) when the machine has no PostgreSQL server binaries.
var ErrNoBinaries = errors.New("no PostgreSQL binaries found (looked on PATH and in /usr/lib/postgresql/*/bin); install PostgreSQL (e.g. `apt-get install postgresql`) or set CAIRN_DATABASE_URL to use an existing server")

// libRoot is where Debian and Ubuntu install one folder per PostgreSQL major
// version. Tests replace it.
// ErrUnreachable is wrapped by Start's error when the unprivileged user that
// runs PostgreSQL cannot reach the data folder.
var ErrUnreachable = errors.New("data folder unreachable for the PostgreSQL user")

var libRoot = "/usr/lib/postgresql"

// FindBinaries returns a folder holding both initdb and postgres: the one on
// PATH if there is one, else the highest version under
// /usr/lib/postgresql/*/bin. It returns an error wrapping ErrNoBinaries when
// there is none.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(p); checkBinDir(dir) == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(libRoot, "*", "bin"))
	sort.Slice(dirs, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(dirs[j])), filepath.Base(filepath.Dir(dirs[i])))
	})
	for _, dir := range dirs {
		if checkBinDir(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pglaunch: %w", ErrNoBinaries)
}

// checkBinDir returns an error naming the first of initdb and postgres that
// dir lacks or cannot run.
func checkBinDir(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("pglaunch: %s has no runnable %s (want a folder with initdb and postgres, e.g. /usr/lib/postgresql/15/bin)", dir, name)
		}
	}
	return nil
}

// versionLess orders folder names such as "9.6", "15" and "16" by version;
// a part that is not a number sorts below any number.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, erra := strconv.Atoi(pa[i])
		nb, errb := strconv.Atoi(pb[i])
		switch {
		case erra == nil && errb == nil && na != nb:
			return na < nb
		case erra != nil && errb == nil:
			return true
		case erra == nil && errb != nil:
			return false
		case erra != nil && errb != nil && pa[i] != pb[i]:
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}
