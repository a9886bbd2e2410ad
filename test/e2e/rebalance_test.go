package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/test/fleet"
)

// The tests of this file move workloads on purpose: taints that evict,
// capacity that changes, and WorkloadRebalancers that ask for a fresh
// placement. Helpers shared with failover_test.go and restart_test.go are
// here too.

// seed000Foo is the template (and binding) of seed 000's Deployment foo.
const seed000Foo = "deployment-default-foo-8d3d19e8"

// TestSeed000WorkloadRebalancer plays seed 000 step by step: foo spreads
// {member1:2, member2:1}; a NoExecute taint on member1 that foo tolerates
// for 0 s moves everything to member2, whose new copy is healthy before
// member1's is deleted; removing the taint moves nothing back (scheduling
// is lazy), and neither does new room in member1; a WorkloadRebalancer
// then schedules foo afresh to {member1:2, member2:1}, reports Successful,
// and deletes itself ttlSecondsAfterFinished after finishing.
func TestSeed000WorkloadRebalancer(t *testing.T) {
	// Step 1: Deployment foo and PropagationPolicy default-pp.
	applySeed(t, "000-workload-rebalancer/01-deployment-and-policy.yaml")
	explainOnFailure(t, seed000Foo)
	rb := waitScheduled(t, seed000Foo)
	expectPlacement(t, rb, map[string]int32{"member1": 2, "member2": 1})
	waitDeployment(t, "member1", "default", "foo", 2)
	waitDeployment(t, "member2", "default", "foo", 1)

	// member2 has room for one replica; the tutorial's member2 can take all
	// three, so give it two more nodes first.
	addNodes(t, "member2", "member2-extra-1", "member2-extra-2")

	// Step 2.1: karmadactl taint clusters member1 workload-rebalancer-test:NoExecute
	// (the CLI sets key and effect only).
	taint := corev1.Taint{Key: "workload-rebalancer-test", Effect: corev1.TaintEffectNoExecute}
	untaint := taintCluster(t, "member1", taint)
	waitPlacement(t, seed000Foo, map[string]int32{"member2": 3})
	// Graceful eviction: member1's copy goes only once member2 runs all three.
	var m2Healthy bool
	eventually(t, 60*time.Second, "foo healthy in member2, then deleted from member1", func(ctx context.Context) (bool, string) {
		if !m2Healthy {
			m2Healthy, _ = deploymentIs(ctx, t, "member2", "default", "foo", 3)
		}
		err := exMemberOf(t, "member1").Get(ctx, client.ObjectKey{Namespace: "default", Name: "foo"}, deploymentKey("default", "foo"))
		gone := apierrors.IsNotFound(err)
		if gone && !m2Healthy {
			t.Errorf("foo was deleted from member1 before its three replicas were available in member2")
		}
		return gone && m2Healthy, fmt.Sprintf("member2 healthy %v, member1 copy gone %v", m2Healthy, gone)
	})

	// Step 2.2: karmadactl taint clusters member1 workload-rebalancer-test:NoExecute-
	untaint()
	stays := map[string]int32{"member2": 3}
	consistently(t, 3*time.Second, "foo stays in member2 after the taint is removed", placementAndCopies(t, seed000Foo, "default", "foo", stays))

	// Room for the rebalance: member2 runs three replicas on three nodes,
	// member1 gets six nodes, so a fresh dynamic weight is 6:3, that is 2:1.
	// New room alone moves nothing.
	addNodes(t, "member1", "member1-extra-1", "member1-extra-2", "member1-extra-3", "member1-extra-4")
	consistently(t, 3*time.Second, "foo stays in member2 after member1 grew", placementAndCopies(t, seed000Foo, "default", "foo", stays))

	// Step 3: WorkloadRebalancer demo.
	created := time.Now()
	applySeed(t, "000-workload-rebalancer/02-rebalancer.yaml")
	// Step 4: its status.
	wr := waitRebalancerFinished(t, "demo")
	expectRebalanced(t, wr, rebalancedWorkload("default", "foo"))
	// Step 5: the replicas are back in member1, and the scheduler says so.
	waitPlacement(t, seed000Foo, map[string]int32{"member1": 2, "member2": 1})
	waitDeployment(t, "member1", "default", "foo", 2)
	waitDeployment(t, "member2", "default", "foo", 1)
	eventually(t, 30*time.Second, "ScheduleBindingSucceed {member1:2, member2:1} after the rebalancer", func(ctx context.Context) (bool, string) {
		return eventSince(ctx, seed000Foo, "ScheduleBindingSucceed", "Result: {member1:2, member2:1}", created)
	})

	// Step 6: ttlSecondsAfterFinished (3 s instead of the tutorial's 300).
	objs, err := readSeedObjects("000-workload-rebalancer/03-rebalancer-ttl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(objs[0].Object, int64(3), "spec", "ttlSecondsAfterFinished"); err != nil {
		t.Fatal(err)
	}
	if err := hostClient.Patch(context.Background(), objs[0], client.Apply, client.FieldOwner("e2e"), client.ForceOwnership); err != nil {
		t.Fatalf("setting ttlSecondsAfterFinished on demo: %v", err)
	}
	eventually(t, 20*time.Second, "WorkloadRebalancer demo deleted", func(ctx context.Context) (bool, string) {
		err := hostClient.Get(ctx, client.ObjectKey{Name: "demo"}, &appsv1alpha1.WorkloadRebalancer{})
		return apierrors.IsNotFound(err), fmt.Sprintf("get: %v", err)
	})
	// finishTime has whole seconds, so the deletion comes 3 to 4 s after it.
	if after := time.Since(wr.Status.FinishTime.Time); after < 3*time.Second {
		t.Errorf("demo was deleted %s after its finishTime, before its ttlSecondsAfterFinished (3 s)", after.Round(100*time.Millisecond))
	}
}

