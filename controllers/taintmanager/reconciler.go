// Package taintmanager evicts bindings from clusters with NoExecute taints
// they do not tolerate: it adds a graceful eviction task to the binding
// (spec.gracefulEvictionTasks) at once for a taint the placement's
// clusterTolerations do not tolerate, or once the toleration's
// tolerationSeconds have passed since the taint's timeAdded; the scheduler
// then moves the replicas elsewhere. It never touches spec.clusters.
package taintmanager

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/bindingevent"
	"argosy.dev/argosy/internal/note"
)

// ControllerName names the controller and its events.
const ControllerName = "taint-manager"

// FieldManager is the field manager of the controller's writes.
const FieldManager = "argosy-taint-manager"

// EventReasonEvictWorkloadFromClusterSucceed is the reason of the event on
// the template when a task is added (Karmada's name).
const EventReasonEvictWorkloadFromClusterSucceed = "EvictWorkloadFromClusterSucceed"

// eventAction is the action of the controller's events.
const eventAction = "EvictFromCluster"

// conflictRetry is how soon a pass whose write lost a race runs again.
const conflictRetry = 200 * time.Millisecond

// Reconciler adds eviction tasks to ResourceBindings.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcebindings,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=cluster.argosy.dev,resources=clusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile is one pass over a binding: it adds, in one write, a task for
// every cluster whose eviction is due, and comes back when the next one
// falls due. Everything is computed from the binding and the Clusters as
// they are now (taint timeAdded, not the time a watch event arrived), so a
// restart loses no count.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var rb workv1alpha1.ResourceBinding
	if err := r.Client.Get(ctx, req.NamespacedName, &rb); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !rb.DeletionTimestamp.IsZero() || rb.Spec.Placement == nil || len(rb.Spec.Clusters) == 0 {
		return ctrl.Result{}, nil
	}
	now := r.now()
	var lookupErr error
	taintsOf := func(name string) []corev1.Taint {
		var cl clusterv1alpha1.Cluster
		// Read-only: the cache's object is not copied.
		if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, &cl, client.UnsafeDisableDeepCopy); err != nil {
			if !apierrors.IsNotFound(err) && lookupErr == nil {
				lookupErr = fmt.Errorf("reading Cluster %s of ResourceBinding %s: %w", name, req.NamespacedName, err)
			}
			return nil // a Cluster that does not exist has no taints
		}
		return cl.Spec.Taints
	}
	d := decide(rb.Spec.Clusters, rb.Spec.GracefulEvictionTasks, rb.Spec.Placement.ClusterTolerations, taintsOf, now)
	if lookupErr != nil {
		return ctrl.Result{}, lookupErr
	}
	result := ctrl.Result{}
	if !d.next.IsZero() {
		result.RequeueAfter = max(d.next.Sub(now), time.Millisecond)
	}
	if len(d.evict) == 0 {
		return result, nil
	}

	before := rb.DeepCopy()
	added := tasks(&rb, d.evict, now)
	rb.Spec.GracefulEvictionTasks = append(rb.Spec.GracefulEvictionTasks, added...)
	if err := r.Client.Patch(ctx, &rb, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldManager)); err != nil {
		switch {
		case apierrors.IsNotFound(err):
			return ctrl.Result{}, nil
		case apierrors.IsConflict(err):
			// Another controller wrote the binding since the cache saw it:
			// decide again from the newer version.
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, fmt.Errorf("adding graceful eviction tasks to ResourceBinding %s: %w", req.NamespacedName, err)
	}
	for i := range added {
		log.Info("evicting from cluster", "cluster", added[i].FromCluster, "reason", added[i].Message, "purgeMode", added[i].PurgeMode)
		r.event(&rb, &added[i])
	}
	return result, nil
}

// tasks builds the graceful eviction tasks of evictions.
func tasks(rb *workv1alpha1.ResourceBinding, evictions []eviction, now time.Time) []workv1alpha1.GracefulEvictionTask {
	before := make([]string, len(rb.Spec.Clusters))
	for i, tc := range rb.Spec.Clusters {
		before[i] = tc.Name
	}
	mode := purgeMode(rb.Spec.Failover)
	created := metav1.NewTime(now)
	out := make([]workv1alpha1.GracefulEvictionTask, 0, len(evictions))
	for _, e := range evictions {
		task := workv1alpha1.GracefulEvictionTask{
			FromCluster:            e.cluster,
			PurgeMode:              mode,
			Reason:                 workv1alpha1.EvictionReasonTaintUntolerated,
			Message:                note.Truncate(e.message(), note.MaxEvent),
			Producer:               workv1alpha1.EvictionProducerTaintManager,
			ClustersBeforeFailover: before,
			CreationTimestamp:      &created,
		}
		if e.replicas > 0 {
			replicas := e.replicas
			task.Replicas = &replicas
		}
		out = append(out, task)
	}
	return out
}

// purgeMode is spec.failover.cluster.purgeMode with the deprecated names
// mapped to the current ones; Gracefully when unset.
func purgeMode(f *policyv1alpha1.FailoverBehavior) policyv1alpha1.PurgeMode {
	if f == nil || f.Cluster == nil || f.Cluster.PurgeMode == "" {
		return policyv1alpha1.PurgeModeGracefully
	}
	return f.Cluster.PurgeMode.Normalize()
}

// event reports an eviction on the binding's template, where users look,
// with the binding as the related object; on the binding itself when it
// has no template.
func (r *Reconciler) event(rb *workv1alpha1.ResourceBinding, task *workv1alpha1.GracefulEvictionTask) {
	if r.Recorder == nil {
		return
	}
	regarding, related := bindingevent.Targets(rb)
	r.Recorder.Eventf(regarding, related, corev1.EventTypeNormal, EventReasonEvictWorkloadFromClusterSucceed, eventAction,
		"%s: evicting the workload from %s (graceful eviction task added, purgeMode %s)", note.Truncate(task.Message, 900), task.FromCluster, task.PurgeMode)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
