// Package execution is the execution controller: it applies Works to their
// member clusters and reports what it finds there.
//
// A Work lives in argosy-es-<cluster>. Each manifest is applied to the
// member with server-side apply (field manager argosy-execution, forced),
// labelled workv1alpha1.LabelManaged and annotated with the Work
// (workv1alpha1.AnnotationWork). The member's managed objects are watched
// through informers selected by that label (internal/member), so that:
//
//   - a steady state costs no member writes: a manifest is applied only when
//     the member's object does not already contain every field of it
//     (internal/apply.Contains);
//   - drift is corrected: an edit in the member of a field Argosy applies
//     enqueues the Work, fails the containment check and is applied back;
//   - status flows back: the member object's .status and health land in the
//     Work's status.manifestStatuses.
//
// Ownership: an object that exists in the member without Argosy's label is
// adopted only with the Work's conflict resolution Overwrite
// (workv1alpha1.AnnotationConflictResolution); with Abort it is left alone
// and the Work reports Applied=False, reason Conflict. An object another
// existing Work manages is never taken over; one labelled as Argosy's whose
// Work is gone (or a namespace Argosy created, which it labels) is. Argosy
// deletes from members only objects that carry its label and name the Work
// being cleaned up; with preserveResourcesOnDeletion it removes its label
// and annotation instead.
//
// Retained (left to the member): every field the manifest does not set
// (server-side apply owns only what is sent); a Service's clusterIP and
// clusterIPs and a Job's generated selector (pruned before applying); and,
// when the wrapped object has label workv1alpha1.LabelRetainReplicas
// "true", spec.replicas of an object that already exists in the member
// (the member's value is sent back, see internal/apply.Retain).
package execution

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/member"
	"argosy.dev/argosy/internal/workstore"
)

// ControllerName names the controller and is the reporting controller of
// its events.
const ControllerName = "argosy-execution"

// Defaults of the Reconciler's intervals.
const (
	// DefaultUnreachableRetry is how often a Work of a member that is not
	// Ready is looked at again; Cluster and connection events bring it back
	// sooner.
	DefaultUnreachableRetry = 30 * time.Second
	// DefaultSyncTimeout bounds the wait for a managed informer's first list.
	DefaultSyncTimeout = 10 * time.Second
	// DefaultRetryBase and DefaultRetryMax bound the per-Work backoff after a
	// failure in the member (rejected object, unknown kind, conflict).
	DefaultRetryBase = 500 * time.Millisecond
	DefaultRetryMax  = 2 * time.Minute
)

// connectingRetry is how soon a Work is looked at again when its Cluster is
// Ready but the member cache has not connected it yet (a manager start).
const connectingRetry = 2 * time.Second

// Reconciler applies Works.
type Reconciler struct {
	// Members is the shared member client cache.
	Members *member.Cache
	// Works is where Works are kept (the host, the manager's memory).
	Works *workstore.Store
	// MaxConcurrentReconciles is the number of workers.
	MaxConcurrentReconciles int

	// Client reads through the manager's cache and writes to the host;
	// the manager's client when nil.
	Client client.Client
	// Recorder emits events on Works; the manager's when nil.
	Recorder recorder.EventRecorder
	// UnreachableRetry, SyncTimeout, RetryBase and RetryMax: the defaults
	// above when zero.
	UnreachableRetry, SyncTimeout, RetryBase, RetryMax time.Duration

	// queue is the controller's queue, for events from members.
	queue atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
	// retries is the per-Work backoff after failures in the member.
	retries workqueue.TypedRateLimiter[reconcile.Request]
	// waiting holds, per cluster, the Works that named a kind the member
	// did not serve, to run again when a CRD appears there.
	waiting kindWaiters
	// written is what the controller wrote to Works, until the cache shows it.
	written writes
}

// clusterOf returns the cluster of an execution namespace.
func clusterOf(namespace string) (string, bool) {
	c, ok := strings.CutPrefix(namespace, workv1alpha1.ExecutionNamespacePrefix)
	if !ok || c == "" {
		return "", false
	}
	return c, true
}

// workKey is the value of AnnotationWork for a Work.
func workKey(w *workv1alpha1.Work) string { return w.Namespace + "/" + w.Name }