// TestClusterAffinitiesRebalanceToPrimary: a workload that fell back to its
// backup affinity group because the primary (member2) had no room stays
// there when the primary grows (scheduling is lazy), and a
// WorkloadRebalancer brings it back to the primary. Karmada cannot do this
// (karmada-io/karmada#4990, #7717): it only moves forward from the group
// it observes.
func TestClusterAffinitiesRebalanceToPrimary(t *testing.T) {
	const name = "to-primary"
	applyYAML(t, workloadYAML(name, 3, "10m", `
placement:
  clusterAffinities:
  - affinityName: primary
    clusterNames: [member2]
  - affinityName: backup
    clusterNames: [member1, member2]
  replicaScheduling:
    replicaSchedulingType: Divided
    replicaDivisionPreference: Weighted
    weightPreference: {dynamicWeight: AvailableReplicas}
`))
	rbName := wrappedNameOf("apps", "Deployment", "default", name)
	explainOnFailure(t, rbName)
	rb := waitPlacement(t, rbName, map[string]int32{"member1": 2, "member2": 1})
	if rb.Status.SchedulerObservedAffinityName != "backup" {
		t.Fatalf("scheduled with affinity group %q, want backup", rb.Status.SchedulerObservedAffinityName)
	}
	waitDeployment(t, "member1", "default", name, 2)
	waitDeployment(t, "member2", "default", name, 1)

	addNodes(t, "member2", "member2-extra-1", "member2-extra-2")
	consistently(t, 3*time.Second, "the workload stays in the backup group", placementAndCopies(t, rbName, "default", name, map[string]int32{"member1": 2, "member2": 1}))

	createRebalancer(t, "to-primary", rebalancedWorkload("default", name))
	expectRebalanced(t, waitRebalancerFinished(t, "to-primary"), rebalancedWorkload("default", name))
	rb = waitPlacement(t, rbName, map[string]int32{"member2": 3})
	if rb.Status.SchedulerObservedAffinityName != "primary" {
		t.Errorf("rebalanced with affinity group %q, want primary", rb.Status.SchedulerObservedAffinityName)
	}
	waitDeployment(t, "member2", "default", name, 3)
	waitMemberGone(t, "member1", deploymentKey("default", name), 30*time.Second)
}

