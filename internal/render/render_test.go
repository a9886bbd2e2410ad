package render

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
	"argosy.dev/argosy/internal/overrides"
)

// object decodes YAML the way the binding controller decodes a wrapped
// object (integers as int64).
func object(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	return u
}

func toYAML(t *testing.T, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(y)
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: 0f0e
  resourceVersion: "12"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: kubectl}]
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: 0a0b}]
  labels: {app: web}
  annotations: {team: a}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
status: {replicas: 4, readyReplicas: 4}
`

// rendered is deployment as member1 gets it with replicas r and image img.
func rendered(r, img string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, argosy.dev/managed: "true"}
  annotations: {team: a, argosy.dev/work: argosy-es-member1/web-shop}
spec:
  replicas: ` + r + `
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "` + img + `"}]
`
}

var (
	member1 = clusteraffinity.Target{Name: "member1", Labels: map[string]string{"env": "prod"}, Region: "eu"}
	member2 = clusteraffinity.Target{Name: "member2", Labels: map[string]string{"env": "test"}, Region: "us"}
)

func raw(s string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(s)} }

func op(name string, target *policyv1alpha1.ClusterAffinity, o policyv1alpha1.Overriders) overrides.Policy {
	return overrides.Policy{Kind: policyv1alpha1.KindOverridePolicy, Namespace: "shop", Name: name,
		Spec: policyv1alpha1.OverrideSpec{OverrideRules: []policyv1alpha1.RuleWithCluster{{TargetCluster: target, Overriders: o}}}}
}

func cop(name string, target *policyv1alpha1.ClusterAffinity, o policyv1alpha1.Overriders) overrides.Policy {
	return overrides.Policy{Kind: policyv1alpha1.KindClusterOverridePolicy, Name: name,
		Spec: policyv1alpha1.OverrideSpec{OverrideRules: []policyv1alpha1.RuleWithCluster{{TargetCluster: target, Overriders: o}}}}
}

func tag(v string) policyv1alpha1.Overriders {
	return policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: policyv1alpha1.Tag, Operator: "replace", Value: v}}}
}

func plaintext(path string, o policyv1alpha1.OverriderOperator, v string) policyv1alpha1.Overriders {
	p := policyv1alpha1.PlaintextOverrider{Path: path, Operator: o}
	if v != "" {
		p.Value = raw(v)
	}
	return policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{p}}
}

