// Package detector is the detector of DESIGN §3: it matches every
// ResourceTemplate to the PropagationPolicy or ClusterPropagationPolicy that
// claims it (internal/policymatch), records the claim in the template's
// status.policy, and keeps one ResourceBinding per claimed template, named
// like the template and owned by it, with the replicas and per-replica
// requirements of the wrapped object (internal/interpreter) and the
// scheduling settings of the policy. With propagateDeps it also gives the
// templates of the objects a workload depends on a binding whose
// spec.requiredBy follows the workload's scheduling result.
//
// Writes are server-side applies with the field manager "argosy-detector",
// made only when the desired state differs from the cache, so a steady
// state costs no writes. The binding fields other controllers own
// (spec.clusters, spec.gracefulEvictionTasks, spec.rescheduleTriggeredAt and
// spec.suspension.scheduling) are never part of the applied object.
package detector

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/policymatch"
)

// The detector's RBAC beyond what internal/manager/rbac.go grants: the
// PriorityClasses that policies' spec.schedulePriority names.
// +kubebuilder:rbac:groups=scheduling.k8s.io,resources=priorityclasses,verbs=get;list;watch

// Names the detector writes with or under.
const (
	// FieldManager is the server-side apply field manager of every write.
	FieldManager = "argosy-detector"
	// ControllerName names the controller and is the reporting controller
	// of its events.
	ControllerName = "argosy-detector"
)

// Labels on a ResourceBinding that name the policy claiming its template
// (defined with the API, where the other controllers read them).
const (
	LabelPolicyKind      = workv1alpha1.LabelPolicyKind
	LabelPolicyNamespace = workv1alpha1.LabelPolicyNamespace
	LabelPolicyName      = workv1alpha1.LabelPolicyName
)

// Annotations on a ResourceBinding written by the detector.
const (
	// AnnotationDependencies lists, as JSON ([{apiVersion, kind, namespace,
	// name}]), the objects the wrapped workload depends on; set while the
	// claiming policy has propagateDeps. Their templates' bindings list this
	// binding in spec.requiredBy.
	AnnotationDependencies = "work.argosy.dev/dependencies"
	// AnnotationTemplateGeneration is the metadata.generation of the
	// template that spec.resource.resourceVersion was taken from, so that
	// status-only writes to the template (which change its resourceVersion
	// but not its generation) do not rewrite the binding.
	AnnotationTemplateGeneration = workv1alpha1.AnnotationTemplateGeneration
)

// Event reasons, Karmada's.
const (
	EventReasonApplyPolicySucceed   = "ApplyPolicySucceed"
	EventReasonApplyPolicyFailed    = "ApplyPolicyFailed"
	EventReasonPreemptPolicySucceed = "PreemptPolicySucceed"
)

// executionNamespacePrefix starts the per-cluster execution namespaces,
// which no policy selects.
const executionNamespacePrefix = "argosy-es-"

// retryMissingPriorityClass is how long to wait before looking again for a
// PriorityClass named by a policy (PriorityClasses are not watched).
const retryMissingPriorityClass = time.Minute

// Reconciler reconciles ResourceTemplates into claims and ResourceBindings.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the apiserver.
	Client client.Client
	// Recorder emits events on templates.
	Recorder recorder.EventRecorder
	// TemplateNamespace holds ResourceTemplates and ResourceBindings.
	TemplateNamespace string
	// SystemNamespace is Argosy's own namespace; objects wrapped for it (and
	// for the argosy-es-* execution namespaces) are never selected.
	SystemNamespace string
	// MaxConcurrentReconciles is the number of workers; 4 when zero.
	MaxConcurrentReconciles int
	// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
	// are the default NoExecute tolerations (policydefaults.Tolerations) put
	// into the binding's placement when the policy has none for those taints.
	DefaultNotReadyTolerationSeconds    int64
	DefaultUnreachableTolerationSeconds int64
	// Placer, when set, places a binding that does not exist yet, so that
	// it is created with its spec.clusters (the scheduler's Place).
	Placer Placer

	claims claimWrites
}

