package execution

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
)

// SetupWithManager registers the controller. Placeholder: filled in by issue 4.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	return nil
}
