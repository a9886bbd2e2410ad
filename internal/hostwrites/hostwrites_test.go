package hostwrites

import "testing"

func TestResourceAndVerb(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/apis/work.argosy.dev/v1alpha1/namespaces/t/resourcebindings/rb/status", "resourcebindings/status"},
		{"/apis/work.argosy.dev/v1alpha1/namespaces/t/resourcebindings/rb", "resourcebindings"},
		{"/apis/work.argosy.dev/v1alpha1/namespaces/t/resourcebindings", "resourcebindings"},
		{"/api/v1/namespaces/t/events", "events"},
		{"/api/v1/namespaces/argosy-es-m1", "namespaces"},
		{"/api/v1/namespaces", "namespaces"},
		{"/apis/cluster.argosy.dev/v1alpha1/clusters/m1/status", "clusters/status"},
		{"/healthz", "other"},
	} {
		if got := Resource(tt.path); got != tt.want {
			t.Errorf("Resource(%s) = %q, want %q", tt.path, got, tt.want)
		}
	}
	for _, tt := range []struct{ method, ct, want string }{
		{"GET", "", ""}, {"POST", "application/json", "create"}, {"PUT", "", "update"}, {"DELETE", "", "delete"},
		{"PATCH", "application/merge-patch+json", "patch"}, {"PATCH", "application/apply-patch+yaml", "apply"},
	} {
		if got := Verb(tt.method, tt.ct); got != tt.want {
			t.Errorf("Verb(%s, %s) = %q, want %q", tt.method, tt.ct, got, tt.want)
		}
	}
}
