package workstore

import (
	"fmt"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var owned = []string{workv1alpha1.AnnotationBinding, workv1alpha1.AnnotationRenderError}

func desired(cluster, name, manifest string, annotations map[string]string) *workv1alpha1.Work {
	a := map[string]string{workv1alpha1.AnnotationBinding: "argosy-templates/" + name}
	for k, v := range annotations {
		a[k] = v
	}
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespacePrefix + cluster, Name: name, Annotations: a,
			Finalizers: []string{workv1alpha1.WorkFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: []byte(manifest)}}}}},
	}
}

// recorder keeps the changes a subscriber sees, as "create/update/delete name@rv".
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(old, new *workv1alpha1.Work) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case old == nil:
		r.got = append(r.got, "create "+new.Namespace+"/"+new.Name+"@"+new.ResourceVersion)
	case new == nil:
		r.got = append(r.got, "delete "+old.Namespace+"/"+old.Name)
	default:
		r.got = append(r.got, fmt.Sprintf("update %s/%s@%s gen %d", new.Namespace, new.Name, new.ResourceVersion, new.Generation))
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func TestMemoryLifecycle(t *testing.T) {
	m := NewMemory()
	rec := &recorder{}
	m.Subscribe(rec.add)

	w, err := m.Apply(desired("c1", "rb", `{"a":1}`, nil), owned)
	if err != nil {
		t.Fatal(err)
	}
	if w.UID == "" || w.Generation != 1 || w.ResourceVersion != "1" || len(w.Finalizers) != 1 {
		t.Fatalf("created %+v", w.ObjectMeta)
	}
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}

	// The same content again: no write, no event.
	again, _ := m.Apply(desired("c1", "rb", `{"a":1}`, nil), owned)
	if again.ResourceVersion != "1" {
		t.Errorf("a no-op apply wrote: rv %s", again.ResourceVersion)
	}
	// An owned annotation added, then removed; a foreign one kept.
	_, _ = m.Apply(desired("c1", "rb", `{"a":1}`, map[string]string{workv1alpha1.AnnotationRenderError: "boom", "other": "x"}), owned)
	got, _ := m.Get(key)
	if got.Annotations[workv1alpha1.AnnotationRenderError] != "boom" || got.Annotations["other"] != "" || got.Generation != 1 {
		t.Errorf("annotations %v generation %d: want the owned one set, the foreign one ignored, no new generation", got.Annotations, got.Generation)
	}
	_, _ = m.Apply(desired("c1", "rb", `{"a":2}`, nil), owned)
	got, _ = m.Get(key)
	if _, ok := got.Annotations[workv1alpha1.AnnotationRenderError]; ok || got.Generation != 2 {
		t.Errorf("after a spec change without the annotation: annotations %v generation %d", got.Annotations, got.Generation)
	}
	// Get returns a copy.
	got.Annotations["x"] = "y"
	if again, _ := m.Get(key); again.Annotations["x"] != "" {
		t.Error("Get returned the stored object")
	}

	// Status, finalizer removal with a stale resourceVersion, deletion.
	st := &workv1alpha1.WorkStatus{ObservedGeneration: 2}
	after, err := m.SetStatus(key, w.UID, st)
	if err != nil || after.Status.ObservedGeneration != 2 {
		t.Fatalf("SetStatus: %v %+v", err, after)
	}
	if _, err := m.SetStatus(key, "another-uid", st); !apierrors.IsConflict(err) {
		t.Errorf("SetStatus with another UID: %v, want a conflict", err)
	}
	if err := m.Delete(key, w.UID); err != nil {
		t.Fatal(err)
	}
	got, _ = m.Get(key)
	if got.DeletionTimestamp.IsZero() {
		t.Fatal("a Work with a finalizer is gone at once")
	}
	if _, err := m.Apply(desired("c1", "rb", `{"a":3}`, nil), owned); !apierrors.IsConflict(err) {
		t.Errorf("apply to a Work being deleted: %v, want a conflict", err)
	}
	if _, err := m.AddFinalizer(key, w.UID, "other"); err != nil || len(mustGet(t, m, key).Finalizers) != 1 {
		t.Errorf("a finalizer was added to a Work being deleted: %v", err)
	}
	if _, err := m.RemoveFinalizer(key, w.UID, "1", workv1alpha1.WorkFinalizer); !apierrors.IsConflict(err) {
		t.Errorf("RemoveFinalizer at a stale resourceVersion: %v, want a conflict", err)
	}
	if m.Cleaned(key) {
		t.Error("cleaned before its finalizer is done")
	}
	if _, err := m.RemoveFinalizer(key, w.UID, got.ResourceVersion, workv1alpha1.WorkFinalizer); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(key); !apierrors.IsNotFound(err) || !m.Cleaned(key) || m.Len() != 0 {
		t.Errorf("after the last finalizer: get %v, cleaned %v, len %d", err, m.Cleaned(key), m.Len())
	}
	want := []string{"create argosy-es-c1/rb@1", "update argosy-es-c1/rb@2 gen 1", "update argosy-es-c1/rb@3 gen 2",
		"update argosy-es-c1/rb@4 gen 2", "update argosy-es-c1/rb@5 gen 2", "delete argosy-es-c1/rb"}
	if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes seen\n got %v\nwant %v", got, want)
	}

	// A cleaned Work gets no tombstone; a new apply forgets that it was
	// cleaned.
	m.Tombstone(desired("c1", "rb", `{}`, nil))
	if m.Has(key) {
		t.Error("a tombstone for a cleaned Work")
	}
	_, _ = m.Apply(desired("c1", "rb", `{"a":1}`, nil), owned)
	if m.Cleaned(key) {
		t.Error("still cleaned after a new apply")
	}
	m.ForgetCleaned("rb")
}

