package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// The tests of this file fail clusters: the cluster controller taints a
// member whose apiserver is down, the taint manager adds graceful eviction
// tasks once the policy's tolerationSeconds have passed, the scheduler
// moves the evicted replicas, and the graceful eviction controller lets the
// old copy go once the new one is healthy, and never while nothing else
// could take the replicas.

// equalWeightsPlacement divides replicas equally between member1 and
// member2 (static weights 1:1).
const equalWeightsPlacement = `
  clusterAffinity: {clusterNames: [member1, member2]}
  replicaScheduling:
    replicaSchedulingType: Divided
    replicaDivisionPreference: Weighted
    weightPreference:
      staticWeightList:
      - {targetCluster: {clusterNames: [member1]}, weight: 1}
      - {targetCluster: {clusterNames: [member2]}, weight: 1}`

// TestMemberOutageFailover: member1's apiserver stops; after the failure
// threshold member1 is Ready=False with the not-ready NoExecute taint. The
// policy tolerates it for 5 s, so the binding keeps member1 until then and
// moves its replica to member2 afterwards; member2 runs both. When member1
// is back, Argosy deletes its old copy (the Work's finalizer waited for
// the member), the placement stays where it is (lazy), and a
// WorkloadRebalancer spreads the replicas 1:1 again.
func TestMemberOutageFailover(t *testing.T) {
	const name = "outage"
	rbName := wrappedNameOf("apps", "Deployment", "default", name)
	applyYAML(t, workloadYAML(name, 2, "", `
placement:
  clusterTolerations:
  - {key: cluster.argosy.dev/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
  - {key: cluster.argosy.dev/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}`+equalWeightsPlacement))
	explainOnFailure(t, rbName)
	waitPlacement(t, rbName, map[string]int32{"member1": 1, "member2": 1})
	waitDeployment(t, "member1", "default", name, 1)
	waitDeployment(t, "member2", "default", name, 1)

	stopped := time.Now()
	restart := stopMemberAPIServer(t, "member1")
	var tainted *corev1.Taint
	eventually(t, clusterPatience, "member1 Ready=False with the not-ready NoExecute taint", func(ctx context.Context) (bool, string) {
		cl, why := lookCluster(ctx, "member1")
		if cl == nil {
			return false, why
		}
		c := readyOf(cl)
		tainted = noExecuteTaint(cl, clusterv1alpha1.TaintClusterNotReady)
		return c != nil && c.Status == metav1.ConditionFalse && tainted != nil && tainted.TimeAdded != nil, describeReady(cl)
	})
	t.Logf("member1 tainted %s after its apiserver stopped", time.Since(stopped).Round(100*time.Millisecond))
	if flipped := time.Since(stopped); flipped < failureThreshold-500*time.Millisecond {
		t.Errorf("member1 tainted %s after its apiserver stopped, before the %s failure threshold", flipped, failureThreshold)
	}

	// Tolerated for 5 s from the taint's timeAdded: until then member1
	// keeps its replica and has no eviction task.
	deadline := tainted.TimeAdded.Add(5 * time.Second)
	var task *workv1alpha1.GracefulEvictionTask
	reported := false
	eventually(t, 30*time.Second, "an eviction task for member1", func(ctx context.Context) (bool, string) {
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: rbName}, &rb); err != nil {
			return false, err.Error()
		}
		task = taskFor(&rb, "member1")
		early := time.Now().Before(deadline.Add(-300 * time.Millisecond))
		if early && !reported && (task != nil || placementOf(&rb)["member1"] != 1) {
			reported = true
			t.Errorf("member1 evicted before its 5 s toleration ended (%s left): placed %v, tasks %s",
				time.Until(deadline).Round(100*time.Millisecond), placementOf(&rb), tasksOf(&rb))
		}
		return task != nil, fmt.Sprintf("placed %v, tasks %s", placementOf(&rb), tasksOf(&rb))
	})
	if task.CreationTimestamp == nil || task.CreationTimestamp.Time.Before(deadline) {
		t.Errorf("eviction task created at %v, before timeAdded %s + tolerationSeconds 5", task.CreationTimestamp, tainted.TimeAdded.Format(time.RFC3339))
	}
	if task.Reason != workv1alpha1.EvictionReasonTaintUntolerated || task.Producer != workv1alpha1.EvictionProducerTaintManager ||
		ptrVal(task.Replicas) != 1 || !strings.Contains(task.Message, clusterv1alpha1.TaintClusterNotReady) {
		t.Errorf("eviction task %+v: want reason %s, producer %s, replicas 1 and a message naming %s", *task,
			workv1alpha1.EvictionReasonTaintUntolerated, workv1alpha1.EvictionProducerTaintManager, clusterv1alpha1.TaintClusterNotReady)
	}

	rb := waitPlacement(t, rbName, map[string]int32{"member2": 2})
	expectNoDuplicates(t, rb)
	waitDeployment(t, "member2", "default", name, 2)
	// member2 is healthy: the task ends, and member1's copy waits for its
	// member to come back to be deleted: the binding's status lists member1
	// as a cluster it is leaving (its Work, kept in the manager's memory, is
	// being deleted).
	eventually(t, 30*time.Second, "the eviction task ends and member1 is being left", func(ctx context.Context) (bool, string) {
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: rbName}, &rb); err != nil {
			return false, err.Error()
		}
		leaving := false
		for _, it := range rb.Status.AggregatedStatus {
			leaving = leaving || it.ClusterName == "member1"
		}
		for _, tc := range rb.Spec.Clusters {
			leaving = leaving && tc.Name != "member1"
		}
		return len(rb.Spec.GracefulEvictionTasks) == 0 && leaving,
			fmt.Sprintf("tasks %s; clusters %v; aggregated status %d entries", tasksOf(&rb), rb.Spec.Clusters, len(rb.Status.AggregatedStatus))
	})

	restart()
	cl := waitClusterReady(t, "member1", clusterPatience)
	if noExecuteTaint(cl, clusterv1alpha1.TaintClusterNotReady) != nil || noExecuteTaint(cl, clusterv1alpha1.TaintClusterUnreachable) != nil {
		t.Errorf("member1 is Ready but keeps a health taint: %v", taintKeysOf(cl))
	}
	waitMemberGone(t, "member1", deploymentKey("default", name), 60*time.Second)
	consistently(t, 2*time.Second, "the workload stays in member2 after member1 recovered",
		placementAndCopies(t, rbName, "default", name, map[string]int32{"member2": 2}))

	createRebalancer(t, name, rebalancedWorkload("default", name))
	waitRebalancerFinished(t, name)
	waitPlacement(t, rbName, map[string]int32{"member1": 1, "member2": 1})
	waitDeployment(t, "member1", "default", name, 1)
	waitDeployment(t, "member2", "default", name, 1)
}

