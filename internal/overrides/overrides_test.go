package overrides

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// obj parses a YAML manifest.
func obj(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func raw(s string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(s)} }

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

func assertObj(t *testing.T, got *unstructured.Unstructured, want string) {
	t.Helper()
	w := obj(t, want)
	if !reflect.DeepEqual(got.Object, w.Object) {
		t.Errorf("got:\n%s\nwant:\n%s", toYAML(t, got), toYAML(t, w))
	}
}

func op(name string, selectors []policyv1alpha1.ResourceSelector, rules ...policyv1alpha1.RuleWithCluster) Policy {
	return Policy{Kind: policyv1alpha1.KindOverridePolicy, Namespace: "default", Name: name,
		Spec: policyv1alpha1.OverrideSpec{ResourceSelectors: selectors, OverrideRules: rules}}
}

func cop(name string, selectors []policyv1alpha1.ResourceSelector, rules ...policyv1alpha1.RuleWithCluster) Policy {
	return Policy{Kind: policyv1alpha1.KindClusterOverridePolicy, Name: name,
		Spec: policyv1alpha1.OverrideSpec{ResourceSelectors: selectors, OverrideRules: rules}}
}

func rule(o policyv1alpha1.Overriders) policyv1alpha1.RuleWithCluster {
	return policyv1alpha1.RuleWithCluster{Overriders: o}
}

func names(n ...string) *policyv1alpha1.ClusterAffinity {
	return &policyv1alpha1.ClusterAffinity{ClusterNames: n}
}

var member1 = Cluster{Name: "member1", Labels: map[string]string{"env": "prod"}, Provider: "aws", Region: "eu-west-1", Zone: "eu-west-1a"}

const guestbook = `
apiVersion: webapp.my.domain/v1
kind: Guestbook
metadata:
  name: guestbook-sample
  namespace: default
spec:
  size: 2
  list: [a, b, c]
`

const myapp = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myapp
  namespace: default
  labels: {app: myapp, tier: web}
  annotations: {owner: team-a}
spec:
  replicas: 1
  template:
    spec:
      initContainers:
      - name: init
        image: busybox
      containers:
      - name: myapp
        image: myapp:1.0.0
        command: [run]
        args: [--a, --b, --a]
      - name: sidecar
        image: reg.io/proxy:2
`

const configMap = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
data:
  config.json: '{"db":{"host":"a","port":5432},"list":[1,2]}'
  config.yaml: |
    db:
      host: a
      port: 5432
  notDoc: 'x: ['
  broken: '{'
`

// TestSeed001 is seed 001's OverridePolicy on the Guestbook and
// ImageOverrider on myapp.
func TestSeed001(t *testing.T) {
	gb := []policyv1alpha1.ResourceSelector{{APIVersion: "webapp.my.domain/v1", Kind: "Guestbook"}}
	p := op("guestbook-sample", gb, policyv1alpha1.RuleWithCluster{
		TargetCluster: names("member1"),
		Overriders: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{
			{Path: "/spec/size", Operator: "replace", Value: raw(`4`)},
			{Path: "/metadata/annotations", Operator: "add", Value: raw(`{"OverridePolicy":"test"}`)},
		}},
	})
	in := obj(t, guestbook)
	before := in.DeepCopy()
	got, applied, err := Apply(in, member1, []Policy{p})
	if err != nil {
		t.Fatal(err)
	}
	assertObj(t, got, `
apiVersion: webapp.my.domain/v1
kind: Guestbook
metadata:
  name: guestbook-sample
  namespace: default
  annotations: {OverridePolicy: test}
spec:
  size: 4
  list: [a, b, c]
`)
	if want := []AppliedOverride{{Policy: "OverridePolicy/default/guestbook-sample", Rule: 0}}; !reflect.DeepEqual(applied, want) {
		t.Errorf("applied = %v, want %v", applied, want)
	}
	if !reflect.DeepEqual(in, before) {
		t.Error("input object was modified")
	}
	if v := got.Object["spec"].(map[string]any)["size"]; v != int64(4) {
		t.Errorf("size has type %T, want int64", v)
	}

	// Not member1: unchanged.
	got, applied, err = Apply(in, Cluster{Name: "member2"}, []Policy{p})
	if err != nil || len(applied) != 0 || !reflect.DeepEqual(got.Object, before.Object) {
		t.Errorf("member2: got %v %v %v, want the object unchanged", toYAML(t, got), applied, err)
	}

	img := op("example", []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: "myapp"}},
		rule(policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: "Registry", Operator: "add", Value: "test-repo"}}}))
	got, _, err = Apply(obj(t, myapp), member1, []Policy{img})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	if c["image"] != "test-repo/myapp:1.0.0" {
		t.Errorf("image = %v, want test-repo/myapp:1.0.0", c["image"])
	}
}

