package binding

import (
	"encoding/json"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
)

func tc(name string, replicas int32) workv1alpha1.TargetCluster {
	return workv1alpha1.TargetCluster{Name: name, Replicas: replicas}
}

func TestTargets(t *testing.T) {
	tests := []struct {
		name string
		spec workv1alpha1.ResourceBindingSpec
		want []workv1alpha1.TargetCluster
	}{
		{"none", workv1alpha1.ResourceBindingSpec{}, []workv1alpha1.TargetCluster{}},
		{"spec.clusters sorted", workv1alpha1.ResourceBindingSpec{Clusters: []workv1alpha1.TargetCluster{tc("c2", 3), tc("c1", 1)}},
			[]workv1alpha1.TargetCluster{tc("c1", 1), tc("c2", 3)}},
		{"requiredBy adds clusters without replicas", workv1alpha1.ResourceBindingSpec{
			Clusters: []workv1alpha1.TargetCluster{tc("c2", 0)},
			RequiredBy: []workv1alpha1.BindingSnapshot{
				{Name: "a", Clusters: []workv1alpha1.TargetCluster{tc("c1", 4), tc("c2", 5)}},
				{Name: "b", Clusters: []workv1alpha1.TargetCluster{tc("c3", 1), tc("c1", 2)}},
			}},
			[]workv1alpha1.TargetCluster{tc("c1", 0), tc("c2", 0), tc("c3", 0)}},
		{"duplicates and empty names dropped", workv1alpha1.ResourceBindingSpec{Clusters: []workv1alpha1.TargetCluster{tc("c1", 1), tc("", 2), tc("c1", 5)}},
			[]workv1alpha1.TargetCluster{tc("c1", 1)}},
		{"evicted clusters are not targets", workv1alpha1.ResourceBindingSpec{Clusters: []workv1alpha1.TargetCluster{tc("c1", 1)},
			GracefulEvictionTasks: []workv1alpha1.GracefulEvictionTask{{FromCluster: "c2"}}},
			[]workv1alpha1.TargetCluster{tc("c1", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := targets(&tt.spec); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvicting(t *testing.T) {
	spec := workv1alpha1.ResourceBindingSpec{GracefulEvictionTasks: []workv1alpha1.GracefulEvictionTask{{FromCluster: "c2"}, {FromCluster: "c3"}}}
	if got := evicting(&spec); !reflect.DeepEqual(got, map[string]bool{"c2": true, "c3": true}) {
		t.Errorf("evicting = %v", got)
	}
	if got := evicting(&workv1alpha1.ResourceBindingSpec{}); got != nil {
		t.Errorf("evicting without tasks = %v", got)
	}
}

func TestSuspended(t *testing.T) {
	on := func(names ...string) *workv1alpha1.Suspension {
		return &workv1alpha1.Suspension{Suspension: policyv1alpha1.Suspension{DispatchingOnClusters: &policyv1alpha1.SuspendClusters{ClusterNames: names}}}
	}
	tests := []struct {
		name string
		s    *workv1alpha1.Suspension
		want bool
	}{
		{"nil", nil, false},
		{"empty", &workv1alpha1.Suspension{}, false},
		{"dispatching", &workv1alpha1.Suspension{Suspension: policyv1alpha1.Suspension{Dispatching: ptr.To(true)}}, true},
		{"dispatching false", &workv1alpha1.Suspension{Suspension: policyv1alpha1.Suspension{Dispatching: ptr.To(false)}}, false},
		{"on this cluster", on("c0", "c1"), true},
		{"on other clusters", on("c0", "c2"), false},
		{"scheduling only", &workv1alpha1.Suspension{Scheduling: ptr.To(true)}, false},
	}
	for _, tt := range tests {
		if got := suspended(tt.s, "c1"); got != tt.want {
			t.Errorf("%s: suspended = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestConflictResolution(t *testing.T) {
	for in, want := range map[policyv1alpha1.ConflictResolution]string{"": "Abort", "Abort": "Abort", "Overwrite": "Overwrite", "bogus": "Abort"} {
		if got := conflictResolution(&workv1alpha1.ResourceBindingSpec{ConflictResolution: in}); got != want {
			t.Errorf("conflictResolution(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClusterOfWork(t *testing.T) {
	w := func(ns, name string) *workv1alpha1.Work {
		return &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	tests := []struct {
		w       *workv1alpha1.Work
		want    string
		wantOK  bool
		comment string
	}{
		{w("argosy-es-member1", "rb"), "member1", true, "ours"},
		{w("argosy-es-member1", "other"), "", false, "another name"},
		{w("default", "rb"), "", false, "not an execution namespace"},
		{w("argosy-es-", "rb"), "", false, "no cluster"},
	}
	for _, tt := range tests {
		got, ok := clusterOfWork(tt.w, "rb")
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: clusterOfWork = %q, %v", tt.comment, got, ok)
		}
	}
}

func TestMayAffect(t *testing.T) {
	ref := &workv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	sel := func(apiVersion, kind, ns, name string, labels bool) policyv1alpha1.ResourceSelector {
		s := policyv1alpha1.ResourceSelector{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
		if labels {
			s.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "nope"}}
		}
		return s
	}
	tests := []struct {
		name      string
		selectors []policyv1alpha1.ResourceSelector
		want      bool
	}{
		{"no selectors select everything", nil, true},
		{"by kind", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment", "", "", false)}, true},
		{"by name", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment", "shop", "web", false)}, true},
		{"labels are not known: maybe", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment", "", "", true)}, true},
		{"another name", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment", "", "api", false)}, false},
		{"another namespace", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment", "other", "", false)}, false},
		{"another kind", []policyv1alpha1.ResourceSelector{sel("apps/v1", "StatefulSet", "", "", false)}, false},
		{"another version", []policyv1alpha1.ResourceSelector{sel("apps/v1beta1", "Deployment", "", "", false)}, false},
		{"one of several", []policyv1alpha1.ResourceSelector{sel("v1", "Service", "", "", false), sel("apps/v1", "Deployment", "", "web", false)}, true},
	}
	for _, tt := range tests {
		if got := mayAffect(tt.selectors, ref); got != tt.want {
			t.Errorf("%s: mayAffect = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestViewOfMatchesDesired: a Work read back from the apiserver (keys in
// another order, numbers re-encoded, metadata normalized with nulls) has
// the digest of the view it was written from.
func TestViewOfMatchesDesired(t *testing.T) {
	desired := workView{
		Annotations: map[string]string{workv1alpha1.AnnotationBinding: "ns/rb", workv1alpha1.AnnotationBindingGeneration: "3",
			workv1alpha1.AnnotationConflictResolution: "Abort"},
		SuspendDispatching: true,
	}
	manifest, err := canonical([]byte(`{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","labels":{"b":"2","a":"1"}},"spec":{"replicas":3,"ratio":0.5,"big":12345678901234567890}}`))
	if err != nil {
		t.Fatal(err)
	}
	desired.Manifests = []json.RawMessage{manifest}
	want, err := desired.digest()
	if err != nil {
		t.Fatal(err)
	}
	stored := &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			workv1alpha1.AnnotationConflictResolution: "Abort", workv1alpha1.AnnotationBindingGeneration: "3",
			workv1alpha1.AnnotationBinding: "ns/rb", "someone.else/annotation": "x"}},
		Spec: workv1alpha1.WorkSpec{
			SuspendDispatching: ptr.To(true), PreserveResourcesOnDeletion: ptr.To(false),
			Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{
				Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"creationTimestamp":null,"labels":{"a":"1","b":"2"},"name":"web"},"spec":{"big":12345678901234567890,"ratio":0.5,"replicas":3}}`)}}}},
		},
	}
	v, err := viewOf(stored)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.digest()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("view of the stored Work %+v\ndiffers from the desired %+v", v, desired)
	}

	// Any owned difference shows.
	changes := []func(w *workv1alpha1.Work){
		func(w *workv1alpha1.Work) { w.Annotations[workv1alpha1.AnnotationBindingGeneration] = "4" },
		func(w *workv1alpha1.Work) { w.Annotations[workv1alpha1.AnnotationRenderError] = "x" },
		func(w *workv1alpha1.Work) { w.Spec.SuspendDispatching = nil },
		func(w *workv1alpha1.Work) { w.Spec.PreserveResourcesOnDeletion = ptr.To(true) },
		func(w *workv1alpha1.Work) { w.Spec.Workload.Manifests = nil },
		func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests[0].Raw = []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":4}}`)
		},
	}
	for i, change := range changes {
		w := stored.DeepCopy()
		change(w)
		v, err := viewOf(w)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := v.digest(); d == want {
			t.Errorf("change %d not detected", i)
		}
	}
	if _, err := viewOf(&workv1alpha1.Work{Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: []byte(`{`)}}}}}}); err == nil {
		t.Error("a malformed manifest: want an error")
	}
}

func TestLedger(t *testing.T) {
	l := newLedger()
	b := types.NamespacedName{Namespace: "t", Name: "rb"}
	w := workWrite{uid: "u1", resourceVersion: "100"}
	l.wroteWork(b, "c1", w)
	l.wroteWork(b, "c2", workWrite{uid: "u2", resourceVersion: "101"})
	for _, tt := range []struct {
		uid  types.UID
		rv   string
		want bool
	}{
		{"u1", "100", true}, {"u1", "99", true}, {"u1", "101", false}, {"u1", "1000", false},
		{"u9", "99", false}, {"u1", "not-a-number", false},
	} {
		if got := w.notNewer(tt.uid, tt.rv); got != tt.want {
			t.Errorf("notNewer(%s, %s) = %v, want %v", tt.uid, tt.rv, got, tt.want)
		}
	}
	if got := l.clusters(b); len(got) != 2 {
		t.Errorf("clusters = %v", got)
	}
	l.forgetWork(b, "c1", "another-uid")
	if _, ok := l.work(b, "c1"); !ok {
		t.Error("forgot a Work of another UID")
	}
	l.forgetWork(b, "c1", "u1")
	if _, ok := l.work(b, "c1"); ok {
		t.Error("c1 not forgotten")
	}
	l.forgetBinding(b)
	if len(l.clusters(b)) != 0 {
		t.Error("binding not forgotten")
	}
}

func TestSameTarget(t *testing.T) {
	a := clusteraffinity.Target{Name: "c", Labels: map[string]string{"a": "1"}, Provider: "p", Region: "r", Zone: "z", Zones: []string{"z"}}
	if !sameTarget(a, a) {
		t.Error("a target differs from itself")
	}
	for i, change := range []func(*clusteraffinity.Target){
		func(t *clusteraffinity.Target) { t.Labels = map[string]string{"a": "2"} },
		func(t *clusteraffinity.Target) { t.Provider = "q" },
		func(t *clusteraffinity.Target) { t.Region = "q" },
		func(t *clusteraffinity.Target) { t.Zone = "q" },
		func(t *clusteraffinity.Target) { t.Zones = nil },
	} {
		b := a
		change(&b)
		if sameTarget(a, b) {
			t.Errorf("change %d not detected", i)
		}
	}
}

func TestDesiredWork(t *testing.T) {
	m, _ := canonical([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"n":"1"}}`))
	v := workView{Annotations: map[string]string{workv1alpha1.AnnotationBinding: "t/rb"}, Manifests: []json.RawMessage{m}, PreserveResourcesOnDeletion: true}
	w := desiredWork("argosy-es-c1", "rb", &v)
	if w.Namespace != "argosy-es-c1" || w.Name != "rb" || w.Annotations[workv1alpha1.AnnotationBinding] != "t/rb" ||
		!reflect.DeepEqual(w.Finalizers, []string{workv1alpha1.WorkFinalizer}) {
		t.Errorf("metadata = %+v", w.ObjectMeta)
	}
	if len(w.Spec.Workload.Manifests) != 1 || string(w.Spec.Workload.Manifests[0].Raw) != string(m) ||
		w.Spec.PreserveResourcesOnDeletion == nil || !*w.Spec.PreserveResourcesOnDeletion || w.Spec.SuspendDispatching != nil {
		t.Errorf("spec = %+v", w.Spec)
	}
	// The view of the Work written is the view it was written from.
	got, err := viewOf(w)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := got.digest()
	v.Annotations = map[string]string{workv1alpha1.AnnotationBinding: "t/rb"}
	d2, _ := v.digest()
	if d1 != d2 {
		t.Errorf("viewOf(desiredWork(v)) = %+v, want %+v", got, v)
	}
	if w := desiredWork("argosy-es-c1", "rb", &workView{SuspendDispatching: true}); w.Spec.SuspendDispatching == nil || len(w.Spec.Workload.Manifests) != 0 {
		t.Errorf("spec without manifests = %+v", w.Spec)
	}
}

func TestTombstone(t *testing.T) {
	rb := &workv1alpha1.ResourceBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "deployment-default-web-1"},
		Spec: workv1alpha1.ResourceBindingSpec{
			Resource:                    workv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web"},
			ConflictResolution:          policyv1alpha1.ConflictOverwrite,
			PreserveResourcesOnDeletion: ptr.To(true),
		},
	}
	w := tombstone(rb, "m1")
	if w.Namespace != "argosy-es-m1" || w.Name != rb.Name ||
		w.Annotations[workv1alpha1.AnnotationBinding] != "argosy-templates/deployment-default-web-1" ||
		w.Annotations[workv1alpha1.AnnotationConflictResolution] != "Overwrite" {
		t.Errorf("metadata %+v", w.ObjectMeta)
	}
	if len(w.Spec.Workload.Manifests) != 1 || string(w.Spec.Workload.Manifests[0].Raw) != `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"}}` {
		t.Errorf("manifests %s", w.Spec.Workload.Manifests)
	}
	if w.Spec.PreserveResourcesOnDeletion == nil || !*w.Spec.PreserveResourcesOnDeletion {
		t.Error("preserveResourcesOnDeletion not carried")
	}
	rb.Spec.Resource = workv1alpha1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: "team"}
	rb.Spec.PreserveResourcesOnDeletion = nil
	w = tombstone(rb, "m1")
	if string(w.Spec.Workload.Manifests[0].Raw) != `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}` || w.Spec.PreserveResourcesOnDeletion != nil {
		t.Errorf("cluster-scoped: %s, preserve %v", w.Spec.Workload.Manifests[0].Raw, w.Spec.PreserveResourcesOnDeletion)
	}
}
