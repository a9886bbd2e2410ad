package detector

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/interpreter"
	"argosy.dev/argosy/internal/policymatch"
	"argosy.dev/argosy/internal/template"
)

func testTemplate(t *testing.T, obj map[string]any) (*workv1alpha1.ResourceTemplate, *unstructured.Unstructured) {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	rt := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "rt", Namespace: "argosy-templates", UID: "uid-1", ResourceVersion: "7", Generation: 2},
		Spec:       workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: raw}},
	}
	u, err := wrappedObject(rt)
	if err != nil {
		t.Fatal(err)
	}
	return rt, u
}

func parent(name string, cr policyv1alpha1.ConflictResolution, preserve *bool, clusters ...string) *workv1alpha1.ResourceBinding {
	b := &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "argosy-templates"}}
	b.Spec.ConflictResolution = cr
	b.Spec.PreserveResourcesOnDeletion = preserve
	b.Spec.SchedulerName = "sched-" + name
	for _, c := range clusters {
		b.Spec.Clusters = append(b.Spec.Clusters, workv1alpha1.TargetCluster{Name: c})
	}
	return b
}

func TestDependencyBinding(t *testing.T) {
	rt, obj := testTemplate(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "ns"}})
	cases := []struct {
		desc         string
		parents      []*workv1alpha1.ResourceBinding
		wantConflict policyv1alpha1.ConflictResolution
		wantPreserve *bool
	}{
		{"one overwriting parent", []*workv1alpha1.ResourceBinding{parent("a", policyv1alpha1.ConflictOverwrite, nil, "m1")}, policyv1alpha1.ConflictOverwrite, nil},
		{"overwrite only when every parent does", []*workv1alpha1.ResourceBinding{
			parent("a", policyv1alpha1.ConflictOverwrite, nil), parent("b", policyv1alpha1.ConflictAbort, nil)}, policyv1alpha1.ConflictAbort, nil},
		{"preserved when any parent preserves", []*workv1alpha1.ResourceBinding{
			parent("a", policyv1alpha1.ConflictAbort, ptr.To(false)), parent("b", policyv1alpha1.ConflictAbort, ptr.To(true))}, policyv1alpha1.ConflictAbort, ptr.To(true)},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			b := dependencyBinding(rt, obj, nil, c.parents)
			if b.Spec.ConflictResolution != c.wantConflict || !equality.Semantic.DeepEqual(b.Spec.PreserveResourcesOnDeletion, c.wantPreserve) {
				t.Errorf("conflictResolution %s, preserve %v", b.Spec.ConflictResolution, b.Spec.PreserveResourcesOnDeletion)
			}
			if b.Spec.Placement != nil || len(b.Labels) != 0 {
				t.Errorf("a dependency binding has placement %v or labels %v", b.Spec.Placement, b.Labels)
			}
			if b.Spec.SchedulerName != "sched-a" || len(b.Spec.RequiredBy) != len(c.parents) || b.Spec.RequiredBy[0].Name != "a" {
				t.Errorf("schedulerName %q, requiredBy %+v", b.Spec.SchedulerName, b.Spec.RequiredBy)
			}
			if r := b.Spec.Resource; r.Kind != "ConfigMap" || r.Name != "cfg" || r.Namespace != "ns" || r.UID != "uid-1" || r.ResourceVersion != "7" {
				t.Errorf("resource %+v", r)
			}
		})
	}
}

func TestResourceVersionFollowsGeneration(t *testing.T) {
	rt, obj := testTemplate(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "ns"}})
	existing := &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationTemplateGeneration: "2"}}}
	existing.Spec.Resource.ResourceVersion = "5"

	// Same generation: a status write moved the template's resourceVersion
	// to 7, the binding keeps 5.
	b := skeleton(rt)
	resourceFor(b, rt, obj, existing)
	if b.Spec.Resource.ResourceVersion != "5" {
		t.Errorf("resourceVersion %q, want the binding's 5", b.Spec.Resource.ResourceVersion)
	}
	// New generation: the template's.
	rt.Generation = 3
	b = skeleton(rt)
	resourceFor(b, rt, obj, existing)
	if b.Spec.Resource.ResourceVersion != "7" || b.Annotations[AnnotationTemplateGeneration] != "3" {
		t.Errorf("resourceVersion %q generation %q, want 7 and 3", b.Spec.Resource.ResourceVersion, b.Annotations[AnnotationTemplateGeneration])
	}
}