// TestOverriders covers each overrider and operator on a single policy.
func TestOverriders(t *testing.T) {
	tests := []struct {
		name string
		in   string
		o    policyv1alpha1.Overriders
		want string
	}{
		{
			name: "plaintext add creates the last element",
			in:   guestbook,
			o:    policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/extra", Operator: "add", Value: raw(`{"x":1.5}`)}}},
			want: strings.Replace(guestbook, "size: 2", "size: 2\n  extra: {x: 1.5}", 1),
		},
		{
			name: "plaintext add overwrites an existing member",
			in:   guestbook,
			o:    policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/size", Operator: "add", Value: raw(`"big"`)}}},
			want: strings.Replace(guestbook, "size: 2", "size: big", 1),
		},
		{
			name: "plaintext add inserts into and appends to arrays",
			in:   guestbook,
			o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{
				{Path: "/spec/list/1", Operator: "add", Value: raw(`"x"`)},
				{Path: "/spec/list/-", Operator: "add", Value: raw(`"end"`)},
				{Path: "/spec/list/5", Operator: "add", Value: raw(`"last"`)},
			}},
			want: strings.Replace(guestbook, "[a, b, c]", "[a, x, b, c, end, last]", 1),
		},
		{
			name: "plaintext remove",
			in:   guestbook,
			o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{
				{Path: "/spec/size", Operator: "remove"},
				{Path: "/spec/list/0", Operator: "remove"},
			}},
			want: strings.Replace(strings.Replace(guestbook, "  size: 2\n", "", 1), "[a, b, c]", "[b, c]", 1),
		},
		{
			name: "plaintext replace in array and escaped keys",
			in:   strings.Replace(guestbook, "size: 2", "size: 2\n  a/b~c: old", 1),
			o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{
				{Path: "/spec/list/2", Operator: "replace", Value: raw(`null`)},
				{Path: "/spec/a~1b~0c", Operator: "replace", Value: raw(`"new"`)},
			}},
			want: strings.Replace(strings.Replace(guestbook, "size: 2", "size: 2\n  a/b~c: new", 1), "[a, b, c]", "[a, b, null]", 1),
		},
		{
			name: "plaintext replace the whole object",
			in:   guestbook,
			o:    policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "", Operator: "replace", Value: raw(`{"kind":"Other"}`)}}},
			want: `kind: Other`,
		},
		{
			name: "labels add replace remove",
			in:   myapp,
			o: policyv1alpha1.Overriders{LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{
				{Operator: "add", Value: map[string]string{"new": "1", "tier": "front"}},
				{Operator: "replace", Value: map[string]string{"app": "renamed", "missing": "x"}},
				{Operator: "remove", Value: map[string]string{"new": "", "missing2": ""}},
			}},
			want: strings.Replace(myapp, "labels: {app: myapp, tier: web}", "labels: {app: renamed, tier: front}", 1),
		},
		{
			name: "annotations add creates the map, replace and remove skip missing keys",
			in:   guestbook,
			o: policyv1alpha1.Overriders{AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{
				{Operator: "replace", Value: map[string]string{"a": "x"}},
				{Operator: "remove", Value: map[string]string{"a": ""}},
				{Operator: "add", Value: map[string]string{"a": "1", "b": "2"}},
				{Operator: "replace", Value: map[string]string{"a": "3", "c": "4"}},
				{Operator: "remove", Value: map[string]string{"b": ""}},
			}},
			want: strings.Replace(guestbook, "namespace: default", "namespace: default\n  annotations: {a: \"3\"}", 1),
		},
		{
			name: "command add and args remove on a named container",
			in:   myapp,
			o: policyv1alpha1.Overriders{
				CommandOverrider: []policyv1alpha1.CommandArgsOverrider{
					{ContainerName: "myapp", Operator: "add", Value: []string{"--verbose"}},
					{ContainerName: "sidecar", Operator: "add", Value: []string{"proxy", "--x"}},
					{ContainerName: "absent", Operator: "add", Value: []string{"ignored"}},
				},
				ArgsOverrider: []policyv1alpha1.CommandArgsOverrider{
					{ContainerName: "myapp", Operator: "remove", Value: []string{"--a", "--zz"}},
					{ContainerName: "sidecar", Operator: "remove", Value: []string{"--x"}},
					{ContainerName: "init", Operator: "add", Value: []string{"not-a-container"}},
				},
			},
			want: strings.NewReplacer(
				"command: [run]", "command: [run, --verbose]",
				"args: [--a, --b, --a]", "args: [--b]",
				"image: reg.io/proxy:2", "image: reg.io/proxy:2\n        command: [proxy, --x]",
			).Replace(myapp),
		},
		{
			name: "command on a kind without pod template is ignored",
			in:   guestbook,
			o:    policyv1alpha1.Overriders{CommandOverrider: []policyv1alpha1.CommandArgsOverrider{{ContainerName: "x", Operator: "add", Value: []string{"a"}}}},
			want: guestbook,
		},
		{
			name: "image with predicate touches only that path",
			in:   myapp,
			o: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{
				Predicate: &policyv1alpha1.ImagePredicate{Path: "/spec/template/spec/containers/1/image"},
				Component: "Tag", Operator: "replace", Value: "3"}}},
			want: strings.Replace(myapp, "reg.io/proxy:2", "reg.io/proxy:3", 1),
		},
		{
			name: "image without predicate rewrites containers and initContainers",
			in:   myapp,
			o: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{
				{Component: "Registry", Operator: "replace", Value: "mirror.io"}}},
			want: strings.NewReplacer("image: busybox", "image: mirror.io/busybox", "image: myapp:1.0.0", "image: mirror.io/myapp:1.0.0",
				"image: reg.io/proxy:2", "image: mirror.io/proxy:2").Replace(myapp),
		},
		{
			name: "image without predicate on other kinds is a no-op",
			in:   guestbook,
			o:    policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: "Registry", Operator: "replace", Value: "mirror.io"}}},
			want: guestbook,
		},
		{
			name: "field overrider JSON",
			in:   configMap,
			o: policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: "/data/config.json", JSON: []policyv1alpha1.JSONPatchOperation{
				{SubPath: "/db/host", Operator: "replace", Value: raw(`"b"`)},
				{SubPath: "/db/port", Operator: "remove"},
				{SubPath: "/list/-", Operator: "add", Value: raw(`3`)},
				{SubPath: "/tls", Operator: "add", Value: raw(`true`)},
			}}}},
			want: strings.Replace(configMap, `'{"db":{"host":"a","port":5432},"list":[1,2]}'`, `'{"db":{"host":"b"},"list":[1,2,3],"tls":true}'`, 1),
		},
		{
			name: "field overrider YAML",
			in:   configMap,
			o: policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: "/data/config.yaml", YAML: []policyv1alpha1.YAMLPatchOperation{
				{SubPath: "/db/host", Operator: "replace", Value: raw(`"b"`)},
				{SubPath: "/db/user", Operator: "add", Value: raw(`"admin"`)},
				{SubPath: "/db/port", Operator: "remove"},
			}}}},
			want: strings.Replace(configMap, "      host: a\n      port: 5432\n", "      host: b\n      user: admin\n", 1),
		},
		{
			name: "field overrider whole document",
			in:   configMap,
			o: policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: "/data/config.yaml", YAML: []policyv1alpha1.YAMLPatchOperation{
				{SubPath: "", Operator: "replace", Value: raw(`{"k":"v"}`)},
			}}}},
			want: strings.Replace(configMap, "    db:\n      host: a\n      port: 5432\n", "    k: v\n", 1),
		},
		{
			name: "overriders apply in Karmada order: image, command, args, labels, annotations, field, plaintext",
			in:   myapp,
			o: policyv1alpha1.Overriders{
				// plaintext runs last: it sees the image set by imageOverrider
				// and the label set by labelsOverrider, and overwrites both.
				Plaintext: []policyv1alpha1.PlaintextOverrider{
					{Path: "/spec/template/spec/containers/0/image", Operator: "replace", Value: raw(`"final:1"`)},
					{Path: "/metadata/labels/tier", Operator: "replace", Value: raw(`"plain"`)},
				},
				LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "replace", Value: map[string]string{"tier": "label"}}},
				// args sees the command added by commandOverrider's container
				ArgsOverrider:    []policyv1alpha1.CommandArgsOverrider{{ContainerName: "myapp", Operator: "add", Value: []string{"--c"}}},
				CommandOverrider: []policyv1alpha1.CommandArgsOverrider{{ContainerName: "myapp", Operator: "remove", Value: []string{"run"}}},
				ImageOverrider:   []policyv1alpha1.ImageOverrider{{Predicate: &policyv1alpha1.ImagePredicate{Path: "/spec/template/spec/containers/0/image"}, Component: "Tag", Operator: "replace", Value: "2"}},
			},
			want: strings.NewReplacer("tier: web", "tier: plain", "image: myapp:1.0.0", "image: final:1",
				"command: [run]", "command: []", "args: [--a, --b, --a]", "args: [--a, --b, --a, --c]").Replace(myapp),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := obj(t, tt.in)
			before := in.DeepCopy()
			got, applied, err := Apply(in, member1, []Policy{op("p", nil, rule(tt.o))})
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != 1 {
				t.Errorf("applied = %v, want one rule", applied)
			}
			assertObj(t, got, tt.want)
			if !reflect.DeepEqual(in, before) {
				t.Error("input object was modified")
			}
		})
	}
}

