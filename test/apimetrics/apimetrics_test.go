package apimetrics

import (
	"strings"
	"testing"
)

const sampleMetrics = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests ...
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 10
apiserver_request_total{code="201",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 4
apiserver_request_total{code="200",component="apiserver",dry_run="",group="work.argosy.dev",resource="resourcebindings",scope="resource",subresource="status",verb="APPLY",version="v1alpha1"} 7
apiserver_request_total{code="409",component="apiserver",dry_run="",group="work.argosy.dev",resource="resourcebindings",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 2
apiserver_request_total{code="201",component="apiserver",dry_run="All",group="work.argosy.dev",resource="resourcetemplates",scope="resource",subresource="",verb="POST",version="v1alpha1"} 5
apiserver_request_total{code="200",component="apiserver",dry_run="",group="work.argosy.dev",resource="resourcebindings",scope="namespace",subresource="",verb="LIST",version="v1alpha1"} 99
apiserver_request_total_other{resource="x"} 1
`

func TestParseWrites(t *testing.T) {
	samples, err := parse(sampleMetrics, "apiserver_request_total")
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 6 {
		t.Fatalf("%d samples, want 6", len(samples))
	}
	w := writesOf(samples)
	want := map[string]float64{
		"core/events":                             10,
		"events.k8s.io/events":                    4,
		"work.argosy.dev/resourcebindings/status": 9,
	}
	if len(w.Counts) != len(want) {
		t.Fatalf("counts %v, want %v", w.Counts, want)
	}
	for k, v := range want {
		if w.Counts[k] != v {
			t.Errorf("%s: %v, want %v", k, w.Counts[k], v)
		}
	}
	if w.Total() != 23 || w.DryRunTotal() != 5 || w.FailedTotal() != 2 {
		t.Errorf("total %v dry %v failed %v", w.Total(), w.DryRunTotal(), w.FailedTotal())
	}
	if w.ByVerb["work.argosy.dev/resourcebindings/status"]["PATCH"] != 2 {
		t.Errorf("by verb %v", w.ByVerb)
	}
	d := w.Sub(writesOf(samples[:1]))
	if d.Counts["core/events"] != 0 || d.Total() != 13 {
		t.Errorf("difference %v", d.Counts)
	}
	if tab := d.Table(2); !strings.Contains(tab, "total") || !strings.Contains(tab, "dry-run 2.50") {
		t.Errorf("table:\n%s", tab)
	}
	if sum := d.Summary(2); !strings.HasPrefix(sum, "total 6.50 (13 writes); work.argosy.dev/resourcebindings/status 4.50 [PATCH 2 APPLY 7 failed 2]") {
		t.Errorf("summary: %s", sum)
	}
}

func TestParseLabelsEscapes(t *testing.T) {
	l, rest, err := parseLabels(`a="x\"y",b="" } 3`)
	if err != nil || l["a"] != `x"y` || l["b"] != "" || strings.TrimSpace(rest) != "3" {
		t.Fatalf("%v %q %v", l, rest, err)
	}
}
