package gracefuleviction

import (
	"context"
	"maps"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// indexEvictedCluster is the cache index of bindings by the clusters of
// their eviction tasks.
const indexEvictedCluster = "gracefuleviction.argosy.dev/evicted-cluster"

// SetupWithManager registers the index, the watches and the controller.
//
//   - Bindings with tasks, on creation, spec changes (generation), the
//     removal of their last task (to forget what was reported), and status
//     changes that can end a task: the Scheduled condition, the
//     scheduler's observed generation, FullyApplied and per-cluster
//     health. Bindings without tasks never reach the queue.
//   - Clusters, when they go: the bindings with tasks for them.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, workers int) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if workers <= 0 {
		workers = 1
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &workv1alpha1.ResourceBinding{}, indexEvictedCluster, func(o client.Object) []string {
		rb, ok := o.(*workv1alpha1.ResourceBinding)
		if !ok || len(rb.Spec.GracefulEvictionTasks) == 0 {
			return nil
		}
		out := make([]string, 0, len(rb.Spec.GracefulEvictionTasks))
		for _, t := range rb.Spec.GracefulEvictionTasks {
			out = append(out, t.FromCluster)
		}
		return out
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("gracefuleviction").
		For(&workv1alpha1.ResourceBinding{}, builder.WithPredicates(bindingPredicate())).
		Watches(&clusterv1alpha1.Cluster{}, r.clusterHandler()).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

func hasTasks(o client.Object) bool {
	rb, ok := o.(*workv1alpha1.ResourceBinding)
	return ok && len(rb.Spec.GracefulEvictionTasks) > 0
}

func bindingPredicate() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return hasTasks(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return hasTasks(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return hasTasks(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return relevantUpdate(e.ObjectOld, e.ObjectNew) },
	}
}

// relevantUpdate tells whether a binding update can change the verdict on
// its tasks.
func relevantUpdate(oldObj, newObj client.Object) bool {
	o, ok1 := oldObj.(*workv1alpha1.ResourceBinding)
	n, ok2 := newObj.(*workv1alpha1.ResourceBinding)
	if !ok1 || !ok2 {
		return false
	}
	if len(n.Spec.GracefulEvictionTasks) == 0 {
		return len(o.Spec.GracefulEvictionTasks) > 0
	}
	return o.Generation != n.Generation ||
		o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero() ||
		statusView(o) != statusView(n) ||
		!maps.Equal(healthView(o), healthView(n))
}

// decisive is the part of a binding's status that Assess reads, apart from
// the health of each cluster.
type decisive struct {
	schedulerObserved           int64
	scheduled, fullyApplied     string
	scheduledGen, appliedGen    int64
	scheduledSince, schedReason string
}

func statusView(rb *workv1alpha1.ResourceBinding) decisive {
	v := decisive{schedulerObserved: rb.Status.SchedulerObservedGeneration}
	if c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled); c != nil {
		v.scheduled, v.scheduledGen, v.schedReason = string(c.Status), c.ObservedGeneration, c.Reason
		v.scheduledSince = c.LastTransitionTime.String()
	}
	if c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied); c != nil {
		v.fullyApplied, v.appliedGen = string(c.Status), c.ObservedGeneration
	}
	return v
}

func healthView(rb *workv1alpha1.ResourceBinding) map[string]workv1alpha1.ResourceHealth {
	out := make(map[string]workv1alpha1.ResourceHealth, len(rb.Status.AggregatedStatus))
	for _, it := range rb.Status.AggregatedStatus {
		out[it.ClusterName] = it.Health
	}
	return out
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// clusterHandler enqueues the bindings with tasks for a Cluster that is
// deleted or starts being deleted: nothing is left to keep there.
func (r *Reconciler) clusterHandler() handler.EventHandler {
	return handler.Funcs{
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			if e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero() {
				r.enqueueEvicting(ctx, q, e.ObjectNew.GetName())
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) {
			r.enqueueEvicting(ctx, q, e.Object.GetName())
		},
	}
}

func (r *Reconciler) enqueueEvicting(ctx context.Context, q queue, cluster string) {
	var list workv1alpha1.ResourceBindingList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexEvictedCluster: cluster}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "listing the bindings with eviction tasks for a deleted cluster", "cluster", cluster)
		return
	}
	for i := range list.Items {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
	}
}