// workloadYAML is a ResourceTemplate of Deployment name in namespace
// default (each replica requesting cpu, unless empty) and the
// PropagationPolicy name that selects it, with policySpec (YAML, without
// resourceSelectors) as the rest of the policy's spec.
func workloadYAML(name string, replicas int, cpu, policySpec string) string {
	resources := ""
	if cpu != "" {
		resources = "\n            resources: {requests: {cpu: " + cpu + "}}"
	}
	var spec strings.Builder
	for line := range strings.Lines(strings.Trim(policySpec, "\n")) {
		spec.WriteString("  " + line)
	}
	return fmt.Sprintf(`
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: %[1]s, namespace: default}
    spec:
      replicas: %[2]d
      selector: {matchLabels: {app: %[1]s}}
      template:
        metadata: {labels: {app: %[1]s}}
        spec:
          terminationGracePeriodSeconds: 0
          containers:
          - name: app
            image: nginx%[3]s
---
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: %[1]s, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment, name: %[1]s}]
%[4]s
`, name, replicas, resources, spec.String())
}

// placementOf is a binding's spec.clusters as a map.
func placementOf(rb *workv1alpha1.ResourceBinding) map[string]int32 {
	got := map[string]int32{}
	for _, tc := range rb.Spec.Clusters {
		got[tc.Name] = tc.Replicas
	}
	return got
}

// waitPlacement waits until the binding is Scheduled for its generation
// with exactly the placement want.
func waitPlacement(t *testing.T, name string, want map[string]int32) *workv1alpha1.ResourceBinding {
	t.Helper()
	var rb workv1alpha1.ResourceBinding
	last := "not read yet"
	eventually(t, 60*time.Second, fmt.Sprintf("binding %s placed %v", name, want), func(ctx context.Context) (bool, string) {
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: name}, &rb); err != nil {
			return false, last + " (then: " + err.Error() + ")"
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		ok := c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == rb.Generation &&
			fmt.Sprint(placementOf(&rb)) == fmt.Sprint(want)
		last = fmt.Sprintf("placed %v (generation %d); %s; tasks %s", placementOf(&rb), rb.Generation, conditionsOf(rb.Status.Conditions), tasksOf(&rb))
		return ok, last
	})
	return &rb
}

// tasksOf describes the binding's graceful eviction tasks.
func tasksOf(rb *workv1alpha1.ResourceBinding) string {
	var parts []string
	for _, task := range rb.Spec.GracefulEvictionTasks {
		parts = append(parts, fmt.Sprintf("%s(%s by %s, %s)", task.FromCluster, task.Reason, task.Producer, task.PurgeMode))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// deploymentIs reports whether the member's Deployment has replicas
// replicas, all updated and available, for its current generation.
func deploymentIs(ctx context.Context, t *testing.T, cluster, ns, name string, replicas int32) (bool, string) {
	d := deploymentKey(ns, name)
	if err := exMemberOf(t, cluster).Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		return false, err.Error()
	}
	st := d.Status
	ok := ptrVal(d.Spec.Replicas) == replicas && st.ObservedGeneration == d.Generation &&
		st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas && st.Replicas == replicas
	return ok, fmt.Sprintf("spec.replicas %d, generation %d (observed %d), updated %d, available %d, total %d",
		ptrVal(d.Spec.Replicas), d.Generation, st.ObservedGeneration, st.UpdatedReplicas, st.AvailableReplicas, st.Replicas)
}

// waitDeployment waits until deploymentIs holds in the member.
func waitDeployment(t *testing.T, cluster, ns, name string, replicas int32) {
	t.Helper()
	eventually(t, 60*time.Second, fmt.Sprintf("Deployment %s/%s in %s with %d available replicas", ns, name, cluster, replicas),
		func(ctx context.Context) (bool, string) { return deploymentIs(ctx, t, cluster, ns, name, replicas) })
}

// placementAndCopies holds while the binding is placed as want and each
// member has the Deployment with exactly its replicas (and no copy where
// want has none).
func placementAndCopies(t *testing.T, binding, ns, name string, want map[string]int32) func(context.Context) (bool, string) {
	return func(ctx context.Context) (bool, string) {
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: binding}, &rb); err != nil {
			return false, err.Error()
		}
		if got := placementOf(&rb); fmt.Sprint(got) != fmt.Sprint(want) {
			return false, fmt.Sprintf("placed %v, want %v", got, want)
		}
		for _, c := range testFleet.MemberNames() {
			d := deploymentKey(ns, name)
			err := exMemberOf(t, c).Get(ctx, client.ObjectKeyFromObject(d), d)
			switch n, placed := want[c]; {
			case !placed && !apierrors.IsNotFound(err):
				return false, fmt.Sprintf("%s has a copy (%v), want none", c, err)
			case placed && err != nil:
				return false, fmt.Sprintf("%s: %v", c, err)
			case placed && ptrVal(d.Spec.Replicas) != n:
				return false, fmt.Sprintf("%s runs spec.replicas %d, want %d", c, ptrVal(d.Spec.Replicas), n)
			}
		}
		return true, ""
	}
}

