// Package overrides is the validating admission webhook of OverridePolicies
// and ClusterOverridePolicies. It rejects what the override engine
// (internal/overrides) would fail on at every propagation, using the
// engine's own parsers so that the two always agree: malformed JSON
// pointers (bad ~ escapes, a path to the whole object), missing or
// malformed values of add and replace, image rules that cannot produce a
// valid image (removing the repository, a tag value that is no tag),
// invalid label and annotation keys or label values, plus the selector and
// cluster affinity checks shared with propagation policies. The CEL rules of
// the CRD already check operators and components against their enums and
// that paths start with '/'.
package overrides

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	engine "argosy.dev/argosy/internal/overrides"
	"argosy.dev/argosy/internal/webhooks/fieldcheck"
)

// +kubebuilder:webhook:path=/validate-policy-argosy-dev-v1alpha1-overridepolicy,mutating=false,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=overridepolicies,verbs=create;update,versions=v1alpha1,name=voverridepolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-policy-argosy-dev-v1alpha1-clusteroverridepolicy,mutating=false,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=clusteroverridepolicies,verbs=create;update,versions=v1alpha1,name=vclusteroverridepolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Validator validates override policies.
type Validator struct {
	// Mapper answers whether a selected kind is cluster-scoped; nil skips
	// the scope checks.
	Mapper meta.RESTMapper
}

// SetupWithManager registers the webhooks of both kinds.
func (v *Validator) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &policyv1alpha1.OverridePolicy{}).
		WithValidator(&fieldcheck.SpecValidator[*policyv1alpha1.OverridePolicy, *policyv1alpha1.OverrideSpec]{
			GroupKind: policyv1alpha1.GroupVersion.WithKind(policyv1alpha1.KindOverridePolicy).GroupKind(),
			Spec:      func(p *policyv1alpha1.OverridePolicy) *policyv1alpha1.OverrideSpec { return &p.Spec },
			Check:     v.checker(policyv1alpha1.KindOverridePolicy)}).
		Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &policyv1alpha1.ClusterOverridePolicy{}).
		WithValidator(&fieldcheck.SpecValidator[*policyv1alpha1.ClusterOverridePolicy, *policyv1alpha1.OverrideSpec]{
			GroupKind: policyv1alpha1.GroupVersion.WithKind(policyv1alpha1.KindClusterOverridePolicy).GroupKind(),
			Spec:      func(p *policyv1alpha1.ClusterOverridePolicy) *policyv1alpha1.OverrideSpec { return &p.Spec },
			Check:     v.checker(policyv1alpha1.KindClusterOverridePolicy)}).
		Complete()
}

// ValidateSpec returns the errors of spec; namespace is the policy's, empty
// for a ClusterOverridePolicy.
func (v *Validator) ValidateSpec(spec *policyv1alpha1.OverrideSpec, namespace, kind string) field.ErrorList {
	sp := field.NewPath("spec")
	errs := fieldcheck.ResourceSelectors(sp.Child("resourceSelectors"), spec.ResourceSelectors, fieldcheck.Scope{Namespace: namespace, Kind: kind}, v.Mapper)
	errs = append(errs, fieldcheck.ClusterAffinity(sp.Child("targetCluster"), spec.TargetCluster)...)
	errs = append(errs, Overriders(sp.Child("overriders"), &spec.Overriders)...)
	for i := range spec.OverrideRules {
		r, rp := &spec.OverrideRules[i], sp.Child("overrideRules").Index(i)
		errs = append(errs, fieldcheck.ClusterAffinity(rp.Child("targetCluster"), r.TargetCluster)...)
		errs = append(errs, Overriders(rp.Child("overriders"), &r.Overriders)...)
	}
	return errs
}