// Reconcile brings one template's claim and binding (and, through the
// binding, its dependencies' requiredBy) up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	rt := &workv1alpha1.ResourceTemplate{}
	if err := r.Client.Get(ctx, req.NamespacedName, rt); err != nil {
		if apierrors.IsNotFound(err) {
			// Deleted: the garbage collector removes the binding it owns.
			r.claims.forget(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !rt.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	obj, err := wrappedObject(rt)
	if err != nil {
		// Admission rejects such templates; one created with the webhook down
		// stays as it is until it is fixed (a spec change re-triggers).
		r.Recorder.Eventf(rt, nil, corev1.EventTypeWarning, EventReasonApplyPolicyFailed, "ApplyPolicy",
			"Cannot read spec.template: %v; fix the wrapped object", err)
		return reconcile.Result{}, nil
	}
	logger = logger.WithValues("wrapped", identity(obj))
	ctx = log.IntoContext(ctx, logger)

	existing, stale, err := r.binding(ctx, rt)
	if err != nil || stale {
		// A stale binding is being deleted; its deletion brings us back.
		return reconcile.Result{}, err
	}
	// The claim of record is the binding's policy labels; the template's
	// status.policy mirrors it (the status controller writes it with the
	// template's status, which saves a write per template). The claim this
	// process decided last wins while the cache may not show it yet.
	shown := rt.Status.Policy
	if ref, ok := r.claims.recorded(rt); ok {
		rt.Status.Policy = ref
	} else if ref := claimOf(existing); ref != nil {
		rt.Status.Policy = ref
	}
	parents, err := r.parents(ctx, rt)
	if err != nil {
		return reconcile.Result{}, err
	}

	var cands []policymatch.Candidate
	if !r.reserved(obj.GetNamespace()) {
		if cands, err = r.candidates(ctx, matchObject(obj)); err != nil {
			return reconcile.Result{}, err
		}
	}
	d := policymatch.Decide(rt.Status.Policy, cands)
	if d.Winner == nil {
		return reconcile.Result{}, r.unclaimed(ctx, rt, shown, obj, existing, parents)
	}
	return r.claimed(ctx, rt, obj, existing, parents, d)
}

// claimed records the winner's claim and applies its binding.
func (r *Reconciler) claimed(ctx context.Context, rt *workv1alpha1.ResourceTemplate, obj *unstructured.Unstructured,
	existing *workv1alpha1.ResourceBinding, parents []*workv1alpha1.ResourceBinding, d policymatch.Decision) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	w := d.Winner
	claimChanged := !w.Is(rt.Status.Policy)
	if claimChanged {
		// Recorded by the binding's policy labels, written below.
		logger.Info("claimed", "policy", policyString(w.Policy), "previous", refString(rt.Status.Policy), "preempted", d.Preempted)
		if d.Preempted {
			r.Recorder.Eventf(rt, nil, corev1.EventTypeNormal, EventReasonPreemptPolicySucceed, "PreemptPolicy",
				"%s preempted %s successfully", capitalize(policyPhrase(w.Kind, w.Namespace, w.Name)),
				policyPhrase(rt.Status.Policy.Kind, rt.Status.Policy.Namespace, rt.Status.Policy.Name))
		}
	}

	var desired *workv1alpha1.ResourceBinding
	if !claimChanged && lazyUnchanged(w.Policy, rt, existing) {
		// activationPreference Lazy: the policy's changes wait for the next
		// change of the template.
		desired = frozenBinding(rt, existing, policyLabels(w.Policy), parents)
	} else {
		var err error
		desired, err = r.desiredBinding(ctx, rt, obj, w.Policy, existing, parents)
		if err != nil {
			r.Recorder.Eventf(rt, nil, corev1.EventTypeWarning, EventReasonApplyPolicyFailed, "ApplyPolicy",
				"Apply %s failed: %v", policyPhrase(w.Kind, w.Namespace, w.Name), err)
			var missing missingPriorityClassError
			if errors.As(err, &missing) {
				return reconcile.Result{RequeueAfter: retryMissingPriorityClass}, nil
			}
			return reconcile.Result{}, err
		}
	}
	if existing == nil && r.Placer != nil {
		if tcs, ok := r.Placer.Place(ctx, desired); ok {
			desired.Spec.Clusters = tcs
		}
	}
	_, err := r.apply(ctx, rt, desired, existing)
	if err != nil {
		r.Recorder.Eventf(rt, nil, corev1.EventTypeWarning, EventReasonApplyPolicyFailed, "ApplyPolicy",
			"Apply %s failed: writing ResourceBinding %s: %v", policyPhrase(w.Kind, w.Namespace, w.Name), desired.Name, err)
		return reconcile.Result{}, err
	}
	if claimChanged {
		ref := w.Ref()
		r.claims.wrote(rt, &ref)
	}
	if claimChanged && rt.Status.Policy != nil && !d.Preempted {
		// Another policy took over. A first claim gets no event: success is
		// reported once per template generation, when the template turns
		// Ready (status controller); the claim is in status.policy.
		r.Recorder.Eventf(rt, nil, corev1.EventTypeNormal, EventReasonApplyPolicySucceed, "ApplyPolicy",
			"Apply %s succeed", policyPhrase(w.Kind, w.Namespace, w.Name))
	}

	return reconcile.Result{}, nil
}

// unclaimed handles a template no policy selects. As in Karmada, losing the
// claim (the policy was deleted or no longer selects the object) does not
// delete the binding: what runs in the member clusters keeps running, the
// binding loses its policy labels and is no longer changed from the
// template, until the template is deleted or another policy claims it. A
// binding that only exists because other bindings require it as a
// dependency follows its requiredBy and is deleted when nothing requires it
// any more.
func (r *Reconciler) unclaimed(ctx context.Context, rt *workv1alpha1.ResourceTemplate, shown *workv1alpha1.PolicyReference, obj *unstructured.Unstructured,
	existing *workv1alpha1.ResourceBinding, parents []*workv1alpha1.ResourceBinding) error {
	logger := log.FromContext(ctx)
	if shown != nil {
		// The template still shows a claim: clear it (whoever wrote it).
		if err := r.clearClaim(ctx, rt); err != nil {
			return fmt.Errorf("clearing the claim: %w", err)
		}
	} else if rt.Status.Policy != nil {
		r.claims.wrote(rt, nil)
	}
	if rt.Status.Policy != nil {
		logger.Info("claim released: no policy selects the object any more", "previous", refString(rt.Status.Policy))
	}
	var desired *workv1alpha1.ResourceBinding
	switch {
	case existing == nil && len(parents) == 0:
		return nil
	case existing == nil || existing.Spec.Placement == nil:
		if len(parents) == 0 {
			logger.Info("deleting dependency binding: no binding requires it any more", "binding", existing.Name)
			err := r.Client.Delete(ctx, existing, client.Preconditions{UID: &existing.UID})
			return client.IgnoreNotFound(err)
		}
		desired = dependencyBinding(rt, obj, existing, parents)
	default:
		desired = frozenBinding(rt, existing, nil, parents)
	}
	_, err := r.apply(ctx, rt, desired, existing)
	return err
}

// reserved tells whether objects wrapped for namespace ns are off limits.
func (r *Reconciler) reserved(ns string) bool {
	return ns != "" && (ns == r.SystemNamespace || len(ns) > len(executionNamespacePrefix) && ns[:len(executionNamespacePrefix)] == executionNamespacePrefix)
}

// SetupWithManager registers the cache indexes, the watches and the
// controller.
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
	if err := registerIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	return r.build(mgr)
}

