package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/test/fleet"
	"argosy.dev/argosy/test/install"
)

// The tests of this file crash the manager (SIGKILL: no graceful shutdown,
// queues and caches lost) in the middle of a failover and of a
// propagation, and check that the restarted manager finishes the job with
// the outcome of an uninterrupted run, applying nothing twice.

// TestManagerRestartDuringFailover: a user NoExecute taint evicts a
// workload from member1 (purgeMode Gracefully) and the manager is killed
// right after the eviction task appears. Restarted, it ends where an
// uninterrupted failover ends: {member2:2}, member2 running both replicas,
// member1's copy deleted, no task left. A watch on both members'
// Deployments, started before the taint, shows that member2 never ran more
// replicas than that and that each Deployment's spec changed only when
// its replicas did (nothing was applied twice with different content).
func TestManagerRestartDuringFailover(t *testing.T) {
	const name = "restart-failover"
	rbName := wrappedNameOf("apps", "Deployment", "default", name)
	applyYAML(t, workloadYAML(name, 2, "", `
failover: {cluster: {purgeMode: Gracefully}}
placement:`+equalWeightsPlacement))
	explainOnFailure(t, rbName)
	waitPlacement(t, rbName, map[string]int32{"member1": 1, "member2": 1})
	waitDeployment(t, "member1", "default", name, 1)
	waitDeployment(t, "member2", "default", name, 1)

	histories := map[string]*deploymentHistory{}
	for _, c := range testFleet.MemberNames() {
		histories[c] = recordDeployment(t, c, "default", name)
	}
	bindings, err := watchBindings(context.Background(), func(*workv1alpha1.ResourceBinding) {})
	if err != nil {
		t.Fatal(err)
	}
	defer bindings.Stop()

	taintCluster(t, "member1", corev1.Taint{Key: "e2e.argosy.dev/restart", Effect: corev1.TaintEffectNoExecute})
	var atKill *workv1alpha1.ResourceBinding
	timeout := time.After(30 * time.Second)
	for atKill == nil {
		select {
		case ev, ok := <-bindings.ResultChan():
			if !ok {
				t.Fatal("the binding watch ended before an eviction task appeared")
			}
			if rb, ok := ev.Object.(*workv1alpha1.ResourceBinding); ok && rb.Name == rbName && len(rb.Spec.GracefulEvictionTasks) > 0 {
				atKill = rb
			}
		case <-timeout:
			t.Fatal("no eviction task within 30 s of the taint")
		}
	}
	killManager(t)
	t.Logf("manager killed with binding generation %d, placement %v, tasks %s, %s", atKill.Generation,
		placementOf(atKill), tasksOf(atKill), conditionsOf(atKill.Status.Conditions))
	resumeManager(t)

	waitPlacement(t, rbName, map[string]int32{"member2": 2})
	waitDeployment(t, "member2", "default", name, 2)
	waitMemberGone(t, "member1", deploymentKey("default", name), 60*time.Second)
	eventually(t, 30*time.Second, "no eviction task left", func(ctx context.Context) (bool, string) {
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: rbName}, &rb); err != nil {
			return false, err.Error()
		}
		return len(rb.Spec.GracefulEvictionTasks) == 0, "tasks " + tasksOf(&rb)
	})
	// Quiet for a moment, so that a late second write would be seen.
	consistently(t, 2*time.Second, "the failover outcome holds", placementAndCopies(t, rbName, "default", name, map[string]int32{"member2": 2}))

	m1 := histories["member1"].check(t, "member1")
	m2 := histories["member2"].check(t, "member2")
	if m1.last != watch.Deleted {
		t.Errorf("member1's copy: last event %s, want Deleted", m1.last)
	}
	if m2.maxReplicas > 2 {
		t.Errorf("member2 ran up to %d replicas, more than the final 2", m2.maxReplicas)
	}
	if m2.replicaChanges != 1 {
		t.Errorf("member2's replicas changed %d times, want once (1 to 2)", m2.replicaChanges)
	}
}