// consistently checks cond every 200ms for d; the first time it does not
// hold, the test is marked failed and consistently returns (the test goes
// on, so that what happens next is reported too).
func consistently(t *testing.T, d time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	ctx := context.Background()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ok, why := cond(ctx); !ok {
			t.Errorf("%s: no longer holds: %s", what, why)
			return
		}
	}
}

// taintCluster adds taint to the Cluster's spec.taints, as `karmadactl
// taint clusters` does, and returns a function that removes it again
// (once). It is removed when the test ends in any case.
func taintCluster(t *testing.T, name string, taint corev1.Taint) (untaint func()) {
	t.Helper()
	same := func(x corev1.Taint) bool { return x.Key == taint.Key && x.Effect == taint.Effect }
	if err := changeTaints(name, func(ts []corev1.Taint) []corev1.Taint { return append(slices.DeleteFunc(ts, same), taint) }); err != nil {
		t.Fatalf("tainting Cluster %s with %s:%s: %v", name, taint.Key, taint.Effect, err)
	}
	removed := false
	untaint = func() {
		if removed {
			return
		}
		removed = true
		if err := changeTaints(name, func(ts []corev1.Taint) []corev1.Taint { return slices.DeleteFunc(ts, same) }); err != nil {
			t.Errorf("removing the taint %s:%s from Cluster %s: %v", taint.Key, taint.Effect, name, err)
		}
	}
	t.Cleanup(untaint)
	return untaint
}

// changeTaints rewrites the Cluster's spec.taints with a merge patch under
// an optimistic lock; the cluster controller writes the same list, so a
// conflict is read again and retried.
func changeTaints(name string, change func([]corev1.Taint) []corev1.Taint) error {
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var cl clusterv1alpha1.Cluster
		if last = hostClient.Get(ctx, client.ObjectKey{Name: name}, &cl); last != nil {
			return false, nil
		}
		before := cl.DeepCopy()
		cl.Spec.Taints = change(slices.Clone(cl.Spec.Taints))
		last = hostClient.Patch(ctx, &cl, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last error: %v)", err, last)
	}
	return nil
}

// addNodes adds 15m CPU nodes (room for one 10m replica each, like the
// suite's nodes) to a member and waits until its Cluster counts them; they
// are deleted when the test ends, with the Pods they run, and the Cluster
// counted back.
func addNodes(t *testing.T, member string, names ...string) {
	t.Helper()
	ctx := context.Background()
	specs := make([]fleet.NodeSpec, len(names))
	for i, n := range names {
		specs[i] = e2eMembers()[0].Nodes[0]
		specs[i].Name = n
	}
	t.Cleanup(func() {
		if err := testFleet.DeleteNodes(context.Background(), member, names...); err != nil {
			t.Errorf("deleting nodes %v of %s: %v", names, member, err)
		}
		waitClusterNodes(t, member)
	})
	if err := testFleet.AddNodes(ctx, member, specs...); err != nil {
		t.Fatalf("adding nodes %v to %s: %v", names, member, err)
	}
	waitClusterNodes(t, member)
}

