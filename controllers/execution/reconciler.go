// Package execution is the execution controller: it applies Works to their
// member clusters and reports what it finds there.
package execution

import "argosy.dev/argosy/internal/member"

// Reconciler applies Works.
type Reconciler struct {
	// Members is the shared member client cache.
	Members *member.Cache
	// MaxConcurrentReconciles is the number of workers.
	MaxConcurrentReconciles int
}