// TestNoExecuteWithoutRoomKeepsWorkload: member1 gets a NoExecute taint
// the workload does not tolerate, but member2 has no room for the evicted
// replicas. The eviction task stays, the binding is Scheduled=False saying
// why, a Warning says the eviction is blocked, and member1 keeps its copy:
// nothing is lost. Removing the taint does not end the task (the graceful
// eviction controller ends tasks only once the replicas are placed
// elsewhere); once the user deletes the task, the binding is scheduled
// again where it was and the member copies were never touched.
func TestNoExecuteWithoutRoomKeepsWorkload(t *testing.T) {
	const name = "no-room"
	rbName := wrappedNameOf("apps", "Deployment", "default", name)
	applyYAML(t, workloadYAML(name, 3, "10m", `
placement:
  clusterAffinity: {clusterNames: [member1, member2]}
  replicaScheduling:
    replicaSchedulingType: Divided
    replicaDivisionPreference: Weighted
    weightPreference: {dynamicWeight: AvailableReplicas}`))
	placed := map[string]int32{"member1": 2, "member2": 1}
	explainOnFailure(t, rbName)
	waitPlacement(t, rbName, placed)
	waitDeployment(t, "member1", "default", name, 2)
	waitDeployment(t, "member2", "default", name, 1)
	before := map[string]metav1.ObjectMeta{}
	for _, c := range testFleet.MemberNames() {
		d := deploymentKey("default", name)
		if err := exMemberOf(t, c).Get(context.Background(), client.ObjectKeyFromObject(d), d); err != nil {
			t.Fatal(err)
		}
		before[c] = d.ObjectMeta
	}

	const key = "e2e.argosy.dev/no-room"
	untaint := taintCluster(t, "member1", corev1.Taint{Key: key, Effect: corev1.TaintEffectNoExecute})
	var rb workv1alpha1.ResourceBinding
	eventually(t, 30*time.Second, "an eviction task for member1 and Scheduled=False", func(ctx context.Context) (bool, string) {
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: rbName}, &rb); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		ok := taskFor(&rb, "member1") != nil && c != nil && c.Status == metav1.ConditionFalse && c.ObservedGeneration == rb.Generation
		return ok, fmt.Sprintf("tasks %s; %s", tasksOf(&rb), conditionsOf(rb.Status.Conditions))
	})
	c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	if !strings.Contains(c.Message, "member1") || !(strings.Contains(c.Message, key) || strings.Contains(c.Message, "evicted")) ||
		!strings.Contains(c.Message, "room") {
		t.Errorf("Scheduled=False message %q should say that member1 is tainted or evicted and that no other cluster has room", c.Message)
	}
	task := taskFor(&rb, "member1")
	if task.Reason != workv1alpha1.EvictionReasonTaintUntolerated || task.Producer != workv1alpha1.EvictionProducerTaintManager ||
		ptrVal(task.Replicas) != 2 || task.PurgeMode.Normalize() != policyv1alpha1.PurgeModeGracefully || !strings.Contains(task.Message, key) {
		t.Errorf("eviction task %+v: want reason %s, producer %s, replicas 2, purgeMode Gracefully and a message naming %s", *task,
			workv1alpha1.EvictionReasonTaintUntolerated, workv1alpha1.EvictionProducerTaintManager, key)
	}
	eventually(t, 30*time.Second, "EvictWorkloadFromClusterBlocked on the template", func(ctx context.Context) (bool, string) {
		return eventSince(ctx, rbName, "EvictWorkloadFromClusterBlocked", "member1", time.Time{})
	})
	stuck := func(ctx context.Context) (bool, string) {
		if ok, why := placementAndCopies(t, rbName, "default", name, placed)(ctx); !ok {
			return false, why
		}
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: rbName}, &rb); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		return taskFor(&rb, "member1") != nil && c != nil && c.Status == metav1.ConditionFalse,
			fmt.Sprintf("tasks %s; %s", tasksOf(&rb), conditionsOf(rb.Status.Conditions))
	}
	consistently(t, 3*time.Second, "member1 keeps its copy while nothing can take its replicas", stuck)

	untaint()
	consistently(t, 3*time.Second, "the task outlives the taint", stuck)

	// The user ends the task: member1 may be scheduled to again.
	eventually(t, 30*time.Second, "eviction task deleted", func(ctx context.Context) (bool, string) {
		var rb workv1alpha1.ResourceBinding
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: rbName}, &rb); err != nil {
			return false, err.Error()
		}
		old := rb.DeepCopy()
		rb.Spec.GracefulEvictionTasks = nil
		err := hostClient.Patch(ctx, &rb, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{}))
		return err == nil, fmt.Sprintf("patch: %v", err)
	})
	waitPlacement(t, rbName, placed)
	waitDeployment(t, "member1", "default", name, 2)
	waitDeployment(t, "member2", "default", name, 1)
	for _, c := range testFleet.MemberNames() {
		d := deploymentKey("default", name)
		if err := exMemberOf(t, c).Get(context.Background(), client.ObjectKeyFromObject(d), d); err != nil {
			t.Fatal(err)
		}
		if d.UID != before[c].UID || d.Generation != before[c].Generation {
			t.Errorf("the copy in %s changed: uid %s generation %d, was uid %s generation %d", c, d.UID, d.Generation, before[c].UID, before[c].Generation)
		}
	}
}