// TestManagerRestartDuringPropagation: 40 Deployment templates (2 replicas,
// no requests, divided 1:1 over both members) are claimed by one policy
// (by label), and the manager is killed once about half of them have
// bindings. Restarted, it propagates all of them: every binding is
// FullyApplied, and each member holds exactly the 40 Deployments (and
// Works), each with spec.replicas 1 and metadata.generation 1: applied
// once, never with other content first.
func TestManagerRestartDuringPropagation(t *testing.T) {
	const ns, n = "e2e-restart-propagation", 40
	ctx := context.Background()
	start := time.Now()
	if err := ensureNS(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = hostClient.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	for _, c := range testFleet.MemberNames() {
		exNamespaceIn(t, c, ns)
	}
	names := templateNames(ns, n)
	t.Cleanup(func() { deletePropagated(t, ns, names) })
	// The templates first, unclaimed (no bindings yet): creating them needs
	// the manager's webhook.
	for i := range n {
		if err := hostClient.Create(ctx, labelledTemplate(t, ns, fmt.Sprintf("d%d", i))); err != nil {
			t.Fatal(err)
		}
	}

	latest := map[string]*workv1alpha1.ResourceBinding{}
	bindings, err := watchBindings(ctx, func(rb *workv1alpha1.ResourceBinding) {
		if names[rb.Name] {
			latest[rb.Name] = rb
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bindings.Stop()
	applyYAML(t, fmt.Sprintf(`
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: restart, namespace: %s}
spec:
  resourceSelectors:
  - {apiVersion: apps/v1, kind: Deployment, labelSelector: {matchLabels: {e2e: restart-propagation}}}
  placement:%s
`, ns, strings.ReplaceAll(equalWeightsPlacement, "\n", "\n  ")))
	timeout := time.After(30 * time.Second)
	for len(latest) < n/2 {
		select {
		case ev, ok := <-bindings.ResultChan():
			if !ok {
				t.Fatal("the binding watch ended")
			}
			if rb, ok := ev.Object.(*workv1alpha1.ResourceBinding); ok && names[rb.Name] && ev.Type != watch.Deleted {
				latest[rb.Name] = rb
			}
		case <-timeout:
			t.Fatalf("only %d of %d bindings within 30 s of the policy", len(latest), n)
		}
	}
	killManager(t)
	applied := 0
	for _, rb := range latest {
		if fullyApplied(rb) {
			applied++
		}
	}
	t.Logf("manager killed after %s with %d of %d bindings seen, %d of them FullyApplied",
		time.Since(start).Round(10*time.Millisecond), len(latest), n, applied)
	resumeManager(t)

	if err := waitBindings(ctx, names, fullyApplied, nil, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(maps.Keys(names))
	for _, c := range testFleet.MemberNames() {
		var deps appsv1.DeploymentList
		if err := exMemberOf(t, c).List(ctx, &deps, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range deps.Items {
			got = append(got, wrappedNameOf("apps", "Deployment", ns, d.Name))
			if ptrVal(d.Spec.Replicas) != 1 || d.Generation != 1 {
				t.Errorf("%s/%s in %s: spec.replicas %d, generation %d; want 1 and 1 (applied once)", ns, d.Name, c, ptrVal(d.Spec.Replicas), d.Generation)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %d Deployments in %s, want exactly the %d of the templates", c, len(got), ns, n)
		}
		// The per-cluster outcome is in each binding's status (the Works
		// of push members are kept in the manager's memory).
		var bindings workv1alpha1.ResourceBindingList
		if err := hostClient.List(ctx, &bindings, client.InNamespace(templateNamespace)); err != nil {
			t.Fatal(err)
		}
		count := 0
		for _, rb := range bindings.Items {
			for _, it := range rb.Status.AggregatedStatus {
				if names[rb.Name] && it.ClusterName == c && it.Applied {
					count++
				}
			}
		}
		if count != n {
			t.Errorf("%d bindings report their object applied in %s, want %d", count, c, n)
		}
	}
	t.Logf("propagated after the restart in %s in all", time.Since(start).Round(10*time.Millisecond))
}

// labelledTemplate is a template of Deployment name in ns with 2 replicas
// and the label the test's policy selects.
func labelledTemplate(t *testing.T, ns, name string) *workv1alpha1.ResourceTemplate {
	t.Helper()
	rt := benchTemplate(ns, name)
	var obj map[string]any
	if err := json.Unmarshal(rt.Spec.Template.Raw, &obj); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(obj, int64(2), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedStringMap(obj, map[string]string{"e2e": "restart-propagation"}, "metadata", "labels"); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	rt.Spec.Template.Raw = raw
	return rt
}

// deletePropagated deletes the templates and waits until their bindings
// and their Deployments in every member are gone.
func deletePropagated(t *testing.T, ns string, names map[string]bool) {
	var wg sync.WaitGroup
	for name := range names {
		wg.Go(func() { deleteAndWait(t, templateObject(name)) })
	}
	wg.Wait()
	for _, c := range testFleet.MemberNames() {
		err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
			var deps appsv1.DeploymentList
			if err := exMemberOf(t, c).List(ctx, &deps, client.InNamespace(ns)); err != nil {
				return false, nil
			}
			return len(deps.Items) == 0, nil
		})
		if err != nil {
			t.Errorf("Deployments of %s still in %s: %v", ns, c, err)
		}
	}
}

// killManager kills the manager (a crash) and makes sure it runs again
// when the test ends, whatever happened.
func killManager(t *testing.T) {
	t.Helper()
	if err := install.KillManager(testFleet); err != nil {
		t.Fatalf("killing the manager: %v", err)
	}
	t.Cleanup(func() {
		if !managerRunning() {
			resumeManager(t)
		}
	})
}

func managerRunning() bool {
	return slices.ContainsFunc(testFleet.Usage(), func(u fleet.ProcessUsage) bool { return u.Name == install.ManagerProcess })
}

// resumeManager starts the killed manager again and waits until it is ready.
func resumeManager(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := install.ResumeManager(ctx, testFleet); err != nil {
		t.Fatalf("restarting the manager: %v", err)
	}
}

// deploymentHistory is every state of one member Deployment that a watch
// delivered: the state listed when the watch started, then each event.
type deploymentHistory struct {
	mu     sync.Mutex
	states []deploymentState
	ended  bool // the watch ended before the test stopped it
}

type deploymentState struct {
	event      watch.EventType
	uid        string
	generation int64
	replicas   int32
}

// recordDeployment starts recording the Deployment's states in the member
// until the test ends.
func recordDeployment(t *testing.T, cluster, ns, name string) *deploymentHistory {
	t.Helper()
	cs, err := kubernetes.NewForConfig(testFleet.MemberConfig(cluster))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	list, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		t.Fatalf("listing Deployment %s/%s in %s: %v", ns, name, cluster, err)
	}
	h := &deploymentHistory{}
	for i := range list.Items {
		h.add("Listed", &list.Items[i])
	}
	w, err := cs.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watching Deployment %s/%s in %s: %v", ns, name, cluster, err)
	}
	go func() {
		for ev := range w.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok {
				h.add(ev.Type, d)
			}
		}
		h.mu.Lock()
		h.ended = ctx.Err() == nil
		h.mu.Unlock()
	}()
	return h
}

func (h *deploymentHistory) add(ev watch.EventType, d *appsv1.Deployment) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.states = append(h.states, deploymentState{event: ev, uid: string(d.UID), generation: d.Generation, replicas: ptrVal(d.Spec.Replicas)})
}

// historySummary is what check found in a history.
type historySummary struct {
	last           watch.EventType
	maxReplicas    int32
	replicaChanges int
}

// check fails the test when the Deployment was created twice, or when its
// generation moved without its replicas changing (the spec was rewritten
// with other content) or more often than they changed, and summarises the
// history.
func (h *deploymentHistory) check(t *testing.T, cluster string) historySummary {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("%s: %v", cluster, h.states)
	if h.ended {
		t.Errorf("%s: the Deployment watch ended early; the history is incomplete", cluster)
	}
	var s historySummary
	var generations int64
	for i, st := range h.states {
		s.last = st.event
		s.maxReplicas = max(s.maxReplicas, st.replicas)
		if i == 0 {
			continue
		}
		prev := h.states[i-1]
		if st.uid != prev.uid {
			t.Errorf("%s: the Deployment was deleted and created again (uid %s, then %s)", cluster, prev.uid, st.uid)
			continue
		}
		if st.replicas != prev.replicas {
			s.replicaChanges++
		}
		if st.generation != prev.generation {
			generations += st.generation - prev.generation
			if st.replicas == prev.replicas {
				t.Errorf("%s: generation %d to %d while spec.replicas stayed %d: the spec was written with other content", cluster, prev.generation, st.generation, st.replicas)
			}
		}
	}
	if generations != int64(s.replicaChanges) {
		t.Errorf("%s: the generation grew by %d for %d replica changes", cluster, generations, s.replicaChanges)
	}
	return s
}

func (s deploymentState) String() string {
	return fmt.Sprintf("%s(gen %d, replicas %d)", s.event, s.generation, s.replicas)
}