// TestImageAutoDetect checks every workload kind whose Pod spec the image
// overrider finds without a predicate.
func TestImageAutoDetect(t *testing.T) {
	podSpec := map[string]any{
		"initContainers": []any{map[string]any{"name": "i", "image": "busybox:1"}},
		"containers":     []any{map[string]any{"name": "c", "image": "myapp:1.0.0"}, map[string]any{"name": "noimage"}},
	}
	tmpl := map[string]any{"template": map[string]any{"spec": podSpec}}
	tests := []struct {
		apiVersion, kind string
		spec             any
		path             string
	}{
		{"v1", "Pod", podSpec, "/spec"},
		{"apps/v1", "Deployment", tmpl, "/spec/template/spec"},
		{"apps/v1", "StatefulSet", tmpl, "/spec/template/spec"},
		{"apps/v1", "DaemonSet", tmpl, "/spec/template/spec"},
		{"apps/v1", "ReplicaSet", tmpl, "/spec/template/spec"},
		{"batch/v1", "Job", tmpl, "/spec/template/spec"},
		{"batch/v1", "CronJob", map[string]any{"schedule": "* * * * *", "jobTemplate": map[string]any{"spec": tmpl}}, "/spec/jobTemplate/spec/template/spec"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": tt.apiVersion, "kind": tt.kind,
				"metadata": map[string]any{"name": "w", "namespace": "default"}, "spec": tt.spec}}
			u = u.DeepCopy()
			p := op("p", nil, rule(policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: "Registry", Operator: "add", Value: "test-repo"}}}))
			got, _, err := Apply(u, member1, []Policy{p})
			if err != nil {
				t.Fatal(err)
			}
			toks, _ := parsePointer(tt.path)
			spec, err := getPointer(got.Object, toks)
			if err != nil {
				t.Fatal(err)
			}
			s := spec.(map[string]any)
			if img := s["containers"].([]any)[0].(map[string]any)["image"]; img != "test-repo/myapp:1.0.0" {
				t.Errorf("container image = %v", img)
			}
			if img := s["initContainers"].([]any)[0].(map[string]any)["image"]; img != "test-repo/busybox:1" {
				t.Errorf("initContainer image = %v", img)
			}
			if _, has := s["containers"].([]any)[1].(map[string]any)["image"]; has {
				t.Error("container without image got one")
			}
		})
	}
}

