package status

import (
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// writes remembers the status this controller wrote last, per template and
// per binding, until the cache shows that write. A pass that runs before
// the watch event of the previous write arrives (a Work changed right
// after) then compares against what was written instead of the older
// cached status, and neither writes the same status again nor repeats its
// events.
//
// It also remembers when each object's status was last written, so that
// progress details can be written at a bounded rate (see
// Reconciler.ProgressInterval).
type writes struct {
	mu        sync.Mutex
	templates map[types.NamespacedName]written[workv1alpha1.ResourceTemplateStatus]
	bindings  map[types.NamespacedName]written[BindingStatus]
	// last[key] is when the template's [0] and the binding's [1] status
	// were last written.
	last map[types.NamespacedName][2]time.Time
	// deferred[key] is when a write of an intermediate state of the
	// template [0] or the binding [1] was first put off; zero when none is.
	deferred map[types.NamespacedName][2]time.Time
}

// putOff returns how long a write of an intermediate state in slot of k
// still waits: interval from the first time it was put off.
func (w *writes) putOff(k types.NamespacedName, slot int, interval time.Duration, now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deferred == nil {
		w.deferred = map[types.NamespacedName][2]time.Time{}
	}
	d := w.deferred[k]
	if d[slot].IsZero() {
		d[slot] = now
		w.deferred[k] = d
	}
	if wait := interval - now.Sub(d[slot]); wait > 0 {
		return wait
	}
	return 0
}

const (
	templateSlot = 0
	bindingSlot  = 1
)

// lastWrite returns when the status in slot of k was last written.
func (w *writes) lastWrite(k types.NamespacedName, slot int) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[k][slot]
}

func (w *writes) stamp(k types.NamespacedName, slot int, at time.Time) {
	if w.last == nil {
		w.last = map[types.NamespacedName][2]time.Time{}
	}
	l := w.last[k]
	l[slot] = at
	w.last[k] = l
	if d, ok := w.deferred[k]; ok {
		d[slot] = time.Time{}
		if d[0].IsZero() && d[1].IsZero() {
			delete(w.deferred, k)
		} else {
			w.deferred[k] = d
		}
	}
}

type written[T any] struct {
	uid types.UID
	// staleRV is the resourceVersion the write was made over, writtenRV
	// the one it produced: a cached object at staleRV, or older than
	// writtenRV, has not seen the write.
	staleRV, writtenRV string
	status             T
}

func (w written[T]) pending(uid types.UID, rv string) bool {
	if uid != w.uid {
		return false
	}
	if rv == w.staleRV {
		return true
	}
	// Resource versions are opaque, but the apiserver's are increasing
	// integers; compare them when they are.
	cur, err1 := strconv.ParseUint(rv, 10, 64)
	wrote, err2 := strconv.ParseUint(w.writtenRV, 10, 64)
	return err1 == nil && err2 == nil && cur < wrote
}

func (w *writes) wroteTemplate(tpl *workv1alpha1.ResourceTemplate, rv string, st *workv1alpha1.ResourceTemplateStatus, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stamp(key(tpl), templateSlot, at)
	if w.templates == nil {
		w.templates = map[types.NamespacedName]written[workv1alpha1.ResourceTemplateStatus]{}
	}
	w.templates[key(tpl)] = written[workv1alpha1.ResourceTemplateStatus]{uid: tpl.UID, staleRV: tpl.ResourceVersion, writtenRV: rv, status: *st.DeepCopy()}
}

func (w *writes) wroteBinding(rb *workv1alpha1.ResourceBinding, rv string, st *BindingStatus, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stamp(key(rb), bindingSlot, at)
	if w.bindings == nil {
		w.bindings = map[types.NamespacedName]written[BindingStatus]{}
	}
	c := BindingStatus{ObservedGeneration: st.ObservedGeneration, FullyApplied: st.FullyApplied}
	for _, it := range st.AggregatedStatus {
		c.AggregatedStatus = append(c.AggregatedStatus, *it.DeepCopy())
	}
	w.bindings[key(rb)] = written[BindingStatus]{uid: rb.UID, staleRV: rb.ResourceVersion, writtenRV: rv, status: c}
}

// overlayTemplate replaces the fields of tpl's status this controller owns
// with the ones it wrote last, while the cache has not caught up. tpl must
// be the caller's copy.
func (w *writes) overlayTemplate(tpl *workv1alpha1.ResourceTemplate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := key(tpl)
	rec, ok := w.templates[k]
	if !ok {
		return
	}
	if !rec.pending(tpl.UID, tpl.ResourceVersion) {
		delete(w.templates, k)
		return
	}
	st := rec.status.DeepCopy()
	if st.Policy == nil {
		st.Policy = tpl.Status.Policy
	}
	tpl.Status = *st
}

// overlayBinding does the same for a binding's aggregatedStatus and
// FullyApplied condition.
func (w *writes) overlayBinding(rb *workv1alpha1.ResourceBinding) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := key(rb)
	rec, ok := w.bindings[k]
	if !ok {
		return
	}
	if !rec.pending(rb.UID, rb.ResourceVersion) {
		delete(w.bindings, k)
		return
	}
	rb.Status.ObservedGeneration = rec.status.ObservedGeneration
	rb.Status.AggregatedStatus = nil
	for _, it := range rec.status.AggregatedStatus {
		rb.Status.AggregatedStatus = append(rb.Status.AggregatedStatus, *it.DeepCopy())
	}
	conds := make([]metav1.Condition, 0, len(rb.Status.Conditions))
	for _, c := range rb.Status.Conditions {
		if c.Type != workv1alpha1.ConditionFullyApplied {
			conds = append(conds, c)
		}
	}
	rb.Status.Conditions = append(conds, rec.status.FullyApplied)
}

// forget drops what is remembered of a deleted template and its binding.
func (w *writes) forget(k types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.templates, k)
	delete(w.bindings, k)
	delete(w.last, k)
	delete(w.deferred, k)
}
