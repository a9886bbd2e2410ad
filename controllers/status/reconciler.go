// Package status is the status controller (DESIGN §3, Status): it
// aggregates the Work status that the execution controller collects from
// the members into the ResourceBinding (status.aggregatedStatus and the
// FullyApplied condition) and into the ResourceTemplate (the wrapped
// object's status combined over clusters, per-cluster summaries,
// observedGeneration and the kstatus conditions Ready, Reconciling and
// Stalled), and reports the template's transitions as events.
//
// One pass reads the template, its binding (same name) and the binding's
// Works from the manager's cache, computes both statuses with the pure
// Compute, and server-side applies each status only when it differs from
// what the object shows, with the field manager
// workv1alpha1.FieldManagerStatus. The fields other controllers own are
// never part of the applied objects: the template's status.policy
// (detector), the binding's Scheduled condition and scheduler fields
// (scheduler) and status.observedGeneration (binding controller).
//
// A cluster's Work is applied when its Applied condition is True for the
// Work's current generation, it carries no render error, and the cache
// shows the version the binding controller rendered for the binding's
// status.observedGeneration. FullyApplied is True when the binding
// controller has rendered the binding's current generation and every
// target cluster's Work is applied.
//
// The template's conditions follow kstatus (Reconciling and Stalled are
// present only while True, kstatus reading their absence as False):
//
//   - Stalled (kstatus Failed): no policy selects the object
//     (NoMatchingPolicy; also when the policy is gone and the template
//     changed since), the scheduler found no cluster (SchedulingFailed, for
//     its NoClusterFit and Unschedulable), an override cannot apply
//     (OverrideFailed), an unmanaged object is in the way (Conflict), a
//     member rejected the object (ApplyFailed), or a member reports a
//     terminal failure (Unhealthy: a Deployment past its progress deadline,
//     a failed Job).
//   - Reconciling (kstatus InProgress): anything on the way, in this
//     order: the claim, the binding taking the template's generation, the
//     scheduler, the Works of the binding's generation, the applies
//     (including unreachable clusters, which need no intervention), the
//     rollouts. Suspended dispatching or scheduling gives reason Suspended.
//   - Ready (kstatus Current): applied to every target cluster and current
//     there by the kstatus rules of the kind (internal/aggregate).
//
// status.observedGeneration is the template's generation (the conditions
// describe it); aggregatedStatus.observedGeneration is the template's
// generation only once the binding, the scheduler, the Works and every
// member object have caught up with it. Clusters the object is being
// removed from are listed (evicting) but count neither for readiness nor in
// the aggregated counters.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/policymatch"
	"argosy.dev/argosy/internal/workstore"
)

// ControllerName names the controller and is the reporting controller of
// its events.
const ControllerName = "argosy-status"

// Reconciler aggregates status. The reconcile key is the name of a
// template (and of its binding) in TemplateNamespace.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the apiserver;
	// the manager's client when nil.
	Client client.Client
	// Recorder emits events on templates; the manager's when nil.
	Recorder recorder.EventRecorder
	// TemplateNamespace holds templates and bindings.
	TemplateNamespace string
	// SystemNamespace is Argosy's own namespace, whose objects no policy
	// selects (as in the detector); optional.
	SystemNamespace string
	// MaxConcurrentReconciles is the number of workers; 4 when zero.
	MaxConcurrentReconciles int
	// Works is where Works are kept, and what the binding controller has
	// rendered.
	Works *workstore.Store
	// ProgressInterval bounds how often the status of one object is
	// rewritten for progress details alone (a member's replica counts, a
	// message) while nothing a client waits on changes; one second when
	// zero, no bound when negative. Transitions (Ready, Reconciling,
	// Stalled and their reasons, FullyApplied, observedGeneration, a
	// cluster added or removed) are written at once. Every status change
	// of a Deployment in a member reaches this controller, and a rollout
	// changes it many times.
	ProgressInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	written writes
	seen    generations
}