// noExecuteTaint returns the Cluster's NoExecute taint with key, or nil.
func noExecuteTaint(cl *clusterv1alpha1.Cluster, key string) *corev1.Taint {
	for i, ta := range cl.Spec.Taints {
		if ta.Key == key && ta.Effect == corev1.TaintEffectNoExecute {
			return &cl.Spec.Taints[i]
		}
	}
	return nil
}

// taskFor returns the binding's eviction task from cluster, or nil.
func taskFor(rb *workv1alpha1.ResourceBinding, cluster string) *workv1alpha1.GracefulEvictionTask {
	for i := range rb.Spec.GracefulEvictionTasks {
		if rb.Spec.GracefulEvictionTasks[i].FromCluster == cluster {
			return &rb.Spec.GracefulEvictionTasks[i]
		}
	}
	return nil
}

// expectNoDuplicates checks that no cluster appears twice in the binding's
// placement or among its eviction tasks.
func expectNoDuplicates(t *testing.T, rb *workv1alpha1.ResourceBinding) {
	t.Helper()
	seen := map[string]int{}
	for _, tc := range rb.Spec.Clusters {
		seen["clusters/"+tc.Name]++
	}
	for _, task := range rb.Spec.GracefulEvictionTasks {
		seen["tasks/"+task.FromCluster]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("binding %s lists %s %d times: clusters %v, tasks %s", rb.Name, k, n, placementOf(rb), tasksOf(rb))
		}
	}
}