func mustGet(t *testing.T, m *Memory, key types.NamespacedName) *workv1alpha1.Work {
	t.Helper()
	w, err := m.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestMemoryDeleteWithoutFinalizerAndPreconditions(t *testing.T) {
	m := NewMemory()
	d := desired("c1", "rb", `{}`, nil)
	d.Finalizers = nil
	w, _ := m.Apply(d, owned)
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	if err := m.Delete(key, "another-uid"); !apierrors.IsConflict(err) {
		t.Errorf("delete with another UID: %v, want a conflict", err)
	}
	if err := m.Delete(key, w.UID); err != nil || m.Has(key) {
		t.Errorf("delete without finalizers: %v, still there %v", err, m.Has(key))
	}
	if err := m.Delete(key, ""); !apierrors.IsNotFound(err) {
		t.Errorf("delete of a missing Work: %v, want NotFound", err)
	}
}

func TestMemoryTombstoneAndIndexes(t *testing.T) {
	m := NewMemory()
	_, _ = m.Apply(desired("c1", "a", `{}`, nil), owned)
	_, _ = m.Apply(desired("c2", "a", `{}`, nil), owned)
	_, _ = m.Apply(desired("c1", "b", `{}`, nil), owned)
	m.Tombstone(desired("c3", "a", `{"kind":"X"}`, nil))
	if n := len(m.ListForBinding("argosy-templates/a")); n != 3 {
		t.Errorf("Works of binding a: %d, want 3", n)
	}
	if n := len(m.ListInNamespace(workv1alpha1.ExecutionNamespacePrefix + "c1")); n != 2 {
		t.Errorf("Works of c1: %d, want 2", n)
	}
	ts := mustGet(t, m, types.NamespacedName{Namespace: workv1alpha1.ExecutionNamespacePrefix + "c3", Name: "a"})
	if ts.DeletionTimestamp.IsZero() || len(ts.Finalizers) != 1 || ts.Finalizers[0] != workv1alpha1.WorkFinalizer {
		t.Errorf("tombstone %+v: want deleting with the execution finalizer", ts.ObjectMeta)
	}
	// A tombstone does not replace a Work.
	m.Tombstone(desired("c1", "a", `{"kind":"X"}`, nil))
	if w := mustGet(t, m, types.NamespacedName{Namespace: workv1alpha1.ExecutionNamespacePrefix + "c1", Name: "a"}); !w.DeletionTimestamp.IsZero() {
		t.Error("a tombstone replaced a live Work")
	}
	// A subscriber that comes late sees every Work first.
	rec := &recorder{}
	m.Subscribe(rec.add)
	if n := len(rec.take()); n != 4 {
		t.Errorf("replayed %d Works, want 4", n)
	}
}

func TestParseMode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Mode
		ok   bool
	}{{"pull-only", PullOnly, true}, {"always", Always, true}, {"", "", false}, {"never", "", false}} {
		got, err := ParseMode(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseMode(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestNamespaceMissing(t *testing.T) {
	nsGone := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "argosy-es-c1")
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{nsGone, true},
		{fmt.Errorf("wrapped: %w", nsGone), true},
		{apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "argosy-es-c2"), false},
		{apierrors.NewNotFound(schema.GroupResource{Group: "work.argosy.dev", Resource: "works"}, "rb"), false},
		{apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "argosy-es-c1", fmt.Errorf("terminating")), false},
	}
	for i, tt := range tests {
		if got := namespaceMissing(tt.err, "argosy-es-c1"); got != tt.want {
			t.Errorf("%d: namespaceMissing(%v) = %v", i, tt.err, got)
		}
	}
}

func TestApplyObject(t *testing.T) {
	d := desired("c1", "rb", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"x":{"n":2}}`, nil)
	d.Spec.PreserveResourcesOnDeletion = new(bool)
	*d.Spec.PreserveResourcesOnDeletion = true
	u, err := applyObject(d)
	if err != nil {
		t.Fatal(err)
	}
	meta := u.Object["metadata"].(map[string]any)
	if meta["name"] != "rb" || meta["namespace"] != "argosy-es-c1" || fmt.Sprint(meta["finalizers"]) != "["+workv1alpha1.WorkFinalizer+"]" {
		t.Errorf("metadata %v", meta)
	}
	spec := u.Object["spec"].(map[string]any)
	manifests := spec["workload"].(map[string]any)["manifests"].([]any)
	if n := manifests[0].(map[string]any)["x"].(map[string]any)["n"]; n != int64(2) || spec["preserveResourcesOnDeletion"] != true {
		t.Errorf("spec %v: want integers as int64 and the flag", spec)
	}
}
