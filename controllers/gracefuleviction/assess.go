package gracefuleviction

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// DefaultTimeout is the grace period of tasks without gracePeriodSeconds
// when Reconciler.Timeout is not set (Karmada's --graceful-eviction-timeout).
const DefaultTimeout = 10 * time.Minute

// Verdict is the decision on one task.
type Verdict struct {
	// Remove: the task is done and goes; the binding controller then
	// deletes the Work of its cluster (unless the cluster is a target
	// again).
	Remove bool
	// Why explains the decision in words a user can act on: for a removal
	// it ends "removed because ...", for a kept task "kept because ...".
	Why string
	// Blocked: the task is kept because the scheduler could not place the
	// binding's current spec (Scheduled=False), so nothing else holds the
	// evicted replicas.
	Blocked bool
	// Deadline is when a kept task ends by its grace period; zero when no
	// deadline applies (not placed yet, kept forever, or removed).
	Deadline time.Time
}

// placement is what the scheduler says about the binding's current spec.
type placement int

const (
	placementPending placement = iota // not processed the current generation yet
	placementFailed                   // Scheduled=False for the current generation
	placementDone                     // Scheduled=True for the current generation
)

// scheduled reads the Scheduled condition: the scheduling result counts only
// when it is for the binding's current generation (both the condition's
// observedGeneration and status.schedulerObservedGeneration), since any
// change of the spec (a new task, replicas, placement) makes the scheduler
// move replicas again.
func scheduled(rb *workv1alpha1.ResourceBinding) (placement, *metav1.Condition) {
	c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	switch {
	case c == nil || c.ObservedGeneration != rb.Generation || rb.Status.SchedulerObservedGeneration != rb.Generation:
		return placementPending, c
	case c.Status != metav1.ConditionTrue:
		return placementFailed, c
	}
	return placementDone, c
}

// healthy tells whether the object is applied to every cluster of
// spec.clusters for the binding's current generation and healthy there.
// Health Unknown (not applied or no status reported yet) is not healthy;
// kinds without a health notion (a ConfigMap) are reported Healthy once
// applied, see internal/aggregate.
func healthy(rb *workv1alpha1.ResourceBinding) (bool, string) {
	fa := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
	switch {
	case fa == nil || fa.ObservedGeneration != rb.Generation:
		return false, fmt.Sprintf("the new placement (generation %d) is not applied yet", rb.Generation)
	case fa.Status != metav1.ConditionTrue:
		return false, "the new placement is not fully applied: " + fa.Message
	case len(rb.Spec.Clusters) == 0:
		return false, "the binding has no target cluster"
	}
	health := make(map[string]workv1alpha1.ResourceHealth, len(rb.Status.AggregatedStatus))
	for _, it := range rb.Status.AggregatedStatus {
		health[it.ClusterName] = it.Health
	}
	var not []string
	for _, tc := range rb.Spec.Clusters {
		if h := health[tc.Name]; h != workv1alpha1.ResourceHealthy {
			if h == "" {
				h = "not reported"
			}
			not = append(not, fmt.Sprintf("%s (%s)", tc.Name, h))
		}
	}
	if len(not) > 0 {
		sort.Strings(not)
		return false, "the object is not healthy yet in " + strings.Join(not, ", ")
	}
	return true, ""
}

