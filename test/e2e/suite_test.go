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

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
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
	// workDir holds the suite's builds and fleet; removed when every test
	// passed, kept with the fleet logs otherwise.
	workDir string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The test's own clients log through controller-runtime.
	ctrllog.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
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
	workDir = dir
	manager := filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", manager, "./cmd/manager")
	build.Dir, build.Stdout, build.Stderr = repoRoot, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the manager:", err)
		return 1
	}

	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	testFleet, err = fleet.Start(startCtx, fleet.Options{BinDir: binDir, Dir: filepath.Join(dir, "fleet"), Members: e2eMembers(),
		// The cold-start benchmark profiles the host apiserver when asked
		// to (make profile); install.Install then serves the manager's
		// pprof too.
		HostProfiling: os.Getenv(install.ProfileDirEnv) != ""})
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
		// Probe members every second so that readiness changes show within
		// the tests' patience.
		ManagerArgs: []string{"--cluster-status-update-frequency=1s", "--cluster-failure-threshold=3s", "--cluster-success-threshold=2s"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "installing Argosy:", err)
		return 1
	}
	if hostClient, err = client.New(testFleet.HostConfig(), client.Options{Scheme: scheme.New()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Every test starts from members that are Ready and whose nodes the
	// manager's member cache has seen, so placements by capacity are
	// deterministic.
	if err := waitMembersReady(startCtx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code = m.Run()
	return code
}

// waitMembersReady waits until every member's Cluster is Ready with its
// Ready nodes counted (which the cluster controller reads from the same
// member cache as the scheduler).
func waitMembersReady(ctx context.Context) error {
	for _, name := range testFleet.MemberNames() {
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			var cl clusterv1alpha1.Cluster
			if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
				return false, nil
			}
			ready := meta.IsStatusConditionTrue(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
			return ready && cl.Status.NodeSummary != nil && cl.Status.NodeSummary.ReadyNum > 0, nil
		})
		if err != nil {
			return fmt.Errorf("cluster %s never became Ready with its nodes: %w", name, err)
		}
	}
	return nil
}

// e2eMembers sizes the members for the seed scenarios: a Deployment of 10m
// CPU replicas has room for two in member1 (two nodes with room for one
// each: 30m in total would wrongly say three) and one in member2.
func e2eMembers() []fleet.MemberSpec {
	members := fleet.DefaultMembers(2)
	small := func(name string) fleet.NodeSpec {
		return fleet.NodeSpec{Name: name, CPU: "15m", Memory: "1Gi", Pods: "110"}
	}
	members[0].Nodes = []fleet.NodeSpec{small("member1-node-1"), small("member1-node-2")}
	members[1].Nodes = []fleet.NodeSpec{small("member2-node-1")}
	return members
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
