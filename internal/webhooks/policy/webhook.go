// Package policy is the mutating admission webhook of PropagationPolicies
// and ClusterPropagationPolicies: it gives them the default NoExecute
// tolerations for the not-ready and unreachable cluster taints.
package policy

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	"argosy.dev/argosy/internal/policydefaults"
)

// +kubebuilder:webhook:path=/mutate-policy-argosy-dev-v1alpha1-propagationpolicy,mutating=true,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=propagationpolicies,verbs=create;update,versions=v1alpha1,name=mpropagationpolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/mutate-policy-argosy-dev-v1alpha1-clusterpropagationpolicy,mutating=true,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=clusterpropagationpolicies,verbs=create;update,versions=v1alpha1,name=mclusterpropagationpolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Defaulter defaults propagation policies.
type Defaulter struct {
	// NotReadySeconds and UnreachableSeconds are the tolerationSeconds of
	// the default tolerations.
	NotReadySeconds    int64
	UnreachableSeconds int64
}

// SetupWithManager registers the webhooks of both kinds.
func (d *Defaulter) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &policyv1alpha1.PropagationPolicy{}).
		WithDefaulter(&kindDefaulter[*policyv1alpha1.PropagationPolicy]{d: d, spec: func(p *policyv1alpha1.PropagationPolicy) *policyv1alpha1.PropagationSpec { return &p.Spec }}).
		Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &policyv1alpha1.ClusterPropagationPolicy{}).
		WithDefaulter(&kindDefaulter[*policyv1alpha1.ClusterPropagationPolicy]{d: d, spec: func(p *policyv1alpha1.ClusterPropagationPolicy) *policyv1alpha1.PropagationSpec { return &p.Spec }}).
		Complete()
}

// DefaultSpec gives spec.placement.clusterTolerations the default
// tolerations it lacks; a spec that has them stays exactly as it is, so an
// update that changes nothing else is not patched.
func (d *Defaulter) DefaultSpec(spec *policyv1alpha1.PropagationSpec) {
	tols := spec.Placement.ClusterTolerations
	if out := policydefaults.Tolerations(tols, d.NotReadySeconds, d.UnreachableSeconds); len(out) != len(tols) {
		spec.Placement.ClusterTolerations = out
	}
}

// kindDefaulter adapts Defaulter to one policy kind: the webhook builder
// takes one typed defaulter per kind, and both kinds share PropagationSpec.
type kindDefaulter[T client.Object] struct {
	d    *Defaulter
	spec func(T) *policyv1alpha1.PropagationSpec
}

// Default applies the defaults on create and update.
func (k *kindDefaulter[T]) Default(_ context.Context, obj T) error {
	k.d.DefaultSpec(k.spec(obj))
	return nil
}
