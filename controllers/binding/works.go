package binding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// applyObject is the Work to server-side apply for view v.
func applyObject(namespace, name string, v *workView) (*unstructured.Unstructured, error) {
	manifests := make([]any, 0, len(v.Manifests))
	for _, m := range v.Manifests {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(m); err != nil {
			return nil, err
		}
		manifests = append(manifests, u.Object)
	}
	annotations := make(map[string]any, len(v.Annotations))
	for k, val := range v.Annotations {
		annotations[k] = val
	}
	spec := map[string]any{}
	if len(manifests) > 0 {
		spec["workload"] = map[string]any{"manifests": manifests}
	}
	if v.SuspendDispatching {
		spec["suspendDispatching"] = true
	}
	if v.PreserveResourcesOnDeletion {
		spec["preserveResourcesOnDeletion"] = true
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(),
		"kind":       workv1alpha1.KindWork,
		// The execution controller's finalizer comes with the Work, so that
		// it does not cost a second write per Work; that controller still
		// adds it to Works created without it and is the one to remove it.
		"metadata": map[string]any{"name": name, "namespace": namespace, "annotations": annotations,
			"finalizers": []any{workv1alpha1.WorkFinalizer}},
		"spec": spec,
	}}, nil
}

// applyWork writes v to the Work namespace/name with server-side apply,
// creating the execution namespace when it is missing, and returns the
// Work's UID and resourceVersion after the write.
func (r *Reconciler) applyWork(ctx context.Context, namespace, name string, v *workView) (workWrite, error) {
	u, err := applyObject(namespace, name, v)
	if err != nil {
		return workWrite{}, err
	}
	apply := func() error {
		return r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(workv1alpha1.FieldManagerBinding), client.ForceOwnership)
	}
	err = apply()
	if namespaceMissing(err, namespace) {
		// A write without a read: reading through the cache would start a
		// cluster-wide Namespace informer for this.
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace, Labels: map[string]string{"app.kubernetes.io/part-of": "argosy"}}}
		if cerr := r.Client.Create(ctx, ns); cerr != nil && !apierrors.IsAlreadyExists(cerr) {
			return workWrite{}, fmt.Errorf("creating the execution namespace %s: %w", namespace, cerr)
		}
		err = apply()
	}
	if err != nil {
		return workWrite{}, err
	}
	d, err := v.digest()
	if err != nil {
		return workWrite{}, err
	}
	return workWrite{uid: u.GetUID(), resourceVersion: u.GetResourceVersion(), view: d}, nil
}

// namespaceMissing tells whether err says that namespace does not exist.
func namespaceMissing(err error, namespace string) bool {
	var s apierrors.APIStatus
	if err == nil || !apierrors.IsNotFound(err) || !errors.As(err, &s) {
		return false
	}
	d := s.Status().Details
	return d != nil && d.Kind == "namespaces" && d.Name == namespace
}
