package fleet

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tests here need no binaries.

func TestBinDirMissingSaysMakeTools(t *testing.T) {
	t.Setenv(BinDirEnv, t.TempDir())
	_, err := BinDir()
	if err == nil || !strings.Contains(err.Error(), "run `make tools`") || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("BinDir() error = %v, want one naming kube-apiserver and `make tools`", err)
	}
}

func TestNodeObjectLabels(t *testing.T) {
	m := &MemberSpec{Name: "m", Region: "r", Zone: "ra", Provider: "p", Labels: map[string]string{"a": "member", "b": "member"}}
	nodes, err := nodesWithDefaults([]NodeSpec{{Name: "n", Zone: "rb", Labels: map[string]string{"b": "node"}}})
	if err != nil {
		t.Fatal(err)
	}
	n := nodeObject(m, nodes[0])
	for k, v := range map[string]string{LabelRegion: "r", LabelZone: "rb", LabelProvider: "p", LabelMember: "m", "a": "member", "b": "node", "kubernetes.io/hostname": "n"} {
		if n.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], v)
		}
	}
	if n.Annotations[KwokNodeAnnotation] != "fake" || len(n.Spec.Taints) != 0 {
		t.Errorf("node must carry the kwok annotation and no taints: %+v", n)
	}
	if got := n.Status.Allocatable.Cpu().String(); got != "8" {
		t.Errorf("default cpu = %s, want 8", got)
	}
}

func TestOptionsValidation(t *testing.T) {
	if _, err := nodesWithDefaults([]NodeSpec{{Name: "n", CPU: "lots"}}); err == nil {
		t.Error("bad quantity accepted")
	}
	if _, err := nodesWithDefaults([]NodeSpec{{Name: "n"}, {Name: "n"}}); err == nil {
		t.Error("duplicate node accepted")
	}
	if got := DefaultMembers(4); got[3].Region != "us-east-1" || got[1].Zone != "eu-west-1a" || len(got[0].Nodes) != 2 {
		t.Errorf("DefaultMembers(4) = %+v", got)
	}
}

// TestProcessLifecycle: a process is recorded while it runs, stop ends it
// and drops the record, and a record whose pid runs something else (here: a
// different command line) is not "alive".
func TestProcessLifecycle(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	sp := newSpawner()
	defer sp.close()
	p := &process{name: "sleep", path: sleep, args: []string{"300"},
		logPath: filepath.Join(dir, "sleep.log"), recPath: filepath.Join(dir, "sleep.json")}
	if err := p.start(sp, testLogger()); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRecord(p.recPath)
	if err != nil {
		t.Fatal(err)
	}
	// Start returns as the child execs; /proc/<pid>/cmdline shows the new
	// command line a moment later.
	deadline := time.Now().Add(5 * time.Second)
	for !r.Alive() {
		if time.Now().After(deadline) {
			t.Fatalf("record %+v not alive", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	other := r
	other.Args = []string{"301"}
	if other.Alive() {
		t.Error("a record with another command line counts as alive")
	}
	p.stop(testLogger())
	if r.Alive() {
		t.Error("still alive after stop")
	}
	if _, err := os.Stat(p.recPath); !os.IsNotExist(err) {
		t.Errorf("record not removed: %v", err)
	}
}

// TestProcessKill: kill ends a process at once even when it ignores SIGTERM
// (stop would wait stopTimeout for it), and drops its record.
func TestProcessKill(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh binary")
	}
	dir := t.TempDir()
	sp := newSpawner()
	defer sp.close()
	p := &process{name: "stubborn", path: sh, args: []string{"-c", "trap '' TERM; while :; do sleep 1; done"},
		logPath: filepath.Join(dir, "stubborn.log"), recPath: filepath.Join(dir, "stubborn.json")}
	if err := p.start(sp, testLogger()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.kill(testLogger())
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("kill took %s", d)
	}
	if !p.exited() {
		t.Fatal("still running after kill")
	}
	if _, err := os.Stat(p.recPath); !os.IsNotExist(err) {
		t.Errorf("record not removed: %v", err)
	}
	p.kill(testLogger()) // a second kill is harmless
}
