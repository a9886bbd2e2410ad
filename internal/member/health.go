package member

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// maxDetail bounds the part of a health answer quoted in a message.
const maxDetail = 512

// CheckHealth asks the member's /readyz (and /healthz when /readyz is not
// served or not allowed) with the Cache's timeout. It returns nil when the
// API server answers ok, an *Error of KindUnhealthy naming the failed checks
// when it answers otherwise, and the classified error when it cannot be asked.
func (m *Member) CheckHealth(ctx context.Context) error {
	code, body, err := m.get(ctx, "/readyz")
	if code == http.StatusNotFound || code == http.StatusForbidden {
		code, body, err = m.get(ctx, "/healthz")
	}
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == 0:
		return Classify(err, m.Endpoint, m.Secret)
	}
	detail := failedChecks(body)
	if detail == "" {
		detail = fmt.Sprintf("HTTP %d", code)
	}
	return &Error{
		Kind: KindUnhealthy, Endpoint: m.Endpoint, Secret: m.Secret, Err: err,
		Message: fmt.Sprintf("the API server at %s is not ready: %s", m.Endpoint, detail),
	}
}

func (m *Member) get(ctx context.Context, path string) (int, []byte, error) {
	var code int
	res := m.probe.Discovery().RESTClient().Get().AbsPath(path).Do(ctx)
	res.StatusCode(&code)
	body, err := res.Raw()
	if err == nil && code == 0 {
		code = http.StatusOK
	}
	return code, body, err
}

// failedChecks keeps the failed lines of a health answer ("[-]etcd failed:
// reason withheld"), or the answer itself when it has none, shortened.
func failedChecks(body []byte) string {
	var failed []string
	for line := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(line, "[-]") {
			failed = append(failed, strings.TrimSpace(line))
		}
	}
	s := strings.Join(failed, "; ")
	if s == "" {
		s = strings.Join(strings.Fields(string(body)), " ")
	}
	if len(s) > maxDetail {
		s = s[:maxDetail] + "..."
	}
	return s
}
