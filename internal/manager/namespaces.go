package manager

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// addTemplateNamespace makes sure the template namespace exists when the
// manager starts. config/default creates it, but an OLM bundle cannot ship a
// Namespace and `make run` against a bare cluster has none.
func addTemplateNamespace(mgr ctrl.Manager, name string) error {
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{"app.kubernetes.io/part-of": "argosy"},
		}}
		// A write with no read first: a read through the cached client would
		// start a cluster-wide Namespace informer for this one object.
		if err := mgr.GetClient().Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the template namespace %s: %w", name, err)
		}
		return nil
	}))
}
