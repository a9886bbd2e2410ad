package template

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestName(t *testing.T) {
	long := strings.Repeat("a", 250)
	cases := []struct {
		desc                         string
		group, kind, namespace, name string
		wantPrefix                   string
	}{
		{"namespaced deployment", "apps", "Deployment", "default", "nginx", "deployment-default-nginx-"},
		{"core service", "", "Service", "default", "nginx-svc", "service-default-nginx-svc-"},
		{"cluster-scoped CRD keeps dots", "apiextensions.k8s.io", "CustomResourceDefinition", "", "guestbooks.webapp.my.domain", "customresourcedefinition-guestbooks.webapp.my.domain-"},
		{"colons are replaced", "rbac.authorization.k8s.io", "ClusterRole", "", "system:controller:foo", "clusterrole-system-controller-foo-"},
		{"long names are truncated", "apps", "Deployment", "default", long, "deployment-default-aaaa"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got := Name(c.group, c.kind, c.namespace, c.name)
			if !strings.HasPrefix(got, c.wantPrefix) {
				t.Errorf("Name() = %q, want prefix %q", got, c.wantPrefix)
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("Name() = %q is not a valid object name: %v", got, errs)
			}
			if again := Name(c.group, c.kind, c.namespace, c.name); again != got {
				t.Errorf("Name() is not deterministic: %q then %q", got, again)
			}
		})
	}
}

func TestNameDistinguishesIdentities(t *testing.T) {
	// Pairs whose readable parts coincide must still get different names.
	pairs := [][2][4]string{
		{{"apps", "Deployment", "default", "x"}, {"example.com", "Deployment", "default", "x"}},
		{{"", "ConfigMap", "a", "b-c"}, {"", "ConfigMap", "a-b", "c"}},
		{{"", "ConfigMap", "default", "a:b"}, {"", "ConfigMap", "default", "a-b"}},
	}
	for _, p := range pairs {
		a := Name(p[0][0], p[0][1], p[0][2], p[0][3])
		b := Name(p[1][0], p[1][1], p[1][2], p[1][3])
		if a == b {
			t.Errorf("%v and %v both named %q", p[0], p[1], a)
		}
	}
}
