// Package hostwrites counts the manager's writes to the host apiserver by
// controller, resource and verb (metric argosy_host_writes_total), so that
// an operator sees what Argosy costs the apiserver it shares with
// everything else: the host apiserver's own apiserver_request_total cannot
// tell Argosy's requests from others'.
package hostwrites

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// writes is registered once with controller-runtime's registry, like
// controller-runtime's own metrics, so that every manager in a process
// (tests start several) shares it.
var writes = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "argosy_host_writes_total",
	Help: "Writes of the Argosy manager to the host apiserver, by controller, resource (with subresource) and verb (create, update, patch, apply, delete).",
}, []string{"controller", "resource", "verb"})

func init() { metrics.Registry.MustRegister(writes) }

// Config returns a copy of cfg whose requests are counted under
// controller.
func Config(cfg *rest.Config, controller string) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &counter{next: rt, controller: controller} })
	return c
}

type counter struct {
	next       http.RoundTripper
	controller string
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	if verb := Verb(req.Method, req.Header.Get("Content-Type")); verb != "" {
		writes.WithLabelValues(c.controller, Resource(req.URL.Path), verb).Inc()
	}
	return c.next.RoundTrip(req)
}

// Verb names a write by its HTTP method and content type; "" for reads.
func Verb(method, contentType string) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodDelete:
		return "delete"
	case http.MethodPatch:
		if strings.HasPrefix(contentType, "application/apply-patch") {
			return "apply"
		}
		return "patch"
	}
	return ""
}

// Resource reads the resource, and its subresource, from an API path:
// /apis/work.argosy.dev/v1alpha1/namespaces/t/resourcebindings/rb/status
// gives "resourcebindings/status", /api/v1/namespaces/t/events "events".
func Resource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:] // api, v1
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:] // apis, group, version
	default:
		return "other"
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		if len(parts) == 2 {
			return "namespaces"
		}
		parts = parts[2:]
	}
	switch len(parts) {
	case 0:
		return "other"
	case 1, 2:
		return parts[0]
	}
	return parts[0] + "/" + parts[2]
}
