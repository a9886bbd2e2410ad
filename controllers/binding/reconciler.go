// Package binding is the binding controller (DESIGN §3): for each target
// cluster of a ResourceBinding it renders the wrapped object of the
// binding's ResourceTemplate (internal/render: that cluster's replicas, the
// OverridePolicies and ClusterOverridePolicies that apply there) into a Work
// named like the binding in the cluster's execution namespace
// argosy-es-<cluster>, and deletes the Works of clusters that left the
// placement.
//
// Works are kept where internal/workstore puts them (in the manager's
// memory for push-mode clusters by default, on the host for pull-mode
// clusters or with --work-objects=always) and written only when what the
// controller owns of them differs, so a steady binding costs no writes.
// The generation rendered is recorded in the store, not on the binding.
// A finalizer on the binding makes sure its Works, and through their own
// finalizer the objects in the members, are gone before the binding is.
// A Work kept in memory and lost with a restart is replaced, for a cluster
// the binding's status still lists, by a tombstone so that its objects are
// still removed from the member.
package binding

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
	"argosy.dev/argosy/internal/overrides"
	"argosy.dev/argosy/internal/render"
	"argosy.dev/argosy/internal/workindex"
	"argosy.dev/argosy/internal/workstore"
)

// ControllerName names the controller and is the reporting controller of
// its events.
const ControllerName = "argosy-binding"

// retryStaleCache is how long a pass waits for the cache to show a Work it
// wrote before it can keep that Work's manifests after a render error.
const retryStaleCache = time.Second

// Reconciler renders Works from ResourceBindings.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the apiserver.
	Client client.Client
	// Recorder emits events on templates and bindings.
	Recorder recorder.EventRecorder
	// TemplateNamespace holds templates and bindings.
	TemplateNamespace string
	// MaxConcurrentReconciles is the number of workers; 4 when zero.
	MaxConcurrentReconciles int
	// Works is where Works are kept.
	Works *workstore.Store

	ledger *ledger
}

