package detector

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/interpreter"
	"argosy.dev/argosy/internal/template"
)

// Cache indexes of the detector. Each has its own name: the webhook
// registers others on the same types.
const (
	// indexClaimed: templates by the policy in status.policy
	// ("Kind/namespace/name"), and bindings by the policy their labels
	// record (the claim of record, which status.policy mirrors a moment
	// later).
	indexClaimed = "detector.argosy.dev/claimed-by"
	// indexWrapped: templates by the wrapped object's "apiVersion|kind" and
	// "apiVersion|kind|namespace".
	indexWrapped = "detector.argosy.dev/wrapped"
	// indexSelector: policies by the "apiVersion|kind" of each selector.
	indexSelector = "detector.argosy.dev/selects"
	// indexDependency: bindings with propagateDeps by the template names of
	// the objects their workload depends on.
	indexDependency = "detector.argosy.dev/depends-on"
)

func gvkKey(apiVersion, kind string) string { return apiVersion + "|" + kind }

func gvkNamespaceKey(apiVersion, kind, namespace string) string {
	return apiVersion + "|" + kind + "|" + namespace
}

func claimKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

func registerIndexes(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &workv1alpha1.ResourceTemplate{}, indexClaimed, func(o client.Object) []string {
		p := o.(*workv1alpha1.ResourceTemplate).Status.Policy
		if p == nil {
			return nil
		}
		return []string{claimKey(p.Kind, p.Namespace, p.Name)}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &workv1alpha1.ResourceBinding{}, indexClaimed, func(o client.Object) []string {
		if c := claimOf(o.(*workv1alpha1.ResourceBinding)); c != nil {
			return []string{claimKey(c.Kind, c.Namespace, c.Name)}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &workv1alpha1.ResourceTemplate{}, indexWrapped, func(o client.Object) []string {
		id, ok := wrappedIdentity(o.(*workv1alpha1.ResourceTemplate))
		if !ok {
			return nil
		}
		return []string{gvkKey(id.APIVersion, id.Kind), gvkNamespaceKey(id.APIVersion, id.Kind, id.Metadata.Namespace)}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &policyv1alpha1.PropagationPolicy{}, indexSelector, func(o client.Object) []string {
		return selectorKeys(o.(*policyv1alpha1.PropagationPolicy).Spec.ResourceSelectors)
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &policyv1alpha1.ClusterPropagationPolicy{}, indexSelector, func(o client.Object) []string {
		return selectorKeys(o.(*policyv1alpha1.ClusterPropagationPolicy).Spec.ResourceSelectors)
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &workv1alpha1.ResourceBinding{}, indexDependency, func(o client.Object) []string {
		b := o.(*workv1alpha1.ResourceBinding)
		if !b.Spec.PropagateDeps {
			return nil
		}
		return dependencyTemplates(b.Annotations)
	})
}

func selectorKeys(selectors []policyv1alpha1.ResourceSelector) []string {
	var keys []string
	seen := map[string]bool{}
	for _, rs := range selectors {
		if k := gvkKey(rs.APIVersion, rs.Kind); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// wrappedID is the identity of a wrapped object, decoded without the rest.
type wrappedID struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"metadata"`
}

func wrappedIdentity(rt *workv1alpha1.ResourceTemplate) (wrappedID, bool) {
	var id wrappedID
	if len(rt.Spec.Template.Raw) == 0 || json.Unmarshal(rt.Spec.Template.Raw, &id) != nil || id.Kind == "" {
		return id, false
	}
	return id, true
}

// dependencyTemplates returns the names of the templates of the objects
// listed in a binding's AnnotationDependencies.
func dependencyTemplates(annotations map[string]string) []string {
	v := annotations[AnnotationDependencies]
	if v == "" {
		return nil
	}
	var deps []interpreter.Dependency
	if json.Unmarshal([]byte(v), &deps) != nil {
		return nil
	}
	names := make([]string, 0, len(deps))
	for _, d := range deps {
		names = append(names, template.Name(d.Group(), d.Kind, d.Namespace, d.Name))
	}
	return names
}

// build wires the watches:
//
//   - templates: on creation, deletion and spec changes (generation), not
//     on status writes, ours included;
//   - bindings: their own template, and the templates of the dependencies
//     they list, when their spec, labels, annotations or owners change;
//   - policies: the templates they claim, and on creation or a change of
//     selectors, priority or preemption also the templates they may select
//     (found through the wrapped-object index, or by the derived name when
//     a selector names its object).
func (r *Reconciler) build(mgr ctrl.Manager) error {
	inTemplateNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.TemplateNamespace
	})
	bindingChanged := predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{},
		predicate.AnnotationChangedPredicate{}, ownersChanged{})
	return ctrl.NewControllerManagedBy(mgr).
		Named("detector").
		For(&workv1alpha1.ResourceTemplate{}, builder.WithPredicates(inTemplateNamespace, predicate.GenerationChangedPredicate{})).
		Watches(&workv1alpha1.ResourceTemplate{}, handler.Funcs{DeleteFunc: r.templateDeleted}, builder.WithPredicates(inTemplateNamespace)).
		Watches(&workv1alpha1.ResourceBinding{}, r.bindingHandler(), builder.WithPredicates(inTemplateNamespace, bindingChanged)).
		Watches(&policyv1alpha1.PropagationPolicy{}, r.policyHandler(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&policyv1alpha1.ClusterPropagationPolicy{}, r.policyHandler(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// templateDeleted re-evaluates the dependencies of a deleted template's
// workload: its binding stops requiring them (GC removes it later).
func (r *Reconciler) templateDeleted(ctx context.Context, e event.DeleteEvent, q queue) {
	b := &workv1alpha1.ResourceBinding{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: e.Object.GetNamespace(), Name: e.Object.GetName()}, b); err != nil {
		return
	}
	r.enqueueNames(q, dependencyTemplates(b.Annotations))
}

func (r *Reconciler) enqueueNames(q queue, names []string) {
	for _, n := range names {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: r.TemplateNamespace, Name: n}})
	}
}

// bindingHandler maps a binding to its template (bindings are named like
// their templates) and to the templates of the dependencies it lists, old
// and new.
func (r *Reconciler) bindingHandler() handler.EventHandler {
	enqueue := func(q queue, o client.Object) {
		r.enqueueNames(q, append([]string{o.GetName()}, dependencyTemplates(o.GetAnnotations())...))
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q queue) { enqueue(q, e.Object) },
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q queue) {
			enqueue(q, e.ObjectNew)
			r.enqueueNames(q, dependencyTemplates(e.ObjectOld.GetAnnotations()))
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q queue) { enqueue(q, e.Object) },
	}
}

// policyHandler maps a policy event to the templates it claims or may
// select.
func (r *Reconciler) policyHandler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) { r.enqueueForPolicy(ctx, q, e.Object, true) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			selection := !equality.Semantic.DeepEqual(selectionOf(e.ObjectOld), selectionOf(e.ObjectNew))
			r.enqueueForPolicy(ctx, q, e.ObjectNew, selection)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) { r.enqueueForPolicy(ctx, q, e.Object, false) },
	}
}

// selection is what decides which templates a policy may take.
type selection struct {
	Selectors  []policyv1alpha1.ResourceSelector
	Priority   *int32
	Preemption policyv1alpha1.PreemptionBehavior
}

func selectionOf(o client.Object) selection {
	spec := specOf(o)
	if spec == nil {
		return selection{}
	}
	return selection{Selectors: spec.ResourceSelectors, Priority: spec.Priority, Preemption: spec.Preemption}
}

func specOf(o client.Object) *policyv1alpha1.PropagationSpec {
	switch p := o.(type) {
	case *policyv1alpha1.PropagationPolicy:
		return &p.Spec
	case *policyv1alpha1.ClusterPropagationPolicy:
		return &p.Spec
	}
	return nil
}

func (r *Reconciler) enqueueForPolicy(ctx context.Context, q queue, o client.Object, candidates bool) {
	logger := log.FromContext(ctx).WithValues("policy", client.ObjectKeyFromObject(o))
	spec := specOf(o)
	if spec == nil {
		return
	}
	kind := policyv1alpha1.KindClusterPropagationPolicy
	if _, ok := o.(*policyv1alpha1.PropagationPolicy); ok {
		kind = policyv1alpha1.KindPropagationPolicy
	}
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: r.TemplateNamespace, Name: name}})
		}
	}
	list := func(key string) bool {
		var l workv1alpha1.ResourceTemplateList
		if err := r.Client.List(ctx, &l, client.InNamespace(r.TemplateNamespace), client.MatchingFields{indexWrapped: key}, client.UnsafeDisableDeepCopy); err != nil {
			logger.Error(err, "listing templates", "index", indexWrapped, "key", key)
			return false
		}
		for i := range l.Items {
			add(l.Items[i].Name)
		}
		return true
	}

	var claimed workv1alpha1.ResourceTemplateList
	if err := r.Client.List(ctx, &claimed, client.InNamespace(r.TemplateNamespace),
		client.MatchingFields{indexClaimed: claimKey(kind, o.GetNamespace(), o.GetName())}, client.UnsafeDisableDeepCopy); err != nil {
		logger.Error(err, "listing claimed templates")
	}
	for i := range claimed.Items {
		add(claimed.Items[i].Name)
	}
	var bindings workv1alpha1.ResourceBindingList
	if err := r.Client.List(ctx, &bindings, client.InNamespace(r.TemplateNamespace),
		client.MatchingFields{indexClaimed: claimKey(kind, o.GetNamespace(), o.GetName())}, client.UnsafeDisableDeepCopy); err != nil {
		logger.Error(err, "listing claimed bindings")
	}
	for i := range bindings.Items {
		add(bindings.Items[i].Name) // named like its template
	}
	if !candidates {
		return
	}
	for _, rs := range spec.ResourceSelectors {
		ns := rs.Namespace
		if kind == policyv1alpha1.KindPropagationPolicy {
			if ns != "" && ns != o.GetNamespace() {
				continue
			}
			ns = o.GetNamespace()
		}
		group := schema.FromAPIVersionAndKind(rs.APIVersion, rs.Kind).Group
		switch {
		case rs.Name != "" && ns != "":
			add(template.Name(group, rs.Kind, ns, rs.Name))
		case ns != "":
			list(gvkNamespaceKey(rs.APIVersion, rs.Kind, ns))
		default:
			// A cluster-wide selector: every namespace and cluster scope.
			list(gvkKey(rs.APIVersion, rs.Kind))
		}
	}
}

// ownersChanged passes updates that change the owner references.
type ownersChanged struct {
	predicate.Funcs
}

func (ownersChanged) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	return !equality.Semantic.DeepEqual(e.ObjectOld.GetOwnerReferences(), e.ObjectNew.GetOwnerReferences())
}
