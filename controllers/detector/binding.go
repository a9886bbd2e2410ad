package detector

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/interpreter"
	"argosy.dev/argosy/internal/policydefaults"
	"argosy.dev/argosy/internal/policymatch"
)

// binding returns the template's binding from the cache (nil when there is
// none). A binding left over from an earlier template of the same name
// (controlled by another UID, waiting for the garbage collector) is deleted
// and reported as stale.
func (r *Reconciler) binding(ctx context.Context, rt *workv1alpha1.ResourceTemplate) (*workv1alpha1.ResourceBinding, bool, error) {
	b := &workv1alpha1.ResourceBinding{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: rt.Namespace, Name: rt.Name}, b); err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	if ref := metav1.GetControllerOfNoCopy(b); ref != nil && ref.UID != rt.UID {
		if !b.DeletionTimestamp.IsZero() {
			return nil, true, nil
		}
		log.FromContext(ctx).Info("deleting the binding of an earlier template of the same name", "binding", b.Name, "ownerUID", ref.UID)
		err := r.Client.Delete(ctx, b, client.Preconditions{UID: &b.UID})
		return nil, true, client.IgnoreNotFound(err)
	}
	return b, false, nil
}

// parents returns the bindings that require the template's object as a
// dependency (their policy has propagateDeps and their workload references
// it), sorted by namespace and name. They are shared with the cache.
func (r *Reconciler) parents(ctx context.Context, rt *workv1alpha1.ResourceTemplate) ([]*workv1alpha1.ResourceBinding, error) {
	var list workv1alpha1.ResourceBindingList
	if err := r.Client.List(ctx, &list, client.InNamespace(r.TemplateNamespace),
		client.MatchingFields{indexDependency: rt.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the bindings that depend on %s: %w", rt.Name, err)
	}
	var out []*workv1alpha1.ResourceBinding
	for i := range list.Items {
		b := &list.Items[i]
		if b.Name == rt.Name || !b.DeletionTimestamp.IsZero() || !b.Spec.PropagateDeps {
			continue
		}
		// Without a garbage collector (or before it runs) a binding outlives
		// its template; it requires nothing then.
		owner := metav1.GetControllerOfNoCopy(b)
		if owner == nil {
			continue
		}
		parent := &workv1alpha1.ResourceTemplate{}
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.Name}, parent); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		if parent.UID != owner.UID || !parent.DeletionTimestamp.IsZero() {
			continue
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *workv1alpha1.ResourceBinding) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// candidates returns the policies that select obj, read from the cache
// through the selector index.
func (r *Reconciler) candidates(ctx context.Context, obj policymatch.Object) ([]policymatch.Candidate, error) {
	key := gvkKey(obj.APIVersion, obj.Kind)
	var policies []policymatch.Policy
	if obj.Namespace != "" {
		var pps policyv1alpha1.PropagationPolicyList
		if err := r.Client.List(ctx, &pps, client.InNamespace(obj.Namespace), client.MatchingFields{indexSelector: key}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing PropagationPolicies: %w", err)
		}
		for i := range pps.Items {
			if pps.Items[i].DeletionTimestamp.IsZero() {
				policies = append(policies, policymatch.FromPropagationPolicy(&pps.Items[i]))
			}
		}
	}
	var cpps policyv1alpha1.ClusterPropagationPolicyList
	if err := r.Client.List(ctx, &cpps, client.MatchingFields{indexSelector: key}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing ClusterPropagationPolicies: %w", err)
	}
	for i := range cpps.Items {
		if cpps.Items[i].DeletionTimestamp.IsZero() {
			policies = append(policies, policymatch.FromClusterPropagationPolicy(&cpps.Items[i]))
		}
	}
	return policymatch.Candidates(obj, policies), nil
}

// clearClaim removes the template's status.policy, whoever wrote it, with
// a merge patch (an apply that leaves the status empty is rejected, the
// CRD requiring status to be an object). Claims are recorded by the
// binding's policy labels; the status controller mirrors them.
func (r *Reconciler) clearClaim(ctx context.Context, rt *workv1alpha1.ResourceTemplate) error {
	patch := client.RawPatch(types.MergePatchType, []byte(`{"status":{"policy":null}}`))
	if err := r.Client.Status().Patch(ctx, rt.DeepCopy(), patch, client.FieldOwner(FieldManager)); err != nil {
		return err
	}
	r.claims.wrote(rt, nil)
	return nil
}

// skeleton is a binding with the metadata every desired binding has: the
// name and namespace of the template and the template as controller owner.
func skeleton(rt *workv1alpha1.ResourceTemplate) *workv1alpha1.ResourceBinding {
	return &workv1alpha1.ResourceBinding{
		TypeMeta: metav1.TypeMeta{APIVersion: workv1alpha1.GroupVersion.String(), Kind: workv1alpha1.KindResourceBinding},
		ObjectMeta: metav1.ObjectMeta{
			Name:      rt.Name,
			Namespace: rt.Namespace,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         workv1alpha1.GroupVersion.String(),
				Kind:               workv1alpha1.KindResourceTemplate,
				Name:               rt.Name,
				UID:                rt.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
			// The binding controller's finalizer comes with the binding, so
			// that it does not cost a second write per binding; that
			// controller still adds it where it is missing, and removes it.
			Finalizers: []string{workv1alpha1.BindingFinalizer},
		},
	}
}

// resourceFor identifies the wrapped object. The resourceVersion is the
// template's, refreshed only when the template's generation moved since the
// binding was written (see AnnotationTemplateGeneration), and the
// generation is recorded in b's annotations.
func resourceFor(b *workv1alpha1.ResourceBinding, rt *workv1alpha1.ResourceTemplate, obj *unstructured.Unstructured, existing *workv1alpha1.ResourceBinding) {
	gen := strconv.FormatInt(rt.Generation, 10)
	rv := rt.ResourceVersion
	if existing != nil && existing.Annotations[AnnotationTemplateGeneration] == gen && existing.Spec.Resource.ResourceVersion != "" {
		rv = existing.Spec.Resource.ResourceVersion
	}
	setAnnotation(b, AnnotationTemplateGeneration, gen)
	b.Spec.Resource = workv1alpha1.ObjectReference{
		APIVersion:      obj.GetAPIVersion(),
		Kind:            obj.GetKind(),
		Namespace:       obj.GetNamespace(),
		Name:            obj.GetName(),
		UID:             rt.UID,
		ResourceVersion: rv,
	}
	if n, req, ok := interpreter.Replicas(obj); ok {
		b.Spec.Replicas = n
		b.Spec.ReplicaRequirements = req
	}
}

// desiredBinding is the binding of a template claimed by p.
func (r *Reconciler) desiredBinding(ctx context.Context, rt *workv1alpha1.ResourceTemplate, obj *unstructured.Unstructured,
	p policymatch.Policy, existing *workv1alpha1.ResourceBinding, parents []*workv1alpha1.ResourceBinding) (*workv1alpha1.ResourceBinding, error) {
	spec := p.Spec
	b := skeleton(rt)
	b.Labels = policyLabels(p)
	resourceFor(b, rt, obj, existing)
	b.Spec.Placement = spec.Placement.DeepCopy()
	// The policy webhook writes the same defaults into the policy; applying
	// them here too covers policies admitted without it (webhooks off, or
	// created before it). The result only depends on the policy, so every
	// pass computes the same placement and a steady binding is not rewritten.
	b.Spec.Placement.ClusterTolerations = policydefaults.Tolerations(spec.Placement.ClusterTolerations,
		r.DefaultNotReadyTolerationSeconds, r.DefaultUnreachableTolerationSeconds)
	b.Spec.PropagateDeps = spec.PropagateDeps
	b.Spec.SchedulerName = cmp.Or(spec.SchedulerName, policyv1alpha1.DefaultSchedulerName)
	b.Spec.Failover = spec.Failover.DeepCopy()
	b.Spec.ConflictResolution = cmp.Or(spec.ConflictResolution, policyv1alpha1.ConflictAbort)
	if spec.Suspension != nil {
		b.Spec.Suspension = &workv1alpha1.Suspension{Suspension: *spec.Suspension.DeepCopy()}
	}
	if spec.PreserveResourcesOnDeletion != nil {
		b.Spec.PreserveResourcesOnDeletion = ptr.To(*spec.PreserveResourcesOnDeletion)
	}
	if sp := spec.SchedulePriority; sp != nil {
		pc := &schedulingv1.PriorityClass{}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: sp.PriorityClassName}, pc); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, missingPriorityClassError(sp.PriorityClassName)
			}
			return nil, fmt.Errorf("reading PriorityClass %s named by spec.schedulePriority: %w", sp.PriorityClassName, err)
		}
		b.Spec.SchedulePriority = &workv1alpha1.SchedulePriority{Priority: pc.Value}
	}
	b.Spec.RequiredBy = snapshots(parents)
	if spec.PropagateDeps {
		if deps := interpreter.Dependencies(obj); len(deps) > 0 {
			raw, err := json.Marshal(deps)
			if err != nil {
				return nil, err
			}
			setAnnotation(b, AnnotationDependencies, string(raw))
		}
	}
	return b, nil
}

