// Package fieldcheck holds the validations the admission webhooks of
// several kinds share (resource selectors, cluster affinities, tolerations).
// The CRDs' CEL rules already check what needs no context; these are the
// checks that need the host's discovery or the Kubernetes validation
// libraries, which CEL cannot express. Every error names its field.
package fieldcheck

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// Invalid turns errs into the apiserver's 422 Invalid, whose causes kubectl
// prints field by field; nil when errs is empty.
func Invalid(gk schema.GroupKind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(gk, name, errs)
}

// Scope is the scope of a selecting policy.
type Scope struct {
	// Namespace is the namespace of a PropagationPolicy or OverridePolicy;
	// empty for the cluster-wide kinds.
	Namespace string
	// Kind names the policy kind in messages.
	Kind string
}

// ResourceSelectors checks selectors that can never match anything: a
// malformed apiVersion or label selector, a namespace outside a namespaced
// policy's own, a namespaced policy selecting a cluster-scoped kind, or a
// namespace on a selector of a cluster-scoped kind. The scope of a kind
// comes from mapper; kinds the host does not serve are not judged on scope,
// since their CRD may only exist in the members.
func ResourceSelectors(path *field.Path, sels []policyv1alpha1.ResourceSelector, scope Scope, mapper meta.RESTMapper) field.ErrorList {
	var errs field.ErrorList
	for i := range sels {
		s, p := &sels[i], path.Index(i)
		gv, err := schema.ParseGroupVersion(s.APIVersion)
		if err != nil {
			errs = append(errs, field.Invalid(p.Child("apiVersion"), s.APIVersion, err.Error()))
		}
		if scope.Namespace != "" && s.Namespace != "" && s.Namespace != scope.Namespace {
			errs = append(errs, field.Invalid(p.Child("namespace"), s.Namespace,
				fmt.Sprintf("a %s in namespace %q only selects objects in %q: leave namespace empty, or use a cluster-wide policy", scope.Kind, scope.Namespace, scope.Namespace)))
		}
		if s.LabelSelector != nil {
			errs = append(errs, metav1validation.ValidateLabelSelector(s.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, p.Child("labelSelector"))...)
		}
		if err != nil || mapper == nil {
			continue
		}
		m, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: s.Kind}, gv.Version)
		if err != nil || m.Scope.Name() != meta.RESTScopeNameRoot {
			continue // namespaced, or not served by the host: nothing to say
		}
		switch {
		case scope.Namespace != "":
			errs = append(errs, field.Invalid(p.Child("kind"), s.Kind,
				fmt.Sprintf("%s is cluster-scoped and a %s only selects objects in its own namespace: use the cluster-wide policy kind", s.Kind, scope.Kind)))
		case s.Namespace != "":
			errs = append(errs, field.Invalid(p.Child("namespace"), s.Namespace,
				fmt.Sprintf("%s is cluster-scoped, so a selector with a namespace never matches: leave namespace empty", s.Kind)))
		}
	}
	return errs
}

// ClusterAffinity checks the label selector, the field selector and the
// cluster names of a cluster affinity.
func ClusterAffinity(path *field.Path, a *policyv1alpha1.ClusterAffinity) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if a.LabelSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(a.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, path.Child("labelSelector"))...)
	}
	if a.FieldSelector != nil {
		for i, r := range a.FieldSelector.MatchExpressions {
			if len(r.Values) == 0 {
				errs = append(errs, field.Required(path.Child("fieldSelector", "matchExpressions").Index(i).Child("values"),
					fmt.Sprintf("operator %s needs at least one value", r.Operator)))
			}
		}
	}
	errs = append(errs, clusterNames(path.Child("clusterNames"), a.ClusterNames)...)
	errs = append(errs, clusterNames(path.Child("exclude"), a.ExcludeClusters)...)
	return errs
}

// clusterNames checks names against the Cluster name rule, so that a typo
// such as an upper-case letter is reported instead of never matching.
func clusterNames(path *field.Path, names []string) field.ErrorList {
	var errs field.ErrorList
	for i, n := range names {
		for _, msg := range validation.IsDNS1123Label(n) {
			errs = append(errs, field.Invalid(path.Index(i), n, "not a valid cluster name, so it never matches: "+msg))
		}
	}
	return errs
}

// Tolerations checks tolerations as the Kubernetes API validates those of
// Pods: a key is a qualified name, Exists takes no value, an empty key
// needs Exists, and tolerationSeconds only applies to NoExecute.
func Tolerations(path *field.Path, tols []corev1.Toleration) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tols {
		p := path.Index(i)
		if t.Key != "" {
			for _, msg := range validation.IsQualifiedName(t.Key) {
				errs = append(errs, field.Invalid(p.Child("key"), t.Key, msg))
			}
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			if t.Key == "" {
				errs = append(errs, field.Invalid(p.Child("operator"), t.Operator, "operator must be Exists when key is empty"))
			}
			for _, msg := range validation.IsValidLabelValue(t.Value) {
				errs = append(errs, field.Invalid(p.Child("value"), t.Value, msg))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(p.Child("value"), t.Value, "value must be empty when operator is Exists"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("operator"), t.Operator, []string{string(corev1.TolerationOpEqual), string(corev1.TolerationOpExists)}))
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute:
		default:
			errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect,
				[]string{string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectNoExecute)}))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be NoExecute when tolerationSeconds is set"))
		}
	}
	return errs
}

// SpecValidator is the typed validator of a kind whose whole validation is
// a check of its spec: Check gets the spec and the object's namespace
// (empty for cluster-scoped kinds). Updates that leave the spec unchanged
// are never judged, so that metadata writes (finalizers, labels) to an
// object an earlier, more lenient version admitted do not fail.
type SpecValidator[T client.Object, S any] struct {
	GroupKind schema.GroupKind
	Spec      func(T) S
	Check     func(spec S, namespace string) field.ErrorList
}

func (v *SpecValidator[T, S]) validate(obj T) error {
	return Invalid(v.GroupKind, obj.GetName(), v.Check(v.Spec(obj), obj.GetNamespace()))
}

// ValidateCreate judges the spec.
func (v *SpecValidator[T, S]) ValidateCreate(_ context.Context, obj T) (admission.Warnings, error) {
	return nil, v.validate(obj)
}

// ValidateUpdate judges a changed spec only.
func (v *SpecValidator[T, S]) ValidateUpdate(_ context.Context, old, obj T) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(v.Spec(old), v.Spec(obj)) {
		return nil, nil
	}
	return nil, v.validate(obj)
}

// ValidateDelete allows every deletion.
func (v *SpecValidator[T, S]) ValidateDelete(context.Context, T) (admission.Warnings, error) {
	return nil, nil
}
