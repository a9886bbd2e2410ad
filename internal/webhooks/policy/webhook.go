// Package policy is the admission webhook of PropagationPolicies and
// ClusterPropagationPolicies. The mutating side fills the defaults Karmada
// fills (default NoExecute tolerations for the not-ready and unreachable
// cluster taints, the Weighted division preference, spread constraints by
// cluster with minGroups 1); the validating side rejects what the CRD's CEL
// rules cannot judge: selectors that can never match (they need the host's
// discovery), malformed label selectors and tolerations.
package policy

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	"argosy.dev/argosy/internal/policydefaults"
	"argosy.dev/argosy/internal/webhooks/fieldcheck"
)

// +kubebuilder:webhook:path=/mutate-policy-argosy-dev-v1alpha1-propagationpolicy,mutating=true,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=propagationpolicies,verbs=create;update,versions=v1alpha1,name=mpropagationpolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/mutate-policy-argosy-dev-v1alpha1-clusterpropagationpolicy,mutating=true,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=clusterpropagationpolicies,verbs=create;update,versions=v1alpha1,name=mclusterpropagationpolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-policy-argosy-dev-v1alpha1-propagationpolicy,mutating=false,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=propagationpolicies,verbs=create;update,versions=v1alpha1,name=vpropagationpolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-policy-argosy-dev-v1alpha1-clusterpropagationpolicy,mutating=false,failurePolicy=fail,sideEffects=None,groups=policy.argosy.dev,resources=clusterpropagationpolicies,verbs=create;update,versions=v1alpha1,name=vclusterpropagationpolicy.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Defaulter defaults propagation policies.
type Defaulter struct {
	// NotReadySeconds and UnreachableSeconds are the tolerationSeconds of
	// the default tolerations.
	NotReadySeconds    int64
	UnreachableSeconds int64
	// Mapper answers whether a selected kind is cluster-scoped; nil skips
	// the scope checks.
	Mapper meta.RESTMapper
}

// SetupWithManager registers the webhooks of both kinds.
func (d *Defaulter) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &policyv1alpha1.PropagationPolicy{}).
		WithDefaulter(&kindDefaulter[*policyv1alpha1.PropagationPolicy]{d: d, spec: ppSpec}).
		WithValidator(&fieldcheck.SpecValidator[*policyv1alpha1.PropagationPolicy, *policyv1alpha1.PropagationSpec]{
			GroupKind: policyv1alpha1.GroupVersion.WithKind(policyv1alpha1.KindPropagationPolicy).GroupKind(),
			Spec:      ppSpec, Check: d.checker(policyv1alpha1.KindPropagationPolicy)}).
		Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &policyv1alpha1.ClusterPropagationPolicy{}).
		WithDefaulter(&kindDefaulter[*policyv1alpha1.ClusterPropagationPolicy]{d: d, spec: cppSpec}).
		WithValidator(&fieldcheck.SpecValidator[*policyv1alpha1.ClusterPropagationPolicy, *policyv1alpha1.PropagationSpec]{
			GroupKind: policyv1alpha1.GroupVersion.WithKind(policyv1alpha1.KindClusterPropagationPolicy).GroupKind(),
			Spec:      cppSpec, Check: d.checker(policyv1alpha1.KindClusterPropagationPolicy)}).
		Complete()
}

func ppSpec(p *policyv1alpha1.PropagationPolicy) *policyv1alpha1.PropagationSpec { return &p.Spec }
func cppSpec(p *policyv1alpha1.ClusterPropagationPolicy) *policyv1alpha1.PropagationSpec {
	return &p.Spec
}

