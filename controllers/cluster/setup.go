package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// SecretRefIndex indexes Clusters by their credentials Secret
// (namespace/name), so that a Secret change finds its Clusters in the cache.
const SecretRefIndex = "argosy.dev/cluster-secret-ref"

// SetupWithManager registers the controller and its index. The manager's
// cache must be limited to SystemNamespace for Secrets (the manager may read
// Secrets only there).
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	switch {
	case r.Members == nil:
		return fmt.Errorf("cluster controller: no member cache")
	case r.StatusUpdateFrequency <= 0:
		return fmt.Errorf("cluster controller: status update frequency must be positive, not %s", r.StatusUpdateFrequency)
	case r.FailureThreshold < 0 || r.SuccessThreshold < 0:
		return fmt.Errorf("cluster controller: thresholds must not be negative")
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	r.init()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &clusterv1alpha1.Cluster{}, SecretRefIndex, secretRefKey); err != nil {
		return err
	}
	inSystemNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.SystemNamespace })
	return ctrl.NewControllerManagedBy(mgr).
		Named("cluster").
		// Status writes (ours) do not change the generation; the requeue
		// after StatusUpdateFrequency drives the probes.
		For(&clusterv1alpha1.Cluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.clustersForSecret), builder.WithPredicates(inSystemNamespace)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Workers}).
		Complete(r)
}

func secretRefKey(o client.Object) []string {
	cl, ok := o.(*clusterv1alpha1.Cluster)
	if !ok || cl.Spec.SecretRef == nil {
		return nil
	}
	return []string{cl.Spec.SecretRef.Namespace + "/" + cl.Spec.SecretRef.Name}
}

// clustersForSecret maps a credentials Secret to the Clusters naming it.
func (r *Reconciler) clustersForSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var list clusterv1alpha1.ClusterList
	if err := r.Client.List(ctx, &list, client.MatchingFields{SecretRefIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the Clusters of a Secret", "secret", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]reconcile.Request, len(list.Items))
	for i, cl := range list.Items {
		reqs[i] = reconcile.Request{NamespacedName: client.ObjectKey{Name: cl.Name}}
	}
	return reqs
}
