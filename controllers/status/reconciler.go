// Package status is the status controller: it aggregates Work status into
// the binding and the template.
package status

// Reconciler aggregates status.
type Reconciler struct {
	// TemplateNamespace holds templates and bindings.
	TemplateNamespace string
	// MaxConcurrentReconciles is the number of workers.
	MaxConcurrentReconciles int
}
