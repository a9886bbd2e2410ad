package binding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// ownedAnnotations are the Work annotations the binding controller writes.
var ownedAnnotations = []string{
	workv1alpha1.AnnotationBinding,
	workv1alpha1.AnnotationBindingGeneration,
	workv1alpha1.AnnotationConflictResolution,
	workv1alpha1.AnnotationRenderError,
}

// workView is what the binding controller owns of a Work, in a canonical
// form: two Works that the apiserver would store alike have the same view.
type workView struct {
	Annotations map[string]string `json:"a,omitempty"`
	// Manifests are canonical JSON: keys sorted, numbers as written.
	Manifests                   []json.RawMessage `json:"m,omitempty"`
	SuspendDispatching          bool              `json:"s,omitempty"`
	PreserveResourcesOnDeletion bool              `json:"p,omitempty"`
}

// digest identifies a view.
func (v *workView) digest() ([32]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(raw), nil
}

// viewOf is the binding controller's part of a cached Work.
func viewOf(w *workv1alpha1.Work) (workView, error) {
	v := workView{
		SuspendDispatching:          ptr.Deref(w.Spec.SuspendDispatching, false),
		PreserveResourcesOnDeletion: ptr.Deref(w.Spec.PreserveResourcesOnDeletion, false),
	}
	for _, k := range ownedAnnotations {
		if val, ok := w.Annotations[k]; ok {
			if v.Annotations == nil {
				v.Annotations = map[string]string{}
			}
			v.Annotations[k] = val
		}
	}
	for i, m := range w.Spec.Workload.Manifests {
		c, err := canonical(m.Raw)
		if err != nil {
			return v, fmt.Errorf("manifest %d of Work %s/%s: %w", i, w.Namespace, w.Name, err)
		}
		v.Manifests = append(v.Manifests, c)
	}
	return v, nil
}

// canonical re-encodes a manifest with sorted keys, numbers kept as
// written and null fields dropped. Rendered manifests are sent in this form,
// so the apiserver stores them alike; nulls are dropped because the
// apiserver normalizes the metadata of embedded objects (it may add
// creationTimestamp: null) and a null field means nothing to a member.
func canonical(raw []byte) (json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	dropNulls(v)
	return json.Marshal(v)
}

// dropNulls removes null fields from the objects in v, at any depth.
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, f := range t {
			if f == nil {
				delete(t, k)
			} else {
				dropNulls(f)
			}
		}
	case []any:
		for _, e := range t {
			dropNulls(e)
		}
	}
}

// desiredWork is the Work for view v: what the binding controller owns
// of it, the execution controller's finalizer included so that it does
// not cost a second write per Work (that controller still adds it to
// Works created without it and is the one to remove it).
func desiredWork(namespace, name string, v *workView) *workv1alpha1.Work {
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{
		Namespace: namespace, Name: name, Annotations: maps.Clone(v.Annotations),
		Finalizers: []string{workv1alpha1.WorkFinalizer},
	}}
	for _, m := range v.Manifests {
		w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: m}})
	}
	if v.SuspendDispatching {
		w.Spec.SuspendDispatching = ptr.To(true)
	}
	if v.PreserveResourcesOnDeletion {
		w.Spec.PreserveResourcesOnDeletion = ptr.To(true)
	}
	return w
}

// applyWork writes v to the Work namespace/name in the Work store and
// returns the Work's UID and resourceVersion after the write.
func (r *Reconciler) applyWork(ctx context.Context, namespace, name string, v *workView) (workWrite, error) {
	uid, rv, err := r.Works.Apply(ctx, desiredWork(namespace, name, v), ownedAnnotations, workv1alpha1.FieldManagerBinding)
	if err != nil {
		return workWrite{}, err
	}
	d, err := v.digest()
	if err != nil {
		return workWrite{}, err
	}
	return workWrite{uid: uid, resourceVersion: rv, view: d}, nil
}