// TestOrdering checks ClusterOverridePolicies before OverridePolicies, the
// least specific first and policy names as tie-breaker.
func TestOrdering(t *testing.T) {
	winner := func(name string) policyv1alpha1.RuleWithCluster {
		return rule(policyv1alpha1.Overriders{
			AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"winner": name}}},
			Plaintext:            []policyv1alpha1.PlaintextOverrider{{Path: "/spec/list/-", Operator: "add", Value: raw(fmt.Sprintf("%q", name))}},
		})
	}
	kind := policyv1alpha1.ResourceSelector{APIVersion: "webapp.my.domain/v1", Kind: "Guestbook"}
	byName := kind
	byName.Name = "guestbook-sample"
	otherName := kind
	otherName.Name = "other"
	byLabel := kind
	byLabel.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "gb"}}
	otherKind := policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment"}
	sel := func(s ...policyv1alpha1.ResourceSelector) []policyv1alpha1.ResourceSelector { return s }

	policies := []Policy{
		op("a-name", sel(byName), winner("a-name")),
		op("b-label", sel(byLabel), winner("b-label")),
		op("c-kind", sel(kind), winner("c-kind")),
		op("d-empty", nil, winner("d-empty")),
		op("a2-kind", sel(otherKind, kind), winner("a2-kind")),
		op("e-nomatch", sel(otherName, otherKind), winner("e-nomatch")),
		cop("z-cop-name", sel(byName), winner("z-cop-name")),
		cop("y-cop-kind", sel(kind), winner("y-cop-kind")),
		// The best matching selector counts: name beats labelSelector.
		op("0-label-and-name", sel(byLabel, byName), winner("0-label-and-name")),
	}
	in := obj(t, strings.Replace(guestbook, "namespace: default", "namespace: default\n  labels: {app: gb}", 1))
	got, applied, err := Apply(in, member1, policies)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"y-cop-kind", "z-cop-name", "a2-kind", "c-kind", "d-empty", "b-label", "0-label-and-name", "a-name"}
	var wantApplied []AppliedOverride
	wantList := []any{"a", "b", "c"}
	for _, n := range order {
		k := "OverridePolicy/default/"
		if strings.Contains(n, "cop") {
			k = "ClusterOverridePolicy/"
		}
		wantApplied = append(wantApplied, AppliedOverride{Policy: k + n})
		wantList = append(wantList, n)
	}
	if !reflect.DeepEqual(applied, wantApplied) {
		t.Errorf("applied = %v\nwant %v", applied, wantApplied)
	}
	if l := got.Object["spec"].(map[string]any)["list"]; !reflect.DeepEqual(l, wantList) {
		t.Errorf("list = %v, want %v", l, wantList)
	}
	if w := got.GetAnnotations()["winner"]; w != "a-name" {
		t.Errorf("winner = %q, want a-name", w)
	}
}

