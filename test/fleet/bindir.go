package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BinDirEnv names the environment variable that points at the tool binaries.
const BinDirEnv = "ARGOSY_BIN"

// binaries the fleet runs, relative to the bin dir.
var binaries = []string{
	string(Etcd), string(KubeAPIServer), string(KubeControllerManager),
	string(KubeScheduler), string(Kwok),
}

// kwokStages are the Stage files kwok needs to make nodes and pods live; the
// Makefile copies them out of the kwok module source.
var kwokStages = []string{
	"node-initialize.yaml", "node-heartbeat-with-lease.yaml",
	"pod-ready.yaml", "pod-complete.yaml", "pod-delete.yaml",
}

// BinDir finds the directory with the fleet's binaries: $ARGOSY_BIN if set,
// else the bin/ next to the nearest go.mod above the working directory. It
// fails, naming the missing file and the fix, unless every binary is there.
func BinDir() (string, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for d := wd; ; d = filepath.Dir(d) {
			if isFile(filepath.Join(d, "go.mod")) && isDir(filepath.Join(d, "bin")) {
				dir = filepath.Join(d, "bin")
				break
			}
			if filepath.Dir(d) == d {
				return "", fmt.Errorf("fleet: no %s set and no bin/ next to a go.mod above %s: run `make tools`", BinDirEnv, wd)
			}
		}
	}
	if err := CheckBinDir(dir); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// CheckBinDir fails, naming every missing binary or kwok stage file and the
// fix, unless dir holds all of them.
func CheckBinDir(dir string) error {
	if !isDir(dir) {
		return fmt.Errorf("fleet: bin dir %s does not exist: run `make tools` (or set %s)", dir, BinDirEnv)
	}
	var missing []string
	for _, b := range binaries {
		st, err := os.Stat(filepath.Join(dir, b))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	for _, s := range kwokStages {
		if p := filepath.Join("kwok-stages", s); !isFile(filepath.Join(dir, p)) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("fleet: missing from %s: %s: run `make tools`", dir, strings.Join(missing, ", "))
	}
	return nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
