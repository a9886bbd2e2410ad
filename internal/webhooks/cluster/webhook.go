// Package cluster is the validating admission webhook of Clusters. The
// CRD's CEL rules check the name, the endpoint, the sync mode and the taint
// effects; this webhook checks taints as the Kubernetes API checks those of
// Nodes (a qualified-name key, a label-value value), so that a taint no
// toleration could ever match is rejected when it is written.
package cluster

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/webhooks/fieldcheck"
)

// +kubebuilder:webhook:path=/validate-cluster-argosy-dev-v1alpha1-cluster,mutating=false,failurePolicy=fail,sideEffects=None,groups=cluster.argosy.dev,resources=clusters,verbs=create;update,versions=v1alpha1,name=vcluster.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Validator validates Clusters.
type Validator struct{}

// SetupWithManager registers the webhook.
func (v *Validator) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &clusterv1alpha1.Cluster{}).WithValidator(v).Complete()
}

func (v *Validator) ValidateCreate(_ context.Context, c *clusterv1alpha1.Cluster) (admission.Warnings, error) {
	return nil, validate(c)
}

// ValidateUpdate judges only changed taints: the cluster controller's
// writes to a Cluster admitted earlier must not fail.
func (v *Validator) ValidateUpdate(_ context.Context, old, c *clusterv1alpha1.Cluster) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(old.Spec.Taints, c.Spec.Taints) {
		return nil, nil
	}
	return nil, validate(c)
}

func (v *Validator) ValidateDelete(context.Context, *clusterv1alpha1.Cluster) (admission.Warnings, error) {
	return nil, nil
}

func validate(c *clusterv1alpha1.Cluster) error {
	return fieldcheck.Invalid(clusterv1alpha1.GroupVersion.WithKind("Cluster").GroupKind(), c.Name,
		Taints(field.NewPath("spec", "taints"), c.Spec.Taints))
}

// Taints checks the key and value of each taint.
func Taints(path *field.Path, taints []corev1.Taint) field.ErrorList {
	var errs field.ErrorList
	for i, t := range taints {
		p := path.Index(i)
		for _, msg := range validation.IsQualifiedName(t.Key) {
			errs = append(errs, field.Invalid(p.Child("key"), t.Key, msg))
		}
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, msg))
		}
	}
	return errs
}