func TestRender(t *testing.T) {
	byName := &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}}
	byLabel := &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}
	otherCluster := &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member2"}}
	tests := []struct {
		name        string
		in          string
		cluster     clusteraffinity.Target
		replicas    *int32
		completions *int32
		policies    []overrides.Policy
		want        string
		wantApplied []overrides.AppliedOverride
	}{
		{name: "stripped, replicas revised, marked", in: deployment, cluster: member1, replicas: ptr.To[int32](1),
			want: rendered("1", "nginx:1.25")},
		{name: "nil replicas keep the template's", in: deployment, cluster: member1,
			want: rendered("4", "nginx:1.25")},
		{name: "zero replicas", in: deployment, cluster: member1, replicas: ptr.To[int32](0),
			want: rendered("0", "nginx:1.25")},
		{name: "image override for the cluster named", in: deployment, cluster: member1, replicas: ptr.To[int32](3),
			policies: []overrides.Policy{op("tag", byName, tag("1.26"))}, want: rendered("3", "nginx:1.26"),
			wantApplied: []overrides.AppliedOverride{{Policy: "OverridePolicy/shop/tag"}}},
		{name: "image override for the cluster labelled", in: deployment, cluster: member1, replicas: ptr.To[int32](3),
			policies: []overrides.Policy{op("tag", byLabel, tag("1.26"))}, want: rendered("3", "nginx:1.26"),
			wantApplied: []overrides.AppliedOverride{{Policy: "OverridePolicy/shop/tag"}}},
		{name: "override for another cluster", in: deployment, cluster: member2, replicas: ptr.To[int32](3),
			policies:    []overrides.Policy{op("tag", byName, tag("1.26")), op("tag2", byLabel, tag("1.27")), op("tag3", otherCluster, tag("1.28"))},
			want:        strings.ReplaceAll(rendered("3", "nginx:1.28"), "argosy-es-member1", "argosy-es-member2"),
			wantApplied: []overrides.AppliedOverride{{Policy: "OverridePolicy/shop/tag3"}}},
		{name: "ClusterOverridePolicy first, the OverridePolicy wins", in: deployment, cluster: member1, replicas: ptr.To[int32](2),
			policies: []overrides.Policy{op("namespaced", nil, tag("op")), cop("global", nil, tag("cop"))}, want: rendered("2", "nginx:op"),
			wantApplied: []overrides.AppliedOverride{{Policy: "ClusterOverridePolicy/global"}, {Policy: "OverridePolicy/shop/namespaced"}}},
		{name: "an override of spec.replicas beats the assignment", in: deployment, cluster: member1, replicas: ptr.To[int32](2),
			policies: []overrides.Policy{op("pin", nil, plaintext("/spec/replicas", "replace", "7"))}, want: rendered("7", "nginx:1.25"),
			wantApplied: []overrides.AppliedOverride{{Policy: "OverridePolicy/shop/pin"}}},
		{name: "overrides cannot remove the marks", in: deployment, cluster: member1, replicas: ptr.To[int32](1),
			policies: []overrides.Policy{
				op("a-labels", nil, plaintext("/metadata/labels", "replace", `{"app":"web"}`)),
				op("b-annotations", nil, policyv1alpha1.Overriders{AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "replace", Value: map[string]string{workv1alpha1.AnnotationWork: "x"}}}}),
			},
			want:        rendered("1", "nginx:1.25"),
			wantApplied: []overrides.AppliedOverride{{Policy: "OverridePolicy/shop/a-labels"}, {Policy: "OverridePolicy/shop/b-annotations"}}},
		{name: "the version may be overridden", in: deployment, cluster: member1, replicas: ptr.To[int32](1),
			policies:    []overrides.Policy{op("old", nil, plaintext("/apiVersion", "replace", `"apps/v1beta2"`))},
			want:        strings.Replace(rendered("1", "nginx:1.25"), "apps/v1", "apps/v1beta2", 1),
			wantApplied: []overrides.AppliedOverride{{Policy: "OverridePolicy/shop/old"}}},
		{name: "a ConfigMap has no replicas", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop, uid: x}\ndata: {a: b}",
			cluster: member2, replicas: ptr.To[int32](3),
			want: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop, labels: {argosy.dev/managed: 'true'}, annotations: {argosy.dev/work: argosy-es-member2/web-shop}}\ndata: {a: b}"},
		{name: "a cluster-scoped object", in: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, resourceVersion: '1'}\nspec: {finalizers: [kubernetes]}",
			cluster: member1,
			want:    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {argosy.dev/managed: 'true'}, annotations: {argosy.dev/work: argosy-es-member1/web-shop}}\nspec: {finalizers: [kubernetes]}"},
		{name: "a Job's parallelism and completions", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: shop}\nspec: {parallelism: 4, completions: 12}",
			cluster: member1, replicas: ptr.To[int32](1), completions: ptr.To[int32](3),
			want: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: shop, labels: {argosy.dev/managed: 'true'}, annotations: {argosy.dev/work: argosy-es-member1/web-shop}}\nspec: {parallelism: 1, completions: 3}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := object(t, tt.in)
			before := in.DeepCopy()
			got, applied, err := Render(Input{Object: in, Cluster: tt.cluster, Replicas: tt.replicas, Completions: tt.completions,
				Work: workv1alpha1.ExecutionNamespacePrefix + tt.cluster.Name + "/web-shop", Policies: tt.policies})
			if err != nil {
				t.Fatal(err)
			}
			if want := object(t, tt.want); !reflect.DeepEqual(got.Object, want.Object) {
				t.Errorf("got:\n%s\nwant:\n%s", toYAML(t, got), toYAML(t, want))
			}
			if !reflect.DeepEqual(applied, tt.wantApplied) {
				t.Errorf("applied %v, want %v", applied, tt.wantApplied)
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("the input object was modified")
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		replicas *int32
		policies []overrides.Policy
		want     string
	}{
		{name: "remove of a missing path", in: deployment, policies: []overrides.Policy{op("bad", nil, plaintext("/spec/missing", "remove", ""))},
			want: "OverridePolicy shop/bad rule 0: plaintext remove /spec/missing: path not found"},
		{name: "a cluster policy's error", in: deployment, policies: []overrides.Policy{cop("global", nil, plaintext("/spec/x/y", "replace", "1"))},
			want: "ClusterOverridePolicy global rule 0: plaintext replace /spec/x/y: path not found"},
		{name: "the name cannot be overridden", in: deployment, policies: []overrides.Policy{op("rename", nil, plaintext("/metadata/name", "replace", `"other"`))},
			want: "overrides changed the object's identity from Deployment.apps shop/web to Deployment.apps shop/other (rules applied: OverridePolicy/shop/rename rule 0)"},
		{name: "the group cannot be overridden", in: deployment, policies: []overrides.Policy{op("regroup", nil, plaintext("/apiVersion", "replace", `"example.io/v1"`))},
			want: "from Deployment.apps shop/web to Deployment.example.io shop/web"},
		{name: "replicas of a malformed object", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: [1]", replicas: ptr.To[int32](1),
			want: "setting spec.replicas of Deployment d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, applied, err := Render(Input{Object: object(t, tt.in), Cluster: member1, Replicas: tt.replicas, Work: "argosy-es-member1/w", Policies: tt.policies})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
			if got != nil || applied != nil {
				t.Errorf("a result with an error: %v, %v", got, applied)
			}
		})
	}
	if _, _, err := Render(Input{}); err == nil {
		t.Error("no object: want an error")
	}
}

