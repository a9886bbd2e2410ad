package v1alpha1

// Labels on a ResourceBinding that name the policy claiming its template.
// A binding without them is not claimed (its policy was deleted, or it only
// exists as a dependency of other workloads).
const (
	LabelPolicyKind      = "policy.argosy.dev/kind"
	LabelPolicyNamespace = "policy.argosy.dev/namespace"
	LabelPolicyName      = "policy.argosy.dev/name"
)
