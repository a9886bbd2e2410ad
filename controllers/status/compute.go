package status

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/aggregate"
)

// Input is what one pass reads, all from the manager's cache.
type Input struct {
	Template *workv1alpha1.ResourceTemplate
	// Binding is the template's ResourceBinding; nil when there is none.
	Binding *workv1alpha1.ResourceBinding
	// Works are the binding's Works.
	Works []workv1alpha1.Work
	// Rendered is the binding generation the binding controller has
	// rendered into Works (workstore.Rendered); the binding's
	// status.observedGeneration, which this controller writes from it, when
	// that is newer.
	Rendered int64
	// PolicySelects tells whether a PropagationPolicy or
	// ClusterPropagationPolicy selects the wrapped object. Only read when
	// the template has no claim (status.policy): it tells "the detector has
	// not claimed it yet" from "nothing will claim it".
	PolicySelects bool
	// Now stamps the conditions whose status changes.
	Now metav1.Time
}

// Output is what the pass should make the objects say.
type Output struct {
	// Binding is the part of the binding's status this controller owns;
	// nil when there is no binding to write to (none, or being deleted).
	Binding *BindingStatus
	// Template is the template's status without status.policy, which is
	// the detector's.
	Template workv1alpha1.ResourceTemplateStatus
}

// BindingStatus is the part of a binding's status this controller owns.
type BindingStatus struct {
	// ObservedGeneration is the binding generation rendered into Works.
	ObservedGeneration int64
	// AggregatedStatus has one item per target cluster and per cluster that
	// still has a Work, sorted by name.
	AggregatedStatus []workv1alpha1.AggregatedStatusItem
	// FullyApplied is the FullyApplied condition.
	FullyApplied metav1.Condition
	// Settled tells whether this status is an outcome a reader waits for
	// rather than a step on the way (not written; see Reconciler.hold):
	// FullyApplied, a failure to apply somewhere, or nothing to apply (not
	// scheduled anywhere, scheduling failed).
	Settled bool
}

// Compute derives the binding's aggregated status and FullyApplied
// condition and the template's status from the template, its binding and
// the binding's Works. It fails only on malformed input (a cluster listed
// twice in spec.clusters).
func Compute(in Input) (Output, error) {
	tpl, rb := in.Template, in.Binding
	var out Output
	out.Template.ObservedGeneration = tpl.Generation
	if rb == nil {
		v := unboundVerdict(in)
		out.Template.Conditions = conditions(tpl.Status.Conditions, tpl.Generation, v, in.Now)
		return out, nil
	}

	id := wrappedOf(rb)
	rendered := max(in.Rendered, rb.Status.ObservedGeneration)
	clusters := clusterSet(rb, in.Works)
	var targets, leaving []aggregate.Member
	members := make(map[string]member, len(clusters))
	for _, c := range clusters {
		r := rendered
		if !c.target {
			// The binding controller no longer renders it.
			r = 0
		}
		m := memberOf(c.name, c.work, id, r)
		members[c.name] = m
		if c.target {
			targets = append(targets, m.Member)
		} else {
			leaving = append(leaving, m.Member)
		}
	}
	res, err := aggregate.Aggregate(id.gvk, targets)
	if err != nil {
		return out, fmt.Errorf("ResourceBinding %s/%s spec.clusters: %w", rb.Namespace, rb.Name, err)
	}
	left, err := aggregate.Aggregate(id.gvk, leaving)
	if err != nil {
		return out, fmt.Errorf("Works of ResourceBinding %s/%s: %w", rb.Namespace, rb.Name, err)
	}
	summaries := make(map[string]aggregate.ClusterSummary, len(clusters))
	for _, s := range append(res.PerCluster, left.PerCluster...) {
		summaries[s.Name] = s
	}

	if rb.DeletionTimestamp.IsZero() {
		out.Binding = &BindingStatus{
			ObservedGeneration: rendered,
			AggregatedStatus:   aggregatedItems(clusters, members, summaries),
			FullyApplied:       fullyApplied(rb, rendered, clusters, members, in.Now),
		}
		out.Binding.Settled = bindingSettled(rb, out.Binding)
	}

	v, caughtUp := boundVerdict(in, rendered, res, clusters, members)
	out.Template.Conditions = conditions(tpl.Status.Conditions, tpl.Generation, v, in.Now)
	out.Template.Clusters = templateClusters(rb, clusters, summaries)
	agg := res.Status
	if agg == nil {
		agg = firstReported(clusters, members)
	}
	if og, ok := aggregatedObservedGeneration(tpl, caughtUp); ok {
		if agg == nil {
			agg = map[string]any{}
		}
		agg["observedGeneration"] = og
	}
	if agg != nil {
		raw, err := json.Marshal(agg)
		if err != nil {
			return out, fmt.Errorf("encoding the aggregated status of ResourceTemplate %s/%s: %w", tpl.Namespace, tpl.Name, err)
		}
		out.Template.AggregatedStatus = &runtime.RawExtension{Raw: raw}
	}
	return out, nil
}

