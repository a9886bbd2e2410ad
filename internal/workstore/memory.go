package workstore

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var workResource = workv1alpha1.GroupVersion.WithResource("works").GroupResource()

var (
	errTerminating = errors.New("the Work is being deleted")
	errUIDMismatch = errors.New("the Work was replaced by another of the same name (UID precondition)")
	errStale       = errors.New("the Work has been modified; apply the change to the latest version")
)

// Memory keeps Works in the manager's memory: the push-mode contract
// between the binding controller, which renders them, and the execution
// controller, which applies them, without a host write per cluster.
//
// It behaves like the apiserver where the controllers rely on it: UIDs,
// increasing resourceVersions, generation bumped by spec changes,
// finalizers holding a deleted Work until they are removed, optimistic
// locking, NotFound and Conflict errors. Stored objects are never changed
// in place (every write stores a new copy), so the objects List returns
// may be read without locking and without copying.
type Memory struct {
	mu        sync.RWMutex
	works     map[types.NamespacedName]*workv1alpha1.Work
	byBinding map[string]map[types.NamespacedName]struct{}
	byNS      map[string]map[types.NamespacedName]struct{}
	// cleaned holds the keys of Works that were deleted (their finalizers
	// done) and not rendered again since: their objects are gone from the
	// member, so no tombstone is needed for them.
	// By Work name (its binding's), then namespace (its cluster's).
	cleaned map[string]map[string]struct{}
	rv      uint64
	// subscribers get every change, in the order of the writes.
	subscribers []func(old, new *workv1alpha1.Work)
	// delivery serializes notifications outside mu.
	delivery sync.Mutex
	now      func() time.Time
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{
		works:     map[types.NamespacedName]*workv1alpha1.Work{},
		byBinding: map[string]map[types.NamespacedName]struct{}{},
		byNS:      map[string]map[types.NamespacedName]struct{}{},
		cleaned:   map[string]map[string]struct{}{},
		now:       time.Now,
	}
}

// Subscribe registers fn for every change from now on, and first calls it
// with every Work already stored (as creations), like an informer's first
// list. old is nil for a creation, new nil for a deletion.
func (m *Memory) Subscribe(fn func(old, new *workv1alpha1.Work)) {
	m.delivery.Lock()
	defer m.delivery.Unlock()
	m.mu.Lock()
	existing := make([]*workv1alpha1.Work, 0, len(m.works))
	for _, w := range m.works {
		existing = append(existing, w)
	}
	m.subscribers = append(m.subscribers, fn)
	m.mu.Unlock()
	for _, w := range existing {
		fn(nil, w)
	}
}

// Has tells whether the store holds the Work key.
func (m *Memory) Has(key types.NamespacedName) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.works[key]
	return ok
}

// Get returns a copy of the Work key, or a NotFound error.
func (m *Memory) Get(key types.NamespacedName) (*workv1alpha1.Work, error) {
	m.mu.RLock()
	w, ok := m.works[key]
	m.mu.RUnlock()
	if !ok {
		return nil, apierrors.NewNotFound(workResource, key.Name)
	}
	return w.DeepCopy(), nil
}

// ListForBinding returns the Works rendered from binding (annotation
// workv1alpha1.AnnotationBinding), shared with the store: read only.
func (m *Memory) ListForBinding(binding string) []*workv1alpha1.Work {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.collect(m.byBinding[binding])
}

// ListInNamespace returns the Works of an execution namespace, shared with
// the store: read only.
func (m *Memory) ListInNamespace(namespace string) []*workv1alpha1.Work {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.collect(m.byNS[namespace])
}

// Cleaned tells whether the Work key was deleted, its finalizers done,
// and not stored again since.
func (m *Memory) Cleaned(key types.NamespacedName) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.cleaned[key.Name][key.Namespace]
	return ok
}

// ForgetCleaned drops the records of the cleaned Works named name (those
// of a binding that is gone).
func (m *Memory) ForgetCleaned(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cleaned, name)
}

// Len is the number of Works stored.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.works)
}

func (m *Memory) collect(keys map[types.NamespacedName]struct{}) []*workv1alpha1.Work {
	out := make([]*workv1alpha1.Work, 0, len(keys))
	for k := range keys {
		out = append(out, m.works[k])
	}
	return out
}

// change is one write, to deliver after the lock is released.
type change struct{ old, new *workv1alpha1.Work }

func (m *Memory) nextRV() string {
	m.rv++
	return strconv.FormatUint(m.rv, 10)
}

