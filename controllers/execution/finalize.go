package execution

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/apply"
	"argosy.dev/argosy/internal/member"
)

// finalize cleans up after a deleted Work: every object of its manifests
// (and those recorded in its status) that this Work manages is deleted from
// the member, or released with preserveResourcesOnDeletion; then the
// finalizer goes. A Cluster that no longer exists (or is being deleted and
// cannot be reached) has nothing to clean; a member that cannot be reached
// keeps the finalizer until it can.
func (r *Reconciler) finalize(ctx context.Context, req reconcile.Request, work *workv1alpha1.Work, cluster string, cl *clusterv1alpha1.Cluster) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(work, workv1alpha1.WorkFinalizer) {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx)
	if cl == nil || cl.Spec.SyncMode == clusterv1alpha1.Pull {
		logger.Info("Cluster gone or in pull mode; releasing the Work without touching the member")
		return r.removeFinalizer(ctx, work)
	}
	m := r.Members.Get(cluster)
	if m == nil || !meta.IsStatusConditionTrue(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady) {
		if !cl.DeletionTimestamp.IsZero() {
			// A Cluster on its way out that cannot be reached will not be.
			logger.Info("Cluster being deleted and not reachable; releasing the Work without touching the member")
			return r.removeFinalizer(ctx, work)
		}
		logger.V(1).Info("member not reachable; the Work keeps its finalizer until it is")
		return r.backoff(req), nil
	}
	preserve := work.Spec.PreserveResourcesOnDeletion != nil && *work.Spec.PreserveResourcesOnDeletion
	verb := "deleting"
	if preserve {
		verb = "releasing"
	}
	ids, err := r.ownedIdentifiers(work, m)
	if err == nil {
		for _, id := range ids {
			if err = r.release(ctx, m, id, workKey(work), preserve); err != nil {
				err = fmt.Errorf("%s %s in cluster %s: %w", verb, describe(id.Kind, id.Namespace, id.Name), cluster, err)
				break
			}
		}
	}
	if err != nil {
		r.Recorder.Eventf(r.regarding(ctx, work), nil, corev1.EventTypeWarning, workv1alpha1.EventReasonSyncFailed, "Delete",
			"Cleaning up Work %s in cluster %s failed, retrying: %v", work.Name, cluster, err)
		return r.backoff(req), nil
	}
	r.retries.Forget(req)
	return r.removeFinalizer(ctx, work)
}

// ownedIdentifiers lists the objects a deleted Work may have in the member:
// its manifests' and those in its status, once each. A manifest of a kind
// the member does not serve has no object there; one that cannot be decoded
// was never applied.
func (r *Reconciler) ownedIdentifiers(work *workv1alpha1.Work, m *member.Member) ([]workv1alpha1.ResourceIdentifier, error) {
	var current []workv1alpha1.ManifestStatus
	for i, mf := range work.Spec.Workload.Manifests {
		u, err := decodeManifest(mf.Raw)
		if err != nil {
			continue
		}
		gvk := u.GroupVersionKind()
		mapping, err := m.RESTMapping(gvk)
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the API discovery for %s: %w", gvk, err)
		}
		desired := apply.Prepare(u, mapping.Scope.Name() == meta.RESTScopeNameNamespace, workKey(work))
		current = append(current, workv1alpha1.ManifestStatus{
			Identifier: identifier(i, gvk, mapping.Resource.Resource, desired.GetNamespace(), desired.GetName()),
		})
	}
	ids := make([]workv1alpha1.ResourceIdentifier, 0, len(current))
	for _, s := range current {
		if s.Identifier.Name != "" {
			ids = append(ids, s.Identifier)
		}
	}
	return append(ids, leftovers(work.Status.ManifestStatuses, current)...), nil
}