func TestJobCompletions(t *testing.T) {
	job := "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: shop}\nspec: {parallelism: 4, completions: 10}"
	divided := &policyv1alpha1.Placement{ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDivided}}
	defaultType := &policyv1alpha1.Placement{ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{}}
	duplicated := &policyv1alpha1.Placement{ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDuplicated}}
	tc := func(pairs ...any) []workv1alpha1.TargetCluster {
		var out []workv1alpha1.TargetCluster
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, workv1alpha1.TargetCluster{Name: pairs[i].(string), Replicas: int32(pairs[i+1].(int))})
		}
		return out
	}
	tests := []struct {
		name      string
		in        string
		placement *policyv1alpha1.Placement
		clusters  []workv1alpha1.TargetCluster
		want      map[string]int32
	}{
		{"2:3", job, divided, tc("a", 2, "b", 3), map[string]int32{"a": 4, "b": 6}},
		{"1:4 rounds", job, divided, tc("a", 1, "b", 4), map[string]int32{"a": 2, "b": 8}},
		{"1:1 with the default type", job, defaultType, tc("a", 2, "b", 2), map[string]int32{"a": 5, "b": 5}},
		{"a cluster without replicas gets none", job, divided, tc("a", 4, "b", 0), map[string]int32{"a": 10, "b": 0}},
		{"one cluster", job, divided, tc("a", 4), map[string]int32{"a": 10}},
		{"duplicated keeps the Job's", job, duplicated, tc("a", 4, "b", 4), nil},
		{"no replica scheduling keeps the Job's", job, &policyv1alpha1.Placement{}, tc("a", 4, "b", 4), nil},
		{"no placement (a dependency)", job, nil, tc("a", 0), nil},
		{"no replicas anywhere", job, divided, tc("a", 0, "b", 0), nil},
		{"no clusters", job, divided, nil, nil},
		{"a work-queue Job", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {parallelism: 4}", divided, tc("a", 1, "b", 3), nil},
		{"not a Job", deployment, divided, tc("a", 1, "b", 3), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JobCompletions(object(t, tt.in), tt.placement, tt.clusters, "shop/j")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			var sum int32
			for _, n := range got {
				sum += n
			}
			if got != nil && sum != 10 {
				t.Errorf("shares sum to %d, want 10", sum)
			}
		})
	}
}
