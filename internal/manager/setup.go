package manager

import (
	ctrl "sigs.k8s.io/controller-runtime"
)

// setupControllers registers every reconciler with the manager. Each
// controller lives in its own folder under controllers/ and exposes
// SetupWithManager; they are added here as the pipeline grows.
func setupControllers(mgr ctrl.Manager, o Options) error {
	return nil
}

// setupWebhooks registers the admission webhooks.
func setupWebhooks(mgr ctrl.Manager, o Options) error {
	return nil
}
