package taintmanager

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/tolerations"
)

// stampRetry is how soon a binding is looked at again when a tolerated
// NoExecute taint has no timeAdded yet: the cluster controller stamps it in
// its next pass (the Cluster watch brings the binding back then; this is
// only the safety net).
const stampRetry = time.Second

// maxSeconds is the longest tolerationSeconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// eviction is a cluster whose NoExecute taints evict the binding now.
type eviction struct {
	cluster  string
	replicas int32
	// taint is the taint that evicts.
	taint corev1.Taint
	// seconds is how long the policy tolerated the taint; nil when it does
	// not tolerate it at all.
	seconds *int64
}

// message is the task's message and the event's note.
func (e eviction) message() string {
	if e.seconds == nil {
		return fmt.Sprintf("cluster %s has taint %s that the policy does not tolerate", e.cluster, tolerations.Format(&e.taint))
	}
	return fmt.Sprintf("cluster %s has taint %s that the policy tolerated for %ds", e.cluster, tolerations.Format(&e.taint), *e.seconds)
}

// decision is what one pass over a binding does.
type decision struct {
	// evict are the clusters to evict now, in spec.clusters order.
	evict []eviction
	// next is when the binding must be looked at again because an eviction
	// falls due then (or a taint may have been stamped by then); zero when
	// nothing is pending.
	next time.Time
}

// decide returns the clusters of spec.clusters to evict now and when the
// next eviction falls due. A cluster that already has a graceful eviction
// task (from any producer) is left alone: it is already being evicted.
// taintsOf returns a cluster's taints, nil when the Cluster does not exist.
func decide(targets []workv1alpha1.TargetCluster, tasks []workv1alpha1.GracefulEvictionTask, tols []corev1.Toleration,
	taintsOf func(cluster string) []corev1.Taint, now time.Time) decision {
	var d decision
	for _, tc := range targets {
		if hasTask(tasks, tc.Name) {
			continue
		}
		v := judge(taintsOf(tc.Name), tols)
		switch {
		case v.taint != nil && (v.seconds == nil || !v.due.After(now)):
			d.evict = append(d.evict, eviction{cluster: tc.Name, replicas: tc.Replicas, taint: *v.taint, seconds: v.seconds})
			continue
		case v.taint != nil:
			d.next = earliest(d.next, v.due)
		}
		if v.unstamped {
			d.next = earliest(d.next, now.Add(stampRetry))
		}
	}
	return d
}

// verdict is what a cluster's NoExecute taints mean for a binding.
type verdict struct {
	// taint is the taint that evicts first; nil when none does (yet).
	taint *corev1.Taint
	// seconds is the tolerationSeconds that delays the eviction; nil when
	// the taint is not tolerated at all, and the eviction is due now.
	seconds *int64
	// due is when a tolerated taint evicts: its timeAdded plus seconds.
	due time.Time
	// unstamped: a taint tolerated for a while has no timeAdded yet, so
	// its clock has not started.
	unstamped bool
}

// judge applies the Kubernetes NoExecute rules to one cluster: the first
// NoExecute taint that no toleration matches evicts at once. Otherwise
// each taint is tolerated for the shortest tolerationSeconds among the
// tolerations that match it (a matching toleration without seconds does
// not extend a bounded one; a taint matched only by such tolerations is
// tolerated for ever), counted from the taint's timeAdded so that the count
// survives manager restarts. The taint that falls due first evicts.
func judge(taints []corev1.Taint, tols []corev1.Toleration) verdict {
	for i := range taints {
		t := &taints[i]
		if t.Effect == corev1.TaintEffectNoExecute && !tolerations.ToleratedBy(t, tols) {
			return verdict{taint: t}
		}
	}
	var out verdict
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		seconds := minSeconds(t, tols)
		switch {
		case seconds == nil || *seconds > maxSeconds:
			// Tolerated for ever (or for longer than a time.Duration).
		case t.TimeAdded == nil:
			out.unstamped = true
		default:
			due := t.TimeAdded.Add(time.Duration(max(*seconds, 0)) * time.Second)
			if out.taint == nil || due.Before(out.due) {
				out.taint, out.seconds, out.due = t, seconds, due
			}
		}
	}
	return out
}

// minSeconds is the shortest tolerationSeconds of the tolerations that
// match t, or nil when none of them sets it.
func minSeconds(t *corev1.Taint, tols []corev1.Toleration) *int64 {
	var out *int64
	for i := range tols {
		tol := &tols[i]
		if tol.TolerationSeconds == nil || !tolerations.Tolerates(tol, t) {
			continue
		}
		if out == nil || *tol.TolerationSeconds < *out {
			s := *tol.TolerationSeconds
			out = &s
		}
	}
	return out
}

func hasTask(tasks []workv1alpha1.GracefulEvictionTask, cluster string) bool {
	for i := range tasks {
		if tasks[i].FromCluster == cluster {
			return true
		}
	}
	return false
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
