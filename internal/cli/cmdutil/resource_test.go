package cmdutil

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// testMapper is a static mapper with the kinds the CLI tests need: a
// namespaced built-in, a cluster-scoped built-in and a cluster-scoped
// argosy.dev kind.
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Group: "cluster.argosy.dev", Version: "v1alpha1", Kind: "Cluster"}, meta.RESTScopeRoot)
	return m
}

func TestSplitKindName(t *testing.T) {
	cases := []struct {
		arg, kind, name, wantErr string
	}{
		{arg: "deployment/foo", kind: "deployment", name: "foo"},
		{arg: "deployments.apps/foo", kind: "deployments.apps", name: "foo"},
		{arg: "clusterrole/system:controller:foo", kind: "clusterrole", name: "system:controller:foo"},
		{arg: "foo", wantErr: `argument "foo": want KIND/NAME`},
		{arg: "deployment/", wantErr: `argument "deployment/"`},
		{arg: "/foo", wantErr: `argument "/foo"`},
		{arg: "deployment/a/b", wantErr: `argument "deployment/a/b"`},
		{arg: "deployment/a b", wantErr: `"a b" is not a valid object name`},
	}
	for _, c := range cases {
		kind, name, err := SplitKindName(c.arg)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("SplitKindName(%q): error %v, want %q", c.arg, err, c.wantErr)
			}
			continue
		}
		if err != nil || kind != c.kind || name != c.name {
			t.Errorf("SplitKindName(%q) = %q, %q, %v; want %q, %q", c.arg, kind, name, err, c.kind, c.name)
		}
	}
}

func TestMapping(t *testing.T) {
	m := testMapper()
	cases := []struct {
		arg     string
		want    schema.GroupVersionKind
		wantErr string
	}{
		{arg: "deployment", want: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
		{arg: "deployments", want: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
		{arg: "Deployment", want: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
		{arg: "deployments.apps", want: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
		{arg: "deployment.v1.apps", want: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
		{arg: "configmap", want: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}},
		{arg: "clusters", want: schema.GroupVersionKind{Group: "cluster.argosy.dev", Version: "v1alpha1", Kind: "Cluster"}},
		{arg: "guestbook", wantErr: `serves no resource type "guestbook"`},
	}
	for _, c := range cases {
		mapping, err := Mapping(m, c.arg)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !meta.IsNoMatchError(err) {
				t.Errorf("Mapping(%q): error %v, want a no-match error with %q", c.arg, err, c.wantErr)
			}
			continue
		}
		if err != nil || mapping.GroupVersionKind != c.want {
			t.Errorf("Mapping(%q) = %v, %v; want %v", c.arg, mapping, err, c.want)
		}
	}
}