// missingPriorityClassError reports a PriorityClass named by a policy's
// spec.schedulePriority that does not exist.
type missingPriorityClassError string

func (e missingPriorityClassError) Error() string {
	return fmt.Sprintf("PriorityClass %q named by spec.schedulePriority does not exist: create it or change spec.schedulePriority.priorityClassName (retrying every %s)",
		string(e), retryMissingPriorityClass)
}

// dependencyBinding is the binding of a template no policy claims but that
// other bindings require: it goes where they go. Its conflictResolution is
// Overwrite only when every parent overwrites, and it preserves the member
// objects on deletion when any parent does.
func dependencyBinding(rt *workv1alpha1.ResourceTemplate, obj *unstructured.Unstructured,
	existing *workv1alpha1.ResourceBinding, parents []*workv1alpha1.ResourceBinding) *workv1alpha1.ResourceBinding {
	b := skeleton(rt)
	resourceFor(b, rt, obj, existing)
	b.Spec.RequiredBy = snapshots(parents)
	b.Spec.SchedulerName = policyv1alpha1.DefaultSchedulerName
	b.Spec.ConflictResolution = policyv1alpha1.ConflictOverwrite
	for i, p := range parents {
		if i == 0 && p.Spec.SchedulerName != "" {
			b.Spec.SchedulerName = p.Spec.SchedulerName
		}
		if p.Spec.ConflictResolution != policyv1alpha1.ConflictOverwrite {
			b.Spec.ConflictResolution = policyv1alpha1.ConflictAbort
		}
		if ptr.Deref(p.Spec.PreserveResourcesOnDeletion, false) {
			b.Spec.PreserveResourcesOnDeletion = ptr.To(true)
		}
	}
	return b
}

