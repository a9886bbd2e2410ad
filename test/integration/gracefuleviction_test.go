package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/controllers/gracefuleviction"
)

// The graceful eviction tests run the real detector, scheduler, binding,
// status and graceful eviction controllers. The test plays the taint
// manager: it adds the eviction task. No member is reachable in envtest, so
// the new placement never becomes applied and healthy: the healthy path of
// Gracefully is covered by the table tests of controllers/gracefuleviction,
// its grace period here.

// geEvictTaint is the test's stand-in for the NoExecute taint that makes
// the taint manager evict: its NoSchedule sibling keeps the replicas away
// from the evicted cluster once the task is gone, as in a real failover.
var geEvictTaint = corev1.Taint{Key: "ge.argosy.dev/evicted", Effect: corev1.TaintEffectNoSchedule}

// gePolicy divides name's Deployment by static weights over the clusters
// of weights. It tolerates the health taints of the failed test clusters
// (with every effect, so the taint manager does not evict), but not
// geEvictTaint.
func gePolicy(name string, weights map[string]int64) *policyv1alpha1.PropagationPolicy {
	pp := weightedPolicy(name, name, false, weights)
	pp.Spec.Placement.ClusterTolerations = healthTolerations()
	return pp
}

// geEvict does what the cluster controller and the taint manager do in a
// failover: it taints cluster (geEvictTaint) and adds task to the binding.
func geEvict(t *testing.T, name string, task workv1alpha1.GracefulEvictionTask) {
	t.Helper()
	eventually(t, "tainting cluster "+task.FromCluster, func(ctx context.Context) (bool, string) {
		cl := &clusterv1alpha1.Cluster{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: task.FromCluster}, cl); err != nil {
			return false, err.Error()
		}
		if slices.ContainsFunc(cl.Spec.Taints, func(tn corev1.Taint) bool { return tn.MatchTaint(&geEvictTaint) }) {
			return true, ""
		}
		old := cl.DeepCopy()
		cl.Spec.Taints = append(cl.Spec.Taints, geEvictTaint)
		if err := k8sClient.Patch(ctx, cl, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{})); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	geAddTask(t, name, task)
}

// geWaitBinding waits until ok holds for the binding and its Scheduled
// condition for the current generation.
func geWaitBinding(t *testing.T, name, what string, ok func(*workv1alpha1.ResourceBinding, *metav1.Condition) bool) *workv1alpha1.ResourceBinding {
	t.Helper()
	var rb *workv1alpha1.ResourceBinding
	eventually(t, what, func(ctx context.Context) (bool, string) {
		cur, err := getBinding(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		rb = cur
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		if c == nil || c.ObservedGeneration != rb.Generation {
			return false, fmt.Sprintf("Scheduled %+v at generation %d", c, rb.Generation)
		}
		return ok(rb, c), fmt.Sprintf("Scheduled %s %s: %s; clusters %s; tasks %v", c.Status, c.Reason, c.Message, placement(rb), geTaskClusters(rb))
	})
	return rb
}

// geSetup creates a 2-replica Deployment template and its gePolicy, and
// waits until it is placed as want and every placed cluster has its Work.
func geSetup(t *testing.T, name string, weights map[string]int64, want string) (*workv1alpha1.ResourceTemplate, *policyv1alpha1.PropagationPolicy) {
	t.Helper()
	rt := deploymentTemplate(t, name, 2)
	pp := gePolicy(name, weights)
	create(t, pp)
	create(t, rt)
	rb := geWaitBinding(t, rt.Name, "placed as "+want, gePlacedAs(want))
	for _, tc := range rb.Spec.Clusters {
		waitWork(t, tc.Name, rt.Name, "created", func(*workv1alpha1.Work, *unstructured.Unstructured) (bool, string) { return true, "" })
	}
	return rt, pp
}

// gePlacedAs: Scheduled=True for the current generation with placement
// want ("c1:1,c2:1").
func gePlacedAs(want string) func(*workv1alpha1.ResourceBinding, *metav1.Condition) bool {
	return func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		return c.Status == metav1.ConditionTrue && rb.Status.SchedulerObservedGeneration == rb.Generation && placement(rb) == want
	}
}

