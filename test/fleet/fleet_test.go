package fleet

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// testMembers: member1 with the defaults, member2 with its own labels, a
// second zone and a smaller node, to see configuration reach the nodes.
func testMembers() []MemberSpec {
	m := DefaultMembers(2)
	m[1].Labels = map[string]string{"argosy.dev/tier": "gold"}
	m[1].Nodes = []NodeSpec{
		{Name: "member2-node-1"},
		{Name: "member2-node-2", CPU: "4", Memory: "16Gi", Pods: "50", Zone: "eu-west-1b", Labels: map[string]string{"disk": "ssd"}},
	}
	return m
}

// shared is the package's one fleet (host + 2 members), started by the first
// test that needs it and stopped by TestMain: starting one costs ~1.5 GB and
// many seconds, so tests share it and only touch what they create. Its Dir
// (logs/) is kept when a test fails, or always with ARGOSY_FLEET_KEEP=1.
var shared struct {
	once sync.Once
	f    *Fleet
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	// On Ctrl-C or SIGTERM stop the fleet in order rather than leave it
	// to Pdeathsig's SIGKILL.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "fleet test: %v, stopping the fleet\n", s)
		if shared.f != nil {
			_ = shared.f.Stop()
		}
		os.Exit(130)
	}()
	code := m.Run()
	if shared.f != nil {
		if err := shared.f.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "fleet test: stop:", err)
			code = 1
		}
	}
	if shared.dir != "" {
		if code == 0 && os.Getenv("ARGOSY_FLEET_KEEP") == "" {
			_ = os.RemoveAll(shared.dir)
		} else {
			fmt.Fprintln(os.Stderr, "fleet test: logs kept in", shared.dir+"/logs")
		}
	}
	os.Exit(code)
}

func testLogger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), prefix, args)
	}, funcr.Options{})
}

// sharedFleet fails the test, never skips it, when the binaries are missing:
// a green run must mean the fleet really ran.
func sharedFleet(t *testing.T) *Fleet {
	t.Helper()
	shared.once.Do(func() {
		bin, err := BinDir()
		if err != nil {
			shared.err = err
			return
		}
		if shared.dir, err = os.MkdirTemp("", "argosy-fleet-test-"); err != nil {
			shared.err = err
			return
		}
		shared.f, shared.err = Start(context.Background(), Options{
			BinDir: bin, Dir: shared.dir, Members: testMembers(), Logger: testLogger(),
		})
		if shared.err == nil {
			t.Logf("shared fleet: %s, RSS %d MB", shared.f.Timing(), TotalRSS(shared.f.Usage())>>20)
		}
	})
	if shared.err != nil {
		t.Fatalf("local fleet: %v", shared.err)
	}
	return shared.f
}

