// Package apimetrics reads the kube-apiserver's own request counters, so
// that tests and benchmarks can count the writes a controller makes without
// trusting the controller to count them.
package apimetrics

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Requests sums apiserver_request_total over the given verbs (APPLY, PATCH,
// POST, PUT, ...) for a resource and subresource ("" for the main resource).
func Requests(ctx context.Context, cfg *rest.Config, resource, subresource string, verbs ...string) (float64, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the apiserver's metrics: %w", err)
	}
	var sum float64
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") ||
			!strings.Contains(line, `resource="`+resource+`"`) ||
			!strings.Contains(line, `subresource="`+subresource+`"`) || !hasVerb(line, verbs) {
			continue
		}
		var v float64
		if _, err := fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v); err == nil {
			sum += v
		}
	}
	return sum, nil
}

func hasVerb(line string, verbs []string) bool {
	for _, v := range verbs {
		if strings.Contains(line, `verb="`+v+`"`) {
			return true
		}
	}
	return false
}