// Reconcile brings one binding's and one template's status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tpl := &workv1alpha1.ResourceTemplate{}
	if err := r.Client.Get(ctx, req.NamespacedName, tpl); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(req.NamespacedName)
			r.seen.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !tpl.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	// What this controller wrote last, if the cache does not show it yet.
	r.written.overlayTemplate(tpl)

	rb := &workv1alpha1.ResourceBinding{}
	if err := r.Client.Get(ctx, req.NamespacedName, rb); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		rb = nil
	} else if owner := metav1.GetControllerOf(rb); owner == nil || owner.UID != tpl.UID {
		// Left from an earlier template of the same name; the detector
		// replaces it.
		rb = nil
	} else {
		r.written.overlayBinding(rb)
	}

	// The claim of record is the binding's policy labels (the detector's);
	// status.policy mirrors it and is written here, with the rest of the
	// template's status.
	claim := claimOf(rb)
	if claim != nil && tpl.Status.Policy == nil {
		tpl.Status.Policy = claim.DeepCopy()
	}
	now := r.now()
	r.seen.see(req.NamespacedName, tpl.Generation, now)
	in := Input{Template: tpl, Binding: rb, Now: metav1.NewTime(now)}
	if rb != nil {
		rendered, known := r.Works.Rendered.Get(req.NamespacedName, rb.UID)
		if !known && rb.DeletionTimestamp.IsZero() {
			// The binding controller has not rendered this binding since
			// the manager started: Works kept in memory may not exist yet,
			// and reporting them missing would be wrong. Its mark brings
			// the binding back.
			return ctrl.Result{}, nil
		}
		in.Rendered = rendered
		// Read-only: the Works (with their manifests) are shared.
		works, err := r.Works.ListForBinding(ctx, req.Namespace, req.Name)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("listing the Works of ResourceBinding %s: %w", req.NamespacedName, err)
		}
		in.Works = make([]workv1alpha1.Work, len(works))
		for i, w := range works {
			in.Works[i] = *w
		}
	}
	if needsPolicyCheck(tpl, rb) {
		selects, err := r.policySelects(ctx, tpl)
		if err != nil {
			return ctrl.Result{}, err
		}
		in.PolicySelects = selects
	}

	out, err := Compute(in)
	if err != nil {
		// Malformed input that only a spec change can fix.
		log.FromContext(ctx).Error(err, "cannot aggregate the status")
		return ctrl.Result{}, nil
	}
	var later time.Duration
	if rb != nil && out.Binding != nil && !bindingUpToDate(rb, out.Binding) {
		if wait := r.hold(req.NamespacedName, bindingSlot, now, bindingTransition(rb, out.Binding), out.Binding.Settled); wait > 0 {
			later = wait
		} else if err := r.writeBinding(ctx, rb, out.Binding, now); err != nil {
			return ctrl.Result{}, err
		}
	}
	out.Template.Policy = claim
	if !templateUpToDate(&tpl.Status, &out.Template) {
		if wait := r.hold(req.NamespacedName, templateSlot, now, templateTransition(&tpl.Status, &out.Template), templateSettled(&out.Template)); wait > 0 {
			if later == 0 || wait < later {
				later = wait
			}
		} else if err := r.writeTemplate(ctx, tpl, &out.Template, now); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: later}, nil
}

// hold returns how long a write to the status in slot of k has to wait; 0
// to write now.
//
// An outcome (settled: Ready, Stalled, FullyApplied, or a failure) is
// written at once when it is a transition. So is any transition that has
// waited ProgressInterval. A transition to an intermediate state
// (Reconciling, waiting for the scheduler, not applied yet) first waits
// up to ProgressInterval for the outcome: propagation usually takes less,
// and then only the outcome is written. Progress details alone (replica
// counts, messages) are written at most once per ProgressInterval.
func (r *Reconciler) hold(k types.NamespacedName, slot int, now time.Time, transition, settled bool) time.Duration {
	interval := r.ProgressInterval
	if interval == 0 {
		interval = time.Second
	}
	if interval < 0 || (transition && settled) {
		return 0
	}
	if transition {
		return r.written.putOff(k, slot, interval, now)
	}
	if wait := r.written.lastWrite(k, slot).Add(interval).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// writeBinding applies the binding's aggregatedStatus and FullyApplied
// condition.
func (r *Reconciler) writeBinding(ctx context.Context, rb *workv1alpha1.ResourceBinding, want *BindingStatus, now time.Time) error {
	items := make([]any, 0, len(want.AggregatedStatus))
	for _, it := range want.AggregatedStatus {
		m, err := toMap(it)
		if err != nil {
			return err
		}
		items = append(items, m)
	}
	cond, err := toMap(want.FullyApplied)
	if err != nil {
		return err
	}
	status := map[string]any{"conditions": []any{cond}}
	if want.ObservedGeneration > 0 {
		status["observedGeneration"] = want.ObservedGeneration
	}
	if len(items) > 0 {
		status["aggregatedStatus"] = items
	}
	u := applyObject(workv1alpha1.KindResourceBinding, rb.Namespace, rb.Name, status)
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(workv1alpha1.FieldManagerStatus), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("writing status.aggregatedStatus and the FullyApplied condition of ResourceBinding %s/%s: %w", rb.Namespace, rb.Name, err)
	}
	r.written.wroteBinding(rb, u.GetResourceVersion(), want, now)
	if want.FullyApplied.Status == metav1.ConditionTrue {
		if g, err := strconv.ParseInt(rb.Annotations[workv1alpha1.AnnotationTemplateGeneration], 10, 64); err == nil {
			r.seen.applied(key(rb), g, now)
		}
	}
	prev := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
	if prev == nil || prev.Status != want.FullyApplied.Status {
		log.FromContext(ctx).V(1).Info("FullyApplied", "status", want.FullyApplied.Status, "message", want.FullyApplied.Message)
	}
	return nil
}

