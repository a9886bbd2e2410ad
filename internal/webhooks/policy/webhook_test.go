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

func TestDefaultSpecPlacement(t *testing.T) {
	d := &Defaulter{NotReadySeconds: 300, UnreachableSeconds: 300}
	spec := &policyv1alpha1.PropagationSpec{Placement: policyv1alpha1.Placement{
		ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDivided},
		SpreadConstraints: []policyv1alpha1.SpreadConstraint{{MaxGroups: 2}, {SpreadByLabel: "tier", MinGroups: 2}},
	}}
	d.DefaultSpec(spec)
	if got := spec.Placement.ReplicaScheduling.ReplicaDivisionPreference; got != policyv1alpha1.ReplicaDivisionPreferenceWeighted {
		t.Errorf("division preference %q, want Weighted", got)
	}
	sc := spec.Placement.SpreadConstraints
	if sc[0].SpreadByField != policyv1alpha1.SpreadByFieldCluster || sc[0].MinGroups != 1 {
		t.Errorf("first constraint %+v, want spreadByField cluster and minGroups 1", sc[0])
	}
	if sc[1].SpreadByField != "" || sc[1].MinGroups != 2 {
		t.Errorf("second constraint %+v must stay as it was", sc[1])
	}
	dup := &policyv1alpha1.PropagationSpec{Placement: policyv1alpha1.Placement{
		ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDuplicated}}}
	d.DefaultSpec(dup)
	if dup.Placement.ReplicaScheduling.ReplicaDivisionPreference != "" {
		t.Error("Duplicated got a division preference")
	}
}

func TestValidateSpec(t *testing.T) {
	d := &Defaulter{}
	cases := []struct {
		desc      string
		namespace string
		spec      policyv1alpha1.PropagationSpec
		want      []string
	}{
		{"valid", "team-a", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a"}}}, nil},
		{"other namespace", "team-a", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-b"}}},
			[]string{"spec.resourceSelectors[0].namespace"}},
		{"bad label selector", "", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap",
			LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn}}}}}},
			[]string{"spec.resourceSelectors[0].labelSelector.matchExpressions[0].values"}},
		{"bad apiVersion", "", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "a/b/c", Kind: "X"}}},
			[]string{"spec.resourceSelectors[0].apiVersion"}},
		{"toleration Exists with value", "", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap"}},
			Placement: policyv1alpha1.Placement{ClusterTolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}}},
			[]string{"spec.placement.clusterTolerations[0].value"}},
		{"duplicate spread label", "", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap"}},
			Placement: policyv1alpha1.Placement{SpreadConstraints: []policyv1alpha1.SpreadConstraint{{SpreadByLabel: "tier"}, {SpreadByLabel: "tier"}}}},
			[]string{"spec.placement.spreadConstraints[1].spreadByLabel"}},
		{"cluster name with capitals", "", policyv1alpha1.PropagationSpec{ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap"}},
			Placement: policyv1alpha1.Placement{ClusterAffinity: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"Member1"}}}},
			[]string{"spec.placement.clusterAffinity.clusterNames[0]"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			errs := d.ValidateSpec(&c.spec, c.namespace, policyv1alpha1.KindPropagationPolicy)
			if len(c.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("unexpected: %v", errs)
				}
				return
			}
			got := errs.ToAggregate()
			if got == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("%q does not mention %q", got, w)
				}
			}
		})
	}
}
