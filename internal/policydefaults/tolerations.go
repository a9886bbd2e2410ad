// Package policydefaults holds the defaults Argosy gives propagation
// policies, shared by the policy webhook (which writes them into the
// policy) and the detector (which applies them when copying a placement to
// a binding, so they hold even when webhooks are off).
package policydefaults

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/tolerations"
)

// Tolerations returns tols plus a NoExecute toleration of notReadySeconds
// for the not-ready taint and one of unreachableSeconds for the unreachable
// taint, each only when tols do not already tolerate a NoExecute taint with
// that key (any matching toleration counts: an empty key with Exists, an
// empty effect, Equal with the empty value). As in Karmada, a short cluster
// outage then moves nothing: the taint manager evicts only once the
// toleration expires. The result is a copy (tols is never changed) and is
// the same for the same input, so that callers comparing it with what they
// wrote before see no change.
func Tolerations(tols []corev1.Toleration, notReadySeconds, unreachableSeconds int64) []corev1.Toleration {
	out := make([]corev1.Toleration, len(tols), len(tols)+2)
	for i := range tols {
		tols[i].DeepCopyInto(&out[i])
	}
	for _, d := range []struct {
		key     string
		seconds int64
	}{
		{clusterv1alpha1.TaintClusterNotReady, notReadySeconds},
		{clusterv1alpha1.TaintClusterUnreachable, unreachableSeconds},
	} {
		// The taint the cluster controller sets has no value. Matching is
		// the one the taint manager uses, so a policy gets a default exactly
		// when it would otherwise be evicted at once.
		taint := &corev1.Taint{Key: d.key, Effect: corev1.TaintEffectNoExecute}
		if tolerations.ToleratedBy(taint, tols) {
			continue
		}
		out = append(out, corev1.Toleration{
			Key:               d.key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: ptr.To(d.seconds),
		})
	}
	return out
}
