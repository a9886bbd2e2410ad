package status

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// SetupWithManager registers the controller. It relies on the Work index
// of internal/workindex, which the manager setup registers.
//
// Watches, each filtered to what can change the outcome, so that this
// controller's own status writes do not wake it again:
//
//   - templates: creation, deletion, spec changes (generation) and claim
//     changes (status.policy);
//   - bindings (same name as their template): all but changes of the
//     fields this controller writes;
//   - Works, on the host and in memory: every change, mapped to their
//     binding through workv1alpha1.AnnotationBinding;
//   - the binding controller's marks of the generation it rendered;
//   - no policies: a new policy that selects an unclaimed template shows
//     up as the detector's claim on the template.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(ControllerName)
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 4
	}
	if r.Works == nil {
		return fmt.Errorf("status controller: no Work store")
	}
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.TemplateNamespace })
	b := ctrl.NewControllerManagedBy(mgr).
		Named("status").
		For(&workv1alpha1.ResourceTemplate{}, builder.WithPredicates(inNamespace, predicate.Funcs{UpdateFunc: templateChanged})).
		Watches(&workv1alpha1.ResourceBinding{}, &handler.EnqueueRequestForObject{},
			builder.WithPredicates(inNamespace, predicate.Funcs{UpdateFunc: bindingChanged}))
	for _, src := range r.Works.Sources(mgr.GetCache(), handler.EnqueueRequestsFromMapFunc(r.workBinding), predicate.ResourceVersionChangedPredicate{}) {
		b = b.WatchesRawSource(src)
	}
	// The binding controller's marks of what it rendered.
	b = b.WatchesRawSource(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		r.Works.Rendered.OnMark(func(k types.NamespacedName) {
			if ctx.Err() == nil {
				q.Add(reconcile.Request{NamespacedName: k})
			}
		})
		return nil
	}))
	return b.
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

func templateChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*workv1alpha1.ResourceTemplate)
	n, ok2 := e.ObjectNew.(*workv1alpha1.ResourceTemplate)
	if !ok1 || !ok2 {
		return true
	}
	return o.Generation != n.Generation || o.UID != n.UID ||
		!equality.Semantic.DeepEqual(o.Status.Policy, n.Status.Policy) ||
		!o.DeletionTimestamp.Equal(n.DeletionTimestamp)
}

// bindingChanged: any change but one to aggregatedStatus or FullyApplied.
func bindingChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*workv1alpha1.ResourceBinding)
	n, ok2 := e.ObjectNew.(*workv1alpha1.ResourceBinding)
	if !ok1 || !ok2 {
		return true
	}
	if o.Generation != n.Generation || o.UID != n.UID || !o.DeletionTimestamp.Equal(n.DeletionTimestamp) ||
		o.Annotations[workv1alpha1.AnnotationTemplateGeneration] != n.Annotations[workv1alpha1.AnnotationTemplateGeneration] ||
		o.Labels[workv1alpha1.LabelPolicyName] != n.Labels[workv1alpha1.LabelPolicyName] ||
		o.Status.ObservedGeneration != n.Status.ObservedGeneration ||
		o.Status.SchedulerObservedGeneration != n.Status.SchedulerObservedGeneration ||
		!equality.Semantic.DeepEqual(o.OwnerReferences, n.OwnerReferences) {
		return true
	}
	os := meta.FindStatusCondition(o.Status.Conditions, workv1alpha1.ConditionScheduled)
	ns := meta.FindStatusCondition(n.Status.Conditions, workv1alpha1.ConditionScheduled)
	if (os == nil) != (ns == nil) {
		return true
	}
	return os != nil && !sameCondition(*os, *ns)
}

// workBinding maps a Work to the binding it was rendered from.
func (r *Reconciler) workBinding(_ context.Context, o client.Object) []reconcile.Request {
	ns, name, ok := strings.Cut(o.GetAnnotations()[workv1alpha1.AnnotationBinding], "/")
	if !ok || ns != r.TemplateNamespace || name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}
