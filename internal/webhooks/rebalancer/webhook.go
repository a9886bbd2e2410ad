// Package rebalancer is the validating admission webhook of
// WorkloadRebalancers. Duplicate workloads are already rejected by the
// CRD (workloads is a list map keyed by apiVersion, kind, namespace and
// name); this webhook checks what needs the host's discovery: a namespaced
// kind needs a namespace (it is not defaulted) and a cluster-scoped kind
// must have none, or the rebalancer never finds the workload's binding.
package rebalancer

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	"argosy.dev/argosy/internal/webhooks/fieldcheck"
)

// +kubebuilder:webhook:path=/validate-apps-argosy-dev-v1alpha1-workloadrebalancer,mutating=false,failurePolicy=fail,sideEffects=None,groups=apps.argosy.dev,resources=workloadrebalancers,verbs=create;update,versions=v1alpha1,name=vworkloadrebalancer.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Validator validates WorkloadRebalancers.
type Validator struct {
	// Mapper gives the scope of the kinds the host serves; workloads of
	// other kinds are not judged on scope.
	Mapper meta.RESTMapper
}

// SetupWithManager registers the webhook.
func (v *Validator) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &appsv1alpha1.WorkloadRebalancer{}).WithValidator(v).Complete()
}

func (v *Validator) ValidateCreate(_ context.Context, wr *appsv1alpha1.WorkloadRebalancer) (admission.Warnings, error) {
	return nil, v.validate(wr, nil)
}

// ValidateUpdate judges only the workloads that are new, so that a
// rebalancer admitted before keeps accepting its controller's writes.
func (v *Validator) ValidateUpdate(_ context.Context, old, wr *appsv1alpha1.WorkloadRebalancer) (admission.Warnings, error) {
	return nil, v.validate(wr, old)
}

func (v *Validator) ValidateDelete(context.Context, *appsv1alpha1.WorkloadRebalancer) (admission.Warnings, error) {
	return nil, nil
}

func (v *Validator) validate(wr, old *appsv1alpha1.WorkloadRebalancer) error {
	known := map[appsv1alpha1.ObjectReference]bool{}
	if old != nil {
		for _, w := range old.Spec.Workloads {
			known[w] = true
		}
	}
	var errs field.ErrorList
	for i, w := range wr.Spec.Workloads {
		if known[w] {
			continue
		}
		errs = append(errs, v.workload(field.NewPath("spec", "workloads").Index(i), w)...)
	}
	return fieldcheck.Invalid(appsv1alpha1.GroupVersion.WithKind(appsv1alpha1.ResourceKindWorkloadRebalancer).GroupKind(), wr.Name, errs)
}

func (v *Validator) workload(p *field.Path, w appsv1alpha1.ObjectReference) field.ErrorList {
	gv, err := schema.ParseGroupVersion(w.APIVersion)
	if err != nil {
		return field.ErrorList{field.Invalid(p.Child("apiVersion"), w.APIVersion, err.Error())}
	}
	if v.Mapper == nil {
		return nil
	}
	m, err := v.Mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: w.Kind}, gv.Version)
	if err != nil {
		return nil // not served by the host: only its members know its scope
	}
	switch namespaced := m.Scope.Name() == meta.RESTScopeNameNamespace; {
	case namespaced && w.Namespace == "":
		return field.ErrorList{field.Required(p.Child("namespace"), fmt.Sprintf("%s is namespaced: name the workload's namespace (it is not defaulted)", w.Kind))}
	case !namespaced && w.Namespace != "":
		return field.ErrorList{field.Invalid(p.Child("namespace"), w.Namespace, fmt.Sprintf("%s is cluster-scoped: leave namespace empty", w.Kind))}
	}
	return nil
}