func geTask(cluster string, mode policyv1alpha1.PurgeMode) workv1alpha1.GracefulEvictionTask {
	return workv1alpha1.GracefulEvictionTask{
		FromCluster: cluster, PurgeMode: mode, Replicas: ptr.To[int32](1),
		Reason: workv1alpha1.EvictionReasonTaintUntolerated, Producer: workv1alpha1.EvictionProducerTaintManager,
		Message:           "integration test: taint example.com/evict:NoExecute",
		CreationTimestamp: ptr.To(metav1.Now()),
	}
}

// geAddTask appends task to the binding's spec.gracefulEvictionTasks as
// the taint manager does (a JSON merge patch guarded by resourceVersion).
func geAddTask(t *testing.T, name string, task workv1alpha1.GracefulEvictionTask) {
	t.Helper()
	eventually(t, "adding an eviction task to "+name, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		old := rb.DeepCopy()
		rb.Spec.GracefulEvictionTasks = append(rb.Spec.GracefulEvictionTasks, task)
		if err := k8sClient.Patch(ctx, rb, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{})); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// geSetTasks replaces the binding's tasks, as a user would.
func geSetTasks(t *testing.T, name string, tasks []workv1alpha1.GracefulEvictionTask) {
	t.Helper()
	eventually(t, "setting the eviction tasks of "+name, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		old := rb.DeepCopy()
		rb.Spec.GracefulEvictionTasks = tasks
		if err := k8sClient.Patch(ctx, rb, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{})); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

func geTaskClusters(rb *workv1alpha1.ResourceBinding) []string {
	var out []string
	for _, tk := range rb.Spec.GracefulEvictionTasks {
		out = append(out, tk.FromCluster)
	}
	return out
}

// geTaskGone waits until the binding has no task for cluster.
func geTaskGone(t *testing.T, name, cluster string) {
	t.Helper()
	eventually(t, "the eviction task of "+cluster+" removed", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		return !slices.Contains(geTaskClusters(rb), cluster), fmt.Sprintf("tasks %v", geTaskClusters(rb))
	})
}

// geKept checks for d that the binding keeps its task for cluster and
// that the cluster's Work stays (not being deleted).
func geKept(t *testing.T, name, cluster string, d time.Duration, extra func(*workv1alpha1.ResourceBinding) (bool, string)) {
	t.Helper()
	consistently(t, "the task and the Work of "+cluster+" kept", d, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		if !slices.Contains(geTaskClusters(rb), cluster) {
			return false, fmt.Sprintf("tasks %v", geTaskClusters(rb))
		}
		w, err := getWork(ctx, cluster, name)
		if err != nil {
			return false, "Work: " + err.Error()
		}
		if !w.DeletionTimestamp.IsZero() {
			return false, "the Work is being deleted"
		}
		if extra != nil {
			return extra(rb)
		}
		return true, ""
	})
}

// geEvents returns the graceful eviction controller's events on the
// template with the reason, counting the repetitions of a series.
func geEvents(ctx context.Context, rtName, reason string) ([]eventsv1.Event, int, error) {
	var list eventsv1.EventList
	if err := k8sClient.List(ctx, &list, client.InNamespace(templateNS)); err != nil {
		return nil, 0, err
	}
	var out []eventsv1.Event
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name != rtName || e.Regarding.Kind != workv1alpha1.KindResourceTemplate ||
			e.ReportingController != gracefuleviction.ControllerName || e.Reason != reason {
			continue
		}
		out = append(out, e)
		n++
		if e.Series != nil {
			n += int(e.Series.Count) - 1
		}
	}
	return out, n, nil
}

// geHasEvent waits for an event with the reason whose note contains every
// text, and returns how many such events (with repetitions) there are.
func geHasEvent(t *testing.T, rtName, reason string, texts ...string) int {
	t.Helper()
	n := 0
	eventually(t, fmt.Sprintf("event %s %q on %s", reason, texts, rtName), func(ctx context.Context) (bool, string) {
		evs, count, err := geEvents(ctx, rtName, reason)
		if err != nil {
			return false, err.Error()
		}
		n = count
		var notes []string
		for _, e := range evs {
			notes = append(notes, e.Note)
			if !slices.ContainsFunc(texts, func(s string) bool { return !strings.Contains(e.Note, s) }) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("notes %q", notes)
	})
	return n
}

// TestGracefulEvictionDirectly: a task with purgeMode Directly ends as soon
// as the scheduler has moved the evicted replica elsewhere; then the
// binding controller deletes the evicted cluster's Work, and the template
// gets an event that names the cluster and the reason.
func TestGracefulEvictionDirectly(t *testing.T) {
	a, b := "ge-direct-a", "ge-direct-b"
	schedulingClusters(t, a, b)
	rt, _ := geSetup(t, "ge-direct", map[string]int64{a: 1, b: 1}, a+":1,"+b+":1")

	geEvict(t, rt.Name, geTask(a, policyv1alpha1.PurgeModeDirectly))
	geTaskGone(t, rt.Name, a)
	workGone(t, a, rt.Name)
	geWaitBinding(t, rt.Name, "placed on "+b, gePlacedAs(b+":2"))
	waitWork(t, b, rt.Name, "2 replicas", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		return m != nil && replicasOf(m) == 2, fmt.Sprintf("replicas %d", replicasOf(m))
	})
	geHasEvent(t, rt.Name, gracefuleviction.EventReasonEvictSucceed, a, "purgeMode is Directly")
}

