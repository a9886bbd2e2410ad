// Package rebalancer serves WorkloadRebalancers: it asks the scheduler for
// a fresh placement of each listed workload (the binding's
// spec.rescheduleTriggeredAt), reports a result per workload, and deletes
// the rebalancer ttlSecondsAfterFinished after it finished.
//
// A pass handles the workloads without a result, writes the status at most
// once (only when it differs from the cache), and then applies the TTL.
// Results are final: a workload is asked to reschedule once per rebalancer.
package rebalancer

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// ControllerName names the controller and its events, and is the field
// manager of its writes.
const ControllerName = "workload-rebalancer"

// Event reasons on the WorkloadRebalancer, one event per workload when it
// gets its result.
const (
	// EventReasonRescheduleTriggered: the workload's binding was asked for
	// a fresh schedule.
	EventReasonRescheduleTriggered = "RescheduleTriggered"
	// EventReasonReferencedBindingNotFound: the workload has no binding.
	EventReasonReferencedBindingNotFound = string(appsv1alpha1.RebalanceObjectNotFound)
)

// eventAction is the action of the controller's events.
const eventAction = "Rebalance"

// +kubebuilder:rbac:groups=apps.argosy.dev,resources=workloadrebalancers,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=apps.argosy.dev,resources=workloadrebalancers/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcebindings,verbs=get;list;watch;patch

// Reconciler reconciles WorkloadRebalancers.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// TemplateNamespace holds the ResourceTemplates and ResourceBindings.
	TemplateNamespace string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// APIReader reads from the apiserver, bypassing the cache; the
	// manager's when nil. A binding missing from the cache is looked up
	// there before the workload is reported Failed, because a result is
	// final and the cache may not show a binding the detector just made.
	APIReader client.Reader
}

// resolved is a workload that got its result in this pass, for the event.
type resolved struct {
	workload appsv1alpha1.ObjectReference
	result   appsv1alpha1.RebalanceResult
	binding  *workv1alpha1.ResourceBinding // nil when not found
	name     string                        // the binding's name
}

// Reconcile is one pass over a WorkloadRebalancer.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	var wr appsv1alpha1.WorkloadRebalancer
	if err := r.Client.Get(ctx, req.NamespacedName, &wr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !wr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	now := r.now()

	entries := mergeWorkloads(wr.Spec.Workloads, wr.Status.ObservedWorkloads)
	var errs []error
	var done []resolved
	for i := range entries {
		if entries[i].Result != "" {
			continue
		}
		res, err := r.rebalance(ctx, &wr, entries[i].Workload, now)
		if err != nil {
			// Left without a result: retried with the rate-limited requeue
			// while the other workloads go on.
			errs = append(errs, err)
			continue
		}
		entries[i].Result = res.result
		if res.result == appsv1alpha1.RebalanceFailed {
			entries[i].Reason = appsv1alpha1.RebalanceObjectNotFound
		}
		done = append(done, res)
	}

	status := desiredStatus(&wr, entries, len(done) > 0, now)
	if !equality.Semantic.DeepEqual(status, wr.Status) {
		// The optimistic lock keeps a pass that read a stale cache from
		// overwriting a newer status; the conflict retries the pass.
		patch := client.MergeFromWithOptions(wr.DeepCopy(), client.MergeFromWithOptimisticLock{})
		wr.Status = status
		if err := r.Client.Status().Patch(ctx, &wr, patch, client.FieldOwner(ControllerName)); err != nil {
			if apierrors.IsNotFound(err) {
				return ctrl.Result{}, nil
			}
			errs = append(errs, fmt.Errorf("writing the status of WorkloadRebalancer %s: %w", wr.Name, err))
			return ctrl.Result{}, errors.Join(errs...)
		}
		// After the write, so that a lost write does not repeat them.
		for _, d := range done {
			r.event(&wr, d)
		}
	}
	if len(errs) > 0 {
		return ctrl.Result{}, errors.Join(errs...)
	}

	expired, wait := expiry(wr.Status.FinishTime, wr.Spec.TTLSecondsAfterFinished, now)
	if !expired {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	// Preconditions: never delete a recreated rebalancer of the same name,
	// nor one whose spec changed since this pass read it.
	uid, rv := wr.UID, wr.ResourceVersion
	if err := r.Client.Delete(ctx, &wr, client.Preconditions{UID: &uid, ResourceVersion: &rv}); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("deleting WorkloadRebalancer %s after its ttlSecondsAfterFinished: %w", wr.Name, err)
	}
	logger.Info("deleted after ttlSecondsAfterFinished", "finishTime", wr.Status.FinishTime, "ttlSecondsAfterFinished", *wr.Spec.TTLSecondsAfterFinished)
	return ctrl.Result{}, nil
}

