package execution

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// writtenTTL bounds how long a write of ours is trusted over a cache that
// does not show it yet.
const writtenTTL = 10 * time.Second

// writes remembers, per Work, what this controller last wrote (its status,
// its finalizer and its removal) and the resourceVersion the write
// produced, and when a member-status-only write was put off. Member events
// often bring a Work back before the cache shows the status written by the
// previous pass; without this, that pass would write the same status again,
// record its event twice, compare the manifests with a status that does not
// list what was just applied, or remove a removed finalizer again.
type writes struct {
	mu        sync.Mutex
	m         map[types.NamespacedName]*written
	lastSweep time.Time
}

type written struct {
	uid types.UID
	rv  string
	at  time.Time
	// status and finalizer are overlaid until the cache shows rv.
	status    *workv1alpha1.WorkStatus
	finalizer bool
	// released: the finalizer was removed (the Work is going).
	released bool
	// deferredAt is when a status write that only carried member status
	// changes was first put off (zero when none is pending).
	deferredAt time.Time
}

// overlay puts what was written last into work (a copy from the cache),
// unless the cache has caught up (it shows the resourceVersion of that
// write), the Work is another one with the same name, or the write is old.
func (w *writes) overlay(work *workv1alpha1.Work, now time.Time) {
	key := types.NamespacedName{Namespace: work.Namespace, Name: work.Name}
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.m[key]
	if e == nil {
		return
	}
	if e.uid != work.UID || now.Sub(e.at) > writtenTTL {
		delete(w.m, key)
		return
	}
	if e.released {
		// The Work is going (no finalizer can be added back to it). The
		// API server answers the removal of its last finalizer with the
		// resourceVersion it had before, so rv cannot tell a stale copy.
		controllerutil.RemoveFinalizer(work, workv1alpha1.WorkFinalizer)
		return
	}
	if e.rv == work.ResourceVersion {
		// Caught up; a pending deferral stays.
		e.status, e.finalizer = nil, false
		return
	}
	if e.status != nil {
		work.Status = *e.status.DeepCopy()
	}
	if e.finalizer {
		controllerutil.AddFinalizer(work, workv1alpha1.WorkFinalizer)
	}
}

// putOff says how long to put off a status write of work that only
// carries member status changes: spacing from the first such write put
// off, then 0 (write now).
func (w *writes) putOff(work *workv1alpha1.Work, spacing time.Duration, now time.Time) time.Duration {
	key := types.NamespacedName{Namespace: work.Namespace, Name: work.Name}
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.m[key]
	if e == nil || e.uid != work.UID {
		e = w.entry(work, "", now)
	}
	if e.deferredAt.IsZero() {
		e.deferredAt = now
	}
	if waited := now.Sub(e.deferredAt); waited < spacing {
		return spacing - waited
	}
	return 0
}

func (w *writes) entry(work *workv1alpha1.Work, rv string, now time.Time) *written {
	key := types.NamespacedName{Namespace: work.Namespace, Name: work.Name}
	if w.m == nil {
		w.m = map[types.NamespacedName]*written{}
	}
	// Most Works are not reconciled again soon after a write (status
	// writes do not trigger a pass): expired entries go here.
	if now.Sub(w.lastSweep) > writtenTTL {
		for k, e := range w.m {
			if now.Sub(e.at) > writtenTTL {
				delete(w.m, k)
			}
		}
		w.lastSweep = now
	}
	e := w.m[key]
	if e == nil || e.uid != work.UID {
		e = &written{uid: work.UID}
		w.m[key] = e
	}
	e.rv, e.at = rv, now
	return e
}

// status records a status write that produced resourceVersion rv.
func (w *writes) status(work *workv1alpha1.Work, st *workv1alpha1.WorkStatus, rv string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(work, rv, now)
	e.status, e.deferredAt = st, time.Time{}
}

// finalizer records the finalizer's addition, which produced rv.
func (w *writes) finalizer(work *workv1alpha1.Work, rv string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entry(work, rv, now).finalizer = true
}

// released records the finalizer's removal, which produced rv.
func (w *writes) released(work *workv1alpha1.Work, rv string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(work, rv, now)
	e.released, e.finalizer = true, false
}

func (w *writes) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
}