// target is one cluster of the binding: a target of spec.clusters, or a
// cluster that still has a Work (the object is being removed from it).
type target struct {
	name     string
	work     *workv1alpha1.Work
	target   bool
	assigned int32
	evicting bool
}

// clusterSet lists the binding's clusters, sorted by name.
func clusterSet(rb *workv1alpha1.ResourceBinding, works []workv1alpha1.Work) []target {
	byName := make(map[string]*target, len(rb.Spec.Clusters))
	for _, tc := range rb.Spec.Clusters {
		byName[tc.Name] = &target{name: tc.Name, target: true, assigned: tc.Replicas}
	}
	for i := range works {
		c, ok := clusterOf(&works[i])
		if !ok {
			continue
		}
		t := byName[c]
		if t == nil {
			t = &target{name: c, evicting: true}
			byName[c] = t
		}
		t.work = &works[i]
	}
	for _, task := range rb.Spec.GracefulEvictionTasks {
		if t := byName[task.FromCluster]; t != nil {
			t.evicting = true
		}
	}
	out := make([]target, 0, len(byName))
	for _, t := range byName {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func aggregatedItems(clusters []target, members map[string]member, summaries map[string]aggregate.ClusterSummary) []workv1alpha1.AggregatedStatusItem {
	if len(clusters) == 0 {
		return nil
	}
	items := make([]workv1alpha1.AggregatedStatusItem, 0, len(clusters))
	for _, c := range clusters {
		m := members[c.name]
		items = append(items, workv1alpha1.AggregatedStatusItem{
			ClusterName:    c.name,
			Status:         m.raw,
			Applied:        m.Applied,
			AppliedMessage: m.AppliedMessage,
			Health:         summaries[c.name].Health,
		})
	}
	return items
}

// fullyApplied is True when the binding controller has rendered the
// binding's current generation and every target cluster has applied its
// Work's current generation.
func fullyApplied(rb *workv1alpha1.ResourceBinding, rendered int64, clusters []target, members map[string]member, now metav1.Time) metav1.Condition {
	c := metav1.Condition{
		Type:               workv1alpha1.ConditionFullyApplied,
		Status:             metav1.ConditionFalse,
		Reason:             workv1alpha1.BindingReasonFullyAppliedFailed,
		ObservedGeneration: rb.Generation,
	}
	var failed, pending []string
	n := 0
	for _, t := range clusters {
		if !t.target {
			continue
		}
		n++
		m := members[t.name]
		switch {
		case m.Applied:
		case m.AppliedMessage != "" && !m.Waiting:
			failed = append(failed, t.name+": "+m.AppliedMessage)
		case m.AppliedMessage != "":
			pending = append(pending, t.name+" ("+m.AppliedMessage+")")
		default:
			pending = append(pending, t.name)
		}
	}
	switch {
	case rendered < rb.Generation:
		c.Message = fmt.Sprintf("The Works of generation %d are not rendered yet", rb.Generation)
	case n == 0:
		c.Message = "Not scheduled to any cluster"
	case len(failed) > 0:
		c.Message = fmt.Sprintf("Failed to apply in %d of %d clusters: %s", len(failed), n, strings.Join(failed, "; "))
		if len(pending) > 0 {
			c.Message += "; not applied yet in " + strings.Join(pending, ", ")
		}
	case len(pending) > 0:
		c.Message = fmt.Sprintf("Not applied yet in %d of %d clusters: %s", len(pending), n, strings.Join(pending, ", "))
	default:
		c.Status = metav1.ConditionTrue
		c.Reason = workv1alpha1.BindingReasonFullyAppliedSuccess
		c.Message = "All works have been successfully applied"
	}
	c.LastTransitionTime = transitionTime(meta.FindStatusCondition(rb.Status.Conditions, c.Type), c.Status, now)
	return c
}

// verdict is the template's kstatus state: exactly one of ready,
// reconciling and stalled.
type verdict struct {
	ready, reconciling, stalled bool
	reason, message             string
}

func reconciling(reason, format string, args ...any) verdict {
	return verdict{reconciling: true, reason: reason, message: fmt.Sprintf(format, args...)}
}

func stalled(reason, format string, args ...any) verdict {
	return verdict{stalled: true, reason: reason, message: fmt.Sprintf(format, args...)}
}

// needsPolicyCheck tells whether Compute reads Input.PolicySelects: the
// template has no claim and no binding that reflects its generation.
func needsPolicyCheck(tpl *workv1alpha1.ResourceTemplate, rb *workv1alpha1.ResourceBinding) bool {
	return tpl.Status.Policy == nil && (rb == nil || !bindingCurrent(tpl, rb))
}

// bindingCurrent: the detector has written the binding from the
// template's current generation. (The template's resourceVersion cannot
// tell: every status write changes it.)
func bindingCurrent(tpl *workv1alpha1.ResourceTemplate, rb *workv1alpha1.ResourceBinding) bool {
	return rb.Annotations[workv1alpha1.AnnotationTemplateGeneration] == strconv.FormatInt(tpl.Generation, 10)
}

// unboundVerdict is the state of a template without a binding.
func unboundVerdict(in Input) verdict {
	tpl := in.Template
	switch {
	case tpl.Status.Policy != nil:
		return reconciling(workv1alpha1.TemplateReasonProgressing, "Waiting for the ResourceBinding of %s", policyPhrase(tpl.Status.Policy))
	case in.PolicySelects:
		return reconciling(workv1alpha1.TemplateReasonProgressing, "Waiting for a matching propagation policy to claim the object")
	}
	return stalled(workv1alpha1.TemplateReasonNoMatchingPolicy,
		"No PropagationPolicy or ClusterPropagationPolicy selects %s; create one whose resourceSelectors match it", wrappedPhrase(tpl))
}

// boundVerdict is the state of a template with a binding, and whether the
// whole chain (binding, scheduling, Works, members) has caught up with the
// template's generation.
func boundVerdict(in Input, rendered int64, res aggregate.Result, clusters []target, members map[string]member) (verdict, bool) {
	tpl, rb := in.Template, in.Binding
	current := bindingCurrent(tpl, rb)
	dependency := rb.Spec.Placement == nil && len(rb.Spec.RequiredBy) > 0
	switch {
	case !current && tpl.Status.Policy == nil && !in.PolicySelects && !dependency:
		// The binding is frozen (its policy is gone): the change is never
		// propagated unless a policy claims the object again.
		return stalled(workv1alpha1.TemplateReasonNoMatchingPolicy,
			"Generation %d is not propagated: no PropagationPolicy or ClusterPropagationPolicy selects %s any more, and the member clusters keep the version they have; create a policy whose resourceSelectors match it",
			tpl.Generation, wrappedPhrase(tpl)), false
	case !current:
		return reconciling(workv1alpha1.TemplateReasonProgressing, "Waiting for the ResourceBinding to take generation %d of the template", tpl.Generation), false
	case !rb.DeletionTimestamp.IsZero():
		return reconciling(workv1alpha1.TemplateReasonProgressing, "The ResourceBinding is being deleted"), false
	}

	if schedulerPending(rb) {
		return reconciling(workv1alpha1.TemplateReasonProgressing, "Waiting for the scheduler"), false
	}
	if sc := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled); sc != nil && sc.Status != metav1.ConditionTrue {
		switch sc.Reason {
		case workv1alpha1.BindingReasonNoClusterFit, workv1alpha1.BindingReasonUnschedulable:
			return stalled(workv1alpha1.TemplateReasonSchedulingFailed, "%s: %s", sc.Reason, sc.Message), false
		case workv1alpha1.BindingReasonSchedulingSuspended:
			return reconciling(workv1alpha1.TemplateReasonSuspended, "%s", sc.Message), false
		}
		// A transient scheduler error: it retries.
		return reconciling(workv1alpha1.TemplateReasonProgressing, "Scheduling is retried after %s: %s", sc.Reason, sc.Message), false
	}
	if rendered < rb.Generation {
		return reconciling(workv1alpha1.TemplateReasonProgressing, "Waiting for the Works of the ResourceBinding's generation %d", rb.Generation), false
	}

	applied := true
	suspended := false
	for _, t := range clusters {
		if m := members[t.name]; t.target {
			applied = applied && m.Applied
			suspended = suspended || m.suspended
		}
	}
	caughtUp := applied && res.AllObserved && len(res.PerCluster) > 0
	switch {
	case res.Stalled:
		return verdict{stalled: true, reason: res.Reason, message: res.Message}, caughtUp
	case res.Reconciling && suspended:
		return verdict{reconciling: true, reason: workv1alpha1.TemplateReasonSuspended, message: res.Message}, caughtUp
	case res.Reconciling:
		return verdict{reconciling: true, reason: res.Reason, message: res.Message}, caughtUp
	}
	return verdict{ready: true, reason: res.Reason, message: res.Message}, caughtUp
}

// schedulerPending tells whether the scheduler has yet to process the
// binding's current generation. The scheduler leaves alone bindings with
// nothing to place (no placement, no dependents) and bindings whose policy
// is gone but that are placed already, so those never wait for it.
func schedulerPending(rb *workv1alpha1.ResourceBinding) bool {
	switch {
	case rb.Spec.Placement == nil && len(rb.Spec.RequiredBy) == 0:
		return false
	case rb.Spec.Placement != nil && rb.Labels[workv1alpha1.LabelPolicyName] == "" && len(rb.Spec.Clusters) > 0:
		return false
	}
	return rb.Status.SchedulerObservedGeneration < rb.Generation
}

// aggregatedObservedGeneration is the observedGeneration of the aggregated
// status: the template's generation once everything has caught up with
// it, else the one reported before (which is older), else none.
func aggregatedObservedGeneration(tpl *workv1alpha1.ResourceTemplate, caughtUp bool) (int64, bool) {
	if caughtUp {
		return tpl.Generation, true
	}
	if tpl.Status.AggregatedStatus == nil || len(tpl.Status.AggregatedStatus.Raw) == 0 {
		return 0, false
	}
	var prev struct {
		ObservedGeneration int64 `json:"observedGeneration"`
	}
	if json.Unmarshal(tpl.Status.AggregatedStatus.Raw, &prev) != nil || prev.ObservedGeneration <= 0 || prev.ObservedGeneration >= tpl.Generation {
		return 0, false
	}
	return prev.ObservedGeneration, true
}

// firstReported is the status of the first target cluster, by name, that
// reported one: the aggregated status of kinds without an aggregation
// rule. The member's own observedGeneration is dropped: it counts the
// member object's generations, not the template's.
func firstReported(clusters []target, members map[string]member) map[string]any {
	for _, c := range clusters {
		if m := members[c.name]; c.target && m.Status != nil {
			out := make(map[string]any, len(m.Status))
			for k, v := range m.Status {
				if k != "observedGeneration" {
					out[k] = v
				}
			}
			return out
		}
	}
	return nil
}

func templateClusters(rb *workv1alpha1.ResourceBinding, clusters []target, summaries map[string]aggregate.ClusterSummary) []workv1alpha1.TemplateClusterStatus {
	if len(clusters) == 0 {
		return nil
	}
	replicas := rb.Spec.Replicas > 0 || rb.Spec.ReplicaRequirements != nil
	out := make([]workv1alpha1.TemplateClusterStatus, 0, len(clusters))
	for _, c := range clusters {
		s := summaries[c.name]
		cs := workv1alpha1.TemplateClusterStatus{
			Name:          c.name,
			Applied:       s.Applied,
			Health:        s.Health,
			Evicting:      c.evicting,
			Replicas:      s.Replicas,
			ReadyReplicas: s.ReadyReplicas,
		}
		if !s.Applied {
			cs.AppliedMessage = s.AppliedMessage
		}
		if replicas && c.target {
			cs.AssignedReplicas = &c.assigned
		}
		out = append(out, cs)
	}
	return out
}

// conditions renders a verdict as the kstatus conditions: Ready always,
// Reconciling and Stalled only while True (kstatus reads their absence as
// False). A condition keeps its lastTransitionTime while its status holds.
func conditions(existing []metav1.Condition, generation int64, v verdict, now metav1.Time) []metav1.Condition {
	ready := metav1.Condition{
		Type: workv1alpha1.TemplateConditionReady, Status: metav1.ConditionFalse,
		Reason: v.reason, Message: v.message, ObservedGeneration: generation,
	}
	if v.ready {
		ready.Status = metav1.ConditionTrue
	}
	out := []metav1.Condition{ready}
	if v.reconciling {
		out = append(out, metav1.Condition{Type: workv1alpha1.TemplateConditionReconciling, Status: metav1.ConditionTrue,
			Reason: v.reason, Message: v.message, ObservedGeneration: generation})
	}
	if v.stalled {
		out = append(out, metav1.Condition{Type: workv1alpha1.TemplateConditionStalled, Status: metav1.ConditionTrue,
			Reason: v.reason, Message: v.message, ObservedGeneration: generation})
	}
	for i := range out {
		out[i].LastTransitionTime = transitionTime(meta.FindStatusCondition(existing, out[i].Type), out[i].Status, now)
	}
	return out
}

func transitionTime(prev *metav1.Condition, status metav1.ConditionStatus, now metav1.Time) metav1.Time {
	if prev != nil && prev.Status == status && !prev.LastTransitionTime.IsZero() {
		return prev.LastTransitionTime
	}
	return now
}

// policyPhrase names a policy the way the detector's events do.
func policyPhrase(ref *workv1alpha1.PolicyReference) string {
	if ref.Kind == policyv1alpha1.KindClusterPropagationPolicy {
		return "ClusterPropagationPolicy " + ref.Name
	}
	return "PropagationPolicy " + ref.Namespace + "/" + ref.Name
}

// wrappedPhrase names the wrapped object: "apps/v1 Deployment default/web".
func wrappedPhrase(tpl *workv1alpha1.ResourceTemplate) string {
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	if json.Unmarshal(tpl.Spec.Template.Raw, &obj) != nil || obj.Kind == "" {
		return "the wrapped object"
	}
	name := obj.Metadata.Name
	if obj.Metadata.Namespace != "" {
		name = obj.Metadata.Namespace + "/" + name
	}
	return obj.APIVersion + " " + obj.Kind + " " + name
}

// bindingSettled tells whether want, the binding's next status, is an
// outcome: see BindingStatus.Settled.
//
// FullyApplied does not wait for the members' status of what was applied:
// that can take the members' controllers a second or more (a Deployment
// is healthy only once its rollout is done), and FullyApplied is what a
// reader of the binding waits for. The members' status follows as
// progress (Reconciler.hold).
func bindingSettled(rb *workv1alpha1.ResourceBinding, want *BindingStatus) bool {
	if want.FullyApplied.Status == metav1.ConditionTrue {
		return true
	}
	for _, it := range want.AggregatedStatus {
		if !it.Applied && it.AppliedMessage != "" {
			return true
		}
	}
	if len(rb.Spec.Clusters) == 0 {
		return true
	}
	sc := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	return sc != nil && sc.Status == metav1.ConditionFalse
}