// Assess decides whether one task of rb is done. clusterExists tells
// whether the task's Cluster still exists (and is not being deleted); now
// and timeout (the grace period of tasks without gracePeriodSeconds) drive
// Gracefully. A task without creationTimestamp counts as created now (the
// caller stamps it).
//
// The rules, in order:
//   - the Cluster is gone: remove, there is nothing left to keep;
//   - the replicas are not placed elsewhere yet (the scheduler has not
//     processed the current spec, failed to place it, or still targets the
//     task's cluster): keep, the old copy is all there is;
//   - suppressDeletion true or purgeMode Never: keep until a user removes
//     the task (suppressDeletion set to false approves the removal, which
//     then happens as with Directly);
//   - Directly (Immediately): remove;
//   - Gracefully (Graciously, or unset): remove once the new placement is
//     applied and healthy, or once creationTimestamp + gracePeriodSeconds
//     (else timeout) has passed.
func Assess(rb *workv1alpha1.ResourceBinding, task *workv1alpha1.GracefulEvictionTask, clusterExists bool, now time.Time, timeout time.Duration) Verdict {
	if !clusterExists {
		return Verdict{Remove: true, Why: fmt.Sprintf("removed because Cluster %s no longer exists", task.FromCluster)}
	}
	state, cond := scheduled(rb)
	switch {
	case state == placementPending:
		return Verdict{Why: fmt.Sprintf("kept because the scheduler has not placed generation %d of the binding yet", rb.Generation)}
	case state == placementFailed && cond.Reason == workv1alpha1.BindingReasonSchedulingSuspended:
		return Verdict{Why: "kept because scheduling is suspended (spec.suspension.scheduling)"}
	case state == placementFailed:
		return Verdict{Blocked: true, Why: fmt.Sprintf("kept because the replicas cannot be placed on another cluster (Scheduled=%s, %s: %s)",
			cond.Status, cond.Reason, cond.Message)}
	case slices.ContainsFunc(rb.Spec.Clusters, func(tc workv1alpha1.TargetCluster) bool { return tc.Name == task.FromCluster }):
		return Verdict{Why: fmt.Sprintf("kept because cluster %s is still a target of the binding (spec.clusters)", task.FromCluster)}
	}

	mode := task.PurgeMode.Normalize()
	if mode == "" {
		mode = policyv1alpha1.PurgeModeGracefully
	}
	if task.SuppressDeletion != nil {
		if *task.SuppressDeletion {
			return Verdict{Why: "kept because suppressDeletion is true; delete the task, or set suppressDeletion to false, to remove the old copy"}
		}
		return Verdict{Remove: true, Why: "removed because suppressDeletion was set to false and the replicas are placed on other clusters"}
	}
	switch mode {
	case policyv1alpha1.PurgeModeNever:
		return Verdict{Why: "kept because purgeMode is Never; delete the task to remove the old copy"}
	case policyv1alpha1.PurgeModeDirectly:
		return Verdict{Remove: true, Why: "removed because the replicas are placed on other clusters and purgeMode is Directly"}
	}

	// Gracefully, and any mode the API does not know (treated as the
	// default rather than deleting or keeping forever).
	if ok, _ := healthy(rb); ok {
		return Verdict{Remove: true, Why: "removed because the object is applied and healthy on its new clusters"}
	}
	grace := timeout
	if task.GracePeriodSeconds != nil {
		grace = time.Duration(*task.GracePeriodSeconds) * time.Second
	}
	created := now
	if task.CreationTimestamp != nil {
		created = task.CreationTimestamp.Time
	}
	deadline := created.Add(grace)
	if !now.Before(deadline) {
		return Verdict{Remove: true, Why: fmt.Sprintf("removed because its grace period of %s has passed", grace)}
	}
	_, not := healthy(rb)
	return Verdict{Deadline: deadline, Why: fmt.Sprintf("kept until %s at the latest because %s", deadline.UTC().Format(time.RFC3339), not)}
}

// Removal is a task that ends.
type Removal struct {
	Cluster string
	Why     string
}

// Plan is the outcome of one pass over a binding's tasks.
type Plan struct {
	// Tasks is the new spec.gracefulEvictionTasks.
	Tasks []workv1alpha1.GracefulEvictionTask
	// Changed: Tasks differs from the binding's (a task removed, or a
	// creationTimestamp stamped).
	Changed bool
	// Removed are the tasks that end, in order.
	Removed []Removal
	// Blocked are the clusters, sorted, whose tasks wait because
	// scheduling failed; BlockedWhy says why.
	Blocked    []string
	BlockedWhy string
	// RequeueAfter is the time until the earliest grace period ends; zero
	// when no task ends by time alone.
	RequeueAfter time.Duration
}

// PlanTasks assesses every task of rb. exists tells whether a Cluster
// exists. Tasks without creationTimestamp that stay get now (to the
// second, as the apiserver stores it), so the grace period survives
// restarts.
func PlanTasks(rb *workv1alpha1.ResourceBinding, exists func(cluster string) bool, now time.Time, timeout time.Duration) Plan {
	var p Plan
	stamp := metav1.NewTime(now).Rfc3339Copy()
	var next time.Time
	for i := range rb.Spec.GracefulEvictionTasks {
		task := rb.Spec.GracefulEvictionTasks[i].DeepCopy()
		if task.CreationTimestamp == nil {
			task.CreationTimestamp = stamp.DeepCopy()
			p.Changed = true
		}
		v := Assess(rb, task, exists(task.FromCluster), now, timeout)
		if v.Remove {
			p.Changed = true
			p.Removed = append(p.Removed, Removal{Cluster: task.FromCluster, Why: v.Why})
			continue
		}
		if v.Blocked && !slices.Contains(p.Blocked, task.FromCluster) {
			p.Blocked = append(p.Blocked, task.FromCluster)
			p.BlockedWhy = v.Why
		}
		if !v.Deadline.IsZero() && (next.IsZero() || v.Deadline.Before(next)) {
			next = v.Deadline
		}
		p.Tasks = append(p.Tasks, *task)
	}
	sort.Strings(p.Blocked)
	if !next.IsZero() {
		p.RequeueAfter = next.Sub(now) // positive: a passed deadline removes the task
	}
	return p
}
