package manager

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"

	"argosy.dev/argosy/internal/webhooks/resourcetemplate"
)

// setupControllers registers every reconciler with the manager. Each
// controller lives in its own folder under controllers/ and exposes
// SetupWithManager; they are added here as the pipeline grows.
func setupControllers(ctx context.Context, mgr ctrl.Manager, o Options) error {
	return nil
}

// setupWebhooks registers the admission webhooks.
func setupWebhooks(ctx context.Context, mgr ctrl.Manager, o Options) error {
	rt := &resourcetemplate.Webhook{
		TemplateNamespace: o.TemplateNamespace,
		Mapper:            mgr.GetRESTMapper(),
		Reader:            mgr.GetClient(),
	}
	return rt.SetupWithManager(ctx, mgr)
}