func TestRulesAndTargets(t *testing.T) {
	add := func(v string) policyv1alpha1.Overriders {
		return policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/list/-", Operator: "add", Value: raw(fmt.Sprintf("%q", v))}}}
	}
	p := op("p", nil,
		policyv1alpha1.RuleWithCluster{TargetCluster: names("member1"), Overriders: add("r0")},
		policyv1alpha1.RuleWithCluster{TargetCluster: names("member2"), Overriders: add("r1")},
		policyv1alpha1.RuleWithCluster{Overriders: add("r2")},
		policyv1alpha1.RuleWithCluster{TargetCluster: &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, Overriders: add("r3")},
	)
	got, applied, err := Apply(obj(t, guestbook), member1, []Policy{p})
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{"a", "b", "c", "r0", "r2", "r3"}; !reflect.DeepEqual(got.Object["spec"].(map[string]any)["list"], want) {
		t.Errorf("list = %v, want %v", got.Object["spec"].(map[string]any)["list"], want)
	}
	if want := []AppliedOverride{{"OverridePolicy/default/p", 0}, {"OverridePolicy/default/p", 2}, {"OverridePolicy/default/p", 3}}; !reflect.DeepEqual(applied, want) {
		t.Errorf("applied = %v, want %v", applied, want)
	}

	// Deprecated top-level form.
	dep := Policy{Kind: policyv1alpha1.KindOverridePolicy, Namespace: "default", Name: "dep", Spec: policyv1alpha1.OverrideSpec{
		TargetCluster: names("member2"), Overriders: add("dep")}}
	for _, tc := range []struct {
		cluster string
		applied int
	}{{"member1", 0}, {"member2", 1}} {
		got, applied, err := Apply(obj(t, guestbook), Cluster{Name: tc.cluster}, []Policy{dep})
		if err != nil || len(applied) != tc.applied {
			t.Errorf("%s: applied %v err %v, want %d rules", tc.cluster, applied, err, tc.applied)
			continue
		}
		if tc.applied == 1 {
			if applied[0] != (AppliedOverride{"OverridePolicy/default/dep", 0}) {
				t.Errorf("applied = %v", applied)
			}
			if l := got.Object["spec"].(map[string]any)["list"].([]any); l[len(l)-1] != "dep" {
				t.Errorf("list = %v", l)
			}
		}
	}
	dep.Spec.TargetCluster = nil
	if _, applied, _ := Apply(obj(t, guestbook), member1, []Policy{dep}); len(applied) != 1 {
		t.Errorf("deprecated form without targetCluster: applied = %v", applied)
	}
	// A policy with nothing to do applies nothing.
	if _, applied, _ := Apply(obj(t, guestbook), member1, []Policy{op("empty", nil)}); len(applied) != 0 {
		t.Errorf("empty policy: applied = %v", applied)
	}
}