// waitClusterNodes waits until the Cluster's node summary counts every
// node of the member as Ready: the scheduler's capacity estimates read the
// same member cache.
func waitClusterNodes(t *testing.T, member string) {
	t.Helper()
	eventually(t, clusterPatience, "Cluster "+member+" counts its nodes", func(ctx context.Context) (bool, string) {
		var nodes corev1.NodeList
		if err := exMemberOf(t, member).List(ctx, &nodes); err != nil {
			return false, err.Error()
		}
		cl, why := lookCluster(ctx, member)
		if cl == nil {
			return false, why
		}
		ns := cl.Status.NodeSummary
		return ns != nil && int(ns.TotalNum) == len(nodes.Items) && int(ns.ReadyNum) == len(nodes.Items),
			fmt.Sprintf("nodeSummary %+v, %d nodes", ns, len(nodes.Items))
	})
}

// rebalancedWorkload names a Deployment in a WorkloadRebalancer.
func rebalancedWorkload(ns, name string) appsv1alpha1.ObjectReference {
	return appsv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

// createRebalancer creates a WorkloadRebalancer (deleted when the test ends).
func createRebalancer(t *testing.T, name string, workloads ...appsv1alpha1.ObjectReference) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: apps.argosy.dev/v1alpha1\nkind: WorkloadRebalancer\nmetadata: {name: %s}\nspec:\n  workloads:\n", name)
	for _, w := range workloads {
		fmt.Fprintf(&b, "  - {apiVersion: %s, kind: %s, namespace: %s, name: %s}\n", w.APIVersion, w.Kind, w.Namespace, w.Name)
	}
	applyYAML(t, b.String())
}

// waitRebalancerFinished waits until the WorkloadRebalancer's status
// describes its generation and says Finished=True.
func waitRebalancerFinished(t *testing.T, name string) *appsv1alpha1.WorkloadRebalancer {
	t.Helper()
	var wr appsv1alpha1.WorkloadRebalancer
	eventually(t, 30*time.Second, "WorkloadRebalancer "+name+" finished", func(ctx context.Context) (bool, string) {
		if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &wr); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(wr.Status.Conditions, appsv1alpha1.WorkloadRebalancerConditionFinished)
		ok := c != nil && c.Status == metav1.ConditionTrue && wr.Status.ObservedGeneration == wr.Generation
		return ok, fmt.Sprintf("status %+v", wr.Status)
	})
	return &wr
}

// expectRebalanced checks a finished WorkloadRebalancer of generation 1
// against seed 000's step 4: every workload Successful, a finishTime, and
// the Finished condition for the generation.
func expectRebalanced(t *testing.T, wr *appsv1alpha1.WorkloadRebalancer, workloads ...appsv1alpha1.ObjectReference) {
	t.Helper()
	st := wr.Status
	var want []appsv1alpha1.ObservedWorkload
	for _, w := range workloads {
		want = append(want, appsv1alpha1.ObservedWorkload{Workload: w, Result: appsv1alpha1.RebalanceSuccessful})
	}
	if fmt.Sprint(st.ObservedWorkloads) != fmt.Sprint(want) {
		t.Errorf("WorkloadRebalancer %s: observedWorkloads %+v, want %+v", wr.Name, st.ObservedWorkloads, want)
	}
	if st.FinishTime == nil || wr.Generation != 1 || st.ObservedGeneration != 1 {
		t.Errorf("WorkloadRebalancer %s: finishTime %v, generation %d, observedGeneration %d; want a finishTime and 1, 1",
			wr.Name, st.FinishTime, wr.Generation, st.ObservedGeneration)
	}
	c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.WorkloadRebalancerConditionFinished)
	if c == nil || c.Reason != appsv1alpha1.WorkloadRebalancerReasonSucceeded || c.ObservedGeneration != wr.Generation {
		t.Errorf("WorkloadRebalancer %s: Finished condition %+v, want reason %s for generation %d", wr.Name, c, appsv1alpha1.WorkloadRebalancerReasonSucceeded, wr.Generation)
	}
}

