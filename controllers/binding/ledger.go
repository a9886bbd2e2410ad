package binding

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
)

// ledger remembers the last write of each Work, so that a pass that runs
// before the cache has seen a write does not repeat it, and so that the
// informer event of a write does not re-enqueue the binding for nothing. The cache stays the
// source of truth: an entry only speaks while the cached object is older
// than the write it records.
type ledger struct {
	mu sync.Mutex
	// works by binding, then by cluster.
	works map[types.NamespacedName]map[string]workWrite
}

// workWrite is one applied Work: its identity and version after the write,
// and a digest of what was written (see workView).
type workWrite struct {
	uid             types.UID
	resourceVersion string
	view            [32]byte
}

func newLedger() *ledger {
	return &ledger{works: map[types.NamespacedName]map[string]workWrite{}}
}

func (l *ledger) wroteWork(binding types.NamespacedName, cluster string, w workWrite) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.works[binding]
	if m == nil {
		m = map[string]workWrite{}
		l.works[binding] = m
	}
	m[cluster] = w
}

func (l *ledger) work(binding types.NamespacedName, cluster string) (workWrite, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.works[binding][cluster]
	return w, ok
}

// clusters returns the recorded Works of binding, by cluster.
func (l *ledger) clusters(binding types.NamespacedName) map[string]workWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]workWrite, len(l.works[binding]))
	for c, w := range l.works[binding] {
		out[c] = w
	}
	return out
}

// forgetWork drops the record of a Work that is gone; uid "" drops it
// whatever its UID.
func (l *ledger) forgetWork(binding types.NamespacedName, cluster string, uid types.UID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.works[binding]
	if w, ok := m[cluster]; ok && (uid == "" || w.uid == uid) {
		delete(m, cluster)
		if len(m) == 0 {
			delete(l.works, binding)
		}
	}
}

func (l *ledger) forgetBinding(binding types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.works, binding)
}

// notNewer tells whether an object version (uid, resourceVersion) is the
// same object as w and not newer than w: nothing was written to it after
// our write. Resource versions are compared as the API allows since
// Kubernetes 1.35; if they do not compare, the object is taken as newer.
func (w workWrite) notNewer(uid types.UID, rv string) bool {
	if uid != w.uid {
		return false
	}
	c, err := resourceversion.CompareResourceVersion(rv, w.resourceVersion)
	return err == nil && c <= 0
}
