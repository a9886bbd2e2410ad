package scheduler

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	sched "argosy.dev/argosy/internal/scheduler"
)

// Place returns the placement this scheduler's first pass would write for
// a binding that does not exist yet, so that the detector can create the
// binding placed: one host write per template fewer than creating it and
// then writing spec.clusters. It reads the cache only and writes nothing;
// the scheduler's own pass still runs on the new binding, checks the
// placement (a steady pass keeps it while it is valid) and records the
// outcome in the status. ok is false when the binding is not placed at
// creation: another scheduler serves it, scheduling is suspended, it has
// no placement of its own (a dependency), or no cluster fits (the
// scheduler's pass reports why).
func (r *Reconciler) Place(ctx context.Context, rb *workv1alpha1.ResourceBinding) (clusters []workv1alpha1.TargetCluster, ok bool) {
	if r.ledger == nil || !r.serves(rb) || rb.Spec.Placement == nil || len(rb.Spec.Clusters) > 0 || rb.Spec.RescheduleTriggeredAt != nil ||
		(rb.Spec.Suspension != nil && rb.Spec.Suspension.Scheduling != nil && *rb.Spec.Suspension.Scheduling) {
		return nil, false
	}
	var list clusterv1alpha1.ClusterList
	if err := r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).V(1).Info("no placement at creation: cannot list the clusters", "error", err.Error())
		return nil, false
	}
	res := sched.Schedule(r.input(rb, list.Items))
	if res.Reason != workv1alpha1.BindingReasonSuccess || len(res.Clusters) == 0 {
		return nil, false
	}
	return withRequiredBy(res.Clusters, rb.Spec.RequiredBy), true
}
