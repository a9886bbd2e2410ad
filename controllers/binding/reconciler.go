// Package binding is the binding controller: it renders one Work per target
// cluster of a ResourceBinding.
package binding

// Reconciler renders Works from ResourceBindings.
type Reconciler struct {
	// TemplateNamespace holds templates and bindings.
	TemplateNamespace string
	// MaxConcurrentReconciles is the number of workers.
	MaxConcurrentReconciles int
}