// DefaultSpec fills the defaults a spec lacks; a spec that has them stays
// exactly as it is, so an update that changes nothing else is not patched.
//   - spec.placement.clusterTolerations gets the default NoExecute
//     tolerations of the not-ready and unreachable taints;
//   - a Divided replicaScheduling without replicaDivisionPreference gets
//     Weighted, which the scheduler uses for it anyway;
//   - a spread constraint without spreadByField and spreadByLabel spreads by
//     cluster, and minGroups 0 becomes 1, as the scheduler reads them.
func (d *Defaulter) DefaultSpec(spec *policyv1alpha1.PropagationSpec) {
	pl := &spec.Placement
	if out := policydefaults.Tolerations(pl.ClusterTolerations, d.NotReadySeconds, d.UnreachableSeconds); len(out) != len(pl.ClusterTolerations) {
		pl.ClusterTolerations = out
	}
	if rs := pl.ReplicaScheduling; rs != nil && rs.ReplicaSchedulingType == policyv1alpha1.ReplicaSchedulingTypeDivided && rs.ReplicaDivisionPreference == "" {
		rs.ReplicaDivisionPreference = policyv1alpha1.ReplicaDivisionPreferenceWeighted
	}
	for i := range pl.SpreadConstraints {
		c := &pl.SpreadConstraints[i]
		if c.SpreadByField == "" && c.SpreadByLabel == "" {
			c.SpreadByField = policyv1alpha1.SpreadByFieldCluster
		}
		if c.MinGroups == 0 {
			c.MinGroups = 1
		}
	}
}

// ValidateSpec returns what the CEL rules cannot judge. namespace is the
// policy's namespace, empty for a ClusterPropagationPolicy.
func (d *Defaulter) ValidateSpec(spec *policyv1alpha1.PropagationSpec, namespace, kind string) field.ErrorList {
	sp := field.NewPath("spec")
	errs := fieldcheck.ResourceSelectors(sp.Child("resourceSelectors"), spec.ResourceSelectors, fieldcheck.Scope{Namespace: namespace, Kind: kind}, d.Mapper)
	pp := sp.Child("placement")
	pl := &spec.Placement
	errs = append(errs, fieldcheck.ClusterAffinity(pp.Child("clusterAffinity"), pl.ClusterAffinity)...)
	for i := range pl.ClusterAffinities {
		errs = append(errs, fieldcheck.ClusterAffinity(pp.Child("clusterAffinities").Index(i), &pl.ClusterAffinities[i].ClusterAffinity)...)
	}
	errs = append(errs, fieldcheck.Tolerations(pp.Child("clusterTolerations"), pl.ClusterTolerations)...)
	labels := sets.New[string]()
	for i, c := range pl.SpreadConstraints {
		if c.SpreadByLabel == "" {
			continue
		}
		lp := pp.Child("spreadConstraints").Index(i).Child("spreadByLabel")
		for _, msg := range validation.IsQualifiedName(c.SpreadByLabel) {
			errs = append(errs, field.Invalid(lp, c.SpreadByLabel, "must be a Cluster label key: "+msg))
		}
		if labels.Has(c.SpreadByLabel) {
			errs = append(errs, field.Duplicate(lp, c.SpreadByLabel))
		}
		labels.Insert(c.SpreadByLabel)
	}
	if rs := pl.ReplicaScheduling; rs != nil && rs.WeightPreference != nil {
		wp := pp.Child("replicaScheduling", "weightPreference", "staticWeightList")
		for i := range rs.WeightPreference.StaticWeightList {
			errs = append(errs, fieldcheck.ClusterAffinity(wp.Index(i).Child("targetCluster"), &rs.WeightPreference.StaticWeightList[i].TargetCluster)...)
		}
	}
	if s := spec.Suspension; s != nil && s.DispatchingOnClusters != nil {
		for i, n := range s.DispatchingOnClusters.ClusterNames {
			for _, msg := range validation.IsDNS1123Label(n) {
				errs = append(errs, field.Invalid(sp.Child("suspension", "dispatchingOnClusters", "clusterNames").Index(i), n, "not a valid cluster name: "+msg))
			}
		}
	}
	return errs
}

// kindDefaulter adapts Defaulter to one policy kind: the
// webhook builder takes one typed defaulter per kind, and
// both kinds share PropagationSpec.
type kindDefaulter[T client.Object] struct {
	d    *Defaulter
	spec func(T) *policyv1alpha1.PropagationSpec
}

// Default applies the defaults on create and update.
func (k *kindDefaulter[T]) Default(_ context.Context, obj T) error {
	k.d.DefaultSpec(k.spec(obj))
	return nil
}

// checker binds ValidateSpec to one kind.
func (d *Defaulter) checker(kind string) func(*policyv1alpha1.PropagationSpec, string) field.ErrorList {
	return func(spec *policyv1alpha1.PropagationSpec, namespace string) field.ErrorList {
		return d.ValidateSpec(spec, namespace, kind)
	}
}
