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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/controllers/taintmanager"
)

// The taint manager's tests use their own namespace, Clusters and
// policies, so that no other test's policy claims their Deployments.
const (
	taintNS  = "taintmanager"
	tmTaint  = "workload-rebalancer-test"
	tmPolicy = "tm-policy-"
)

// taintWorkload creates a Deployment template with replicas and a policy
// that divides it evenly over clusters and tolerates the not-ready taint
// for ever plus tols. It returns the binding's name.
func taintWorkload(t *testing.T, name string, replicas int, clusters []string, tols ...corev1.Toleration) string {
	t.Helper()
	createNamespace(t, taintNS)
	var weights []policyv1alpha1.StaticClusterWeight
	for _, c := range clusters {
		weights = append(weights, policyv1alpha1.StaticClusterWeight{TargetCluster: policyv1alpha1.ClusterAffinity{ClusterNames: []string{c}}, Weight: 1})
	}
	pp := &policyv1alpha1.PropagationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: tmPolicy + name, Namespace: taintNS},
		Spec: policyv1alpha1.PropagationSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: name}},
			Placement: policyv1alpha1.Placement{
				ClusterAffinity: &policyv1alpha1.ClusterAffinity{ClusterNames: clusters},
				ClusterTolerations: append([]corev1.Toleration{{Key: clusterv1alpha1.TaintClusterNotReady, Operator: corev1.TolerationOpExists}},
					tols...),
				ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{
					ReplicaSchedulingType:     policyv1alpha1.ReplicaSchedulingTypeDivided,
					ReplicaDivisionPreference: policyv1alpha1.ReplicaDivisionPreferenceWeighted,
					WeightPreference:          &policyv1alpha1.ClusterPreferences{StaticWeightList: weights},
				},
			},
		},
	}
	rt := deploymentTemplateIn(t, taintNS, name, replicas)
	create(t, pp)
	create(t, rt)
	return rt.Name
}

// scheduledOn waits until the binding is scheduled, for its current
// generation, exactly as want (placement's format).
func scheduledOn(t *testing.T, binding, want string) *workv1alpha1.ResourceBinding {
	t.Helper()
	return waitBindingCondition(t, binding, func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		return c.Status == metav1.ConditionTrue && placement(rb) == want
	})
}

// taintCluster adds taint to the Cluster's spec, as a user would (without
// timeAdded), and returns the taint's timeAdded once the cluster
// controller has stamped it.
func taintCluster(t *testing.T, name string, taint corev1.Taint) time.Time {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cl clusterv1alpha1.Cluster
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
			return err
		}
		cl.Spec.Taints = append(cl.Spec.Taints, taint)
		return k8sClient.Update(ctx, &cl)
	})
	if err != nil {
		t.Fatalf("tainting Cluster %s: %v", name, err)
	}
	var added time.Time
	eventually(t, "timeAdded on the taint of "+name, func(ctx context.Context) (bool, string) {
		var cl clusterv1alpha1.Cluster
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
			return false, err.Error()
		}
		i := slices.IndexFunc(cl.Spec.Taints, func(x corev1.Taint) bool { return x.Key == taint.Key && x.Effect == taint.Effect })
		if i < 0 || cl.Spec.Taints[i].TimeAdded == nil {
			return false, fmt.Sprintf("taints %+v", cl.Spec.Taints)
		}
		added = cl.Spec.Taints[i].TimeAdded.Time
		return true, ""
	})
	return added
}

// evictionTask returns the binding's task for cluster, or nil.
func evictionTask(ctx context.Context, binding, cluster string) (*workv1alpha1.GracefulEvictionTask, *workv1alpha1.ResourceBinding, error) {
	rb, err := getBinding(ctx, binding)
	if err != nil {
		return nil, nil, err
	}
	for i := range rb.Spec.GracefulEvictionTasks {
		if rb.Spec.GracefulEvictionTasks[i].FromCluster == cluster {
			return &rb.Spec.GracefulEvictionTasks[i], rb, nil
		}
	}
	return nil, rb, nil
}

// waitEvictionTask waits for the binding's task for cluster.
func waitEvictionTask(t *testing.T, binding, cluster string) *workv1alpha1.GracefulEvictionTask {
	t.Helper()
	var task *workv1alpha1.GracefulEvictionTask
	eventually(t, "a graceful eviction task for "+cluster+" in "+binding, func(ctx context.Context) (bool, string) {
		var rb *workv1alpha1.ResourceBinding
		var err error
		if task, rb, err = evictionTask(ctx, binding, cluster); err != nil {
			return false, err.Error()
		}
		return task != nil, fmt.Sprintf("tasks %+v", rb.Spec.GracefulEvictionTasks)
	})
	return task
}

// noEvictionTask checks that the binding has no task for cluster for d.
func noEvictionTask(t *testing.T, binding, cluster string, d time.Duration) {
	t.Helper()
	consistently(t, "no graceful eviction task for "+cluster+" in "+binding, d, func(ctx context.Context) (bool, string) {
		task, _, err := evictionTask(ctx, binding, cluster)
		if err != nil {
			return false, err.Error()
		}
		return task == nil, fmt.Sprintf("task %+v", task)
	})
}

