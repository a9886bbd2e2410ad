// Package e2e runs Argosy on the local fleet: a real host control plane and
// two real members with kwok nodes, all on loopback. One fleet serves every
// test of the package.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/internal/scheme"
	"argosy.dev/argosy/test/fleet"
	"argosy.dev/argosy/test/install"
	"argosy.dev/argosy/test/paths"
)

var (
	testFleet  *fleet.Fleet
	hostClient client.Client
	binDir     string
	repoRoot   string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if binDir, err = fleet.BinDir(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if repoRoot, err = paths.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "argosy-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	manager := filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", manager, "./cmd/manager")
	build.Dir, build.Stdout, build.Stderr = repoRoot, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the manager:", err)
		return 1
	}

	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	testFleet, err = fleet.Start(startCtx, fleet.Options{BinDir: binDir, Dir: filepath.Join(dir, "fleet"), Members: fleet.DefaultMembers(2)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the fleet:", err)
		return 1
	}
	code := 1
	defer func() {
		if err := testFleet.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the fleet:", err)
		}
		if code == 0 {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintln(os.Stderr, "fleet logs kept in", testFleet.LogDir())
		}
	}()
	err = install.Install(startCtx, testFleet, install.Options{
		Kustomize: kustomizeBin(),
		ConfigDir: filepath.Join(repoRoot, "config"),
		Manager:   manager,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "installing Argosy:", err)
		return 1
	}
	if hostClient, err = client.New(testFleet.HostConfig(), client.Options{Scheme: scheme.New()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code = m.Run()
	return code
}

// kustomizeBin is the pinned kustomize in bin/ (the Makefile names it by version).
func kustomizeBin() string {
	if k := os.Getenv("KUSTOMIZE"); k != "" {
		return k
	}
	matches, _ := filepath.Glob(filepath.Join(binDir, "kustomize-*"))
	if len(matches) == 0 {
		return filepath.Join(binDir, "kustomize")
	}
	return matches[len(matches)-1]
}
