package binding

import (
	"slices"
	"strings"

	"k8s.io/utils/ptr"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// targets returns the clusters that get a rendered Work, sorted by name:
// spec.clusters with their replicas, plus the clusters of the bindings that
// require this one as a dependency (spec.requiredBy), with no replicas of
// their own. The scheduler already merges requiredBy into spec.clusters;
// merging here too keeps a dependency following its workloads while the
// scheduler has not caught up (or when another scheduler serves it).
func targets(spec *workv1alpha1.ResourceBindingSpec) []workv1alpha1.TargetCluster {
	out := make([]workv1alpha1.TargetCluster, 0, len(spec.Clusters))
	seen := make(map[string]bool, len(spec.Clusters))
	for _, tc := range spec.Clusters {
		if tc.Name != "" && !seen[tc.Name] {
			seen[tc.Name] = true
			out = append(out, tc)
		}
	}
	for _, parent := range spec.RequiredBy {
		for _, tc := range parent.Clusters {
			if tc.Name != "" && !seen[tc.Name] {
				seen[tc.Name] = true
				out = append(out, workv1alpha1.TargetCluster{Name: tc.Name})
			}
		}
	}
	slices.SortFunc(out, func(a, b workv1alpha1.TargetCluster) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// evicting returns the clusters of spec.gracefulEvictionTasks. Their Works
// are left exactly as they are (neither rendered nor deleted) while the
// task exists: the graceful eviction controller decides when they go.
func evicting(spec *workv1alpha1.ResourceBindingSpec) map[string]bool {
	if len(spec.GracefulEvictionTasks) == 0 {
		return nil
	}
	out := make(map[string]bool, len(spec.GracefulEvictionTasks))
	for _, t := range spec.GracefulEvictionTasks {
		out[t.FromCluster] = true
	}
	return out
}

// suspended tells whether dispatching to cluster is suspended by
// spec.suspension: dispatching for all clusters, or dispatchingOnClusters
// naming this one.
func suspended(s *workv1alpha1.Suspension, cluster string) bool {
	if s == nil {
		return false
	}
	if ptr.Deref(s.Dispatching, false) {
		return true
	}
	return s.DispatchingOnClusters != nil && slices.Contains(s.DispatchingOnClusters.ClusterNames, cluster)
}

// conflictResolution is the binding's conflictResolution, Abort when unset.
func conflictResolution(spec *workv1alpha1.ResourceBindingSpec) string {
	if spec.ConflictResolution == policyv1alpha1.ConflictOverwrite {
		return string(policyv1alpha1.ConflictOverwrite)
	}
	return string(policyv1alpha1.ConflictAbort)
}

// workNamespace is the execution namespace of cluster.
func workNamespace(cluster string) string { return workv1alpha1.ExecutionNamespacePrefix + cluster }

// clusterOfWork returns the cluster of a Work of the binding named
// bindingName: the Work must be named like the binding and live in an
// execution namespace. Other Works that carry the binding's annotation are
// not the binding controller's to manage.
func clusterOfWork(w *workv1alpha1.Work, bindingName string) (string, bool) {
	if w.Name != bindingName {
		return "", false
	}
	cluster, ok := strings.CutPrefix(w.Namespace, workv1alpha1.ExecutionNamespacePrefix)
	if !ok || cluster == "" {
		return "", false
	}
	return cluster, true
}

// mayAffect tells whether an override policy with these resource selectors
// can select the wrapped object that ref identifies. It ignores label
// selectors, since the binding does not carry the object's labels, so it
// may say yes when the policy does not apply, never the reverse. Empty
// selectors select everything. The policy's own scope (an OverridePolicy
// sees only its namespace) is the caller's to check.
func mayAffect(selectors []policyv1alpha1.ResourceSelector, ref *workv1alpha1.ObjectReference) bool {
	if len(selectors) == 0 {
		return true
	}
	for _, rs := range selectors {
		if rs.APIVersion == ref.APIVersion && rs.Kind == ref.Kind &&
			(rs.Namespace == "" || rs.Namespace == ref.Namespace) && (rs.Name == "" || rs.Name == ref.Name) {
			return true
		}
	}
	return false
}