// rebalance asks the scheduler for a fresh schedule of one workload. An
// error is transient: the workload stays without a result.
func (r *Reconciler) rebalance(ctx context.Context, wr *appsv1alpha1.WorkloadRebalancer, w appsv1alpha1.ObjectReference, now time.Time) (resolved, error) {
	res := resolved{workload: w, result: appsv1alpha1.RebalanceFailed}
	name, err := bindingName(w)
	if err != nil {
		// Admission validates apiVersion; such a workload cannot have a
		// binding.
		return res, nil
	}
	res.name = name
	key := client.ObjectKey{Namespace: r.TemplateNamespace, Name: name}
	rb := &workv1alpha1.ResourceBinding{}
	err = r.Client.Get(ctx, key, rb)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, rb)
	}
	switch {
	case apierrors.IsNotFound(err):
		return res, nil
	case err != nil:
		return res, fmt.Errorf("reading ResourceBinding %s of workload %s: %w", key, describe(w), err)
	case !rb.DeletionTimestamp.IsZero():
		// Going away with its template or policy: nothing to reschedule.
		return res, nil
	}
	res.binding = rb
	res.result = appsv1alpha1.RebalanceSuccessful
	if alreadyTriggered(rb, wr.CreationTimestamp.Time) {
		return res, nil
	}
	// The optimistic lock: a trigger computed from a stale
	// lastScheduledTime could be one the scheduler ignores, and a stale
	// rescheduleTriggeredAt could hide the request of a previous pass.
	patch := client.MergeFromWithOptions(rb.DeepCopy(), client.MergeFromWithOptimisticLock{})
	t := triggerTime(now, rb.Status.LastScheduledTime, wr.CreationTimestamp.Time)
	rb.Spec.RescheduleTriggeredAt = &t
	if err := r.Client.Patch(ctx, rb, patch, client.FieldOwner(ControllerName)); err != nil {
		return res, fmt.Errorf("setting spec.rescheduleTriggeredAt of ResourceBinding %s for workload %s: %w", key, describe(w), err)
	}
	log.FromContext(ctx).V(1).Info("triggered a fresh schedule", "binding", key, "rescheduleTriggeredAt", t)
	return res, nil
}

// event reports a workload's result on the rebalancer.
func (r *Reconciler) event(wr *appsv1alpha1.WorkloadRebalancer, d resolved) {
	if r.Recorder == nil {
		return
	}
	if d.result == appsv1alpha1.RebalanceSuccessful {
		r.Recorder.Eventf(wr, d.binding, corev1.EventTypeNormal, EventReasonRescheduleTriggered, eventAction,
			"Workload %s: asked the scheduler for a fresh placement (ResourceBinding %s/%s)",
			describe(d.workload), r.TemplateNamespace, d.name)
		return
	}
	r.Recorder.Eventf(wr, nil, corev1.EventTypeWarning, EventReasonReferencedBindingNotFound, eventAction,
		"Workload %s has no ResourceBinding %s/%s: it has no ResourceTemplate or no propagation policy claims it, so it was not rescheduled; "+
			"check the workload's apiVersion, kind, namespace and name, then list it in a new WorkloadRebalancer",
		describe(d.workload), r.TemplateNamespace, d.name)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