// Reconcile brings the Works of one binding in line with its placement, its
// template and the override policies, or removes them when the binding is
// being deleted.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rb := &workv1alpha1.ResourceBinding{}
	if err := r.Client.Get(ctx, req.NamespacedName, rb); err != nil {
		if apierrors.IsNotFound(err) {
			r.ledger.forgetBinding(req.NamespacedName)
			r.Works.Rendered.Forget(req.NamespacedName)
			r.Works.Memory.ForgetCleaned(req.Name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	works, err := r.works(ctx, rb)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !rb.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, r.finalize(ctx, rb, works)
	}
	return r.sync(ctx, rb, works)
}

// works returns the binding's Works from the cache, by cluster. They are
// shared with the cache: read only.
func (r *Reconciler) works(ctx context.Context, rb *workv1alpha1.ResourceBinding) (map[string]*workv1alpha1.Work, error) {
	list, err := r.Works.ListForBinding(ctx, rb.Namespace, rb.Name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*workv1alpha1.Work, len(list))
	for _, w := range list {
		if cluster, ok := clusterOfWork(w, rb.Name); ok {
			out[cluster] = w
		}
	}
	return out, nil
}

// outcome is what a pass did, for the events and the log.
type outcome struct {
	created, updated, deleted []string
}

func (o *outcome) changed() bool { return len(o.created)+len(o.updated)+len(o.deleted) > 0 }

func (o *outcome) String() string {
	var parts []string
	for _, p := range []struct {
		what     string
		clusters []string
	}{{"created for", o.created}, {"updated for", o.updated}, {"deleted from", o.deleted}} {
		if len(p.clusters) > 0 {
			parts = append(parts, p.what+" "+strings.Join(p.clusters, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// sync deletes the Works of clusters that left the placement, renders and
// writes those of the target clusters, then records the generation it
// processed.
func (r *Reconciler) sync(ctx context.Context, rb *workv1alpha1.ResourceBinding, works map[string]*workv1alpha1.Work) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	tcs := targets(&rb.Spec)
	keep := evicting(&rb.Spec)
	isTarget := make(map[string]bool, len(tcs))
	for _, tc := range tcs {
		isTarget[tc.Name] = true
	}
	var out outcome
	var errs []error

	r.tombstones(ctx, rb, works, func(cluster string) bool { return !isTarget[cluster] && !keep[cluster] })
	r.holdEvicted(ctx, rb, works, keep)
	for _, cluster := range r.stale(key, works, isTarget, keep) {
		deleted, err := r.deleteWork(ctx, key, cluster, works[cluster])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if deleted {
			logger.Info("deleted the Work of a cluster that left the placement", "cluster", cluster)
			out.deleted = append(out.deleted, cluster)
		}
	}

	var rt *workv1alpha1.ResourceTemplate
	var pass renderPass
	rendered := len(tcs) == 0
	if len(tcs) > 0 {
		var obj *unstructured.Unstructured
		var err error
		rt, obj, err = r.wrapped(ctx, rb)
		switch {
		case err != nil:
			errs = append(errs, err)
		case obj != nil:
			pass, err = r.render(ctx, rb, rt, obj, tcs, works, &out)
			if err != nil {
				errs = append(errs, err)
			} else {
				rendered = true
			}
		}
	}

	if out.changed() {
		// No event: success is reported once per template generation, by
		// the status controller when the template turns Ready.
		logger.V(1).Info("Works synced", "changes", out.String())
	}
	if err := kerrors.NewAggregate(errs); err != nil {
		return reconcile.Result{}, err
	}
	if rendered && !pass.requeue && !pass.waiting {
		r.markRendered(rb)
	}
	if pass.requeue {
		return reconcile.Result{RequeueAfter: retryStaleCache}, nil
	}
	return reconcile.Result{}, nil
}

// stale returns the clusters, sorted, whose Works exist (in the cache or,
// just written, in the ledger) but are neither a target nor under a
// graceful eviction.
func (r *Reconciler) stale(key types.NamespacedName, works map[string]*workv1alpha1.Work, isTarget, keep map[string]bool) []string {
	var out []string
	for cluster := range works {
		if !isTarget[cluster] && !keep[cluster] {
			out = append(out, cluster)
		}
	}
	for cluster := range r.ledger.clusters(key) {
		if works[cluster] == nil && !isTarget[cluster] && !keep[cluster] {
			out = append(out, cluster)
		}
	}
	slices.Sort(out)
	return out
}

// deleteWork deletes the binding's Work for cluster: w from the cache, or,
// when the cache does not show it yet, the one the ledger recorded. It
// reports whether it asked for a deletion.
func (r *Reconciler) deleteWork(ctx context.Context, key types.NamespacedName, cluster string, w *workv1alpha1.Work) (bool, error) {
	var uid types.UID
	switch {
	case w != nil && !w.DeletionTimestamp.IsZero():
		return false, nil // under way; its removal brings the binding back
	case w != nil:
		uid = w.UID
	default:
		rec, ok := r.ledger.work(key, cluster)
		if !ok {
			return false, nil
		}
		uid = rec.uid
	}
	wk := types.NamespacedName{Namespace: workNamespace(cluster), Name: key.Name}
	if err := r.Works.Delete(ctx, wk, uid); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			// Gone already, or a different Work of the same name (whose
			// own events bring the binding back).
			r.ledger.forgetWork(key, cluster, uid)
			return false, nil
		}
		return false, fmt.Errorf("deleting Work %s of cluster %s: %w", wk, cluster, err)
	}
	return true, nil
}

// wrapped returns the binding's template and its wrapped object. Both are
// nil when there is nothing to render from yet: the template is gone (the
// garbage collector deletes the binding next) or is a newer template of the
// same name (the detector replaces the binding). A wrapped object that does
// not decode is reported on the template and not retried until it changes.
func (r *Reconciler) wrapped(ctx context.Context, rb *workv1alpha1.ResourceBinding) (*workv1alpha1.ResourceTemplate, *unstructured.Unstructured, error) {
	logger := log.FromContext(ctx)
	rt := &workv1alpha1.ResourceTemplate{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: rb.Namespace, Name: rb.Name}, rt, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			logger.V(1).Info("no template to render from")
			return nil, nil, nil
		}
		return nil, nil, err
	}
	if owner := metav1.GetControllerOfNoCopy(rb); (owner != nil && owner.UID != rt.UID) || (rb.Spec.Resource.UID != "" && rb.Spec.Resource.UID != rt.UID) {
		logger.V(1).Info("the template is not the binding's own", "templateUID", rt.UID)
		return nil, nil, nil
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(rt.Spec.Template.Raw); err != nil {
		r.event(rb, rt, corev1.EventTypeWarning, workv1alpha1.EventReasonSyncWorkFailed,
			"Cannot read spec.template of ResourceTemplate %s: %v; no Work is rendered until it is fixed", rt.Name, err)
		return rt, nil, nil
	}
	return rt, obj, nil
}

// renderPass says which target Works a pass could not bring up to date.
type renderPass struct {
	// requeue: the cache has not shown an earlier write yet.
	requeue bool
	// waiting: a Work is still being deleted; its removal brings the
	// binding back.
	waiting bool
}

// render writes the Work of every target cluster.
func (r *Reconciler) render(ctx context.Context, rb *workv1alpha1.ResourceBinding, rt *workv1alpha1.ResourceTemplate,
	obj *unstructured.Unstructured, tcs []workv1alpha1.TargetCluster, works map[string]*workv1alpha1.Work, out *outcome) (pass renderPass, err error) {
	if !controllerutil.ContainsFinalizer(rb, workv1alpha1.BindingFinalizer) {
		if err := r.addFinalizer(ctx, rb); err != nil {
			return pass, err
		}
	}
	policies, err := r.policies(ctx, obj)
	if err != nil {
		return pass, err
	}
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	completions := render.JobCompletions(obj, rb.Spec.Placement, tcs, key.String())
	var errs []error
	for _, tc := range tcs {
		in := render.Input{
			Object:   obj,
			Cluster:  r.clusterTarget(ctx, tc.Name),
			Replicas: &tc.Replicas,
			Work:     workNamespace(tc.Name) + "/" + rb.Name,
			Policies: policies,
		}
		if n, ok := completions[tc.Name]; ok {
			in.Completions = &n
		}
		res, err := r.syncWork(ctx, rb, in, works[tc.Name])
		switch {
		case err != nil:
			errs = append(errs, err)
			r.event(rb, rt, corev1.EventTypeWarning, workv1alpha1.EventReasonSyncWorkFailed,
				"Failed to sync the Work of cluster %s: %v", tc.Name, err)
		case res.requeue:
			pass.requeue = true
		case res.waiting:
			pass.waiting = true
		case res.renderError != "" && res.wrote:
			keeps := "it keeps the last manifests rendered successfully"
			if res.created || res.manifests == 0 {
				keeps = "nothing is applied there until the override is fixed"
			}
			r.event(rb, rt, corev1.EventTypeWarning, workv1alpha1.EventReasonSyncWorkFailed,
				"Failed to render the Work of cluster %s: %s; %s", tc.Name, res.renderError, keeps)
		}
		if res.wrote {
			if res.created {
				out.created = append(out.created, tc.Name)
			} else {
				out.updated = append(out.updated, tc.Name)
			}
		}
	}
	return pass, kerrors.NewAggregate(errs)
}

// workResult is what syncWork did.
type workResult struct {
	wrote, created, requeue, waiting bool
	// renderError is the render error the Work now carries.
	renderError string
	// manifests is the number of manifests the Work now carries.
	manifests int
}

// syncWork renders the Work of one cluster and writes it when it differs
// from what the cache (or, ahead of the cache, the ledger) shows.
func (r *Reconciler) syncWork(ctx context.Context, rb *workv1alpha1.ResourceBinding, in render.Input, cached *workv1alpha1.Work) (workResult, error) {
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	cluster := in.Cluster.Name
	if cached != nil && !cached.DeletionTimestamp.IsZero() {
		// Wait until it is gone (its removal brings the binding back) rather
		// than write to a Work that is going away.
		return workResult{waiting: true}, nil
	}

	// What the Work holds now.
	var current *[32]byte
	var cachedView *workView
	stale := false
	if rec, ok := r.ledger.work(key, cluster); ok && (cached == nil || rec.notNewer(cached.UID, cached.ResourceVersion)) {
		current = &rec.view
		stale = cached == nil || cached.ResourceVersion != rec.resourceVersion
	}
	if cached != nil && !stale {
		v, err := viewOf(cached)
		if err != nil {
			return workResult{}, err
		}
		cachedView = &v
		if current == nil {
			d, err := v.digest()
			if err != nil {
				return workResult{}, err
			}
			current = &d
		}
	}

	desired := workView{
		Annotations: map[string]string{
			workv1alpha1.AnnotationBinding:            workindex.Key(rb.Namespace, rb.Name),
			workv1alpha1.AnnotationBindingGeneration:  strconv.FormatInt(rb.Generation, 10),
			workv1alpha1.AnnotationConflictResolution: conflictResolution(&rb.Spec),
		},
		SuspendDispatching:          suspended(rb.Spec.Suspension, cluster),
		PreserveResourcesOnDeletion: rb.Spec.PreserveResourcesOnDeletion != nil && *rb.Spec.PreserveResourcesOnDeletion,
	}
	manifest, _, renderErr := render.Render(in)
	res := workResult{}
	if renderErr == nil {
		raw, err := json.Marshal(manifest.Object)
		if err != nil {
			return workResult{}, err
		}
		c, err := canonical(raw)
		if err != nil {
			return workResult{}, err
		}
		desired.Manifests = []json.RawMessage{c}
	} else {
		res.renderError = renderErr.Error()
		desired.Annotations[workv1alpha1.AnnotationRenderError] = res.renderError
		if stale {
			// The last good manifests are in a write the cache has not
			// shown yet.
			return workResult{requeue: true}, nil
		}
		if cachedView != nil {
			// Keep what the Work holds, with the generation it came from.
			desired.Manifests = cachedView.Manifests
			if g, ok := cachedView.Annotations[workv1alpha1.AnnotationBindingGeneration]; ok {
				desired.Annotations[workv1alpha1.AnnotationBindingGeneration] = g
			}
		}
	}
	res.manifests = len(desired.Manifests)
	d, err := desired.digest()
	if err != nil {
		return workResult{}, err
	}
	if current != nil && *current == d {
		return res, nil
	}
	w, err := r.applyWork(ctx, workNamespace(cluster), rb.Name, &desired)
	if err != nil {
		return workResult{}, fmt.Errorf("writing Work %s/%s: %w", workNamespace(cluster), rb.Name, err)
	}
	r.ledger.wroteWork(key, cluster, w)
	res.wrote, res.created = true, current == nil
	return res, nil
}

// policies returns the override policies that may apply to obj: every
// ClusterOverridePolicy and the OverridePolicies of obj's namespace. They
// share the cache's specs: read only.
func (r *Reconciler) policies(ctx context.Context, obj *unstructured.Unstructured) ([]overrides.Policy, error) {
	var out []overrides.Policy
	var cops policyv1alpha1.ClusterOverridePolicyList
	if err := r.Client.List(ctx, &cops, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing ClusterOverridePolicies: %w", err)
	}
	for i := range cops.Items {
		if cops.Items[i].DeletionTimestamp.IsZero() {
			out = append(out, overrides.FromClusterOverridePolicy(&cops.Items[i]))
		}
	}
	if ns := obj.GetNamespace(); ns != "" {
		var ops policyv1alpha1.OverridePolicyList
		if err := r.Client.List(ctx, &ops, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing the OverridePolicies of namespace %s: %w", ns, err)
		}
		for i := range ops.Items {
			if ops.Items[i].DeletionTimestamp.IsZero() {
				out = append(out, overrides.FromOverridePolicy(&ops.Items[i]))
			}
		}
	}
	return out, nil
}

// clusterTarget is the cluster as override rules see it; a cluster without
// a Cluster object is known by its name only.
func (r *Reconciler) clusterTarget(ctx context.Context, name string) clusteraffinity.Target {
	c := &clusterv1alpha1.Cluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, c, client.UnsafeDisableDeepCopy); err != nil {
		if !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Error(err, "reading the Cluster; rendering with its name only", "cluster", name)
		}
		return clusteraffinity.Target{Name: name}
	}
	return clusteraffinity.TargetOf(c)
}

