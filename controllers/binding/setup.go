package binding

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
)

// Cache indexes of the binding controller on ResourceBindings.
const (
	// indexResourceNamespace: bindings by spec.resource.namespace, the
	// namespace whose OverridePolicies apply to them.
	indexResourceNamespace = "binding.argosy.dev/resource-namespace"
	// indexTargetCluster: bindings by the names of their target clusters.
	indexTargetCluster = "binding.argosy.dev/target-cluster"
)

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// SetupWithManager registers the indexes, the watches and the controller.
// The Work index of internal/workindex must be registered already.
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
		return fmt.Errorf("binding controller: no Work store")
	}
	r.ledger = newLedger()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &workv1alpha1.ResourceBinding{}, indexResourceNamespace, func(o client.Object) []string {
		if ns := o.(*workv1alpha1.ResourceBinding).Spec.Resource.Namespace; ns != "" {
			return []string{ns}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &workv1alpha1.ResourceBinding{}, indexTargetCluster, func(o client.Object) []string {
		tcs := targets(&o.(*workv1alpha1.ResourceBinding).Spec)
		names := make([]string, len(tcs))
		for i, tc := range tcs {
			names[i] = tc.Name
		}
		return names
	}); err != nil {
		return err
	}
	return r.build(mgr)
}

// build wires the watches:
//
//   - bindings: on creation, spec changes (generation) and the start of
//     their deletion, not on status writes (the scheduler's, the status
//     controller's, ours);
//   - Works, on the host and in memory: the binding named by their
//     AnnotationBinding, when they are deleted or changed by someone else
//     (not on status writes, not on the echo of our own writes);
//   - templates: the binding of the same name when the wrapped object
//     changes;
//   - OverridePolicies and ClusterOverridePolicies: the bindings whose
//     object they may select, before or after the change;
//   - Clusters: the bindings targeting a cluster when it appears, goes, or
//     changes what override rules look at (labels, provider, region,
//     zones).
func (r *Reconciler) build(mgr ctrl.Manager) error {
	inTemplateNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.TemplateNamespace
	})
	bindingChanged := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
			e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
	templateChanged := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration()
		},
	}
	sameName := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}}}
	})
	b := ctrl.NewControllerManagedBy(mgr).
		Named("binding").
		For(&workv1alpha1.ResourceBinding{}, builder.WithPredicates(inTemplateNamespace, bindingChanged))
	for _, src := range r.Works.Sources(mgr.GetCache(), r.workHandler()) {
		b = b.WatchesRawSource(src)
	}
	return b.
		Watches(&workv1alpha1.ResourceTemplate{}, sameName, builder.WithPredicates(inTemplateNamespace, templateChanged)).
		Watches(&policyv1alpha1.OverridePolicy{}, r.policyHandler()).
		Watches(&policyv1alpha1.ClusterOverridePolicy{}, r.policyHandler()).
		Watches(&clusterv1alpha1.Cluster{}, r.clusterHandler()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// bindingOfWork returns the binding and the cluster of a Work the binding
// controller manages.
func (r *Reconciler) bindingOfWork(w *workv1alpha1.Work) (types.NamespacedName, string, bool) {
	ns, name, ok := strings.Cut(w.Annotations[workv1alpha1.AnnotationBinding], "/")
	if !ok || ns != r.TemplateNamespace || name == "" {
		return types.NamespacedName{}, "", false
	}
	cluster, ok := clusterOfWork(w, name)
	return types.NamespacedName{Namespace: ns, Name: name}, cluster, ok
}

// workHandler maps Work events to bindings. Creations are ignored: Works are
// created by the binding controller, and at start every binding is
// reconciled anyway.
func (r *Reconciler) workHandler() handler.EventHandler {
	return handler.Funcs{
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q queue) {
			oldW, okOld := e.ObjectOld.(*workv1alpha1.Work)
			newW, okNew := e.ObjectNew.(*workv1alpha1.Work)
			if !okOld || !okNew {
				return
			}
			if oldW.Generation == newW.Generation && ownedAnnotationsEqual(oldW.Annotations, newW.Annotations) {
				return // status, finalizers, other metadata
			}
			if b, cluster, ok := r.bindingOfWork(newW); ok {
				if rec, found := r.ledger.work(b, cluster); !found || !rec.notNewer(newW.UID, newW.ResourceVersion) {
					q.Add(reconcile.Request{NamespacedName: b})
				}
			}
			if oldW.Annotations[workv1alpha1.AnnotationBinding] != newW.Annotations[workv1alpha1.AnnotationBinding] {
				if b, _, ok := r.bindingOfWork(oldW); ok {
					q.Add(reconcile.Request{NamespacedName: b})
				}
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q queue) {
			w, ok := e.Object.(*workv1alpha1.Work)
			if !ok {
				return
			}
			if b, cluster, ok := r.bindingOfWork(w); ok {
				r.ledger.forgetWork(b, cluster, w.UID)
				q.Add(reconcile.Request{NamespacedName: b})
			}
		},
	}
}

func ownedAnnotationsEqual(a, b map[string]string) bool {
	for _, k := range ownedAnnotations {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			return false
		}
	}
	return true
}