// writeTemplate applies the template's status (all but status.policy),
// and reports the transitions of Ready and Stalled as events.
func (r *Reconciler) writeTemplate(ctx context.Context, tpl *workv1alpha1.ResourceTemplate, want *workv1alpha1.ResourceTemplateStatus, now time.Time) error {
	status, err := toMap(want)
	if err != nil {
		return err
	}
	if want.Policy == nil {
		// The detector clears a claim itself; a claim this controller
		// wrote and the binding no longer records goes with this apply.
		delete(status, "policy")
	}
	u := applyObject(workv1alpha1.KindResourceTemplate, tpl.Namespace, tpl.Name, status)
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(workv1alpha1.FieldManagerStatus), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("writing the status of ResourceTemplate %s/%s: %w", tpl.Namespace, tpl.Name, err)
	}
	r.written.wroteTemplate(tpl, u.GetResourceVersion(), want, now)
	r.events(ctx, tpl, want)
	return nil
}

// events reports on the template when it turns Ready, and when it stalls
// (or stalls for another reason). Passes that change nothing else stay
// silent.
func (r *Reconciler) events(ctx context.Context, tpl *workv1alpha1.ResourceTemplate, want *workv1alpha1.ResourceTemplateStatus) {
	logger := log.FromContext(ctx)
	prevReady := meta.FindStatusCondition(tpl.Status.Conditions, workv1alpha1.TemplateConditionReady)
	ready := meta.FindStatusCondition(want.Conditions, workv1alpha1.TemplateConditionReady)
	if ready != nil && ready.Status == metav1.ConditionTrue && (prevReady == nil || prevReady.Status != metav1.ConditionTrue) {
		logger.Info("ready", "message", ready.Message)
		r.Recorder.Eventf(tpl, nil, corev1.EventTypeNormal, workv1alpha1.EventReasonAggregateStatusSucceed, "AggregateStatus",
			"Propagated to %s; Ready: %s", placement(want.Clusters), ready.Message)
	}
	prevStalled := meta.FindStatusCondition(tpl.Status.Conditions, workv1alpha1.TemplateConditionStalled)
	st := meta.FindStatusCondition(want.Conditions, workv1alpha1.TemplateConditionStalled)
	if st != nil && st.Status == metav1.ConditionTrue &&
		(prevStalled == nil || prevStalled.Status != metav1.ConditionTrue || prevStalled.Reason != st.Reason) {
		logger.Info("stalled", "reason", st.Reason, "message", st.Message)
		r.Recorder.Eventf(tpl, nil, corev1.EventTypeWarning, workv1alpha1.EventReasonAggregateStatusFailed, "AggregateStatus",
			"%s: %s", st.Reason, st.Message)
	}
}