func clientFor(t *testing.T, f *Fleet, member string) kubernetes.Interface {
	t.Helper()
	cfg := f.MemberConfig(member)
	if cfg == nil {
		t.Fatalf("no member %s", member)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

func TestMemberNodesReady(t *testing.T) {
	f := sharedFleet(t)
	ctx := t.Context()
	nodes, err := clientFor(t, f, "member1").CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
		if !NodeReady(&n) {
			t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
		}
		if len(n.Spec.Taints) > 0 {
			t.Errorf("node %s has taints %v; ordinary pods would not schedule", n.Name, n.Spec.Taints)
		}
	}
	if want := []string{"member1-node-1", "member1-node-2"}; !slices.Equal(names, want) {
		t.Errorf("member1 nodes = %v, want %v", names, want)
	}
	// The host runs no kwok and has no nodes.
	host := kubernetes.NewForConfigOrDie(f.HostConfig())
	if hn, err := host.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil || len(hn.Items) != 0 {
		t.Errorf("host nodes = %v, %v; want none", hn, err)
	}
}

func TestNodeLabelsAndCapacity(t *testing.T) {
	f := sharedFleet(t)
	ctx := t.Context()
	type want struct {
		region, zone, cpu, memory, pods string
		labels                          map[string]string
	}
	cases := map[string]map[string]want{
		"member1": {
			"member1-node-1": {region: "us-east-1", zone: "us-east-1a", cpu: "8", memory: "32Gi", pods: "110"},
		},
		"member2": {
			"member2-node-1": {region: "eu-west-1", zone: "eu-west-1a", cpu: "8", memory: "32Gi", pods: "110",
				labels: map[string]string{"argosy.dev/tier": "gold", LabelProvider: "kwok", LabelMember: "member2"}},
			"member2-node-2": {region: "eu-west-1", zone: "eu-west-1b", cpu: "4", memory: "16Gi", pods: "50",
				labels: map[string]string{"argosy.dev/tier": "gold", "disk": "ssd"}},
		},
	}
	for member, nodes := range cases {
		c := clientFor(t, f, member)
		for name, w := range nodes {
			n, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			l := n.Labels
			if l[LabelRegion] != w.region || l[LabelZone] != w.zone {
				t.Errorf("%s/%s region/zone = %q/%q, want %q/%q", member, name, l[LabelRegion], l[LabelZone], w.region, w.zone)
			}
			for k, v := range w.labels {
				if l[k] != v {
					t.Errorf("%s/%s label %s = %q, want %q", member, name, k, l[k], v)
				}
			}
			for res, q := range map[corev1.ResourceName]string{corev1.ResourceCPU: w.cpu, corev1.ResourceMemory: w.memory, corev1.ResourcePods: w.pods} {
				want := resource.MustParse(q)
				if got := n.Status.Allocatable[res]; got.Cmp(want) != 0 {
					t.Errorf("%s/%s allocatable %s = %s, want %s", member, name, res, got.String(), q)
				}
				if got := n.Status.Capacity[res]; got.Cmp(want) != 0 {
					t.Errorf("%s/%s capacity %s = %s, want %s", member, name, res, got.String(), q)
				}
			}
		}
	}
}

// TestDeploymentReady: the member's real scheduler places the pods on kwok
// nodes, kwok runs them, and the member's kube-controller-manager reports
// the Deployment ready.
func TestDeploymentReady(t *testing.T) {
	f := sharedFleet(t)
	ctx := t.Context()
	c := clientFor(t, f, "member2")
	ns := createNamespace(t, c, "deploy")
	d := createDeployment(t, c, ns, "web", 2)
	waitReadyReplicas(t, c, ns, d.Name, 2)

	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("got %d pods, want 2", len(pods.Items))
	}
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Spec.NodeName, "member2-node-") {
			t.Errorf("pod %s on node %q, want a member2 node", p.Name, p.Spec.NodeName)
		}
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			t.Errorf("pod %s phase %s ip %q, want Running with an IP", p.Name, p.Status.Phase, p.Status.PodIP)
		}
	}
}

// TestMemberAPIServerRestart: a stopped apiserver fails /readyz; restarted,
// it serves the same data and the member's controllers, scheduler and kwok
// reconnect (a scale-up goes through).
func TestMemberAPIServerRestart(t *testing.T) {
	f := sharedFleet(t)
	ctx := t.Context()
	c := clientFor(t, f, "member1")
	ns := createNamespace(t, c, "restart")
	d := createDeployment(t, c, ns, "survivor", 1)
	waitReadyReplicas(t, c, ns, d.Name, 1)

	if err := f.StopMemberAPIServer("member1"); err != nil {
		t.Fatal(err)
	}
	if err := Readyz(ctx, c); err == nil {
		t.Fatal("member1 /readyz succeeded with its apiserver stopped")
	}
	if err := Readyz(ctx, clientFor(t, f, "member2")); err != nil {
		t.Errorf("member2 /readyz failed while only member1 is down: %v", err)
	}
	if err := f.StartMemberAPIServer(ctx, "member1"); err != nil {
		t.Fatal(err)
	}
	if err := Readyz(ctx, c); err != nil {
		t.Fatalf("member1 /readyz after restart: %v", err)
	}
	got, err := c.AppsV1().Deployments(ns).Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("deployment lost across the restart: %v", err)
	}
	if got.UID != d.UID {
		t.Fatalf("deployment UID %s, want %s", got.UID, d.UID)
	}
	got.Spec.Replicas = ptr.To[int32](2)
	if _, err := c.AppsV1().Deployments(ns).Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReadyReplicas(t, c, ns, d.Name, 2)
}

