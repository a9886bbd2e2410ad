package taintmanager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// ClusterIndex indexes ResourceBindings by the names in spec.clusters, so
// that a Cluster whose taints change finds its bindings in the cache.
const ClusterIndex = "argosy.dev/taintmanager-cluster"

// SetupWithManager registers the controller and its index.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, workers int) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	workers = max(workers, 1)
	if err := mgr.GetFieldIndexer().IndexField(ctx, &workv1alpha1.ResourceBinding{}, ClusterIndex, clusterNames); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("taintmanager").
		// Creation, and spec changes: new clusters, tolerations, tasks
		// removed. Status writes do not matter.
		For(&workv1alpha1.ResourceBinding{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&clusterv1alpha1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.bindingsOfCluster), builder.WithPredicates(noExecuteTaintsChanged)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

func clusterNames(o client.Object) []string {
	rb, ok := o.(*workv1alpha1.ResourceBinding)
	if !ok || len(rb.Spec.Clusters) == 0 {
		return nil
	}
	out := make([]string, len(rb.Spec.Clusters))
	for i, tc := range rb.Spec.Clusters {
		out[i] = tc.Name
	}
	return out
}

// noExecuteTaintsChanged passes the Cluster events that can change an
// eviction: a Cluster that appears with NoExecute taints, and a change of
// the NoExecute taints (including their timeAdded). A deleted Cluster, or
// a NoSchedule taint, evicts nothing.
var noExecuteTaintsChanged = predicate.Funcs{
	CreateFunc: func(e event.CreateEvent) bool { return len(noExecuteTaints(e.Object)) > 0 },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !equality.Semantic.DeepEqual(noExecuteTaints(e.ObjectOld), noExecuteTaints(e.ObjectNew))
	},
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

func noExecuteTaints(o client.Object) []corev1.Taint {
	cl, ok := o.(*clusterv1alpha1.Cluster)
	if !ok {
		return nil
	}
	var out []corev1.Taint
	for _, t := range cl.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// bindingsOfCluster maps a Cluster to the bindings placed on it.
func (r *Reconciler) bindingsOfCluster(ctx context.Context, o client.Object) []reconcile.Request {
	var list workv1alpha1.ResourceBindingList
	// Read-only: only the keys are used.
	if err := r.Client.List(ctx, &list, client.MatchingFields{ClusterIndex: o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the ResourceBindings of a Cluster", "cluster", o.GetName())
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return out
}