// eventSince reports whether the template has an event with reason and a
// message containing contains that was last seen at or after since (whole
// seconds: the event's timestamps have no fraction). Repeated events are
// one Event whose lastTimestamp moves.
func eventSince(ctx context.Context, template, reason, contains string, since time.Time) (bool, string) {
	var events corev1.EventList
	if err := hostClient.List(ctx, &events, client.InNamespace(templateNamespace)); err != nil {
		return false, err.Error()
	}
	var seen []string
	for _, e := range events.Items {
		if e.InvolvedObject.Name != template || e.Reason != reason {
			continue
		}
		last := e.LastTimestamp.Time
		if e.Series != nil {
			last = e.Series.LastObservedTime.Time
		} else if last.IsZero() {
			last = e.EventTime.Time
		}
		if strings.Contains(e.Message, contains) && !last.Before(since.Truncate(time.Second)) {
			return true, ""
		}
		seen = append(seen, fmt.Sprintf("%q at %s", e.Message, last.Format(time.RFC3339)))
	}
	return false, fmt.Sprintf("%s events since %s: %v", reason, since.Format(time.RFC3339), seen)
}

// explainOnFailure logs, when the test has failed, what the host knows of
// the binding: its spec and status, the events of its template and the
// Clusters' taints and capacity. Register it after the objects are
// applied, so that it runs before they are deleted.
func explainOnFailure(t *testing.T, binding string) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var history []string
	var prev string
	record := func(rb *workv1alpha1.ResourceBinding) {
		if rb.Name != binding {
			return
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		line := fmt.Sprintf("generation %d: placed %v, tasks %s, rescheduleTriggeredAt %v, lastScheduledTime %v, Scheduled %+v",
			rb.Generation, placementOf(rb), tasksOf(rb), rb.Spec.RescheduleTriggeredAt, rb.Status.LastScheduledTime, c)
		mu.Lock()
		defer mu.Unlock()
		if line != prev { // status writes the line does not show
			history = append(history, time.Now().Format("15:04:05.000 ")+line)
			prev = line
		}
	}
	// Every version of the binding, for the failure report.
	if w, err := watchBindings(ctx, record); err == nil {
		go func() {
			for ev := range w.ResultChan() {
				if rb, ok := ev.Object.(*workv1alpha1.ResourceBinding); ok {
					record(rb)
				}
			}
		}()
		t.Cleanup(w.Stop)
	}
	t.Cleanup(func() {
		cancel()
		if !t.Failed() {
			return
		}
		ctx := context.Background()
		mu.Lock()
		for _, line := range history {
			t.Log(line)
		}
		mu.Unlock()
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: binding}, &rb); err == nil {
			t.Logf("binding %s: generation %d, placed %v, tasks %s, rescheduleTriggeredAt %v, lastScheduledTime %v, %s",
				binding, rb.Generation, placementOf(&rb), tasksOf(&rb), rb.Spec.RescheduleTriggeredAt, rb.Status.LastScheduledTime, conditionsOf(rb.Status.Conditions))
		}
		var events corev1.EventList
		if err := hostClient.List(ctx, &events, client.InNamespace(templateNamespace)); err == nil {
			slices.SortFunc(events.Items, func(a, b corev1.Event) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
			for _, e := range events.Items {
				if e.InvolvedObject.Name == binding {
					t.Logf("event %s (x%d, last %s) %s %s (%s): %s", e.CreationTimestamp.Format(time.TimeOnly), max(e.Count, 1),
						e.LastTimestamp.Format(time.TimeOnly), e.InvolvedObject.Kind, e.Reason, e.ReportingController, e.Message)
				}
			}
		}
		for _, name := range testFleet.MemberNames() {
			if cl, _ := lookCluster(ctx, name); cl != nil {
				t.Logf("Cluster %s: %s; nodes %+v; resources %+v", name, describeReady(cl), cl.Status.NodeSummary, cl.Status.ResourceSummary)
			}
		}
	})
}