func TestClusterMatches(t *testing.T) {
	multi := Cluster{Name: "m", Zones: []string{"z1", "z2"}}
	noZone := Cluster{Name: "nz", Provider: ""}
	req := func(key string, op corev1.NodeSelectorOperator, v ...string) *policyv1alpha1.ClusterAffinity {
		return &policyv1alpha1.ClusterAffinity{FieldSelector: &policyv1alpha1.FieldSelector{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: v}}}}
	}
	labelSel := func(s *metav1.LabelSelector) *policyv1alpha1.ClusterAffinity {
		return &policyv1alpha1.ClusterAffinity{LabelSelector: s}
	}
	tests := []struct {
		name string
		c    Cluster
		a    *policyv1alpha1.ClusterAffinity
		want bool
	}{
		{"nil selects all", member1, nil, true},
		{"empty selects all", member1, &policyv1alpha1.ClusterAffinity{}, true},
		{"by name", member1, names("member2", "member1"), true},
		{"by other name", member1, names("member2"), false},
		{"exclude wins", member1, &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}, ExcludeClusters: []string{"member1"}}, false},
		{"exclude others", member1, &policyv1alpha1.ClusterAffinity{ExcludeClusters: []string{"member2"}}, true},
		{"label match", member1, labelSel(&metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}), true},
		{"label mismatch", member1, labelSel(&metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}), false},
		{"label expression", member1, labelSel(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "NotIn", Values: []string{"dev"}}}}), true},
		{"invalid label selector", member1, labelSel(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "Bogus"}}}), false},
		{"names and labels both required", member1, &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}}, false},
		{"provider In", member1, req("provider", corev1.NodeSelectorOpIn, "aws", "gcp"), true},
		{"provider In mismatch", member1, req("provider", corev1.NodeSelectorOpIn, "gcp"), false},
		{"provider NotIn", member1, req("provider", corev1.NodeSelectorOpNotIn, "aws"), false},
		{"region In", member1, req("region", corev1.NodeSelectorOpIn, "eu-west-1"), true},
		{"region NotIn", member1, req("region", corev1.NodeSelectorOpNotIn, "us-east-1"), true},
		{"zone In", member1, req("zone", corev1.NodeSelectorOpIn, "eu-west-1a"), true},
		{"zone NotIn", member1, req("zone", corev1.NodeSelectorOpNotIn, "eu-west-1a"), false},
		{"zones In needs all", multi, req("zone", corev1.NodeSelectorOpIn, "z1"), false},
		{"zones In all listed", multi, req("zone", corev1.NodeSelectorOpIn, "z1", "z2", "z3"), true},
		{"zones NotIn any listed", multi, req("zone", corev1.NodeSelectorOpNotIn, "z2"), false},
		{"zones NotIn none listed", multi, req("zone", corev1.NodeSelectorOpNotIn, "ignored"), true},
		{"no zone fails In", noZone, req("zone", corev1.NodeSelectorOpIn, "z1"), false},
		{"no zone passes NotIn", noZone, req("zone", corev1.NodeSelectorOpNotIn, "z1"), true},
		{"no provider passes NotIn", noZone, req("provider", corev1.NodeSelectorOpNotIn, "aws"), true},
		{"unknown key", member1, req("color", corev1.NodeSelectorOpIn, "red"), false},
		{"unknown operator", member1, req("provider", corev1.NodeSelectorOpExists), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClusterMatches(tt.c, tt.a); got != tt.want {
				t.Errorf("ClusterMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	pt := func(path string, o policyv1alpha1.OverriderOperator, v string) policyv1alpha1.Overriders {
		p := policyv1alpha1.PlaintextOverrider{Path: path, Operator: o}
		if v != "" {
			p.Value = raw(v)
		}
		return policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{p}}
	}
	fj := func(path, sub string, o policyv1alpha1.OverriderOperator, v string) policyv1alpha1.Overriders {
		return policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: path,
			JSON: []policyv1alpha1.JSONPatchOperation{{SubPath: sub, Operator: o, Value: raw(v)}}}}}
	}
	fy := func(path, sub string, o policyv1alpha1.OverriderOperator, v string) policyv1alpha1.Overriders {
		return policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: path,
			YAML: []policyv1alpha1.YAMLPatchOperation{{SubPath: sub, Operator: o, Value: raw(v)}}}}}
	}
	img := func(path string, c policyv1alpha1.ImageComponent, o policyv1alpha1.OverriderOperator, v string) policyv1alpha1.Overriders {
		io := policyv1alpha1.ImageOverrider{Component: c, Operator: o, Value: v}
		if path != "" {
			io.Predicate = &policyv1alpha1.ImagePredicate{Path: path}
		}
		return policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{io}}
	}
	const prefix = "OverridePolicy default/guestbook rule 0: "
	tests := []struct {
		name string
		in   string
		o    policyv1alpha1.Overriders
		want string
	}{
		{"plaintext replace missing", guestbook, pt("/spec/missing", "replace", `4`), "plaintext replace /spec/missing: path not found"},
		{"plaintext remove missing", guestbook, pt("/spec/missing", "remove", ""), "plaintext remove /spec/missing: path not found"},
		{"plaintext add under missing parent", guestbook, pt("/spec/a/b", "add", `1`), "plaintext add /spec/a/b: path not found"},
		{"plaintext add below a scalar", guestbook, pt("/spec/size/x", "add", `1`), "plaintext add /spec/size/x: path not found"},
		{"plaintext array index out of range", guestbook, pt("/spec/list/3", "replace", `1`), "plaintext replace /spec/list/3: path not found"},
		{"plaintext add past the end", guestbook, pt("/spec/list/4", "add", `1`), "plaintext add /spec/list/4: path not found"},
		{"plaintext bad array index", guestbook, pt("/spec/list/01", "remove", ""), `plaintext remove /spec/list/01: invalid array index "01"`},
		{"plaintext dash only for add", guestbook, pt("/spec/list/-", "replace", `1`), `plaintext replace /spec/list/-: invalid array index "-"`},
		{"plaintext malformed value", guestbook, pt("/spec/size", "replace", `{`), "plaintext replace /spec/size: malformed value"},
		{"plaintext missing value", guestbook, pt("/spec/size", "replace", ""), "plaintext replace /spec/size: value is required"},
		{"plaintext bad pointer", guestbook, pt("spec", "add", `1`), "plaintext add spec: invalid JSON pointer"},
		{"plaintext bad escape", guestbook, pt("/spec/a~2", "add", `1`), "plaintext add /spec/a~2: invalid JSON pointer"},
		{"plaintext unsupported operator", guestbook, pt("/spec/size", "move", `1`), `plaintext move /spec/size: unsupported operator "move"`},
		{"plaintext remove the object", guestbook, pt("", "remove", ""), "plaintext remove : cannot remove the whole document"},
		{"plaintext object must stay an object", guestbook, pt("", "replace", `5`), "plaintext replace : the object must remain a JSON object"},
		{"image predicate path missing", myapp, img("/spec/template/spec/containers/5/image", "Tag", "replace", "x"), "imageOverrider Tag replace /spec/template/spec/containers/5/image: path not found"},
		{"image predicate not a string", myapp, img("/spec/replicas", "Tag", "replace", "x"), "imageOverrider Tag replace /spec/replicas: not a string"},
		{"bad image", strings.Replace(myapp, "myapp:1.0.0", "My App", 1), img("", "Tag", "replace", "x"), `imageOverrider Tag replace /spec/template/spec/containers/0/image: invalid repository in image "My App"`},
		{"image not a string", strings.Replace(myapp, "image: busybox", "image: 5", 1), img("", "Tag", "replace", "x"), "imageOverrider Tag replace /spec/template/spec/initContainers/0/image: not a string"},
		{"image bad value", myapp, img("/spec/template/spec/containers/0/image", "Tag", "replace", "a b"), `imageOverrider Tag replace /spec/template/spec/containers/0/image: result "myapp:a b" is not a valid image`},
		{"pod spec not an object", strings.Replace(myapp, "    spec:\n      initContainers:", "    spec: 5\n    x:\n      initContainers:", 1), img("", "Tag", "replace", "x"), "imageOverrider Tag replace /spec/template/spec: not an object"},
		{"command unsupported operator", myapp, policyv1alpha1.Overriders{CommandOverrider: []policyv1alpha1.CommandArgsOverrider{{ContainerName: "myapp", Operator: "replace", Value: []string{"x"}}}}, `commandOverrider replace myapp: unsupported operator "replace"`},
		{"args not a list", strings.Replace(myapp, "args: [--a, --b, --a]", "args: x", 1), policyv1alpha1.Overriders{ArgsOverrider: []policyv1alpha1.CommandArgsOverrider{{ContainerName: "myapp", Operator: "add", Value: []string{"x"}}}}, "argsOverrider add /spec/template/spec/containers/0/args: not a list"},
		{"labels unsupported operator", myapp, policyv1alpha1.Overriders{LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "move", Value: map[string]string{"a": "b"}}}}, `labelsOverrider move /metadata/labels: unsupported operator "move"`},
		{"annotations not a map", strings.Replace(guestbook, "namespace: default", "namespace: default\n  annotations: [x]", 1), policyv1alpha1.Overriders{AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"a": "b"}}}}, "annotationsOverrider add /metadata/annotations: not an object"},
		{"field path missing", configMap, fj("/data/nope", "/a", "remove", ""), "fieldOverrider /data/nope: path not found"},
		{"field not a string", guestbook, fj("/spec/size", "/a", "remove", ""), "fieldOverrider /spec/size: not a string"},
		{"field whole object", guestbook, fj("", "/a", "remove", ""), "fieldOverrider : fieldPath must not be the whole object"},
		{"field unparsable JSON", configMap, fj("/data/broken", "/a", "remove", ""), "fieldOverrider /data/broken: unparsable JSON"},
		{"field unparsable YAML", configMap, fy("/data/notDoc", "/a", "remove", ""), "fieldOverrider /data/notDoc: unparsable YAML"},
		{"field JSON sub-path missing", configMap, fj("/data/config.json", "/db/user", "replace", `"x"`), "fieldOverrider /data/config.json json[0] replace /db/user: path not found"},
		{"field YAML sub-path missing", configMap, fy("/data/config.yaml", "/nope", "remove", ""), "fieldOverrider /data/config.yaml yaml[0] remove /nope: path not found"},
		{"field malformed value", configMap, fy("/data/config.yaml", "/db/host", "replace", `[`), "fieldOverrider /data/config.yaml yaml[0] replace /db/host: malformed value"},
		{"field json and yaml", configMap, policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: "/data/config.json",
			JSON: []policyv1alpha1.JSONPatchOperation{{SubPath: "/a", Operator: "remove"}}, YAML: []policyv1alpha1.YAMLPatchOperation{{SubPath: "/a", Operator: "remove"}}}}},
			"fieldOverrider /data/config.json: json and yaml are mutually exclusive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := obj(t, tt.in)
			before := in.DeepCopy()
			// A first rule that succeeds must not leak into the input either.
			p := op("guestbook", nil, rule(tt.o))
			p.Spec.OverrideRules = append([]policyv1alpha1.RuleWithCluster{rule(pt("/metadata/name", "replace", `"changed"`))}, p.Spec.OverrideRules...)
			want := strings.Replace(prefix, "rule 0", "rule 1", 1) + tt.want
			got, applied, err := Apply(in, member1, []Policy{p})
			if err == nil {
				t.Fatalf("no error; got %s", toYAML(t, got))
			}
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %q\nwant prefix %q", err, want)
			}
			if got != nil || applied != nil {
				t.Errorf("got %v, %v with an error", got, applied)
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("input object was modified")
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	bad := rule(policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/size", Operator: "replace", Value: raw(`4`)}}})
	in := obj(t, strings.Replace(guestbook, "  size: 2\n", "", 1))
	_, _, err := Apply(in, member1, []Policy{op("guestbook", nil, bad)})
	if want := "OverridePolicy default/guestbook rule 0: plaintext replace /spec/size: path not found"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	_, _, err = Apply(in, member1, []Policy{cop("global", nil, rule(policyv1alpha1.Overriders{}), bad)})
	if want := "ClusterOverridePolicy global rule 1: plaintext replace /spec/size: path not found"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if _, _, err := Apply(nil, member1, nil); err == nil {
		t.Error("nil object: want error")
	}
	// Non-JSON values in the object are reported, not panicked on.
	weird := &unstructured.Unstructured{Object: map[string]any{"kind": "X", "spec": struct{}{}}}
	if _, _, err := Apply(weird, member1, nil); err == nil {
		t.Error("non-JSON object: want error")
	}
}

func TestFromPolicies(t *testing.T) {
	o := &policyv1alpha1.OverridePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}
	if p := FromOverridePolicy(o); p.Ref() != "OverridePolicy/ns/a" || p.display() != "OverridePolicy ns/a" {
		t.Errorf("got %q %q", p.Ref(), p.display())
	}
	c := &policyv1alpha1.ClusterOverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "b"}}
	if p := FromClusterOverridePolicy(c); p.Ref() != "ClusterOverridePolicy/b" || p.display() != "ClusterOverridePolicy b" {
		t.Errorf("got %q %q", p.Ref(), p.display())
	}
}