// frozenBinding keeps everything the detector owns in existing as it is,
// with the given policy labels and the current requiredBy: for a binding
// whose policy is gone, and for a Lazy policy until the template changes.
func frozenBinding(rt *workv1alpha1.ResourceTemplate, existing *workv1alpha1.ResourceBinding,
	labels map[string]string, parents []*workv1alpha1.ResourceBinding) *workv1alpha1.ResourceBinding {
	b := skeleton(rt)
	b.Labels = labels
	b.Annotations = ours(existing.Annotations, AnnotationDependencies, AnnotationTemplateGeneration)
	b.Spec = ownedSpec(&existing.Spec)
	b.Spec.RequiredBy = snapshots(parents)
	return b
}

// lazyUnchanged tells whether p postpones its changes (activationPreference
// Lazy) and the template has not changed since existing was written for p.
func lazyUnchanged(p policymatch.Policy, rt *workv1alpha1.ResourceTemplate, existing *workv1alpha1.ResourceBinding) bool {
	if p.Spec.ActivationPreference != policyv1alpha1.LazyActivation || existing == nil {
		return false
	}
	want := policyLabels(p)
	for _, k := range []string{LabelPolicyKind, LabelPolicyNamespace, LabelPolicyName} {
		if existing.Labels[k] != want[k] {
			return false
		}
	}
	return existing.Annotations[AnnotationTemplateGeneration] == strconv.FormatInt(rt.Generation, 10)
}

func policyLabels(p policymatch.Policy) map[string]string {
	l := map[string]string{LabelPolicyKind: p.Kind, LabelPolicyName: p.Name}
	if p.Namespace != "" {
		l[LabelPolicyNamespace] = p.Namespace
	}
	return l
}