// store puts w (a fresh object owned by the store) in place of old.
func (m *Memory) store(old, w *workv1alpha1.Work) change {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	if old != nil {
		m.unindex(old)
	}
	m.works[key] = w
	m.uncleaned(key)
	index(m.byNS, w.Namespace, key)
	if b := w.Annotations[workv1alpha1.AnnotationBinding]; b != "" {
		index(m.byBinding, b, key)
	}
	return change{old: old, new: w}
}

func (m *Memory) remove(old *workv1alpha1.Work) change {
	m.unindex(old)
	key := types.NamespacedName{Namespace: old.Namespace, Name: old.Name}
	delete(m.works, key)
	ns := m.cleaned[key.Name]
	if ns == nil {
		ns = map[string]struct{}{}
		m.cleaned[key.Name] = ns
	}
	ns[key.Namespace] = struct{}{}
	return change{old: old}
}

func (m *Memory) uncleaned(key types.NamespacedName) {
	if ns := m.cleaned[key.Name]; ns != nil {
		delete(ns, key.Namespace)
		if len(ns) == 0 {
			delete(m.cleaned, key.Name)
		}
	}
}

func (m *Memory) unindex(w *workv1alpha1.Work) {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	unindex(m.byNS, w.Namespace, key)
	if b := w.Annotations[workv1alpha1.AnnotationBinding]; b != "" {
		unindex(m.byBinding, b, key)
	}
}

func index(idx map[string]map[types.NamespacedName]struct{}, k string, key types.NamespacedName) {
	s := idx[k]
	if s == nil {
		s = map[types.NamespacedName]struct{}{}
		idx[k] = s
	}
	s[key] = struct{}{}
}

func unindex(idx map[string]map[types.NamespacedName]struct{}, k string, key types.NamespacedName) {
	if s := idx[k]; s != nil {
		delete(s, key)
		if len(s) == 0 {
			delete(idx, k)
		}
	}
}

// deliver tells the subscribers about changes, outside mu so that they
// may read the store.
func (m *Memory) deliver(changes ...change) {
	m.delivery.Lock()
	defer m.delivery.Unlock()
	m.mu.RLock()
	subs := m.subscribers
	m.mu.RUnlock()
	for _, c := range changes {
		for _, fn := range subs {
			fn(c.old, c.new)
		}
	}
}

// Apply creates the Work or updates what the binding controller owns of
// it: the annotations in owned (set when desired has them, removed when
// not), desired's finalizers (added), and the whole spec. A Work being
// deleted is not changed (Conflict). It returns the stored Work.
func (m *Memory) Apply(desired *workv1alpha1.Work, owned []string) (*workv1alpha1.Work, error) {
	key := types.NamespacedName{Namespace: desired.Namespace, Name: desired.Name}
	m.mu.Lock()
	old := m.works[key]
	var w *workv1alpha1.Work
	if old == nil {
		w = &workv1alpha1.Work{
			TypeMeta: metav1.TypeMeta{APIVersion: workv1alpha1.GroupVersion.String(), Kind: workv1alpha1.KindWork},
			ObjectMeta: metav1.ObjectMeta{
				Namespace: desired.Namespace, Name: desired.Name, UID: uuid.NewUUID(),
				CreationTimestamp: metav1.NewTime(m.now()), Generation: 1,
			},
		}
	} else {
		if !old.DeletionTimestamp.IsZero() {
			m.mu.Unlock()
			return nil, apierrors.NewConflict(workResource, key.Name, errTerminating)
		}
		w = old.DeepCopy()
	}
	changed := old == nil
	for _, k := range owned {
		v, want := desired.Annotations[k]
		cur, has := w.Annotations[k]
		switch {
		case want && (!has || cur != v):
			if w.Annotations == nil {
				w.Annotations = map[string]string{}
			}
			w.Annotations[k] = v
			changed = true
		case !want && has:
			delete(w.Annotations, k)
			changed = true
		}
	}
	for _, f := range desired.Finalizers {
		changed = controllerutil.AddFinalizer(w, f) || changed
	}
	if !equality.Semantic.DeepEqual(w.Spec, desired.Spec) {
		w.Spec = *desired.Spec.DeepCopy()
		if old != nil {
			w.Generation++
		}
		changed = true
	}
	if !changed {
		m.mu.Unlock()
		return old, nil
	}
	w.ResourceVersion = m.nextRV()
	c := m.store(old, w)
	m.mu.Unlock()
	m.deliver(c)
	return w, nil
}