func TestOwnedViewIgnoresOtherOwners(t *testing.T) {
	rt, _ := testTemplate(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "ns"}})
	mine := skeleton(rt)
	mine.Labels = map[string]string{LabelPolicyKind: "PropagationPolicy", LabelPolicyName: "p", LabelPolicyNamespace: "ns"}
	mine.Spec.Placement = &policyv1alpha1.Placement{}
	mine.Spec.Suspension = &workv1alpha1.Suspension{Suspension: policyv1alpha1.Suspension{Dispatching: ptr.To(true)}}

	theirs := mine.DeepCopy()
	theirs.Labels["team"] = "a"
	theirs.Annotations = map[string]string{"note": "x"}
	theirs.OwnerReferences = append(theirs.OwnerReferences, metav1.OwnerReference{UID: "someone-else"})
	theirs.Spec.Clusters = []workv1alpha1.TargetCluster{{Name: "m1", Replicas: 2}}
	theirs.Spec.GracefulEvictionTasks = []workv1alpha1.GracefulEvictionTask{{FromCluster: "m2"}}
	theirs.Spec.RescheduleTriggeredAt = &metav1.Time{}
	theirs.Spec.Suspension.Scheduling = ptr.To(true)
	if !equality.Semantic.DeepEqual(ownedView(mine, rt), ownedView(theirs, rt)) {
		t.Error("fields owned by other controllers make the detector's view differ")
	}

	// Suspension.scheduling alone is not the detector's.
	onlyScheduling := mine.DeepCopy()
	onlyScheduling.Spec.Suspension = &workv1alpha1.Suspension{Scheduling: ptr.To(true)}
	none := mine.DeepCopy()
	none.Spec.Suspension = nil
	if !equality.Semantic.DeepEqual(ownedView(onlyScheduling, rt), ownedView(none, rt)) {
		t.Error("suspension.scheduling alone counts as the detector's")
	}

	changed := mine.DeepCopy()
	changed.Spec.Replicas = 3
	if equality.Semantic.DeepEqual(ownedView(mine, rt), ownedView(changed, rt)) {
		t.Error("a replica change goes unnoticed")
	}
}

func TestLazyUnchanged(t *testing.T) {
	rt, _ := testTemplate(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "ns"}})
	lazy := policymatch.Policy{Kind: policyv1alpha1.KindPropagationPolicy, Namespace: "ns", Name: "p",
		Spec: &policyv1alpha1.PropagationSpec{ActivationPreference: policyv1alpha1.LazyActivation}}
	eager := lazy
	eager.Spec = &policyv1alpha1.PropagationSpec{}
	written := &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Labels: policyLabels(lazy), Annotations: map[string]string{AnnotationTemplateGeneration: "2"}}}
	other := written.DeepCopy()
	other.Labels[LabelPolicyName] = "q"
	older := written.DeepCopy()
	older.Annotations[AnnotationTemplateGeneration] = "1"
	cases := []struct {
		desc     string
		p        policymatch.Policy
		existing *workv1alpha1.ResourceBinding
		want     bool
	}{
		{"lazy, template unchanged", lazy, written, true},
		{"not lazy", eager, written, false},
		{"no binding yet", lazy, nil, false},
		{"binding written for another policy", lazy, other, false},
		{"template changed since", lazy, older, false},
	}
	for _, c := range cases {
		if got := lazyUnchanged(c.p, rt, c.existing); got != c.want {
			t.Errorf("%s: %v, want %v", c.desc, got, c.want)
		}
	}
}

