package fleet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// CheckBinDir reports every binary or kwok stage file missing from dir.
func CheckBinDir(dir string) error {
	var errs []error
	for _, b := range binaries {
		p := filepath.Join(dir, b)
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			errs = append(errs, fmt.Errorf("fleet: %s is missing or not executable: run `make tools`", p))
		}
	}
	for _, s := range kwokStages {
		if p := filepath.Join(dir, "kwok-stages", s); !isFile(p) {
			errs = append(errs, fmt.Errorf("fleet: %s is missing: run `make tools`", p))
		}
	}
	return errors.Join(errs...)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
