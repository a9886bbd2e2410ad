package integration

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// servedKind is what a kubectl user expects of each kind of DESIGN §2.
type servedKind struct {
	group, kind, resource string
	namespaced            bool
	shortNames            []string
	columns               []string // printer columns, in addition to Name
}

var servedKinds = []servedKind{
	{"cluster.argosy.dev", "Cluster", "clusters", false, []string{"clu"}, []string{"Version", "Mode", "Ready", "Age"}},
	{"policy.argosy.dev", "PropagationPolicy", "propagationpolicies", true, []string{"pp"}, []string{"Priority", "Age"}},
	{"policy.argosy.dev", "ClusterPropagationPolicy", "clusterpropagationpolicies", false, []string{"cpp"}, []string{"Priority", "Age"}},
	{"policy.argosy.dev", "OverridePolicy", "overridepolicies", true, []string{"op"}, []string{"Age"}},
	{"policy.argosy.dev", "ClusterOverridePolicy", "clusteroverridepolicies", false, []string{"cop"}, []string{"Age"}},
	{"work.argosy.dev", "ResourceTemplate", "resourcetemplates", true, []string{"rt"}, []string{"Kind", "Age"}},
	{"work.argosy.dev", "ResourceBinding", "resourcebindings", true, []string{"rb"}, []string{"Scheduled", "FullyApplied", "Age"}},
	{"work.argosy.dev", "Work", "works", true, nil, []string{"Applied", "Age"}},
	{"apps.argosy.dev", "WorkloadRebalancer", "workloadrebalancers", false, []string{"wr"}, []string{"Age"}},
	{"autoscaling.argosy.dev", "FederatedHPA", "federatedhpas", true, []string{"fhpa"}, []string{"Reference-Kind", "Reference-Name", "MinPods", "MaxPods", "Replicas", "Age"}},
	{"autoscaling.argosy.dev", "CronFederatedHPA", "cronfederatedhpas", true, []string{"cronfhpa"}, []string{"Reference-Kind", "Reference-Name", "Age"}},
}

// TestKindsServed checks every kind through the apiserver's discovery and
// table output, exactly what `kubectl api-resources` and `kubectl get` read.
func TestKindsServed(t *testing.T) {
	dc := discovery.NewDiscoveryClientForConfigOrDie(cfg)
	for _, k := range servedKinds {
		t.Run(k.kind, func(t *testing.T) {
			gv := schema.GroupVersion{Group: k.group, Version: "v1alpha1"}
			list, err := dc.ServerResourcesForGroupVersion(gv.String())
			if err != nil {
				t.Fatalf("discovery of %s: %v", gv, err)
			}
			var res *metav1.APIResource
			var hasStatus bool
			for i := range list.APIResources {
				r := &list.APIResources[i]
				switch r.Name {
				case k.resource:
					res = r
				case k.resource + "/status":
					hasStatus = true
				}
			}
			if res == nil {
				t.Fatalf("%s is not served in %s", k.resource, gv)
			}
			if res.Kind != k.kind || res.Namespaced != k.namespaced {
				t.Errorf("%s: kind %q namespaced %v, want %q %v", k.resource, res.Kind, res.Namespaced, k.kind, k.namespaced)
			}
			if !hasStatus {
				t.Errorf("%s has no status subresource", k.resource)
			}
			if len(res.ShortNames) == 0 {
				t.Errorf("%s has no short name", k.resource)
			}
			for _, s := range k.shortNames {
				if !slices.Contains(res.ShortNames, s) {
					t.Errorf("%s short names %v lack %q", k.resource, res.ShortNames, s)
				}
			}
			if !slices.Contains(res.Categories, "argosy") {
				t.Errorf("%s categories %v lack %q", k.resource, res.Categories, "argosy")
			}
			cols := tableColumns(t, gv, k.resource, k.namespaced)
			for _, c := range k.columns {
				if !slices.ContainsFunc(cols, func(s string) bool { return equalFoldDash(s, c) }) {
					t.Errorf("%s printer columns %v lack %q", k.resource, cols, c)
				}
			}
		})
	}
}

// tableColumns asks the apiserver for a list as a Table, as kubectl get does.
func tableColumns(t *testing.T, gv schema.GroupVersion, resource string, namespaced bool) []string {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &gv
	c.APIPath = "/apis"
	c.NegotiatedSerializer = serializer.NewCodecFactory(k8sClient.Scheme()).WithoutConversion()
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		t.Fatal(err)
	}
	req := rc.Get().Resource(resource).SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	if namespaced {
		req = req.Namespace("default")
	}
	raw, err := req.DoRaw(context.Background())
	if err != nil {
		t.Fatalf("table of %s: %v", resource, err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("table of %s: %v", resource, err)
	}
	var names []string
	for _, cd := range table.ColumnDefinitions {
		names = append(names, cd.Name)
	}
	return names
}

// equalFoldDash compares column names the way a reader does: "MinPods",
// "MINPODS" and "Min-Pods" are the same column.
func equalFoldDash(a, b string) bool {
	norm := func(s string) string {
		out := make([]rune, 0, len(s))
		for _, r := range s {
			switch {
			case r == '-' || r == '_' || r == ' ':
			case r >= 'A' && r <= 'Z':
				out = append(out, r+'a'-'A')
			default:
				out = append(out, r)
			}
		}
		return string(out)
	}
	return norm(a) == norm(b)
}
