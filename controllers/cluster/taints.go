package cluster

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// Taints the controller owns, as in Karmada: the health taints with both
// effects (NoSchedule keeps new replicas away, NoExecute lets the taint
// manager evict once the policy's tolerationSeconds have passed) and the
// cordon taint with NoSchedule only (a cordon moves nothing). Every other
// taint belongs to the user.
var (
	taintNotReadyNoSchedule    = corev1.Taint{Key: clusterv1alpha1.TaintClusterNotReady, Effect: corev1.TaintEffectNoSchedule}
	taintNotReadyNoExecute     = corev1.Taint{Key: clusterv1alpha1.TaintClusterNotReady, Effect: corev1.TaintEffectNoExecute}
	taintUnreachableNoSchedule = corev1.Taint{Key: clusterv1alpha1.TaintClusterUnreachable, Effect: corev1.TaintEffectNoSchedule}
	taintUnreachableNoExecute  = corev1.Taint{Key: clusterv1alpha1.TaintClusterUnreachable, Effect: corev1.TaintEffectNoExecute}
	taintUnschedulable         = corev1.Taint{Key: clusterv1alpha1.TaintClusterUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	managedTaints              = []corev1.Taint{taintNotReadyNoSchedule, taintNotReadyNoExecute, taintUnreachableNoSchedule, taintUnreachableNoExecute, taintUnschedulable}
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
// spec.unschedulable call for, with Karmada's semantics: Ready=False, for
// any reason (the member answered unhealthy, could not be reached, or its
// credentials fail), is not-ready; Ready=Unknown (an agent that stopped
// reporting, a status nobody has written for a while) is unreachable. No
// condition yet: no health taint.
func wantedTaints(ready *metav1.Condition, unschedulable bool) []corev1.Taint {
	var want []corev1.Taint
	if ready != nil {
		switch ready.Status {
		case metav1.ConditionFalse:
			want = append(want, taintNotReadyNoSchedule, taintNotReadyNoExecute)
		case metav1.ConditionUnknown:
			want = append(want, taintUnreachableNoSchedule, taintUnreachableNoExecute)
		}
	}
	if unschedulable {
		want = append(want, taintUnschedulable)
	}
	return want
}

// reconcileTaints returns current with the managed taints made equal to
// want, and whether anything changed. Other taints keep their place and
// content, except that a NoExecute taint without timeAdded gets now: the
// taint manager counts tolerationSeconds from timeAdded, so every NoExecute
// taint needs one, and stamping it here (once, in the object) keeps the
// count right across manager restarts. A managed taint that stays keeps its
// timeAdded; one that is added gets now.
func reconcileTaints(current, want []corev1.Taint, now metav1.Time) ([]corev1.Taint, bool) {
	out := make([]corev1.Taint, 0, len(current)+len(want))
	changed := false
	have := map[corev1.Taint]bool{}
	for _, t := range current {
		if isManaged(t) {
			if !contains(want, t) || have[keyOf(t)] {
				changed = true // unwanted, or a duplicate
				continue
			}
			have[keyOf(t)] = true
		}
		if t.Effect == corev1.TaintEffectNoExecute && t.TimeAdded == nil {
			t.TimeAdded = &now
			changed = true
		}
		out = append(out, t)
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
