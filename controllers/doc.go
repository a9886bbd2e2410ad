// Package controllers is the home of Argosy's reconcilers, one folder per
// controller (cluster, detector, scheduler, binding, execution, status,
// failover, rebalancer, autoscaling). Each folder exposes a Reconciler with
// SetupWithManager, registered in internal/manager. The shared logic they
// call (scheduling arithmetic, overrides, resource interpretation, member
// clients) lives in internal/.
package controllers