// Reconcile applies one Work, or cleans up after it when it is deleted.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cluster, ok := clusterOf(req.Namespace)
	if !ok {
		return reconcile.Result{}, nil
	}
	work, err := r.Works.Get(ctx, req.NamespacedName)
	if err != nil {
		if apierrors.IsNotFound(err) {
			r.retries.Forget(req)
			r.waiting.remove(cluster, req.NamespacedName)
			r.written.forget(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	r.written.overlay(work, time.Now())
	logger := log.FromContext(ctx).WithValues("cluster", cluster)
	ctx = log.IntoContext(ctx, logger)

	cl := &clusterv1alpha1.Cluster{}
	// Read only: the cache's own object, not a copy.
	if err := r.Client.Get(ctx, client.ObjectKey{Name: cluster}, cl, client.UnsafeDisableDeepCopy); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		cl = nil
	}
	if !work.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, req, work, cluster, cl)
	}
	if cl != nil && cl.Spec.SyncMode == clusterv1alpha1.Pull {
		// The member's agent applies Works of pull-mode clusters.
		return reconcile.Result{}, nil
	}
	if cl == nil {
		// A Cluster's creation enqueues its Works again.
		_, err := r.writeStatus(ctx, work, appliedFalse(workv1alpha1.WorkReasonClusterUnreachable,
			fmt.Sprintf("Cluster %s does not exist", cluster)), nil, true)
		return reconcile.Result{}, err
	}
	if err := r.addFinalizer(ctx, work); err != nil {
		return reconcile.Result{}, err
	}

	m := r.Members.Get(cluster)
	ready := meta.IsStatusConditionTrue(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
	switch {
	case m == nil && ready:
		// Ready from an earlier probe, not connected yet (the manager has
		// just started): the connection enqueues the Work.
		logger.V(1).Info("member not connected yet")
		return reconcile.Result{RequeueAfter: connectingRetry}, nil
	case m == nil || !ready:
		_, err := r.writeStatus(ctx, work, appliedFalse(workv1alpha1.WorkReasonClusterUnreachable, notReadyMessage(cluster, cl)), nil, true)
		return reconcile.Result{RequeueAfter: r.UnreachableRetry}, err
	}
	return r.sync(ctx, req, work, m)
}

func notReadyMessage(cluster string, cl *clusterv1alpha1.Cluster) string {
	c := meta.FindStatusCondition(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
	switch {
	case c == nil:
		return fmt.Sprintf("Cluster %s has not been probed yet; the Work is applied once it is Ready", cluster)
	case c.Status != metav1.ConditionTrue:
		return fmt.Sprintf("Cluster %s is not Ready (%s: %s); the Work is applied once it is", cluster, c.Reason, c.Message)
	}
	return fmt.Sprintf("the manager is not connected to cluster %s", cluster)
}

// addFinalizer makes sure the Work's objects are cleaned up before it goes.
// The apply carries the Work's UID, so a Work deleted meanwhile is not
// recreated.
func (r *Reconciler) addFinalizer(ctx context.Context, work *workv1alpha1.Work) error {
	if controllerutil.ContainsFinalizer(work, workv1alpha1.WorkFinalizer) {
		return nil
	}
	rv, err := r.Works.AddFinalizer(ctx, work, workv1alpha1.WorkFinalizer, workv1alpha1.FieldManagerExecution)
	if err != nil {
		return fmt.Errorf("adding finalizer %s to Work %s: %w", workv1alpha1.WorkFinalizer, workKey(work), err)
	}
	r.written.finalizer(work, rv, time.Now())
	return nil
}

// removeFinalizer lets the Work go. A merge patch with optimistic locking
// removes the finalizer whoever added it.
func (r *Reconciler) removeFinalizer(ctx context.Context, work *workv1alpha1.Work) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(work, workv1alpha1.WorkFinalizer) {
		return reconcile.Result{}, nil
	}
	err := r.Works.RemoveFinalizer(ctx, work, workv1alpha1.WorkFinalizer, workv1alpha1.FieldManagerExecution)
	switch {
	case err == nil:
		// A cache that still shows the finalizer must not bring the Work
		// back here to remove it again.
		r.written.released(work, work.ResourceVersion, time.Now())
	case apierrors.IsNotFound(err):
		return reconcile.Result{}, nil
	case apierrors.IsConflict(err):
		return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("removing finalizer %s from Work %s: %w", workv1alpha1.WorkFinalizer, workKey(work), err)
	}
	log.FromContext(ctx).V(1).Info("released Work")
	return reconcile.Result{}, nil
}

// backoff returns the next retry of a Work after a failure in the member.
func (r *Reconciler) backoff(req reconcile.Request) reconcile.Result {
	return reconcile.Result{RequeueAfter: r.retries.When(req)}
}

// kindWaiters records Works that wait for a kind to be served by a member.
type kindWaiters struct {
	mu sync.Mutex
	m  map[string]map[types.NamespacedName]struct{}
}

func (k *kindWaiters) add(cluster string, w types.NamespacedName) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]map[types.NamespacedName]struct{}{}
	}
	if k.m[cluster] == nil {
		k.m[cluster] = map[types.NamespacedName]struct{}{}
	}
	k.m[cluster][w] = struct{}{}
}

func (k *kindWaiters) remove(cluster string, w types.NamespacedName) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m[cluster], w)
}

// take returns and forgets the Works waiting in cluster.
func (k *kindWaiters) take(cluster string) []types.NamespacedName {
	k.mu.Lock()
	defer k.mu.Unlock()
	ws := make([]types.NamespacedName, 0, len(k.m[cluster]))
	for w := range k.m[cluster] {
		ws = append(ws, w)
	}
	delete(k.m, cluster)
	return ws
}

// regarding is the object events about a Work are recorded on: the Work
// when it is an object on the host, else (a Work kept in memory) the
// template it was rendered from, where users look.
func (r *Reconciler) regarding(ctx context.Context, work *workv1alpha1.Work) runtime.Object {
	if r.Works.IsHostObject(work) {
		return work
	}
	ns, name, ok := strings.Cut(work.Annotations[workv1alpha1.AnnotationBinding], "/")
	if !ok {
		return work
	}
	rt := &workv1alpha1.ResourceTemplate{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rt); err != nil {
		return work
	}
	return rt
}