// TestGracefulEvictionBlockedUntilPlaced: when no other cluster can take
// the replicas (the placement allows the evicted cluster only), the
// scheduler reports Scheduled=False and the task and the old Work stay,
// with one Warning on the template; once the policy allows another
// cluster, the replicas move and the eviction completes.
func TestGracefulEvictionBlockedUntilPlaced(t *testing.T) {
	ctx := context.Background()
	a, b := "ge-block-a", "ge-block-b"
	schedulingClusters(t, a, b)
	rt, pp := geSetup(t, "ge-block", map[string]int64{a: 1}, a+":2")

	geEvict(t, rt.Name, geTask(a, policyv1alpha1.PurgeModeDirectly))
	geWaitBinding(t, rt.Name, "scheduling failed", func(_ *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		return c.Status == metav1.ConditionFalse
	})
	geKept(t, rt.Name, a, 3*time.Second, func(rb *workv1alpha1.ResourceBinding) (bool, string) {
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		return placement(rb) == a+":2" && c != nil && c.Status == metav1.ConditionFalse,
			fmt.Sprintf("placement %s, Scheduled %+v", placement(rb), c)
	})
	if n := geHasEvent(t, rt.Name, gracefuleviction.EventReasonEvictBlocked, a, "cannot be placed on another cluster"); n != 1 {
		t.Errorf("%d %s events, want 1: the Warning is for the transition only", n, gracefuleviction.EventReasonEvictBlocked)
	}
	if _, n, err := geEvents(ctx, rt.Name, gracefuleviction.EventReasonEvictSucceed); err != nil || n != 0 {
		t.Errorf("%d %s events (%v) while the replicas have nowhere to go", n, gracefuleviction.EventReasonEvictSucceed, err)
	}

	// Allow the other cluster: the replicas move, the eviction completes.
	eventually(t, "the policy allowing "+b, func(ctx context.Context) (bool, string) {
		cur := &policyv1alpha1.PropagationPolicy{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pp), cur); err != nil {
			return false, err.Error()
		}
		cur.Spec.Placement = gePolicy(pp.Name, map[string]int64{a: 1, b: 1}).Spec.Placement
		if err := k8sClient.Update(ctx, cur); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	geTaskGone(t, rt.Name, a)
	workGone(t, a, rt.Name)
	geWaitBinding(t, rt.Name, "placed on "+b, gePlacedAs(b+":2"))
	geHasEvent(t, rt.Name, gracefuleviction.EventReasonEvictSucceed, a, "Directly")
}

// TestGracefulEvictionGracePeriod: with purgeMode Gracefully the old copy
// stays while the new placement is not healthy (no member is reachable
// here), and the task ends when its gracePeriodSeconds (2) have passed
// since its creationTimestamp, not before and without polling for long
// after.
func TestGracefulEvictionGracePeriod(t *testing.T) {
	a, b := "ge-grace-a", "ge-grace-b"
	schedulingClusters(t, a, b)
	rt, _ := geSetup(t, "ge-grace", map[string]int64{a: 1, b: 1}, a+":1,"+b+":1")

	// creationTimestamp is stored to the second: a whole second ahead
	// makes the deadline exact.
	created := time.Now().Truncate(time.Second).Add(time.Second)
	deadline := created.Add(2 * time.Second)
	task := geTask(a, policyv1alpha1.PurgeModeGracefully)
	task.CreationTimestamp = ptr.To(metav1.NewTime(created))
	task.GracePeriodSeconds = ptr.To[int32](2)
	geEvict(t, rt.Name, task)

	rb := geWaitBinding(t, rt.Name, "placed on "+b, func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		return c.Status == metav1.ConditionTrue && placement(rb) == b+":2" || !slices.Contains(geTaskClusters(rb), a)
	})
	if time.Now().Before(deadline) {
		if !slices.Contains(geTaskClusters(rb), a) {
			t.Fatalf("the task was removed before its grace period ended (%s)", deadline.Format(time.RFC3339))
		}
		if meta.IsStatusConditionTrue(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied) {
			t.Fatal("FullyApplied is True although no member is reachable: this test would not test the grace period")
		}
	}
	var removedAt time.Time
	err := waitFor(context.Background(), 15*time.Second, func(ctx context.Context) (bool, error) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err
		}
		if slices.Contains(geTaskClusters(rb), a) {
			w, err := getWork(ctx, a, rt.Name)
			if err != nil || !w.DeletionTimestamp.IsZero() {
				return false, fmt.Errorf("the Work of %s went while its task exists: %v", a, err)
			}
			return false, nil
		}
		removedAt = time.Now()
		return true, nil
	})
	if err != nil {
		t.Fatalf("waiting for the task to end: %v", err)
	}
	if removedAt.Before(deadline) {
		t.Errorf("task removed at %s, before the end of its grace period %s", removedAt.Format(time.RFC3339Nano), deadline.Format(time.RFC3339Nano))
	}
	if late := removedAt.Sub(deadline); late > 3*time.Second {
		t.Errorf("task removed %s after its grace period ended: the controller should requeue for the deadline", late)
	}
	workGone(t, a, rt.Name)
	geHasEvent(t, rt.Name, gracefuleviction.EventReasonEvictSucceed, a, "grace period of 2s has passed")
}

