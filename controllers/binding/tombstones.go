package binding

import (
	"context"
	"encoding/json"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/workindex"
)

// tombstones puts a tombstone (a Work already being deleted, see
// workstore.Store.Tombstone) in place for every cluster that may still
// have the binding's object but has no Work: one the binding's status
// lists, a target, a cluster under graceful eviction, each when want says
// so. That only happens to Works kept in memory, lost with a restart of
// the manager. It returns the clusters that got one, sorted.
func (r *Reconciler) tombstones(ctx context.Context, rb *workv1alpha1.ResourceBinding, works map[string]*workv1alpha1.Work, want func(cluster string) bool) []string {
	var candidates []string
	for _, it := range rb.Status.AggregatedStatus {
		candidates = append(candidates, it.ClusterName)
	}
	if !rb.DeletionTimestamp.IsZero() {
		for _, tc := range targets(&rb.Spec) {
			candidates = append(candidates, tc.Name)
		}
		for _, t := range rb.Spec.GracefulEvictionTasks {
			candidates = append(candidates, t.FromCluster)
		}
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	var out []string
	for _, cluster := range candidates {
		if cluster == "" || works[cluster] != nil || !want(cluster) {
			continue
		}
		if r.Works.Tombstone(ctx, tombstone(rb, cluster)) {
			log.FromContext(ctx).Info("no Work in memory for a cluster that may still have the object (the manager restarted); removing it there", "cluster", cluster)
			out = append(out, cluster)
		}
	}
	return out
}

// tombstone is the Work that names the binding's object in cluster as the
// execution controller needs it to find and remove that object: its
// identity, the binding and the deletion settings. It is never applied.
func tombstone(rb *workv1alpha1.ResourceBinding, cluster string) *workv1alpha1.Work {
	ref := rb.Spec.Resource
	meta := map[string]any{"name": ref.Name}
	if ref.Namespace != "" {
		meta["namespace"] = ref.Namespace
	}
	raw, _ := json.Marshal(map[string]any{"apiVersion": ref.APIVersion, "kind": ref.Kind, "metadata": meta})
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{
		Namespace: workNamespace(cluster), Name: rb.Name,
		Annotations: map[string]string{
			workv1alpha1.AnnotationBinding:            workindex.Key(rb.Namespace, rb.Name),
			workv1alpha1.AnnotationConflictResolution: conflictResolution(&rb.Spec),
		},
	}}
	w.Spec.Workload.Manifests = []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}
	if rb.Spec.PreserveResourcesOnDeletion != nil && *rb.Spec.PreserveResourcesOnDeletion {
		w.Spec.PreserveResourcesOnDeletion = rb.Spec.PreserveResourcesOnDeletion
	}
	return w
}

// holdEvicted puts in memory, for every cluster under graceful eviction
// whose Work kept in memory was lost with a restart, a Work that names the
// object there with dispatching suspended: the execution controller
// observes the object without changing it (an evicted cluster's copy is
// left as it is), the status controller lists the cluster as one being
// left, and when the eviction ends the Work is deleted like any other,
// which removes the copy. It returns the clusters that got one.
func (r *Reconciler) holdEvicted(ctx context.Context, rb *workv1alpha1.ResourceBinding, works map[string]*workv1alpha1.Work, keep map[string]bool) []string {
	var out []string
	for cluster := range keep {
		key := types.NamespacedName{Namespace: workNamespace(cluster), Name: rb.Name}
		if works[cluster] != nil || !r.Works.InMemory(ctx, key) || r.Works.Memory.Has(key) || r.Works.Memory.Cleaned(key) {
			continue
		}
		w := tombstone(rb, cluster)
		w.Finalizers = []string{workv1alpha1.WorkFinalizer}
		w.Spec.SuspendDispatching = ptr.To(true)
		if _, err := r.Works.Memory.Apply(w, ownedAnnotations); err != nil {
			log.FromContext(ctx).Error(err, "keeping the Work of a cluster under eviction", "cluster", cluster)
			continue
		}
		log.FromContext(ctx).Info("no Work in memory for a cluster under eviction (the manager restarted); observing its copy until the eviction ends", "cluster", cluster)
		out = append(out, cluster)
	}
	slices.Sort(out)
	return out
}