// Overriders checks every overrider of o; path is the field of o.
func Overriders(path *field.Path, o *policyv1alpha1.Overriders) field.ErrorList {
	var errs field.ErrorList
	for i := range o.Plaintext {
		p, pp := &o.Plaintext[i], path.Child("plaintext").Index(i)
		errs = append(errs, operation(pp, "path", p.Path, p.Operator, func() error { return engine.ValidateValue(p.Operator, p.Value) }, true)...)
	}
	for i := range o.ImageOverrider {
		im, ip := &o.ImageOverrider[i], path.Child("imageOverrider").Index(i)
		if im.Predicate != nil {
			if err := engine.ValidatePointer(im.Predicate.Path, true); err != nil {
				errs = append(errs, field.Invalid(ip.Child("predicate", "path"), im.Predicate.Path, err.Error()))
			}
		}
		if err := engine.ValidateImageOverrider(im); err != nil {
			errs = append(errs, field.Invalid(ip.Child("value"), im.Value,
				fmt.Sprintf("%s of the %s component cannot give a valid image: %v", im.Operator, im.Component, err)))
		}
	}
	for _, c := range []struct {
		name string
		list []policyv1alpha1.CommandArgsOverrider
	}{{"commandOverrider", o.CommandOverrider}, {"argsOverrider", o.ArgsOverrider}} {
		for i, ca := range c.list {
			if ca.Operator != policyv1alpha1.OverriderOpAdd && ca.Operator != policyv1alpha1.OverriderOpRemove {
				errs = append(errs, field.NotSupported(path.Child(c.name).Index(i).Child("operator"), ca.Operator, []string{"add", "remove"}))
			}
		}
	}
	for i, l := range o.LabelsOverrider {
		lp := path.Child("labelsOverrider").Index(i)
		if err := engine.ValidateOperator(l.Operator); err != nil {
			errs = append(errs, field.Invalid(lp.Child("operator"), l.Operator, err.Error()))
		}
		errs = append(errs, metav1validation.ValidateLabels(l.Value, lp.Child("value"))...)
	}
	for i, a := range o.AnnotationsOverrider {
		ap := path.Child("annotationsOverrider").Index(i)
		if err := engine.ValidateOperator(a.Operator); err != nil {
			errs = append(errs, field.Invalid(ap.Child("operator"), a.Operator, err.Error()))
		}
		for k := range a.Value {
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, field.Invalid(ap.Child("value").Key(k), k, msg))
			}
		}
	}
	for i := range o.FieldOverrider {
		f, fp := &o.FieldOverrider[i], path.Child("fieldOverrider").Index(i)
		if err := engine.ValidatePointer(f.FieldPath, true); err != nil {
			errs = append(errs, field.Invalid(fp.Child("fieldPath"), f.FieldPath, err.Error()))
		}
		for j := range f.JSON {
			op := &f.JSON[j]
			errs = append(errs, operation(fp.Child("json").Index(j), "subPath", op.SubPath, op.Operator, func() error { return engine.ValidateValue(op.Operator, op.Value) }, false)...)
		}
		for j := range f.YAML {
			op := &f.YAML[j]
			errs = append(errs, operation(fp.Child("yaml").Index(j), "subPath", op.SubPath, op.Operator, func() error { return engine.ValidateValue(op.Operator, op.Value) }, false)...)
		}
	}
	return errs
}

// operation checks the pointer, the operator and the value of one
// add/remove/replace operation at p.
func operation(p *field.Path, pathField, pointer string, op policyv1alpha1.OverriderOperator, value func() error, nonEmpty bool) field.ErrorList {
	var errs field.ErrorList
	if err := engine.ValidatePointer(pointer, nonEmpty); err != nil {
		errs = append(errs, field.Invalid(p.Child(pathField), pointer, err.Error()))
	}
	if err := engine.ValidateOperator(op); err != nil {
		errs = append(errs, field.NotSupported(p.Child("operator"), op, []string{"add", "remove", "replace"}))
	} else if err := value(); err != nil {
		errs = append(errs, field.Invalid(p.Child("value"), "", fmt.Sprintf("%s: %v", op, err)))
	}
	return errs
}

// checker binds ValidateSpec to one kind.
func (v *Validator) checker(kind string) func(*policyv1alpha1.OverrideSpec, string) field.ErrorList {
	return func(spec *policyv1alpha1.OverrideSpec, namespace string) field.ErrorList {
		return v.ValidateSpec(spec, namespace, kind)
	}
}
