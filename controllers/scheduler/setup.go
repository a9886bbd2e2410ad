package scheduler

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// unscheduledIndex marks bindings whose last pass did not place them, so
// that a Cluster change re-enqueues exactly those and not every binding.
const unscheduledIndex = "argosy.dev/scheduler-unscheduled"

// SetupWithManager registers the controller, its index and the ledger feed.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, workers int) error {
	if r.RetryAfter == 0 {
		r.RetryAfter = 30 * time.Second
	}
	r.ledger = newLedger()
	r.nodes = newNodeCache(time.Second)
	if err := mgr.GetFieldIndexer().IndexField(ctx, &workv1alpha1.ResourceBinding{}, unscheduledIndex, func(o client.Object) []string {
		if unscheduled(o.(*workv1alpha1.ResourceBinding)) {
			return []string{"true"}
		}
		return nil
	}); err != nil {
		return err
	}
	inf, err := mgr.GetCache().GetInformer(ctx, &workv1alpha1.ResourceBinding{})
	if err != nil {
		return err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.feed(o) },
		UpdateFunc: func(_, o any) { r.feed(o) },
		DeleteFunc: func(o any) {
			if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if rb, ok := o.(*workv1alpha1.ResourceBinding); ok {
				r.ledger.remove(types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name})
			}
		},
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("scheduler").
		For(&workv1alpha1.ResourceBinding{}).
		Watches(&clusterv1alpha1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.unscheduledBindings)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

func (r *Reconciler) feed(o any) {
	if rb, ok := o.(*workv1alpha1.ResourceBinding); ok {
		r.ledger.set(rb)
	}
}

func unscheduled(rb *workv1alpha1.ResourceBinding) bool {
	c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	return c == nil || c.Status != metav1.ConditionTrue
}

// unscheduledBindings maps any Cluster change (it became Ready, gained
// capacity, lost a taint, started serving a kind) to the bindings that are
// waiting for a place.
func (r *Reconciler) unscheduledBindings(ctx context.Context, _ client.Object) []reconcile.Request {
	var list workv1alpha1.ResourceBindingList
	if err := r.Client.List(ctx, &list, client.MatchingFields{unscheduledIndex: "true"}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
	}
	return out
}
