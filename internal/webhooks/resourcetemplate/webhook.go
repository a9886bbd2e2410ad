// Package resourcetemplate is the admission webhook of ResourceTemplates:
// it defaults the wrapped object's namespace and the template's name, and
// rejects templates that break DESIGN §1's invariants (one template per
// wrapped object, all of them in the template namespace).
package resourcetemplate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

// +kubebuilder:webhook:path=/mutate-work-argosy-dev-v1alpha1-resourcetemplate,mutating=true,failurePolicy=fail,sideEffects=None,groups=work.argosy.dev,resources=resourcetemplates,verbs=create;update,versions=v1alpha1,name=mresourcetemplate.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-work-argosy-dev-v1alpha1-resourcetemplate,mutating=false,failurePolicy=fail,sideEffects=None,groups=work.argosy.dev,resources=resourcetemplates,verbs=create;update,versions=v1alpha1,name=vresourcetemplate.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// crdIndex indexes templates that wrap a CustomResourceDefinition by the
// "group/Kind" the CRD defines, so that the scope of a custom kind the host
// does not serve is found without listing every template.
const crdIndex = "argosy.dev/wrapped-crd-group-kind"

// Webhook defaults and validates ResourceTemplates.
type Webhook struct {
	// TemplateNamespace is the one namespace templates may live in.
	TemplateNamespace string
	// Mapper answers whether a kind the host serves is namespaced.
	Mapper meta.RESTMapper
	// Reader finds wrapped CRDs through crdIndex.
	Reader client.Reader
	// DryRun creates wrapped objects with dryRun=All to validate them
	// against their kind's schema (see checkSchema); nil checks the shape
	// only.
	DryRun client.Writer
	// DryRunTimeout bounds one dry run; DefaultDryRunTimeout when zero.
	DryRunTimeout time.Duration
}

// SetupWithManager registers the index and both webhooks.
func (w *Webhook) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &workv1alpha1.ResourceTemplate{}, crdIndex, wrappedCRDGroupKind); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &workv1alpha1.ResourceTemplate{}).
		WithDefaulter(w).
		WithValidator(w).
		Complete()
}

// Default fills the wrapped object's namespace (`default` for namespaced
// kinds, as kubectl does) and, when the template has no name, the derived
// name.
func (w *Webhook) Default(ctx context.Context, rt *workv1alpha1.ResourceTemplate) error {
	obj, err := wrapped(rt)
	if err != nil {
		return err
	}
	if obj.GetNamespace() == "" {
		namespaced, err := w.namespaced(ctx, obj.GroupVersionKind())
		if err != nil {
			return err
		}
		if namespaced {
			obj.SetNamespace("default")
			raw, err := json.Marshal(obj.Object)
			if err != nil {
				return err
			}
			rt.Spec.Template = runtime.RawExtension{Raw: raw}
		}
	}
	if rt.Name == "" && rt.GenerateName == "" {
		rt.Name = derivedName(obj)
	}
	return nil
}

// ValidateCreate enforces the template namespace and the derived name, and
// validates the wrapped object against its kind's schema.
func (w *Webhook) ValidateCreate(ctx context.Context, rt *workv1alpha1.ResourceTemplate) (admission.Warnings, error) {
	return w.validate(ctx, rt, nil)
}

// ValidateUpdate also keeps the wrapped object's identity fixed: changing it
// would silently orphan the copies already in member clusters.
func (w *Webhook) ValidateUpdate(ctx context.Context, old, rt *workv1alpha1.ResourceTemplate) (admission.Warnings, error) {
	return w.validate(ctx, rt, old)
}

// ValidateDelete allows every deletion; the controllers clean up members.
func (w *Webhook) ValidateDelete(context.Context, *workv1alpha1.ResourceTemplate) (admission.Warnings, error) {
	return nil, nil
}