// Tombstone stores a Work that is already being deleted, with the
// execution finalizer: the execution controller removes what it names
// from the member, then the Work is gone. It stands for a Work lost with
// the manager's memory (a restart) whose objects must still be cleaned up.
// Nothing happens when the Work exists.
func (m *Memory) Tombstone(w *workv1alpha1.Work) {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	m.mu.Lock()
	if _, ok := m.works[key]; ok {
		m.mu.Unlock()
		return
	}
	if _, ok := m.cleaned[key.Name][key.Namespace]; ok {
		m.mu.Unlock()
		return
	}
	t := w.DeepCopy()
	now := metav1.NewTime(m.now())
	t.UID = uuid.NewUUID()
	t.Generation = 1
	t.CreationTimestamp = now
	t.DeletionTimestamp = &now
	t.Finalizers = []string{workv1alpha1.WorkFinalizer}
	t.ResourceVersion = m.nextRV()
	c := m.store(nil, t)
	m.mu.Unlock()
	m.deliver(c)
}

// Delete deletes the Work key when its UID is uid (any UID when empty):
// at once without finalizers, else it is marked as being deleted.
func (m *Memory) Delete(key types.NamespacedName, uid types.UID) error {
	m.mu.Lock()
	old, ok := m.works[key]
	switch {
	case !ok:
		m.mu.Unlock()
		return apierrors.NewNotFound(workResource, key.Name)
	case uid != "" && old.UID != uid:
		m.mu.Unlock()
		return apierrors.NewConflict(workResource, key.Name, errUIDMismatch)
	case !old.DeletionTimestamp.IsZero():
		m.mu.Unlock()
		return nil
	}
	var c change
	if len(old.Finalizers) == 0 {
		c = m.remove(old)
	} else {
		w := old.DeepCopy()
		now := metav1.NewTime(m.now())
		w.DeletionTimestamp = &now
		w.ResourceVersion = m.nextRV()
		c = m.store(old, w)
	}
	m.mu.Unlock()
	m.deliver(c)
	return nil
}

// update applies fn to a copy of the Work key with UID uid (and, when rv
// is not empty, that resourceVersion), stores it and returns it. A Work
// being deleted that is left without finalizers is removed.
func (m *Memory) update(key types.NamespacedName, uid types.UID, rv string, fn func(*workv1alpha1.Work) bool) (*workv1alpha1.Work, error) {
	m.mu.Lock()
	old, ok := m.works[key]
	switch {
	case !ok:
		m.mu.Unlock()
		return nil, apierrors.NewNotFound(workResource, key.Name)
	case uid != "" && old.UID != uid:
		m.mu.Unlock()
		return nil, apierrors.NewConflict(workResource, key.Name, errUIDMismatch)
	case rv != "" && old.ResourceVersion != rv:
		m.mu.Unlock()
		return nil, apierrors.NewConflict(workResource, key.Name, errStale)
	}
	w := old.DeepCopy()
	if !fn(w) {
		m.mu.Unlock()
		return old, nil
	}
	var c change
	if !w.DeletionTimestamp.IsZero() && len(w.Finalizers) == 0 {
		c = m.remove(old)
	} else {
		w.ResourceVersion = m.nextRV()
		c = m.store(old, w)
	}
	m.mu.Unlock()
	m.deliver(c)
	return w, nil
}

// AddFinalizer adds finalizer to the Work key with UID uid.
func (m *Memory) AddFinalizer(key types.NamespacedName, uid types.UID, finalizer string) (*workv1alpha1.Work, error) {
	return m.update(key, uid, "", func(w *workv1alpha1.Work) bool {
		if !w.DeletionTimestamp.IsZero() {
			return false // as the apiserver: no new finalizers once deleting
		}
		return controllerutil.AddFinalizer(w, finalizer)
	})
}

// RemoveFinalizer removes finalizer from the Work key at resourceVersion
// rv (optimistic lock); the Work goes when it was its last and it is
// being deleted.
func (m *Memory) RemoveFinalizer(key types.NamespacedName, uid types.UID, rv, finalizer string) (*workv1alpha1.Work, error) {
	return m.update(key, uid, rv, func(w *workv1alpha1.Work) bool {
		return controllerutil.RemoveFinalizer(w, finalizer)
	})
}

// SetStatus replaces the status of the Work key with UID uid.
func (m *Memory) SetStatus(key types.NamespacedName, uid types.UID, st *workv1alpha1.WorkStatus) (*workv1alpha1.Work, error) {
	return m.update(key, uid, "", func(w *workv1alpha1.Work) bool {
		w.Status = *st.DeepCopy()
		return true
	})
}