// policySelects tells whether some PropagationPolicy or
// ClusterPropagationPolicy selects the wrapped object, with the
// detector's rules (internal/policymatch), read from the cache.
func (r *Reconciler) policySelects(ctx context.Context, tpl *workv1alpha1.ResourceTemplate) (bool, error) {
	obj, ok := matchObject(tpl)
	if !ok || r.reserved(obj.Namespace) {
		return false, nil
	}
	var policies []policymatch.Policy
	if obj.Namespace != "" {
		var pps policyv1alpha1.PropagationPolicyList
		if err := r.Client.List(ctx, &pps, client.InNamespace(obj.Namespace), client.UnsafeDisableDeepCopy); err != nil {
			return false, fmt.Errorf("listing PropagationPolicies in %s: %w", obj.Namespace, err)
		}
		for i := range pps.Items {
			if pps.Items[i].DeletionTimestamp.IsZero() {
				policies = append(policies, policymatch.FromPropagationPolicy(&pps.Items[i]))
			}
		}
	}
	var cpps policyv1alpha1.ClusterPropagationPolicyList
	if err := r.Client.List(ctx, &cpps, client.UnsafeDisableDeepCopy); err != nil {
		return false, fmt.Errorf("listing ClusterPropagationPolicies: %w", err)
	}
	for i := range cpps.Items {
		if cpps.Items[i].DeletionTimestamp.IsZero() {
			policies = append(policies, policymatch.FromClusterPropagationPolicy(&cpps.Items[i]))
		}
	}
	return len(policymatch.Candidates(obj, policies)) > 0, nil
}

// reserved mirrors the detector: objects for the system namespace and the
// execution namespaces are never selected.
func (r *Reconciler) reserved(ns string) bool {
	if ns == "" {
		return false
	}
	if ns == r.SystemNamespace {
		return true
	}
	return len(ns) > len(workv1alpha1.ExecutionNamespacePrefix) && ns[:len(workv1alpha1.ExecutionNamespacePrefix)] == workv1alpha1.ExecutionNamespacePrefix
}

