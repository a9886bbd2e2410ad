// Package scheme builds the runtime.Scheme every Argosy binary and test uses:
// the Kubernetes built-in types plus every argosy.dev group.
package scheme

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	autoscalingv1alpha1 "argosy.dev/argosy/api/autoscaling/v1alpha1"
	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// New returns a fresh scheme; there is deliberately no package-level scheme.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		clusterv1alpha1.AddToScheme,
		policyv1alpha1.AddToScheme,
		workv1alpha1.AddToScheme,
		appsv1alpha1.AddToScheme,
		autoscalingv1alpha1.AddToScheme,
	} {
		// Registration only fails on programming errors (duplicate kinds).
		utilruntime.Must(add(s))
	}
	return s
}
