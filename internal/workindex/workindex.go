// Package workindex registers the manager cache's index of Works by the
// ResourceBinding they were rendered from (workv1alpha1.AnnotationBinding).
// The binding controller and the status controller both read it; an index
// can be registered only once per manager, so neither owns it.
package workindex

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Register adds the index to idx.
func Register(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &workv1alpha1.Work{}, workv1alpha1.WorkBindingIndex, func(o client.Object) []string {
		if b := o.GetAnnotations()[workv1alpha1.AnnotationBinding]; b != "" {
			return []string{b}
		}
		return nil
	})
}

// Key is the index value of the binding namespace/name.
func Key(namespace, name string) string { return namespace + "/" + name }

// List returns the Works rendered from the binding namespace/name, from the
// cache.
func List(ctx context.Context, r client.Reader, namespace, name string) ([]workv1alpha1.Work, error) {
	var l workv1alpha1.WorkList
	if err := r.List(ctx, &l, client.MatchingFields{workv1alpha1.WorkBindingIndex: Key(namespace, name)}); err != nil {
		return nil, err
	}
	return l.Items, nil
}
