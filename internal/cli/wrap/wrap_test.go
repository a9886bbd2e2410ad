package wrap

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

const manifests = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  uid: 5d0c1b
  resourceVersion: "42"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: kubectl}]
  ownerReferences: [{apiVersion: v1, kind: Foo, name: x, uid: y}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec:
  replicas: 3
status:
  replicas: 3
---
# a comment-only document is skipped
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: prod
  annotations: {keep: me}
data: {a: b}
---
apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: "system:controller:foo", namespace: wrong}
- apiVersion: apiextensions.k8s.io/v1
  kind: CustomResourceDefinition
  metadata: {name: guestbooks.webapp.my.domain}
  spec:
    group: webapp.my.domain
    scope: Cluster
    names: {kind: Guestbook, plural: guestbooks}
- apiVersion: webapp.my.domain/v1
  kind: Guestbook
  metadata: {name: g}
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w}
---
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: nginx}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment, name: nginx}]
`

func wrapString(t *testing.T, in string, o Options) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Decode(Source{Name: "stdin", Data: []byte(in)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Wrap(objs, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wrapped(t *testing.T, rt *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	m, ok, _ := unstructured.NestedMap(rt.Object, "spec", "template")
	if !ok {
		t.Fatalf("%s has no spec.template", rt.GetName())
	}
	return &unstructured.Unstructured{Object: m}
}

func TestWrap(t *testing.T) {
	out := wrapString(t, manifests, Options{TemplateNamespace: "argosy-templates", DefaultNamespace: "team-a"})
	type want struct {
		kind, group, wrappedNS, wrappedName string // kind "" = passed through
	}
	wants := []want{
		{"Deployment", "apps", "team-a", "nginx"},
		{"ConfigMap", "", "prod", "cfg"},
		{"ClusterRole", "rbac.authorization.k8s.io", "", "system:controller:foo"},
		{"CustomResourceDefinition", "apiextensions.k8s.io", "", "guestbooks.webapp.my.domain"},
		{"Guestbook", "webapp.my.domain", "", "g"}, // cluster-scoped by the CRD in the input
		{"Widget", "example.com", "team-a", "w"},   // unknown kinds are namespaced
		{},                                         // the PropagationPolicy
	}
	if len(out) != len(wants) {
		t.Fatalf("%d objects out, want %d", len(out), len(wants))
	}
	for i, w := range wants {
		u := out[i]
		if w.kind == "" {
			if u.GetKind() != "PropagationPolicy" || u.GetName() != "nginx" {
				t.Errorf("object %d: %s %s, want the PropagationPolicy unchanged", i, u.GetKind(), u.GetName())
			}
			continue
		}
		if u.GetAPIVersion() != workv1alpha1.GroupVersion.String() || u.GetKind() != "ResourceTemplate" || u.GetNamespace() != "argosy-templates" {
			t.Errorf("object %d: %s %s/%s, want a ResourceTemplate in argosy-templates", i, u.GetAPIVersion(), u.GetNamespace(), u.GetKind())
		}
		if name := template.Name(w.group, w.kind, w.wrappedNS, w.wrappedName); u.GetName() != name {
			t.Errorf("object %d: template name %q, want %q", i, u.GetName(), name)
		}
		obj := wrapped(t, u)
		if obj.GetKind() != w.kind || obj.GetNamespace() != w.wrappedNS || obj.GetName() != w.wrappedName {
			t.Errorf("object %d wraps %s %s/%s, want %s %s/%s", i, obj.GetKind(), obj.GetNamespace(), obj.GetName(), w.kind, w.wrappedNS, w.wrappedName)
		}
	}

	deploy := wrapped(t, out[0])
	if _, has := deploy.Object["status"]; has {
		t.Error("status was kept")
	}
	meta := deploy.Object["metadata"].(map[string]any)
	for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "ownerReferences", "annotations"} {
		if _, has := meta[f]; has {
			t.Errorf("metadata.%s was kept", f)
		}
	}
	if r, _, _ := unstructured.NestedInt64(deploy.Object, "spec", "replicas"); r != 3 {
		t.Errorf("spec.replicas %d, want 3", r)
	}
	if a := wrapped(t, out[1]).GetAnnotations(); a["keep"] != "me" {
		t.Errorf("user annotations lost: %v", a)
	}
}

func TestWrapRoundTrip(t *testing.T) {
	o := Options{TemplateNamespace: "argosy-templates", AllClusters: true}
	first := wrapString(t, manifests, o)
	var a bytes.Buffer
	if err := Encode(&a, first); err != nil {
		t.Fatal(err)
	}
	// Wrapping the output again changes nothing: templates and policies
	// pass through.
	second := wrapString(t, a.String(), Options{TemplateNamespace: "argosy-templates"})
	var b bytes.Buffer
	if err := Encode(&b, second); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("wrap is not idempotent:\n%s\n---- then ----\n%s", a.String(), b.String())
	}
	// And the same input gives the same bytes.
	var c bytes.Buffer
	if err := Encode(&c, wrapString(t, manifests, o)); err != nil {
		t.Fatal(err)
	}
	if a.String() != c.String() {
		t.Error("wrap output is not deterministic")
	}
}

func TestWrapAllClusters(t *testing.T) {
	in := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx","namespace":"default"}}`
	out := wrapString(t, in, Options{TemplateNamespace: "argosy-templates", AllClusters: true})
	if len(out) != 2 {
		t.Fatalf("%d objects, want the template and its policy", len(out))
	}
	p := out[1]
	if p.GetKind() != "ClusterPropagationPolicy" || p.GetName() != out[0].GetName() {
		t.Fatalf("policy %s %s, want a ClusterPropagationPolicy named %s", p.GetKind(), p.GetName(), out[0].GetName())
	}
	got, _ := json.Marshal(p.Object["spec"])
	want := `{"placement":{"replicaScheduling":{"replicaSchedulingType":"Duplicated"}},"resourceSelectors":[{"apiVersion":"apps/v1","kind":"Deployment","name":"nginx","namespace":"default"}]}`
	if string(got) != want {
		t.Errorf("policy spec %s, want %s", got, want)
	}
}

func TestWrapErrors(t *testing.T) {
	cases := []struct {
		desc, in, wantErr string
	}{
		{"no name", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}`, "ConfigMap: metadata.name is required"},
		{"generateName", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"x-"}}`, `generateName "x-"`},
		{"no kind", "apiVersion: v1\nmetadata: {name: a}\n", "stdin: document 1: apiVersion and kind are required"},
		{"same object twice", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n", "ConfigMap default/a is given twice"},
		{"bad yaml", "apiVersion: v1\nkind: [\n", "stdin: document 1"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			objs, err := Decode(Source{Name: "stdin", Data: []byte(c.in)})
			if err == nil {
				_, err = Wrap(objs, Options{TemplateNamespace: "argosy-templates"})
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %v, want %q", err, c.wantErr)
			}
		})
	}
}

func TestBuiltinScope(t *testing.T) {
	for gk, wantNamespaced := range map[schema.GroupKind]bool{
		{Kind: "Namespace"}: false,
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: false,
		{Group: "apps", Kind: "Deployment"}:                               true,
		{Group: "example.com", Kind: "Widget"}:                            true,
	} {
		if namespaced, _, _ := BuiltinScope(gk); namespaced != wantNamespaced {
			t.Errorf("%s namespaced %v, want %v", gk, namespaced, wantNamespaced)
		}
	}
}
