package cluster

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// Taints the controller owns: these keys with effect NoSchedule. The same
// keys with effect NoExecute belong to failover and are left alone, as is
// every other taint.
var (
	taintNotReady      = corev1.Taint{Key: clusterv1alpha1.TaintClusterNotReady, Effect: corev1.TaintEffectNoSchedule}
	taintUnreachable   = corev1.Taint{Key: clusterv1alpha1.TaintClusterUnreachable, Effect: corev1.TaintEffectNoSchedule}
	taintUnschedulable = corev1.Taint{Key: clusterv1alpha1.TaintClusterUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	managedTaints      = []corev1.Taint{taintNotReady, taintUnreachable, taintUnschedulable}
)

func isManaged(t corev1.Taint) bool {
	for _, m := range managedTaints {
		if t.MatchTaint(&m) {
			return true
		}
	}
	return false
}

// wantedTaints are the managed taints that the Ready condition and
// spec.unschedulable call for. A member that answered but is unhealthy is
// not-ready; one that could not be used at all (no answer, TLS failure,
// credentials missing or rejected) is unreachable, as is a Ready condition
// of Unknown (an agent that stopped reporting). No condition yet: no
// health taint.
func wantedTaints(ready *metav1.Condition, unschedulable bool) []corev1.Taint {
	var want []corev1.Taint
	if ready != nil {
		switch {
		case ready.Status == metav1.ConditionUnknown:
			want = append(want, taintUnreachable)
		case ready.Status == metav1.ConditionFalse && ready.Reason == clusterv1alpha1.ClusterReasonNotReady:
			want = append(want, taintNotReady)
		case ready.Status == metav1.ConditionFalse:
			want = append(want, taintUnreachable)
		}
	}
	if unschedulable {
		want = append(want, taintUnschedulable)
	}
	return want
}

// reconcileTaints returns current with the managed taints made equal to
// want, and whether anything changed. Other taints keep their place and
// content; a managed taint that stays keeps its timeAdded; one that is
// added gets now.
func reconcileTaints(current, want []corev1.Taint, now metav1.Time) ([]corev1.Taint, bool) {
	out := make([]corev1.Taint, 0, len(current)+len(want))
	changed := false
	have := map[corev1.Taint]bool{}
	for _, t := range current {
		if !isManaged(t) {
			out = append(out, t)
			continue
		}
		if contains(want, t) && !have[keyOf(t)] {
			out = append(out, t)
			have[keyOf(t)] = true
			continue
		}
		changed = true // unwanted, or a duplicate
	}
	for _, w := range want {
		if have[keyOf(w)] {
			continue
		}
		w.TimeAdded = &now
		out = append(out, w)
		changed = true
	}
	if len(out) == 0 {
		out = nil
	}
	return out, changed
}

func keyOf(t corev1.Taint) corev1.Taint { return corev1.Taint{Key: t.Key, Effect: t.Effect} }

func contains(ts []corev1.Taint, t corev1.Taint) bool {
	for _, x := range ts {
		if x.MatchTaint(&t) {
			return true
		}
	}
	return false
}
