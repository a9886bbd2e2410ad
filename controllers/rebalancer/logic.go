package rebalancer

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

// maxListedFailures bounds how many failed workloads the Finished
// condition names, so that its message stays readable.
const maxListedFailures = 5

// mergeWorkloads returns one entry per workload of spec, in spec order,
// with the result it already has in observed. Workloads no longer in spec
// are dropped (Karmada's behaviour); new ones have no result yet.
func mergeWorkloads(spec []appsv1alpha1.ObjectReference, observed []appsv1alpha1.ObservedWorkload) []appsv1alpha1.ObservedWorkload {
	known := make(map[appsv1alpha1.ObjectReference]appsv1alpha1.ObservedWorkload, len(observed))
	for _, o := range observed {
		known[o.Workload] = o
	}
	out := make([]appsv1alpha1.ObservedWorkload, 0, len(spec))
	for _, w := range spec {
		if o, ok := known[w]; ok && o.Result != "" {
			out = append(out, o)
			continue
		}
		out = append(out, appsv1alpha1.ObservedWorkload{Workload: w})
	}
	return out
}

// bindingName is the name of the ResourceBinding (and ResourceTemplate) of
// a workload: the group comes from its apiVersion ("" for the core group).
func bindingName(w appsv1alpha1.ObjectReference) (string, error) {
	gv, err := schema.ParseGroupVersion(w.APIVersion)
	if err != nil {
		return "", err
	}
	return template.Name(gv.Group, w.Kind, w.Namespace, w.Name), nil
}

// describe renders a workload for messages: "apps/v1 Deployment default/foo".
func describe(w appsv1alpha1.ObjectReference) string {
	if w.Namespace == "" {
		return w.APIVersion + " " + w.Kind + " " + w.Name
	}
	return w.APIVersion + " " + w.Kind + " " + w.Namespace + "/" + w.Name
}

// alreadyTriggered tells whether the binding already carries a reschedule
// request made since the rebalancer exists: one written by an earlier pass
// whose status write was lost (a restart in between, a conflict), or by a
// newer rebalancer. Such a workload counts as done without a new request,
// which keeps a rebalancer to one fresh schedule per workload.
func alreadyTriggered(rb *workv1alpha1.ResourceBinding, created time.Time) bool {
	t := rb.Spec.RescheduleTriggeredAt
	return t != nil && !t.Time.Before(created)
}

// triggerTime is the spec.rescheduleTriggeredAt to write: now, or one second
// after status.lastScheduledTime when now is not after it, since the
// scheduler acts only on a request later than its last schedule and the
// timestamps have second precision. It is never before the rebalancer's
// creation, so that alreadyTriggered recognises it even when the manager's
// clock is behind the apiserver's.
func triggerTime(now time.Time, lastScheduled *metav1.Time, created time.Time) metav1.Time {
	t := now.UTC().Truncate(time.Second)
	if lastScheduled != nil && !t.After(lastScheduled.Time) {
		t = lastScheduled.UTC().Truncate(time.Second).Add(time.Second)
	}
	if c := created.UTC().Truncate(time.Second); t.Before(c) {
		t = c
	}
	return metav1.NewTime(t)
}

// desiredStatus is the status after a pass: the entries, the generation
// they answer, the Finished condition and finishTime. resolvedNow says
// whether some entry got its result in this pass, which moves finishTime
// when the rebalancer finishes again after an edit added workloads.
func desiredStatus(wr *appsv1alpha1.WorkloadRebalancer, entries []appsv1alpha1.ObservedWorkload, resolvedNow bool, now time.Time) appsv1alpha1.WorkloadRebalancerStatus {
	st := *wr.Status.DeepCopy()
	st.ObservedWorkloads = entries
	st.ObservedGeneration = wr.Generation
	cond := finishedCondition(entries)
	cond.ObservedGeneration = wr.Generation
	cond.LastTransitionTime = metav1.NewTime(now.UTC().Truncate(time.Second))
	meta.SetStatusCondition(&st.Conditions, cond)
	st.FinishTime = finishTime(st.FinishTime, cond.Status == metav1.ConditionTrue, resolvedNow, now)
	return st
}

// finishTime is when the last workload got its result: unset while some
// have none, now when the last ones got theirs in this pass (or the
// rebalancer just finished by losing its pending workloads), else kept.
func finishTime(prev *metav1.Time, finished, resolvedNow bool, now time.Time) *metav1.Time {
	if !finished {
		return nil
	}
	if prev == nil || resolvedNow {
		t := metav1.NewTime(now.UTC().Truncate(time.Second))
		return &t
	}
	return prev
}

// finishedCondition summarises the entries in the Finished condition
// (without observedGeneration and lastTransitionTime).
func finishedCondition(entries []appsv1alpha1.ObservedWorkload) metav1.Condition {
	var pending int
	var failed []string
	for _, e := range entries {
		switch e.Result {
		case "":
			pending++
		case appsv1alpha1.RebalanceFailed:
			failed = append(failed, fmt.Sprintf("%s (%s)", describe(e.Workload), e.Reason))
		}
	}
	c := metav1.Condition{Type: appsv1alpha1.WorkloadRebalancerConditionFinished}
	switch {
	case pending > 0:
		c.Status, c.Reason = metav1.ConditionFalse, appsv1alpha1.WorkloadRebalancerReasonInProgress
		c.Message = fmt.Sprintf("%d of %d workloads have a result; the others are retried", len(entries)-pending, len(entries))
	case len(failed) == 0:
		c.Status, c.Reason = metav1.ConditionTrue, appsv1alpha1.WorkloadRebalancerReasonSucceeded
		c.Message = fmt.Sprintf("All %d workloads were handed to the scheduler for a fresh placement", len(entries))
	default:
		c.Status, c.Reason = metav1.ConditionTrue, appsv1alpha1.WorkloadRebalancerReasonPartiallyFailed
		listed := failed
		if len(listed) > maxListedFailures {
			listed = listed[:maxListedFailures]
		}
		c.Message = fmt.Sprintf("%d of %d workloads were handed to the scheduler; failed: %s",
			len(entries)-len(failed), len(entries), strings.Join(listed, ", "))
		if more := len(failed) - len(listed); more > 0 {
			c.Message += fmt.Sprintf(" and %d more", more)
		}
	}
	return c
}

// expiry applies spec.ttlSecondsAfterFinished: whether the rebalancer is to
// be deleted now and, if not, how long until it is (0: never, for an
// unfinished rebalancer or one without a TTL).
func expiry(finish *metav1.Time, ttl *int32, now time.Time) (expired bool, wait time.Duration) {
	if finish == nil || ttl == nil {
		return false, 0
	}
	left := finish.Add(time.Duration(*ttl) * time.Second).Sub(now)
	if left <= 0 {
		return true, 0
	}
	return false, left
}
