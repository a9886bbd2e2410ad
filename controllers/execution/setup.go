package execution

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// SetupWithManager registers the controller, its watches of Works and
// Clusters, and its handlers of the members' managed objects and
// connections. It must run before the member cache connects any member.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Members == nil {
		return fmt.Errorf("execution controller: no member cache")
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(ControllerName)
	}
	if r.UnreachableRetry <= 0 {
		r.UnreachableRetry = DefaultUnreachableRetry
	}
	if r.SyncTimeout <= 0 {
		r.SyncTimeout = DefaultSyncTimeout
	}
	if r.RetryBase <= 0 {
		r.RetryBase = DefaultRetryBase
	}
	if r.RetryMax <= 0 {
		r.RetryMax = DefaultRetryMax
	}
	r.retries = workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](r.RetryBase, r.RetryMax)
	if r.Works == nil {
		return fmt.Errorf("execution controller: no Work store")
	}
	r.Members.OnManagedEvent(r.managedHandler)
	r.Members.OnConnect(func(cluster string) { r.enqueueCluster(context.Background(), cluster) })

	inExecutionNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool {
		_, ok := clusterOf(o.GetNamespace())
		return ok
	})
	// Status writes (ours) change neither the generation nor annotations.
	workChanged := predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionStarted{})
	b := ctrl.NewControllerManagedBy(mgr).Named("execution")
	for _, src := range r.Works.Sources(mgr.GetCache(), &handler.EnqueueRequestForObject{}, inExecutionNamespace, workChanged) {
		b = b.WatchesRawSource(src)
	}
	return b.
		Watches(&clusterv1alpha1.Cluster{}, handler.Funcs{
			CreateFunc: func(ctx context.Context, e event.CreateEvent, _ queue) { r.enqueueCluster(ctx, e.Object.GetName()) },
			UpdateFunc: func(ctx context.Context, e event.UpdateEvent, _ queue) {
				if readiness(e.ObjectOld) != readiness(e.ObjectNew) ||
					e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero() {
					r.enqueueCluster(ctx, e.ObjectNew.GetName())
				}
			},
			DeleteFunc: func(ctx context.Context, e event.DeleteEvent, _ queue) { r.enqueueCluster(ctx, e.Object.GetName()) },
		}).
		WatchesRawSource(source.Func(func(_ context.Context, q queue) error {
			r.queue.Store(&q)
			return nil
		})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			// Failures in members are retried with r.retries; this limiter
			// only paces errors of the host (status writes).
			RateLimiter: workqueue.NewTypedMaxOfRateLimiter(
				workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](100*time.Millisecond, time.Minute),
				&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(50), 500)},
			),
		}).
		Complete(r)
}

// deletionStarted passes the update that sets deletionTimestamp.
type deletionStarted struct{ predicate.Funcs }

func (deletionStarted) Update(e event.UpdateEvent) bool {
	return e.ObjectOld != nil && e.ObjectNew != nil &&
		e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
}

// readiness is the status of a Cluster's Ready condition ("" without one).
func readiness(o client.Object) metav1.ConditionStatus {
	cl, ok := o.(*clusterv1alpha1.Cluster)
	if !ok {
		return ""
	}
	if c := meta.FindStatusCondition(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady); c != nil {
		return c.Status
	}
	return ""
}

func (r *Reconciler) add(req reconcile.Request) {
	if q := r.queue.Load(); q != nil {
		(*q).Add(req)
	}
}

func (r *Reconciler) addAfter(req reconcile.Request, d time.Duration) {
	if q := r.queue.Load(); q != nil {
		(*q).AddAfter(req, d)
	}
}

// discoveryLag is about how long after a CRD changes its kind shows in
// the API discovery.
const discoveryLag = time.Second

// enqueueCluster enqueues every Work of cluster, from the cache.
func (r *Reconciler) enqueueCluster(ctx context.Context, cluster string) {
	works, err := r.Works.ListForCluster(ctx, cluster)
	if err != nil {
		ctrl.Log.WithName(ControllerName).Error(err, "listing the Works of a cluster", "cluster", cluster)
		return
	}
	for _, w := range works {
		r.add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: w.Namespace, Name: w.Name}})
	}
}

// crdResource is the resource of CustomResourceDefinitions.
var crdResource = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}

// managedHandler maps the events of a member's managed objects to the Works
// named by their AnnotationWork (old and new, when it changed). A
// CustomResourceDefinition's events also refresh the member's RESTMapper
// and run the Works that waited for a kind.
func (r *Reconciler) managedHandler(cluster string, gvr schema.GroupVersionResource) toolscache.ResourceEventHandler {
	enqueue := func(obj any) {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		o, err := meta.Accessor(obj)
		if err != nil {
			return
		}
		ns, name, ok := strings.Cut(o.GetAnnotations()[workv1alpha1.AnnotationWork], "/")
		if !ok || ns != workv1alpha1.ExecutionNamespacePrefix+cluster || name == "" {
			return
		}
		r.add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	}
	crd := gvr.GroupResource() == crdResource
	kindsChanged := func() {
		if !crd {
			return
		}
		if m := r.Members.Get(cluster); m != nil {
			m.ResetRESTMapper()
		}
		// Discovery serves a new kind a little after its CRD is
		// Established: look again a moment later too.
		for _, w := range r.waiting.take(cluster) {
			r.add(reconcile.Request{NamespacedName: w})
			r.addAfter(reconcile.Request{NamespacedName: w}, discoveryLag)
		}
	}
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			kindsChanged()
			enqueue(obj)
		},
		UpdateFunc: func(old, obj any) {
			kindsChanged()
			enqueue(obj)
			if o, n := annotationWork(old), annotationWork(obj); o != n {
				enqueue(old)
			}
		},
		DeleteFunc: func(obj any) {
			kindsChanged()
			enqueue(obj)
		},
	}
}

func annotationWork(obj any) string {
	o, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return o.GetAnnotations()[workv1alpha1.AnnotationWork]
}