// TestStopLeavesNoProcesses runs a second, small fleet next to the shared
// one (own ports, own etcd) and checks Stop ends everything it recorded.
func TestStopLeavesNoProcesses(t *testing.T) {
	sharedFleet(t) // fail the same way (make tools) when binaries are missing
	bin, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	members := []MemberSpec{{Name: "solo", Region: "r1", Zone: "r1a", Nodes: []NodeSpec{{Name: "solo-node"}}}}
	f, err := Start(t.Context(), Options{BinDir: bin, Dir: dir, Members: members, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = f.Stop()
		}
	}()
	recs, err := Records(dir)
	if err != nil {
		t.Fatal(err)
	}
	// etcd; host apiserver and kcm; member apiserver, kcm, scheduler, kwok.
	if len(recs) != 7 {
		t.Errorf("%d pid records, want 7: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if !r.Alive() {
			t.Errorf("recorded process %s (pid %d) is not running", r.File, r.PID)
		}
	}
	if _, err := Start(t.Context(), Options{BinDir: bin, Dir: dir, Members: members}); err == nil || !strings.Contains(err.Error(), "still runs") {
		t.Errorf("second Start in the same dir: err = %v, want a 'still runs' error", err)
	}

	stopped = true
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Alive() {
			t.Errorf("%s (pid %d) still alive after Stop", r.File, r.PID)
		}
		if err := syscall.Kill(r.PID, 0); err != syscall.ESRCH {
			t.Errorf("pid %d of %s: kill -0 = %v, want ESRCH", r.PID, r.File, err)
		}
	}
	if left, _ := Records(dir); len(left) != 0 {
		t.Errorf("pid records left after Stop: %+v", left)
	}
	if err := f.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func createNamespace(t *testing.T, c kubernetes.Interface, prefix string) string {
	t.Helper()
	ns, err := c.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func createDeployment(t *testing.T, c kubernetes.Interface, ns, name string, replicas int32) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.k8s.io/pause:3.10", // never pulled: kwok runs nothing
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("100m"),
						corev1.ResourceMemory: resource.MustParse("64Mi"),
					}},
				}}},
			},
		},
	}
	d, err := c.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func waitReadyReplicas(t *testing.T, c kubernetes.Interface, ns, name string, want int32) {
	t.Helper()
	var last appsv1.DeploymentStatus
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil // e.g. the apiserver is still settling after a restart
		}
		last = d.Status
		return d.Status.ObservedGeneration == d.Generation && d.Status.ReadyReplicas == want, nil
	})
	if err != nil {
		t.Fatalf("deployment %s/%s never reached readyReplicas=%d: %v; last status %+v", ns, name, want, err, last)
	}
}

// TestDeleteNodes: a node added with AddNodes and running a Pod is deleted,
// and so is its Pod, at once (not when the pod garbage collector gets to
// it); the Deployment's replacement Pod stays pending, bound to no node.
func TestDeleteNodes(t *testing.T) {
	f := sharedFleet(t)
	ctx := t.Context()
	c := clientFor(t, f, "member1")
	const node = "member1-extra-1"
	if err := f.AddNodes(ctx, "member1", NodeSpec{Name: node}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.DeleteNodes(context.Background(), "member1", node) })
	ns := createNamespace(t, c, "delete-nodes")
	d := createDeployment(t, c, ns, "pinned", 1)
	d.Spec.Template.Spec.NodeSelector = map[string]string{corev1.LabelHostname: node}
	if _, err := c.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			return false, nil
		}
		return len(pods.Items) == 1 && pods.Items[0].Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("no Running pod on %s: %v", node, err)
	}

	start := time.Now()
	if err := f.DeleteNodes(ctx, "member1", node); err != nil {
		t.Fatal(err)
	}
	t.Logf("DeleteNodes took %s", time.Since(start).Round(10*time.Millisecond))
	if _, err := c.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err == nil {
		t.Errorf("node %s still exists", node)
	}
	pods, err := c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Errorf("%d pods still bound to the deleted node %s", len(pods.Items), node)
	}
	if err := f.DeleteNodes(ctx, "member1", node); err != nil {
		t.Errorf("deleting a deleted node again: %v", err)
	}
}
