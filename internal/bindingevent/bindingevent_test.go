package bindingevent

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func TestTargets(t *testing.T) {
	rb := &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "b"}}
	if reg, rel := Targets(rb); reg != rb || rel != nil {
		t.Errorf("no owner: regarding %v, related %v; want the binding alone", reg, rel)
	}
	rb.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "d", UID: "u0", Controller: ptr.To(true)}}
	if Template(rb) != nil {
		t.Error("a controller that is not a ResourceTemplate must not be taken for one")
	}
	rb.OwnerReferences = []metav1.OwnerReference{{APIVersion: workv1alpha1.GroupVersion.String(), Kind: workv1alpha1.KindResourceTemplate,
		Name: "rt", UID: "u1", Controller: ptr.To(true)}}
	reg, rel := Targets(rb)
	tpl, ok := reg.(*workv1alpha1.ResourceTemplate)
	if !ok || rel != rb || tpl.Namespace != "argosy-templates" || tpl.Name != "rt" || tpl.UID != "u1" || tpl.Kind != workv1alpha1.KindResourceTemplate {
		t.Errorf("regarding %+v, related %v; want the template rt and the binding", reg, rel)
	}
}