// addFinalizer adds the binding finalizer with server-side apply, which
// leaves the finalizers of others alone. The apiserver refuses it once the
// binding is being deleted, so no Work is created for a binding going away.
func (r *Reconciler) addFinalizer(ctx context.Context, rb *workv1alpha1.ResourceBinding) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(),
		"kind":       workv1alpha1.KindResourceBinding,
		"metadata": map[string]any{"name": rb.Name, "namespace": rb.Namespace, "uid": string(rb.UID),
			"finalizers": []any{workv1alpha1.BindingFinalizer}},
	}}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(workv1alpha1.FieldManagerBinding), client.ForceOwnership); err != nil {
		return fmt.Errorf("adding the finalizer %s: %w", workv1alpha1.BindingFinalizer, err)
	}
	return nil
}

// finalize deletes the binding's Works and, once none is left, removes the
// binding's finalizer. Works have the execution controller's finalizer, so
// they stay until the member objects are deleted (or released); their
// removal brings the binding back here.
func (r *Reconciler) finalize(ctx context.Context, rb *workv1alpha1.ResourceBinding, works map[string]*workv1alpha1.Work) error {
	if !controllerutil.ContainsFinalizer(rb, workv1alpha1.BindingFinalizer) {
		return nil
	}
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	var remaining []string
	var errs []error
	clusters := make([]string, 0, len(works))
	for cluster := range works {
		clusters = append(clusters, cluster)
	}
	for cluster := range r.ledger.clusters(key) {
		if works[cluster] == nil {
			clusters = append(clusters, cluster)
		}
	}
	for _, cluster := range r.tombstones(ctx, rb, works, func(string) bool { return true }) {
		remaining = append(remaining, cluster)
	}
	slices.Sort(clusters)
	for _, cluster := range clusters {
		w := works[cluster]
		deleted, err := r.deleteWork(ctx, key, cluster, w)
		if err != nil {
			errs = append(errs, err)
		}
		if w != nil || deleted || err != nil {
			remaining = append(remaining, cluster)
		}
	}
	if err := kerrors.NewAggregate(errs); err != nil {
		return err
	}
	if len(remaining) > 0 {
		log.FromContext(ctx).V(1).Info("waiting for the Works to be deleted", "clusters", remaining)
		return nil
	}
	if err := r.removeFinalizer(ctx, rb); err != nil {
		return err
	}
	log.FromContext(ctx).Info("all Works deleted; finalizer removed")
	r.ledger.forgetBinding(key)
	r.Works.Rendered.Forget(key)
	return nil
}

