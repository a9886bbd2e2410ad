package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	"argosy.dev/argosy/internal/scheme"
)

func noExecute(key string, seconds int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)}
}

func TestDefaultSpec(t *testing.T) {
	d := &Defaulter{NotReadySeconds: 300, UnreachableSeconds: 120}
	own := noExecute(clusterv1alpha1.TaintClusterNotReady, 10)
	cases := []struct {
		desc string
		in   []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{noExecute(clusterv1alpha1.TaintClusterNotReady, 300), noExecute(clusterv1alpha1.TaintClusterUnreachable, 120)}},
		{"own not-ready kept", []corev1.Toleration{own}, []corev1.Toleration{own, noExecute(clusterv1alpha1.TaintClusterUnreachable, 120)}},
		{"tolerate everything", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			spec := &policyv1alpha1.PropagationSpec{Placement: policyv1alpha1.Placement{ClusterTolerations: c.in}}
			d.DefaultSpec(spec)
			if !equality.Semantic.DeepEqual(spec.Placement.ClusterTolerations, c.want) {
				t.Errorf("got %+v, want %+v", spec.Placement.ClusterTolerations, c.want)
			}
		})
	}
}

// TestHandler runs admission requests through the handler the webhook
// builder registers, for both kinds: a policy lacking defaults is patched
// under spec.placement only, one that has them is admitted without a patch
// (so an update that changes nothing else is not rewritten).
func TestHandler(t *testing.T) {
	d := &Defaulter{NotReadySeconds: 300, UnreachableSeconds: 300}
	s := scheme.New()
	pp := admission.WithDefaulter(s, &kindDefaulter[*policyv1alpha1.PropagationPolicy]{d: d,
		spec: func(p *policyv1alpha1.PropagationPolicy) *policyv1alpha1.PropagationSpec { return &p.Spec }})
	cpp := admission.WithDefaulter(s, &kindDefaulter[*policyv1alpha1.ClusterPropagationPolicy]{d: d,
		spec: func(p *policyv1alpha1.ClusterPropagationPolicy) *policyv1alpha1.PropagationSpec { return &p.Spec }})

	bare := policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap"}}}
	full := *bare.DeepCopy()
	full.Placement.ClusterTolerations = []corev1.Toleration{noExecute(clusterv1alpha1.TaintClusterNotReady, 10), noExecute(clusterv1alpha1.TaintClusterUnreachable, 10)}

	cases := []struct {
		desc      string
		handler   *admission.Webhook
		obj       runtime.Object
		op        admissionv1.Operation
		wantPatch bool
	}{
		{"PropagationPolicy create without tolerations", pp,
			&policyv1alpha1.PropagationPolicy{TypeMeta: typeMeta(policyv1alpha1.KindPropagationPolicy), Spec: bare}, admissionv1.Create, true},
		{"PropagationPolicy update with both", pp,
			&policyv1alpha1.PropagationPolicy{TypeMeta: typeMeta(policyv1alpha1.KindPropagationPolicy), Spec: full}, admissionv1.Update, false},
		{"ClusterPropagationPolicy update without tolerations", cpp,
			&policyv1alpha1.ClusterPropagationPolicy{TypeMeta: typeMeta(policyv1alpha1.KindClusterPropagationPolicy), Spec: bare}, admissionv1.Update, true},
		{"ClusterPropagationPolicy create with both", cpp,
			&policyv1alpha1.ClusterPropagationPolicy{TypeMeta: typeMeta(policyv1alpha1.KindClusterPropagationPolicy), Spec: full}, admissionv1.Create, false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			raw, err := json.Marshal(c.obj)
			if err != nil {
				t.Fatal(err)
			}
			resp := c.handler.Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: c.op, Object: runtime.RawExtension{Raw: raw}}})
			if !resp.Allowed {
				t.Fatalf("denied: %+v", resp.Result)
			}
			if got := len(resp.Patches) > 0; got != c.wantPatch {
				t.Fatalf("patched %v (%+v), want %v", got, resp.Patches, c.wantPatch)
			}
			for _, p := range resp.Patches {
				if !strings.HasPrefix(p.Path, "/spec/placement") {
					t.Errorf("patch outside spec.placement: %+v", p)
				}
			}
		})
	}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: policyv1alpha1.GroupVersion.String(), Kind: kind}
}