func snapshots(parents []*workv1alpha1.ResourceBinding) []workv1alpha1.BindingSnapshot {
	var out []workv1alpha1.BindingSnapshot
	for _, p := range parents {
		s := workv1alpha1.BindingSnapshot{Namespace: p.Namespace, Name: p.Name}
		if len(p.Spec.Clusters) > 0 {
			s.Clusters = make([]workv1alpha1.TargetCluster, len(p.Spec.Clusters))
			copy(s.Clusters, p.Spec.Clusters)
		}
		out = append(out, s)
	}
	return out
}

func setAnnotation(b *workv1alpha1.ResourceBinding, k, v string) {
	if b.Annotations == nil {
		b.Annotations = map[string]string{}
	}
	b.Annotations[k] = v
}

// ours returns the entries of m under the given keys; nil when none.
func ours(m map[string]string, keys ...string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// ownedSpec copies the part of a binding spec the detector owns: all but
// the scheduler's clusters, the failover controllers' eviction tasks, the
// rebalancer's rescheduleTriggeredAt and the admission systems'
// suspension.scheduling.
func ownedSpec(s *workv1alpha1.ResourceBindingSpec) workv1alpha1.ResourceBindingSpec {
	out := *s.DeepCopy()
	out.Clusters = nil
	out.GracefulEvictionTasks = nil
	out.RescheduleTriggeredAt = nil
	if out.Suspension != nil {
		out.Suspension.Scheduling = nil
		if equality.Semantic.DeepEqual(*out.Suspension, workv1alpha1.Suspension{}) {
			out.Suspension = nil
		}
	}
	return out
}

// view is what the detector owns of a binding, normalized so that two
// bindings that the apiserver would store alike compare equal.
type view struct {
	Labels      map[string]string
	Annotations map[string]string
	Owner       *metav1.OwnerReference
	Spec        workv1alpha1.ResourceBindingSpec
}

func ownedView(b *workv1alpha1.ResourceBinding, owner *workv1alpha1.ResourceTemplate) view {
	v := view{
		Labels:      ours(b.Labels, LabelPolicyKind, LabelPolicyNamespace, LabelPolicyName),
		Annotations: ours(b.Annotations, AnnotationDependencies, AnnotationTemplateGeneration),
		Spec:        ownedSpec(&b.Spec),
	}
	for i := range b.OwnerReferences {
		if ref := b.OwnerReferences[i]; ref.UID == owner.UID {
			v.Owner = &metav1.OwnerReference{APIVersion: ref.APIVersion, Kind: ref.Kind, Name: ref.Name, UID: ref.UID,
				Controller: ptr.To(ptr.Deref(ref.Controller, false)), BlockOwnerDeletion: ptr.To(ptr.Deref(ref.BlockOwnerDeletion, false))}
		}
	}
	return v
}

// apply writes desired with server-side apply unless the cached binding
// already holds it; it reports whether it wrote.
func (r *Reconciler) apply(ctx context.Context, rt *workv1alpha1.ResourceTemplate, desired, existing *workv1alpha1.ResourceBinding) (bool, error) {
	// A JSON round trip gives desired the shape the apiserver returns
	// (empty lists and maps omitted, quantities parsed back).
	if existing != nil && !existing.DeletionTimestamp.IsZero() {
		// Going away: nothing to update, and a terminating object may not
		// get its finalizer back once the binding controller removed it.
		return false, nil
	}
	raw, err := json.Marshal(desired)
	if err != nil {
		return false, err
	}
	if existing != nil {
		normalized := &workv1alpha1.ResourceBinding{}
		if err := json.Unmarshal(raw, normalized); err != nil {
			return false, err
		}
		if equality.Semantic.DeepEqual(ownedView(normalized, rt), ownedView(existing, rt)) {
			return false, nil
		}
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return false, err
	}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if existing == nil && len(desired.Spec.Clusters) > 0 {
		// Placed at creation: a create, not an apply, so that the detector's
		// later applies (which leave spec.clusters to the scheduler) do not
		// remove the placement as a field they stopped applying.
		if err := r.Client.Create(ctx, u, client.FieldOwner(FieldManager)); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// The cache is behind; the binding's event brings it back.
				return false, nil
			}
			return false, err
		}
		log.FromContext(ctx).V(1).Info("binding created, placed", "binding", desired.Name, "clusters", len(desired.Spec.Clusters))
		return true, nil
	}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return false, err
	}
	log.FromContext(ctx).V(1).Info("binding applied", "binding", desired.Name, "created", existing == nil)
	return true, nil
}
