package execution

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// nextStatus is the Work status after a pass: the Applied condition (its
// lastTransitionTime kept while its status stays), the Work's generation as
// observed, and the manifest statuses unless keep (the member could not be
// read, so what was last seen stays).
func nextStatus(work *workv1alpha1.Work, applied metav1.Condition, statuses []workv1alpha1.ManifestStatus, keep bool) *workv1alpha1.WorkStatus {
	next := &workv1alpha1.WorkStatus{
		ObservedGeneration: work.Generation,
		Conditions:         append([]metav1.Condition(nil), work.Status.Conditions...),
		ManifestStatuses:   statuses,
	}
	if keep {
		next.ManifestStatuses = work.Status.ManifestStatuses
	}
	applied.ObservedGeneration = work.Generation
	meta.SetStatusCondition(&next.Conditions, applied)
	return next
}

// statusEqual compares two Work statuses, ignoring the conditions'
// lastTransitionTime and comparing the member objects' statuses as JSON
// values rather than bytes.
func statusEqual(a, b *workv1alpha1.WorkStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || len(a.Conditions) != len(b.Conditions) || len(a.ManifestStatuses) != len(b.ManifestStatuses) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		x.LastTransitionTime, y.LastTransitionTime = metav1.Time{}, metav1.Time{}
		if x != y {
			return false
		}
	}
	for i := range a.ManifestStatuses {
		x, y := &a.ManifestStatuses[i], &b.ManifestStatuses[i]
		if x.Identifier != y.Identifier || x.Health != y.Health || !rawEqual(x.Status, y.Status) {
			return false
		}
	}
	return true
}

func rawEqual(a, b *runtime.RawExtension) bool {
	ab, bb := rawBytes(a), rawBytes(b)
	if bytes.Equal(ab, bb) {
		return true
	}
	if ab == nil || bb == nil {
		return false
	}
	var av, bv any
	if json.Unmarshal(ab, &av) != nil || json.Unmarshal(bb, &bv) != nil {
		return false
	}
	return reflect.DeepEqual(av, bv)
}

func rawBytes(r *runtime.RawExtension) []byte {
	if r == nil || len(r.Raw) == 0 || bytes.Equal(r.Raw, []byte("null")) {
		return nil
	}
	return r.Raw
}

// onlyMemberStatus reports whether b differs from a only in the member
// objects' statuses and health: same generation, conditions (but for their
// transition times) and manifests.
func onlyMemberStatus(a, b *workv1alpha1.WorkStatus) bool {
	if len(a.ManifestStatuses) != len(b.ManifestStatuses) {
		return false
	}
	x, y := *a, *b
	x.ManifestStatuses = make([]workv1alpha1.ManifestStatus, len(a.ManifestStatuses))
	y.ManifestStatuses = make([]workv1alpha1.ManifestStatus, len(b.ManifestStatuses))
	for i := range a.ManifestStatuses {
		x.ManifestStatuses[i].Identifier = a.ManifestStatuses[i].Identifier
		y.ManifestStatuses[i].Identifier = b.ManifestStatuses[i].Identifier
	}
	return statusEqual(&x, &y)
}

// statusSpacing is how long a status write to a host Work that only
// carries changes of the member objects' status waits for more of them: a
// rollout changes a Deployment's status several times within a second,
// and each write costs the host apiserver a server-side apply. Writes that
// change the Applied condition, the generation or the manifests go at
// once, and so does every write to a Work kept in memory, which costs the
// host nothing.
const statusSpacing = time.Second

// writeStatus writes the Work's status when it differs from what the cache
// shows, with server-side apply on the status subresource (carrying the
// Work's UID, so a Work recreated meanwhile is not written), and records an
// event when the Applied condition changes. A write that would only carry
// member status changes is put off for statusSpacing: the returned
// duration is when to try again.
func (r *Reconciler) writeStatus(ctx context.Context, work *workv1alpha1.Work, applied metav1.Condition, statuses []workv1alpha1.ManifestStatus, keep bool) (time.Duration, error) {
	next := nextStatus(work, applied, statuses, keep)
	if statusEqual(&work.Status, next) {
		return 0, nil
	}
	now := time.Now()
	if onlyMemberStatus(&work.Status, next) && r.Works.IsHostObject(work) {
		if wait := r.written.putOff(work, statusSpacing, now); wait > 0 {
			return wait, nil
		}
	}
	rv, err := r.Works.SetStatus(ctx, work, next, workv1alpha1.FieldManagerExecution)
	if err != nil {
		return 0, fmt.Errorf("writing the status of Work %s: %w", workKey(work), err)
	}
	r.written.status(work, next, rv, now)
	r.recordTransition(ctx, work, applied)
	return 0, nil
}

// recordTransition emits SyncFailed when the Applied condition turns
// False, or False for another reason or message (on the Work when it is a
// host object, else on its template). Success gets no event: it is
// reported once per template generation, when the template turns Ready.
// A suspended Work is not a sync and gets no event either.
func (r *Reconciler) recordTransition(ctx context.Context, work *workv1alpha1.Work, applied metav1.Condition) {
	prev := meta.FindStatusCondition(work.Status.Conditions, workv1alpha1.WorkApplied)
	if prev != nil && prev.Status == applied.Status && prev.Reason == applied.Reason && prev.Message == applied.Message {
		return
	}
	cluster, _ := clusterOf(work.Namespace)
	if applied.Status == metav1.ConditionFalse && applied.Reason != workv1alpha1.WorkReasonDispatchingSuspended {
		r.Recorder.Eventf(r.regarding(ctx, work), nil, corev1.EventTypeWarning, workv1alpha1.EventReasonSyncFailed, "Sync",
			"Failed to apply Work %s to cluster %s (%s): %s", work.Name, cluster, applied.Reason, applied.Message)
	}
	log.FromContext(ctx).Info("Applied changed", "status", applied.Status, "reason", applied.Reason, "message", applied.Message)
}
