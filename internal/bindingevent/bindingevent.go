// Package bindingevent says where an event about a ResourceBinding goes:
// to its ResourceTemplate, where users look (kubectl describe rt), with the
// binding as the related object. Every controller that reports on bindings
// uses it, so their events land in the same place.
package bindingevent

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Template is a reference to the ResourceTemplate that controls rb, built
// from its owner reference (no read), or nil when rb has none.
func Template(rb *workv1alpha1.ResourceBinding) *workv1alpha1.ResourceTemplate {
	owner := metav1.GetControllerOfNoCopy(rb)
	if owner == nil || owner.Kind != workv1alpha1.KindResourceTemplate {
		return nil
	}
	tpl := &workv1alpha1.ResourceTemplate{}
	tpl.Namespace, tpl.Name, tpl.UID = rb.Namespace, owner.Name, owner.UID
	tpl.APIVersion, tpl.Kind = workv1alpha1.GroupVersion.String(), workv1alpha1.KindResourceTemplate
	return tpl
}

// Targets returns the regarding and related objects of an event about rb:
// its template and rb, or rb alone when it has no template.
func Targets(rb *workv1alpha1.ResourceBinding) (regarding, related runtime.Object) {
	if tpl := Template(rb); tpl != nil {
		return tpl, rb
	}
	return rb, nil
}