// TestTaintManagerEvictsUntolerated: a NoExecute taint the policy does not
// tolerate, added by a user without timeAdded, is stamped by the cluster
// controller; the taint manager adds a task for that cluster with
// Karmada's fields, reports it on the template, and the scheduler moves the
// replicas to the other cluster.
func TestTaintManagerEvictsUntolerated(t *testing.T) {
	const a, b = "tm-evict-a", "tm-evict-b"
	schedulingClusters(t, a, b)
	binding := taintWorkload(t, "tm-evict", 4, []string{a, b})
	rb := scheduledOn(t, binding, a+":2,"+b+":2")
	before := make([]string, len(rb.Spec.Clusters))
	for i, tc := range rb.Spec.Clusters {
		before[i] = tc.Name
	}
	noEvictionTask(t, binding, a, time.Second) // the not-ready taints are tolerated

	added := taintCluster(t, a, corev1.Taint{Key: tmTaint, Effect: corev1.TaintEffectNoExecute})
	task := waitEvictionTask(t, binding, a)
	want := "cluster " + a + " has taint " + tmTaint + ":NoExecute that the policy does not tolerate"
	if task.Reason != workv1alpha1.EvictionReasonTaintUntolerated || task.Producer != workv1alpha1.EvictionProducerTaintManager ||
		task.Message != want || task.PurgeMode != policyv1alpha1.PurgeModeGracefully {
		t.Errorf("task reason %q producer %q purgeMode %q message %q, want %q", task.Reason, task.Producer, task.PurgeMode, task.Message, want)
	}
	if task.Replicas == nil || *task.Replicas != 2 {
		t.Errorf("task replicas %v, want 2", task.Replicas)
	}
	if !slices.Equal(task.ClustersBeforeFailover, before) {
		t.Errorf("clustersBeforeFailover %v, want %v", task.ClustersBeforeFailover, before)
	}
	if task.CreationTimestamp == nil || task.CreationTimestamp.Before(&metav1.Time{Time: added}) {
		t.Errorf("creationTimestamp %v, taint added at %s", task.CreationTimestamp, added)
	}
	if task.GracePeriodSeconds != nil || task.SuppressDeletion != nil {
		t.Errorf("task sets gracePeriodSeconds %v or suppressDeletion %v", task.GracePeriodSeconds, task.SuppressDeletion)
	}

	rb = scheduledOn(t, binding, b+":4")
	if n := len(rb.Spec.GracefulEvictionTasks); n > 1 {
		t.Errorf("%d tasks, want the one for %s: %+v", n, a, rb.Spec.GracefulEvictionTasks)
	}
	if c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled); c == nil || c.Reason != workv1alpha1.BindingReasonSuccess {
		t.Errorf("Scheduled %+v", c)
	}
	noEvictionTask(t, binding, b, time.Second)

	eventually(t, "event "+taintmanager.EventReasonEvictWorkloadFromClusterSucceed+" on "+binding, func(ctx context.Context) (bool, string) {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(templateNS)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != binding || e.Regarding.Kind != workv1alpha1.KindResourceTemplate || e.ReportingController != taintmanager.ControllerName {
				continue
			}
			seen = append(seen, e.Reason+": "+e.Note)
			if e.Reason == taintmanager.EventReasonEvictWorkloadFromClusterSucceed && e.Type == corev1.EventTypeNormal &&
				strings.Contains(e.Note, a) && strings.Contains(e.Note, tmTaint+":NoExecute") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("events %v", seen)
	})
}

// TestTaintManagerTolerationSeconds: with the same taint on the same
// cluster, a binding that tolerates it for 2 s gets its task only 2 s after
// the taint's timeAdded, and one that tolerates it without seconds never
// does.
func TestTaintManagerTolerationSeconds(t *testing.T) {
	const a, b = "tm-wait-a", "tm-wait-b"
	schedulingClusters(t, a, b)
	forTwo := taintWorkload(t, "tm-wait-2s", 2, []string{a, b},
		corev1.Toleration{Key: tmTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](2)})
	forEver := taintWorkload(t, "tm-wait-ever", 2, []string{a, b},
		corev1.Toleration{Key: tmTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	scheduledOn(t, forTwo, a+":1,"+b+":1")
	scheduledOn(t, forEver, a+":1,"+b+":1")

	added := taintCluster(t, a, corev1.Taint{Key: tmTaint, Effect: corev1.TaintEffectNoExecute})
	due := added.Add(2 * time.Second)
	// Absent right after the taint, until shortly before it falls due.
	if task, _, err := evictionTask(context.Background(), forTwo, a); err != nil || task != nil {
		t.Fatalf("right after the taint: task %+v, error %v", task, err)
	}
	if early := time.Until(due) - 300*time.Millisecond; early > 0 {
		noEvictionTask(t, forTwo, a, early)
	} else {
		t.Logf("the taint's timeAdded was seen only %s before it fell due", time.Until(due))
	}
	task := waitEvictionTask(t, forTwo, a)
	if task.CreationTimestamp == nil || task.CreationTimestamp.Time.Before(due) {
		t.Errorf("task created at %v, before the taint's timeAdded %s plus 2s", task.CreationTimestamp, added)
	}
	want := "cluster " + a + " has taint " + tmTaint + ":NoExecute that the policy tolerated for 2s"
	if task.Message != want || task.Reason != workv1alpha1.EvictionReasonTaintUntolerated || task.Replicas == nil || *task.Replicas != 1 {
		t.Errorf("task %+v, want message %q and 1 replica", task, want)
	}
	scheduledOn(t, forTwo, b+":2")

	// The same taint, tolerated without seconds: never, well past the 2 s.
	noEvictionTask(t, forEver, a, 2*time.Second)
	rb, err := getBinding(context.Background(), forEver)
	if err != nil {
		t.Fatal(err)
	}
	if got := placement(rb); got != a+":1,"+b+":1" {
		t.Errorf("the binding that tolerates the taint for ever moved: %s", got)
	}
}