// removeFinalizer removes the binding finalizer with a JSON patch that
// first tests that the entry is still where the cache saw it, so that
// nobody else's finalizer is dropped.
func (r *Reconciler) removeFinalizer(ctx context.Context, rb *workv1alpha1.ResourceBinding) error {
	i := slices.Index(rb.Finalizers, workv1alpha1.BindingFinalizer)
	if i < 0 {
		return nil
	}
	value, err := json.Marshal(workv1alpha1.BindingFinalizer)
	if err != nil {
		return err
	}
	patch := fmt.Sprintf(`[{"op":"test","path":"/metadata/finalizers/%d","value":%s},{"op":"remove","path":"/metadata/finalizers/%d"}]`, i, value, i)
	if err := r.Client.Patch(ctx, rb.DeepCopy(), client.RawPatch(types.JSONPatchType, []byte(patch))); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the finalizer %s: %w", workv1alpha1.BindingFinalizer, err)
	}
	return nil
}

// markRendered records in the Work store that the binding's generation
// is rendered into Works. The status controller reads it and writes
// status.observedGeneration with the rest of the binding's status, so
// rendering costs no write of the binding.
func (r *Reconciler) markRendered(rb *workv1alpha1.ResourceBinding) {
	r.Works.Rendered.Mark(types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}, rb.UID, rb.Generation)
}

// event reports on the template, where users look, with the binding as the
// related object, and on the binding.
func (r *Reconciler) event(rb *workv1alpha1.ResourceBinding, rt *workv1alpha1.ResourceTemplate, eventtype, reason, note string, args ...any) {
	if r.Recorder == nil {
		return
	}
	action := "SyncWork"
	if rt != nil {
		r.Recorder.Eventf(rt, rb, eventtype, reason, action, note, args...)
	}
	r.Recorder.Eventf(rb, nil, eventtype, reason, action, note, args...)
}