func TestDependencyTemplates(t *testing.T) {
	deps := []interpreter.Dependency{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "cfg"}, {APIVersion: "v1", Kind: "Secret", Namespace: "ns", Name: "s"}}
	raw, _ := json.Marshal(deps)
	got := dependencyTemplates(map[string]string{AnnotationDependencies: string(raw)})
	want := []string{template.Name("", "ConfigMap", "ns", "cfg"), template.Name("", "Secret", "ns", "s")}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("dependencyTemplates() = %v, want %v", got, want)
	}
	if got := dependencyTemplates(map[string]string{AnnotationDependencies: "not json"}); got != nil {
		t.Errorf("garbage annotation gave %v", got)
	}
}

func TestReserved(t *testing.T) {
	r := &Reconciler{SystemNamespace: "argosy-system"}
	for ns, want := range map[string]bool{"argosy-system": true, "argosy-es-member1": true, "argosy-es-": false, "default": false, "": false, "argosy-templates": false} {
		if got := r.reserved(ns); got != want {
			t.Errorf("reserved(%q) = %v, want %v", ns, got, want)
		}
	}
}

func TestPolicyPhrase(t *testing.T) {
	if got := policyPhrase(policyv1alpha1.KindPropagationPolicy, "ns", "p"); got != "policy(ns/p)" {
		t.Error(got)
	}
	if got := capitalize(policyPhrase(policyv1alpha1.KindClusterPropagationPolicy, "", "c")); got != "Cluster policy(c)" {
		t.Error(got)
	}
}

// TestDesiredBindingDefaultTolerations: the binding's placement gets the
// default NoExecute tolerations the policy lacks, the policy (shared with
// the cache) is left alone, and a binding written from it is not rewritten
// on the next pass.
func TestDesiredBindingDefaultTolerations(t *testing.T) {
	rt, obj := testTemplate(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cfg", "namespace": "ns"}})
	r := &Reconciler{DefaultNotReadyTolerationSeconds: 300, DefaultUnreachableTolerationSeconds: 200}
	noExecute := func(key string, seconds int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)}
	}
	own := noExecute(clusterv1alpha1.TaintClusterNotReady, 10)
	cases := []struct {
		desc string
		tols []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{noExecute(clusterv1alpha1.TaintClusterNotReady, 300), noExecute(clusterv1alpha1.TaintClusterUnreachable, 200)}},
		{"own not-ready toleration", []corev1.Toleration{own}, []corev1.Toleration{own, noExecute(clusterv1alpha1.TaintClusterUnreachable, 200)}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			spec := &policyv1alpha1.PropagationSpec{Placement: policyv1alpha1.Placement{
				ClusterAffinity: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}}, ClusterTolerations: c.tols}}
			before := spec.DeepCopy()
			p := policymatch.Policy{Kind: policyv1alpha1.KindPropagationPolicy, Namespace: "ns", Name: "p", Spec: spec}
			b, err := r.desiredBinding(context.Background(), rt, obj, p, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(b.Spec.Placement.ClusterTolerations, c.want) {
				t.Errorf("clusterTolerations %+v, want %+v", b.Spec.Placement.ClusterTolerations, c.want)
			}
			if b.Spec.Placement.ClusterAffinity == nil || b.Spec.Placement.ClusterAffinity.ClusterNames[0] != "member1" {
				t.Errorf("the rest of the placement is lost: %+v", b.Spec.Placement)
			}
			if !equality.Semantic.DeepEqual(spec, before) {
				t.Errorf("the policy changed: %+v, was %+v", spec, before)
			}

			// What the apiserver stores, read back on the next pass.
			raw, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			existing := &workv1alpha1.ResourceBinding{}
			if err := json.Unmarshal(raw, existing); err != nil {
				t.Fatal(err)
			}
			again, err := r.desiredBinding(context.Background(), rt, obj, p, existing, nil)
			if err != nil {
				t.Fatal(err)
			}
			// r has no client: apply reaching the write would panic.
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("the detector would rewrite a steady binding: %v", v)
				}
			}()
			if wrote, err := r.apply(context.Background(), rt, again, existing); wrote || err != nil {
				t.Errorf("second pass wrote %v, err %v", wrote, err)
			}
		})
	}
}
