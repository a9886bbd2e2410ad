package rebalancer

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
)

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.TemplateNamespace == "" {
		return fmt.Errorf("workload rebalancer: no template namespace")
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("workloadrebalancer").
		// Spec edits (new workloads, a new TTL) and creation start a pass;
		// the controller's own status writes do not. Retries and the TTL
		// come back through the queue.
		For(&appsv1alpha1.WorkloadRebalancer{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}