// policyHandler maps override policy events to the bindings whose object
// the policy may select, with its selectors before and after an update (a
// binding it no longer selects loses the override).
func (r *Reconciler) policyHandler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) { r.enqueueForPolicy(ctx, q, e.Object) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			if e.ObjectOld.GetGeneration() == e.ObjectNew.GetGeneration() {
				return
			}
			r.enqueueForPolicy(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) { r.enqueueForPolicy(ctx, q, e.Object) },
	}
}

func (r *Reconciler) enqueueForPolicy(ctx context.Context, q queue, versions ...client.Object) {
	var selectors [][]policyv1alpha1.ResourceSelector
	namespaced := false
	for _, o := range versions {
		switch p := o.(type) {
		case *policyv1alpha1.OverridePolicy:
			namespaced = true
			selectors = append(selectors, p.Spec.ResourceSelectors)
		case *policyv1alpha1.ClusterOverridePolicy:
			selectors = append(selectors, p.Spec.ResourceSelectors)
		}
	}
	if len(selectors) == 0 {
		return
	}
	opts := []client.ListOption{client.InNamespace(r.TemplateNamespace), client.UnsafeDisableDeepCopy}
	if namespaced {
		// An OverridePolicy only governs objects of its own namespace.
		opts = append(opts, client.MatchingFields{indexResourceNamespace: versions[0].GetNamespace()})
	}
	var list workv1alpha1.ResourceBindingList
	if err := r.Client.List(ctx, &list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "listing the bindings an override policy may affect", "policy", client.ObjectKeyFromObject(versions[0]))
		return
	}
	for i := range list.Items {
		b := &list.Items[i]
		if slices.ContainsFunc(selectors, func(s []policyv1alpha1.ResourceSelector) bool { return mayAffect(s, &b.Spec.Resource) }) {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: b.Namespace, Name: b.Name}})
		}
	}
}

// clusterHandler maps Cluster events to the bindings targeting the cluster.
// Status writes and taint changes do not concern overrides and are ignored.
func (r *Reconciler) clusterHandler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) {
			r.enqueueTargeting(ctx, q, e.Object.GetName())
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			oldC, okOld := e.ObjectOld.(*clusterv1alpha1.Cluster)
			newC, okNew := e.ObjectNew.(*clusterv1alpha1.Cluster)
			if okOld && okNew && sameTarget(clusteraffinity.TargetOf(oldC), clusteraffinity.TargetOf(newC)) {
				return
			}
			r.enqueueTargeting(ctx, q, e.ObjectNew.GetName())
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) {
			r.enqueueTargeting(ctx, q, e.Object.GetName())
		},
	}
}

func sameTarget(a, b clusteraffinity.Target) bool {
	return a.Name == b.Name && a.Provider == b.Provider && a.Region == b.Region && a.Zone == b.Zone &&
		slices.Equal(a.Zones, b.Zones) && maps.Equal(a.Labels, b.Labels)
}

func (r *Reconciler) enqueueTargeting(ctx context.Context, q queue, cluster string) {
	var list workv1alpha1.ResourceBindingList
	if err := r.Client.List(ctx, &list, client.InNamespace(r.TemplateNamespace), client.MatchingFields{indexTargetCluster: cluster},
		client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "listing the bindings targeting a cluster", "cluster", cluster)
		return
	}
	for i := range list.Items {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
	}
}