// wrappedObject decodes spec.template with integer numbers kept as int64.
func wrappedObject(rt *workv1alpha1.ResourceTemplate) (*unstructured.Unstructured, error) {
	raw := rt.Spec.Template.Raw
	if len(raw) == 0 {
		return nil, fmt.Errorf("spec.template is empty")
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	switch {
	case u.GetAPIVersion() == "":
		return nil, fmt.Errorf("spec.template.apiVersion is required")
	case u.GetName() == "":
		return nil, fmt.Errorf("spec.template.metadata.name is required")
	}
	return u, nil
}

func matchObject(obj *unstructured.Unstructured) policymatch.Object {
	return policymatch.Object{
		APIVersion: obj.GetAPIVersion(),
		Kind:       obj.GetKind(),
		Namespace:  obj.GetNamespace(),
		Name:       obj.GetName(),
		Labels:     obj.GetLabels(),
	}
}

func identity(obj *unstructured.Unstructured) string {
	id := obj.GetAPIVersion() + " " + obj.GetKind() + " "
	if ns := obj.GetNamespace(); ns != "" {
		return id + ns + "/" + obj.GetName()
	}
	return id + obj.GetName()
}

// policyPhrase names a policy the way Karmada's events do:
// "policy(ns/name)" or "cluster policy(name)".
func policyPhrase(kind, namespace, name string) string {
	if kind == policyv1alpha1.KindClusterPropagationPolicy {
		return "cluster policy(" + name + ")"
	}
	return "policy(" + namespace + "/" + name + ")"
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func policyString(p policymatch.Policy) string {
	if p.Namespace == "" {
		return p.Kind + "/" + p.Name
	}
	return p.Kind + "/" + p.Namespace + "/" + p.Name
}

func refString(ref *workv1alpha1.PolicyReference) string {
	if ref == nil {
		return ""
	}
	return policyString(policymatch.Policy{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name})
}

// Placer places a new binding as the scheduler's first pass would.
type Placer interface {
	Place(ctx context.Context, rb *workv1alpha1.ResourceBinding) ([]workv1alpha1.TargetCluster, bool)
}

// claimOf is the claim a binding's policy labels record; nil without them
// (no binding, a binding whose policy is gone, a dependency's).
func claimOf(b *workv1alpha1.ResourceBinding) *workv1alpha1.PolicyReference {
	if b == nil || b.Labels[LabelPolicyName] == "" || b.Labels[LabelPolicyKind] == "" {
		return nil
	}
	return &workv1alpha1.PolicyReference{Kind: b.Labels[LabelPolicyKind], Namespace: b.Labels[LabelPolicyNamespace], Name: b.Labels[LabelPolicyName]}
}