// TestGracefulEvictionNever: with purgeMode Never the task and the old Work
// stay although the replicas moved, and the task gets its missing
// creationTimestamp; when the Cluster itself is deleted there is nothing
// left to keep and the task ends.
func TestGracefulEvictionNever(t *testing.T) {
	ctx := context.Background()
	a, b := "ge-never-a", "ge-never-b"
	schedulingClusters(t, a, b)
	rt, _ := geSetup(t, "ge-never", map[string]int64{a: 1, b: 1}, a+":1,"+b+":1")

	task := geTask(a, policyv1alpha1.PurgeModeNever)
	task.CreationTimestamp = nil
	geEvict(t, rt.Name, task)
	geWaitBinding(t, rt.Name, "placed on "+b, gePlacedAs(b+":2"))
	eventually(t, "the task's creationTimestamp stamped", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		if len(rb.Spec.GracefulEvictionTasks) != 1 {
			return false, fmt.Sprintf("tasks %v", geTaskClusters(rb))
		}
		return rb.Spec.GracefulEvictionTasks[0].CreationTimestamp != nil, "no creationTimestamp"
	})
	geKept(t, rt.Name, a, 3*time.Second, nil)
	if _, n, err := geEvents(ctx, rt.Name, gracefuleviction.EventReasonEvictSucceed); err != nil || n != 0 {
		t.Errorf("%d %s events (%v) for a task that is kept", n, gracefuleviction.EventReasonEvictSucceed, err)
	}

	cl := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: a}}
	if err := k8sClient.Delete(ctx, cl); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	geTaskGone(t, rt.Name, a)
	workGone(t, a, rt.Name)
	geHasEvent(t, rt.Name, gracefuleviction.EventReasonEvictSucceed, a, "no longer exists")
}

// TestGracefulEvictionUserRemovesTask: a task a user deletes (here one with
// suppressDeletion) lets the binding controller delete the old Work.
func TestGracefulEvictionUserRemovesTask(t *testing.T) {
	a, b := "ge-user-a", "ge-user-b"
	schedulingClusters(t, a, b)
	rt, _ := geSetup(t, "ge-user", map[string]int64{a: 1, b: 1}, a+":1,"+b+":1")

	task := geTask(a, policyv1alpha1.PurgeModeDirectly)
	task.SuppressDeletion = ptr.To(true)
	geEvict(t, rt.Name, task)
	geWaitBinding(t, rt.Name, "placed on "+b, gePlacedAs(b+":2"))
	geKept(t, rt.Name, a, 2*time.Second, nil)

	geSetTasks(t, rt.Name, nil)
	workGone(t, a, rt.Name)
}
