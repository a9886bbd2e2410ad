package workstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Host keeps Works as objects on the host apiserver: reads from the
// manager's cache, writes with server-side apply (patches where a field
// must be removed whoever set it).
type Host struct {
	Client client.Client
}

// Get returns a copy of the cached Work key.
func (h *Host) Get(ctx context.Context, key types.NamespacedName) (*workv1alpha1.Work, error) {
	w := &workv1alpha1.Work{}
	if err := h.Client.Get(ctx, key, w); err != nil {
		return nil, err
	}
	return w, nil
}

// ListForBinding returns the cached Works of binding (namespace/name), read
// only.
func (h *Host) ListForBinding(ctx context.Context, binding string) ([]*workv1alpha1.Work, error) {
	var list workv1alpha1.WorkList
	if err := h.Client.List(ctx, &list, client.MatchingFields{workv1alpha1.WorkBindingIndex: binding}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the Works of %s: %w", binding, err)
	}
	return pointers(list.Items), nil
}

// ListInNamespace returns the cached Works of namespace, read only.
func (h *Host) ListInNamespace(ctx context.Context, namespace string) ([]*workv1alpha1.Work, error) {
	var list workv1alpha1.WorkList
	if err := h.Client.List(ctx, &list, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the Works of %s: %w", namespace, err)
	}
	return pointers(list.Items), nil
}

func pointers(items []workv1alpha1.Work) []*workv1alpha1.Work {
	out := make([]*workv1alpha1.Work, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// Apply server-side applies desired's annotations, finalizers and spec
// with field manager fieldOwner (forced), creating the execution namespace
// when it is missing. Annotations the owner applied before and desired
// lacks are removed by the apply itself.
func (h *Host) Apply(ctx context.Context, desired *workv1alpha1.Work, fieldOwner string) (types.UID, string, error) {
	u, err := applyObject(desired)
	if err != nil {
		return "", "", err
	}
	apply := func() error {
		return h.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
	}
	err = apply()
	if namespaceMissing(err, desired.Namespace) {
		// A write without a read: reading through the cache would start a
		// cluster-wide Namespace informer for this.
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: desired.Namespace, Labels: map[string]string{"app.kubernetes.io/part-of": "argosy"}}}
		if cerr := h.Client.Create(ctx, ns); cerr != nil && !apierrors.IsAlreadyExists(cerr) {
			return "", "", fmt.Errorf("creating the execution namespace %s: %w", desired.Namespace, cerr)
		}
		err = apply()
	}
	if err != nil {
		return "", "", err
	}
	return u.GetUID(), u.GetResourceVersion(), nil
}

// applyObject is the Work to server-side apply for desired.
func applyObject(desired *workv1alpha1.Work) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(desired.Spec)
	if err != nil {
		return nil, err
	}
	var spec map[string]any
	if err := utiljson.Unmarshal(raw, &spec); err != nil { // integers stay int64
		return nil, err
	}
	annotations := make(map[string]any, len(desired.Annotations))
	for k, v := range desired.Annotations {
		annotations[k] = v
	}
	meta := map[string]any{"name": desired.Name, "namespace": desired.Namespace, "annotations": annotations}
	if len(desired.Finalizers) > 0 {
		fs := make([]any, len(desired.Finalizers))
		for i, f := range desired.Finalizers {
			fs[i] = f
		}
		meta["finalizers"] = fs
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(),
		"kind":       workv1alpha1.KindWork,
		"metadata":   meta,
		"spec":       spec,
	}}, nil
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

// Delete deletes the Work key with UID uid (a precondition).
func (h *Host) Delete(ctx context.Context, key types.NamespacedName, uid types.UID) error {
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	var opts []client.DeleteOption
	if uid != "" {
		opts = append(opts, client.Preconditions{UID: &uid})
	}
	return h.Client.Delete(ctx, w, opts...)
}

// AddFinalizer adds finalizer with server-side apply carrying the Work's
// UID, so a Work deleted meanwhile is not recreated.
func (h *Host) AddFinalizer(ctx context.Context, w *workv1alpha1.Work, finalizer, fieldOwner string) (string, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(workv1alpha1.GroupVersion.WithKind(workv1alpha1.KindWork))
	u.SetNamespace(w.Namespace)
	u.SetName(w.Name)
	u.SetUID(w.UID)
	u.SetFinalizers([]string{finalizer})
	if err := h.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner)); err != nil {
		return "", err
	}
	return u.GetResourceVersion(), nil
}

// RemoveFinalizer removes finalizer whoever added it, with a merge patch
// and optimistic locking.
func (h *Host) RemoveFinalizer(ctx context.Context, w *workv1alpha1.Work, finalizer, fieldOwner string) error {
	before := w.DeepCopy()
	controllerutil.RemoveFinalizer(w, finalizer)
	return h.Client.Patch(ctx, w, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner))
}

// SetStatus server-side applies the whole status (forced), carrying the
// Work's UID.
func (h *Host) SetStatus(ctx context.Context, w *workv1alpha1.Work, st *workv1alpha1.WorkStatus, fieldOwner string) (string, error) {
	raw, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := utiljson.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": m}}
	u.SetGroupVersionKind(workv1alpha1.GroupVersion.WithKind(workv1alpha1.KindWork))
	u.SetNamespace(w.Namespace)
	u.SetName(w.Name)
	u.SetUID(w.UID)
	if err := h.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return "", err
	}
	return u.GetResourceVersion(), nil
}