func matchObject(tpl *workv1alpha1.ResourceTemplate) (policymatch.Object, bool) {
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Namespace string            `json:"namespace"`
			Name      string            `json:"name"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if len(tpl.Spec.Template.Raw) == 0 || json.Unmarshal(tpl.Spec.Template.Raw, &obj) != nil || obj.Kind == "" {
		return policymatch.Object{}, false
	}
	return policymatch.Object{APIVersion: obj.APIVersion, Kind: obj.Kind, Namespace: obj.Metadata.Namespace,
		Name: obj.Metadata.Name, Labels: obj.Metadata.Labels}, true
}

// bindingUpToDate compares what the binding shows with want, ignoring the
// lastTransitionTime of FullyApplied.
func bindingUpToDate(rb *workv1alpha1.ResourceBinding, want *BindingStatus) bool {
	if rb.Status.ObservedGeneration != want.ObservedGeneration {
		return false
	}
	cur := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
	if cur == nil || !sameCondition(*cur, want.FullyApplied) {
		return false
	}
	if len(rb.Status.AggregatedStatus) != len(want.AggregatedStatus) {
		return false
	}
	byName := make(map[string]*workv1alpha1.AggregatedStatusItem, len(rb.Status.AggregatedStatus))
	for i := range rb.Status.AggregatedStatus {
		byName[rb.Status.AggregatedStatus[i].ClusterName] = &rb.Status.AggregatedStatus[i]
	}
	for _, w := range want.AggregatedStatus {
		g := byName[w.ClusterName]
		if g == nil || g.Applied != w.Applied || g.AppliedMessage != w.AppliedMessage || g.Health != w.Health || !sameRaw(g.Status, w.Status) {
			return false
		}
	}
	return true
}

// templateUpToDate compares the fields of the template status this
// controller owns, ignoring the lastTransitionTime of conditions.
func templateUpToDate(cur, want *workv1alpha1.ResourceTemplateStatus) bool {
	if want.Policy != nil && (cur.Policy == nil || *cur.Policy != *want.Policy) {
		return false
	}
	if cur.ObservedGeneration != want.ObservedGeneration || len(cur.Conditions) != len(want.Conditions) ||
		!sameRaw(cur.AggregatedStatus, want.AggregatedStatus) || !reflect.DeepEqual(normalClusters(cur.Clusters), normalClusters(want.Clusters)) {
		return false
	}
	for _, w := range want.Conditions {
		c := meta.FindStatusCondition(cur.Conditions, w.Type)
		if c == nil || !sameCondition(*c, w) {
			return false
		}
	}
	return true
}

// templateTransition tells whether want changes what kstatus, kubectl
// wait and the printer columns read, or which clusters are listed, as
// opposed to progress details alone.
func templateTransition(cur, want *workv1alpha1.ResourceTemplateStatus) bool {
	if want.Policy != nil && (cur.Policy == nil || *cur.Policy != *want.Policy) {
		return true
	}
	if cur.ObservedGeneration != want.ObservedGeneration || len(cur.Conditions) != len(want.Conditions) ||
		aggregatedGeneration(cur.AggregatedStatus) != aggregatedGeneration(want.AggregatedStatus) ||
		len(cur.Clusters) != len(want.Clusters) {
		return true
	}
	for _, w := range want.Conditions {
		c := meta.FindStatusCondition(cur.Conditions, w.Type)
		if c == nil || c.Status != w.Status || c.Reason != w.Reason || c.ObservedGeneration != w.ObservedGeneration {
			return true
		}
	}
	for i := range want.Clusters {
		if cur.Clusters[i].Name != want.Clusters[i].Name {
			return true
		}
	}
	return false
}

// templateSettled tells whether want is an outcome a reader waits for:
// Ready or Stalled (not Reconciling).
func templateSettled(want *workv1alpha1.ResourceTemplateStatus) bool {
	return meta.FindStatusCondition(want.Conditions, workv1alpha1.TemplateConditionReconciling) == nil
}

// bindingTransition is the same for the binding: FullyApplied, the
// generation rendered and the clusters listed.
func bindingTransition(rb *workv1alpha1.ResourceBinding, want *BindingStatus) bool {
	c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
	if c == nil || c.Status != want.FullyApplied.Status || c.Reason != want.FullyApplied.Reason ||
		c.ObservedGeneration != want.FullyApplied.ObservedGeneration || len(rb.Status.AggregatedStatus) != len(want.AggregatedStatus) ||
		rb.Status.ObservedGeneration != want.ObservedGeneration {
		return true
	}
	for i, w := range want.AggregatedStatus {
		if rb.Status.AggregatedStatus[i].ClusterName != w.ClusterName {
			return true
		}
	}
	return false
}

func aggregatedGeneration(raw *runtime.RawExtension) int64 {
	if raw == nil || len(raw.Raw) == 0 {
		return 0
	}
	var s struct {
		ObservedGeneration int64 `json:"observedGeneration"`
	}
	_ = json.Unmarshal(raw.Raw, &s)
	return s.ObservedGeneration
}

func normalClusters(cs []workv1alpha1.TemplateClusterStatus) []workv1alpha1.TemplateClusterStatus {
	if len(cs) == 0 {
		return nil
	}
	return cs
}

func sameCondition(a, b metav1.Condition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message && a.ObservedGeneration == b.ObservedGeneration
}

// sameRaw compares two JSON values by meaning, not bytes: the apiserver
// reorders keys and renumbers.
func sameRaw(a, b *runtime.RawExtension) bool {
	aEmpty, bEmpty := a == nil || len(a.Raw) == 0, b == nil || len(b.Raw) == 0
	switch {
	case aEmpty || bEmpty:
		return aEmpty == bEmpty
	case string(a.Raw) == string(b.Raw):
		return true
	}
	var av, bv any
	if json.Unmarshal(a.Raw, &av) != nil || json.Unmarshal(b.Raw, &bv) != nil {
		return false
	}
	return reflect.DeepEqual(av, bv)
}

// toMap renders a typed value as the JSON object an apply sends.
func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func applyObject(kind, namespace, name string, status map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(),
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"status":     status,
	}}
}

// key is the reconcile key of an object in the template namespace.
func key(o metav1.Object) types.NamespacedName {
	return types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}
}

// placement names the clusters a template is propagated to as the
// scheduler does, {member1:2, member2:1}, without the replicas for kinds
// that have none; clusters it is leaving are not listed.
func placement(cs []workv1alpha1.TemplateClusterStatus) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		switch {
		case c.Evicting:
		case c.AssignedReplicas != nil:
			parts = append(parts, fmt.Sprintf("%s:%d", c.Name, *c.AssignedReplicas))
		default:
			parts = append(parts, c.Name)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// claimOf is the claim a binding's policy labels record (the detector's
// claim of record); nil for no binding or one without a policy.
func claimOf(rb *workv1alpha1.ResourceBinding) *workv1alpha1.PolicyReference {
	if rb == nil || rb.Labels[workv1alpha1.LabelPolicyName] == "" || rb.Labels[workv1alpha1.LabelPolicyKind] == "" {
		return nil
	}
	return &workv1alpha1.PolicyReference{Kind: rb.Labels[workv1alpha1.LabelPolicyKind],
		Namespace: rb.Labels[workv1alpha1.LabelPolicyNamespace], Name: rb.Labels[workv1alpha1.LabelPolicyName]}
}
