package install

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	certutil "k8s.io/client-go/util/cert"
)

// localWebhook serves the manager's admission webhooks on loopback for a
// host that cannot reach a Service (nothing runs Pods on the fleet): the
// webhook configurations get a URL and the CA of a certificate made here,
// instead of the Service and the manager's self-managed certificate.
type localWebhook struct {
	port    int
	certDir string
	ca      []byte
}

func newLocalWebhook(dir string) (*localWebhook, error) {
	addr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	_, portStr, _ := strings.Cut(addr, ":")
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, err
	}
	// The certificate PEM holds the serving certificate followed by the CA
	// that signed it; the whole chain is a valid caBundle.
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("127.0.0.1", nil, []string{"localhost"})
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "webhook-certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.crt"), certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.key"), keyPEM, 0o600); err != nil {
		return nil, err
	}
	return &localWebhook{port: port, certDir: certDir, ca: certPEM}, nil
}

func (w *localWebhook) managerArgs() []string {
	return []string{
		"--enable-webhooks=true",
		"--webhook-host=127.0.0.1",
		"--webhook-port=" + strconv.Itoa(w.port),
		"--webhook-cert-dir=" + w.certDir,
		"--webhook-cert-secret=", // the certificate above, not a self-managed one
	}
}

// redirect rewrites every webhook of a configuration from the Service to
// the loopback URL with the same path. The configuration is renamed
// (argosy-local-...) so that it never collides with the Service-based one of
// config/default: `kubectl apply -k config/default` on the local host then
// still works.
func (w *localWebhook) redirect(cfg *unstructured.Unstructured) error {
	cfg.SetName(strings.Replace(cfg.GetName(), "argosy-", "argosy-local-", 1))
	hooks, _, err := unstructured.NestedSlice(cfg.Object, "webhooks")
	if err != nil {
		return fmt.Errorf("%s %s: %w", cfg.GetKind(), cfg.GetName(), err)
	}
	for i, h := range hooks {
		hook, ok := h.(map[string]any)
		if !ok {
			return fmt.Errorf("%s %s: webhook %d is not an object", cfg.GetKind(), cfg.GetName(), i)
		}
		path, _, _ := unstructured.NestedString(hook, "clientConfig", "service", "path")
		hook["clientConfig"] = map[string]any{
			"url":      fmt.Sprintf("https://127.0.0.1:%d%s", w.port, path),
			"caBundle": base64.StdEncoding.EncodeToString(w.ca),
		}
		hooks[i] = hook
	}
	return unstructured.SetNestedSlice(cfg.Object, hooks, "webhooks")
}