func (w *Webhook) validate(ctx context.Context, rt, old *workv1alpha1.ResourceTemplate) (admission.Warnings, error) {
	gk := workv1alpha1.GroupVersion.WithKind("ResourceTemplate").GroupKind()
	var errs field.ErrorList
	if rt.Namespace != w.TemplateNamespace {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "namespace"), rt.Namespace,
			fmt.Sprintf("ResourceTemplates live in namespace %q; the wrapped object's own namespace goes in spec.template.metadata.namespace", w.TemplateNamespace)))
	}
	obj, err := wrapped(rt)
	if err != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec", "template"), "", err.Error()))
		return nil, apiInvalid(gk, rt.Name, errs)
	}
	if want := derivedName(obj); rt.Name != want {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), rt.Name,
			fmt.Sprintf("must be %q, the name derived from the wrapped %s %s, so that one object has exactly one template (leave metadata.name empty to have it filled in)", want, obj.GroupVersionKind().GroupKind(), identity(obj))))
	}
	if old != nil {
		if prev, err := wrapped(old); err == nil && prev.GetNamespace() != obj.GetNamespace() {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "template", "metadata", "namespace"),
				fmt.Sprintf("is immutable (was %q): create a new template for the other namespace", prev.GetNamespace())))
		}
	}
	// The dry run only runs for a template that is otherwise valid and
	// whose wrapped object changed: it costs an apiserver round trip.
	var warnings admission.Warnings
	if len(errs) == 0 && templateChanged(old, rt) {
		errs, warnings = w.checkSchema(ctx, obj)
	}
	return warnings, apiInvalid(gk, rt.Name, errs)
}

// namespaced tells whether a kind is namespaced: from the host's discovery
// when the host serves it, else from a wrapped CRD that defines it, else
// true, since most custom kinds are namespaced.
func (w *Webhook) namespaced(ctx context.Context, gvk schema.GroupVersionKind) (bool, error) {
	m, err := w.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err == nil {
		return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
	}
	if !meta.IsNoMatchError(err) {
		return false, fmt.Errorf("looking up the scope of %s: %w", gvk.GroupKind(), err)
	}
	var list workv1alpha1.ResourceTemplateList
	if err := w.Reader.List(ctx, &list, client.InNamespace(w.TemplateNamespace), client.MatchingFields{crdIndex: gvk.GroupKind().String()}); err != nil {
		return false, fmt.Errorf("looking for a wrapped CRD of %s: %w", gvk.GroupKind(), err)
	}
	for i := range list.Items {
		if crd, ok := wrappedCRD(&list.Items[i]); ok {
			return crd.Spec.Scope != apiextensionsv1.ClusterScoped, nil
		}
	}
	return true, nil
}

// wrapped decodes spec.template, requiring what every object needs.
func wrapped(rt *workv1alpha1.ResourceTemplate) (*unstructured.Unstructured, error) {
	raw := rt.Spec.Template.Raw
	if len(raw) == 0 && rt.Spec.Template.Object != nil {
		var err error
		if raw, err = json.Marshal(rt.Spec.Template.Object); err != nil {
			return nil, err
		}
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("spec.template is not a JSON object: %w", err)
	}
	obj := &unstructured.Unstructured{Object: m}
	switch {
	case obj.GetAPIVersion() == "":
		return nil, fmt.Errorf("spec.template.apiVersion is required")
	case obj.GetKind() == "":
		return nil, fmt.Errorf("spec.template.kind is required")
	case obj.GetName() == "":
		return nil, fmt.Errorf("spec.template.metadata.name is required")
	}
	return obj, nil
}

func derivedName(obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	return template.Name(gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName())
}

func identity(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

func wrappedCRD(rt *workv1alpha1.ResourceTemplate) (*apiextensionsv1.CustomResourceDefinition, bool) {
	var probe struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if json.Unmarshal(rt.Spec.Template.Raw, &probe) != nil || probe.Kind != "CustomResourceDefinition" ||
		schema.FromAPIVersionAndKind(probe.APIVersion, probe.Kind).Group != apiextensionsv1.GroupName {
		return nil, false
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if json.Unmarshal(rt.Spec.Template.Raw, crd) != nil {
		return nil, false
	}
	return crd, true
}

func wrappedCRDGroupKind(o client.Object) []string {
	crd, ok := wrappedCRD(o.(*workv1alpha1.ResourceTemplate))
	if !ok {
		return nil
	}
	return []string{schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}.String()}
}

func apiInvalid(gk schema.GroupKind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	// A 422 whose causes name each field, printed by kubectl like the
	// apiserver's own validation errors.
	return apierrors.NewInvalid(gk, name, errs)
}
