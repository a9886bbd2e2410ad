// Package gracefuleviction ends graceful eviction tasks: it removes a task
// from the binding (so that the binding controller deletes the old copy)
// once the replacement is placed and, depending on the purge mode, healthy
// or past its grace period.
//
// It never removes a task while the replicas are not placed on other
// clusters: when the scheduler cannot place them (Scheduled=False), the
// evicted cluster keeps its copy, and a Warning event on the template says
// so once.
package gracefuleviction

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/bindingevent"
	"argosy.dev/argosy/internal/note"
)

// ControllerName names the controller and its events.
const ControllerName = "graceful-eviction-controller"

// Event reasons, on the binding's template (Karmada's for the success).
const (
	// EventReasonEvictSucceed: a task ended and the copy on its cluster
	// is deleted.
	EventReasonEvictSucceed = "EvictWorkloadFromClusterSucceed"
	// EventReasonEvictBlocked: tasks wait because the scheduler cannot
	// place the evicted replicas anywhere else.
	EventReasonEvictBlocked = "EvictWorkloadFromClusterBlocked"

	eventAction = "GracefulEviction"
)

// retryConflict is how soon a pass whose write lost a race runs again.
const retryConflict = 250 * time.Millisecond

// Reconciler removes finished graceful eviction tasks from ResourceBindings.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Timeout is the grace period of tasks that set no gracePeriodSeconds;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// warned remembers, per binding, the blocked episode (see blockedMark)
	// already reported, so that the Warning is sent on transitions only.
	// In memory: after a restart a still-blocked binding is reported once
	// more.
	mu     sync.Mutex
	warned map[types.NamespacedName]string
}

// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcebindings,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=cluster.argosy.dev,resources=clusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile is one pass over a binding: it assesses every task and removes
// the finished ones (and stamps missing creationTimestamps) in one merge
// patch guarded by the resourceVersion it read.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	var rb workv1alpha1.ResourceBinding
	if err := r.Client.Get(ctx, req.NamespacedName, &rb); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if len(rb.Spec.GracefulEvictionTasks) == 0 || !rb.DeletionTimestamp.IsZero() {
		// Nothing to do; a binding being deleted loses all its Works anyway.
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}

	exists, err := r.clusters(ctx, &rb)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.now()
	plan := PlanTasks(&rb, func(c string) bool { return exists[c] }, now, r.timeout())
	r.reportBlocked(&rb, plan)
	if !plan.Changed {
		return ctrl.Result{RequeueAfter: plan.RequeueAfter}, nil
	}

	old := rb.DeepCopy()
	rb.Spec.GracefulEvictionTasks = plan.Tasks
	if err := r.Client.Patch(ctx, &rb, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{})); err != nil {
		switch {
		case apierrors.IsNotFound(err):
			return ctrl.Result{}, nil
		case apierrors.IsConflict(err):
			// The cache is behind; its update will match the patch's
			// precondition shortly.
			logger.V(1).Info("binding changed while assessing its eviction tasks; retrying")
			return ctrl.Result{RequeueAfter: retryConflict}, nil
		}
		return ctrl.Result{}, fmt.Errorf("writing spec.gracefulEvictionTasks of ResourceBinding %s/%s: %w", old.Namespace, old.Name, err)
	}
	for _, rm := range plan.Removed {
		logger.Info("graceful eviction task removed", "cluster", rm.Cluster, "why", rm.Why)
		r.event(old, corev1.EventTypeNormal, EventReasonEvictSucceed, "Evicted the workload from cluster %s: its eviction task was %s", rm.Cluster, rm.Why)
	}
	return ctrl.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// clusters tells, for each cluster of the binding's tasks, whether its
// Cluster exists and is not being deleted. Read from the cache.
func (r *Reconciler) clusters(ctx context.Context, rb *workv1alpha1.ResourceBinding) (map[string]bool, error) {
	out := make(map[string]bool, len(rb.Spec.GracefulEvictionTasks))
	for _, t := range rb.Spec.GracefulEvictionTasks {
		if _, done := out[t.FromCluster]; done {
			continue
		}
		var cl clusterv1alpha1.Cluster
		err := r.Client.Get(ctx, client.ObjectKey{Name: t.FromCluster}, &cl)
		switch {
		case apierrors.IsNotFound(err):
			out[t.FromCluster] = false
		case err != nil:
			return nil, fmt.Errorf("reading Cluster %s of an eviction task of ResourceBinding %s/%s: %w", t.FromCluster, rb.Namespace, rb.Name, err)
		default:
			out[t.FromCluster] = cl.DeletionTimestamp.IsZero()
		}
	}
	return out, nil
}

// reportBlocked sends the Warning when tasks start waiting for a placement
// that failed, or wait for another failure, and not again while the same
// episode lasts.
func (r *Reconciler) reportBlocked(rb *workv1alpha1.ResourceBinding, plan Plan) {
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	if len(plan.Blocked) == 0 {
		r.forget(key)
		return
	}
	mark := blockedMark(rb, plan.Blocked)
	r.mu.Lock()
	if r.warned == nil {
		r.warned = map[types.NamespacedName]string{}
	}
	seen := r.warned[key] == mark
	r.warned[key] = mark
	r.mu.Unlock()
	if seen {
		return
	}
	r.event(rb, corev1.EventTypeWarning, EventReasonEvictBlocked,
		"The copy on cluster %s is %s. The eviction goes on once the scheduler places the replicas elsewhere: allow more clusters in the placement, or make one fit.",
		strings.Join(plan.Blocked, ", "), plan.BlockedWhy)
}

// blockedMark identifies a blocked episode: the failure (the Scheduled
// condition's transition and reason) and the clusters it holds.
func blockedMark(rb *workv1alpha1.ResourceBinding, blocked []string) string {
	var since, reason string
	if c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled); c != nil {
		since, reason = c.LastTransitionTime.UTC().Format(time.RFC3339), c.Reason
	}
	return since + "|" + reason + "|" + strings.Join(blocked, ",")
}

func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.warned, key)
	r.mu.Unlock()
}

// event reports on the binding's template, where users look, with the
// binding as the related object; on the binding itself when it has no
// template.
func (r *Reconciler) event(rb *workv1alpha1.ResourceBinding, eventtype, reason, msg string, args ...any) {
	if r.Recorder == nil {
		return
	}
	regarding, related := bindingevent.Targets(rb)
	r.Recorder.Eventf(regarding, related, eventtype, reason, eventAction, "%s", note.Truncate(fmt.Sprintf(msg, args...), note.MaxEvent))
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}
