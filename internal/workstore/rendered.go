package workstore

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// Rendered records, per binding, the generation the binding controller has
// rendered into Works. The status controller reports FullyApplied and the
// binding's status.observedGeneration from it, and waits while a binding
// has no record yet (after a restart, until its Works are rendered again),
// so that it never reports Works missing that are only not rendered yet.
// Keeping it here rather than writing it to the binding saves a host
// write per template generation.
type Rendered struct {
	mu        sync.Mutex
	m         map[types.NamespacedName]renderedMark
	listeners []func(types.NamespacedName)
}

type renderedMark struct {
	uid        types.UID
	generation int64
}

// Mark records that generation of the binding key with UID uid is rendered
// and tells the listeners when that is news.
func (r *Rendered) Mark(key types.NamespacedName, uid types.UID, generation int64) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[types.NamespacedName]renderedMark{}
	}
	old, ok := r.m[key]
	if ok && old.uid == uid && old.generation == generation {
		r.mu.Unlock()
		return
	}
	r.m[key] = renderedMark{uid: uid, generation: generation}
	ls := r.listeners
	r.mu.Unlock()
	for _, fn := range ls {
		fn(key)
	}
}

// Get returns the generation of binding key (UID uid) rendered, and
// whether the binding controller has rendered it since the manager
// started.
func (r *Rendered) Get(key types.NamespacedName, uid types.UID) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.m[key]
	if !ok || m.uid != uid {
		return 0, false
	}
	return m.generation, true
}

// Forget drops the record of a deleted binding.
func (r *Rendered) Forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, key)
}

// OnMark registers fn to be told about every new mark.
func (r *Rendered) OnMark(fn func(types.NamespacedName)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listeners = append(r.listeners, fn)
}
