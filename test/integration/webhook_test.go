package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

func wrap(t *testing.T, name, namespace string, obj map[string]any) *workv1alpha1.ResourceTemplate {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: raw}},
	}
}

func configMap(name, namespace string) map[string]any {
	md := map[string]any{"name": name}
	if namespace != "" {
		md["namespace"] = namespace
	}
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": map[string]any{"k": "v"}}
}

func wrappedNamespace(t *testing.T, rt *workv1alpha1.ResourceTemplate) string {
	t.Helper()
	var obj struct {
		Metadata struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(rt.Spec.Template.Raw, &obj); err != nil {
		t.Fatal(err)
	}
	return obj.Metadata.Namespace
}

// TestTemplateDefaulting: the apiserver calls the mutating webhook, which
// fills the wrapped object's namespace for namespaced kinds and the
// template's derived name.
func TestTemplateDefaulting(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		desc          string
		obj           map[string]any
		wantNamespace string
		wantName      string
	}{
		{"namespaced kind gets default", configMap("defaulted", ""), "default", template.Name("", "ConfigMap", "default", "defaulted")},
		{"cluster-scoped kind stays without namespace",
			map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": "argosy-test-reader"}},
			"", template.Name("rbac.authorization.k8s.io", "ClusterRole", "", "argosy-test-reader")},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			rt := wrap(t, "", "argosy-templates", c.obj)
			if err := k8sClient.Create(ctx, rt); err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() { _ = k8sClient.Delete(ctx, rt) })
			if rt.Name != c.wantName {
				t.Errorf("name %q, want %q", rt.Name, c.wantName)
			}
			if got := wrappedNamespace(t, rt); got != c.wantNamespace {
				t.Errorf("wrapped namespace %q, want %q", got, c.wantNamespace)
			}
		})
	}
}

// TestTemplateScopeFromWrappedCRD: a custom kind the host does not serve
// takes its scope from a CRD wrapped in the template namespace, so a
// cluster-scoped custom resource is not given a namespace.
func TestTemplateScopeFromWrappedCRD(t *testing.T) {
	ctx := context.Background()
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "globals.scope.example.com"},
		"spec": map[string]any{
			"group": "scope.example.com", "scope": "Cluster",
			"names":    map[string]any{"plural": "globals", "singular": "global", "kind": "Global", "listKind": "GlobalList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true, "schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}
	crdRT := wrap(t, "", "argosy-templates", crd)
	if err := k8sClient.Create(ctx, crdRT); err != nil {
		t.Fatalf("wrapping the CRD: %v", err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, crdRT) })

	cr := map[string]any{"apiVersion": "scope.example.com/v1", "kind": "Global", "metadata": map[string]any{"name": "one"}}
	var rt *workv1alpha1.ResourceTemplate
	// The webhook reads wrapped CRDs from the manager's cache: allow it a
	// moment to see the one just created.
	for i := 0; ; i++ {
		rt = wrap(t, "", "argosy-templates", cr)
		if err := k8sClient.Create(ctx, rt); err != nil {
			t.Fatalf("create: %v", err)
		}
		if wrappedNamespace(t, rt) == "" || i == 20 {
			break
		}
		_ = k8sClient.Delete(ctx, rt)
		sleepBriefly()
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, rt) })
	if got := wrappedNamespace(t, rt); got != "" {
		t.Fatalf("cluster-scoped custom resource got namespace %q", got)
	}
}

// TestTemplateRejections: each invariant the webhook owns is enforced with
// a message that names the field.
func TestTemplateRejections(t *testing.T) {
	ctx := context.Background()
	good := template.Name("", "ConfigMap", "default", "rejected")
	cases := []struct {
		desc    string
		rt      *workv1alpha1.ResourceTemplate
		wantMsg []string
	}{
		{"name that is not the derived one", wrap(t, "my-configmap", "argosy-templates", configMap("rejected", "default")),
			[]string{"metadata.name", good}},
		{"template outside the template namespace", wrap(t, good, "default", configMap("rejected", "default")),
			[]string{"metadata.namespace", "argosy-templates"}},
		{"wrapped object without kind", wrap(t, "x", "argosy-templates", map[string]any{"apiVersion": "v1", "metadata": map[string]any{"name": "x"}}),
			[]string{"kind"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			err := k8sClient.Create(ctx, c.rt)
			if err == nil {
				_ = k8sClient.Delete(ctx, c.rt)
				t.Fatal("accepted")
			}
			for _, w := range c.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestTemplateIdentityImmutable: a second template for the same object is
// impossible (same derived name), and a template cannot be moved to wrap
// another object.
func TestTemplateIdentityImmutable(t *testing.T) {
	ctx := context.Background()
	rt := wrap(t, "", "argosy-templates", configMap("immutable", "team-a"))
	if err := k8sClient.Create(ctx, rt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, rt) })

	dup := wrap(t, "", "argosy-templates", configMap("immutable", "team-a"))
	if err := k8sClient.Create(ctx, dup); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second template for the same ConfigMap: %v, want already exists", err)
	}

	// Patches, not updates: the status controller writes the template's
	// status meanwhile, and a stale resourceVersion would only give a
	// conflict.
	moved := rt.DeepCopy()
	moved.Spec.Template = wrap(t, "", "", configMap("immutable", "team-b")).Spec.Template
	err := k8sClient.Patch(ctx, moved, client.MergeFrom(rt))
	if err == nil || !strings.Contains(err.Error(), "spec.template.metadata.namespace") {
		t.Errorf("moving the wrapped object to another namespace: %v, want a spec.template.metadata.namespace error", err)
	}
	renamed := rt.DeepCopy()
	renamed.Spec.Template = wrap(t, "", "", configMap("other", "team-a")).Spec.Template
	if err := k8sClient.Patch(ctx, renamed, client.MergeFrom(rt)); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("renaming the wrapped object: %v, want immutable", err)
	}
}

func sleepBriefly() { time.Sleep(100 * time.Millisecond) }
