package member

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/cluster-api/util/kubeconfig"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// capiKubeconfigSuffix is the suffix of the Secret that Cluster API writes
// for every workload cluster: <cluster>-kubeconfig, key "value".
const capiKubeconfigSuffix = "-kubeconfig"

// clientSettings are the parts of the rest.Config that the Cache sets itself.
type clientSettings struct {
	QPS   float32
	Burst int
}

// buildConfig reads the credentials of cl and returns the rest.Config to
// reach it, with spec.apiEndpoint, spec.insecureSkipTLSVerification,
// spec.proxyURL and spec.proxyHeader applied, and a hash that changes
// whenever anything that affects the connection changes. Failures are
// *Error of KindCredentials.
func buildConfig(ctx context.Context, host client.Reader, cl *clusterv1alpha1.Cluster, allowedNamespace string, s clientSettings) (*rest.Config, string, error) {
	ref := cl.Spec.SecretRef
	if ref == nil || ref.Name == "" {
		return nil, "", credentialsError("", nil, "spec.secretRef is not set: the manager needs credentials to reach the member")
	}
	secretName := ref.Namespace + "/" + ref.Name
	if allowedNamespace != "" && ref.Namespace != allowedNamespace {
		return nil, "", credentialsError(secretName, nil, "Secret %s is outside %s: the manager only reads member credentials from its own namespace", secretName, allowedNamespace)
	}
	cfg, err := credentials(ctx, host, cl, secretName)
	if err != nil {
		return nil, "", err
	}
	if cl.Spec.APIEndpoint != "" {
		cfg.Host = cl.Spec.APIEndpoint
	}
	if cfg.Host == "" {
		return nil, "", credentialsError(secretName, nil, "neither spec.apiEndpoint nor the kubeconfig in Secret %s names the API server", secretName)
	}
	if cl.Spec.InsecureSkipTLSVerification {
		// client-go refuses a CA together with Insecure.
		cfg.Insecure = true
		cfg.CAData, cfg.CAFile = nil, ""
	}
	if cl.Spec.ProxyURL != "" {
		u, err := url.Parse(cl.Spec.ProxyURL)
		if err != nil {
			return nil, "", &Error{Kind: KindCredentials, Secret: secretName, Err: err, Message: fmt.Sprintf("spec.proxyURL %q is not a URL: %v", cl.Spec.ProxyURL, err)}
		}
		cfg.Proxy = http.ProxyURL(u)
		if len(cl.Spec.ProxyHeader) > 0 {
			cfg.Wrap(proxyHeaderWrapper(cl.Spec.ProxyHeader))
		}
	} else {
		// An explicit (but default) proxy function makes client-go build a
		// transport of this member's own rather than one shared through its
		// global TLS cache, so that Remove can close its connections.
		cfg.Proxy = http.ProxyFromEnvironment
	}
	cfg.QPS, cfg.Burst = s.QPS, s.Burst
	cfg.UserAgent = "argosy-manager"
	return cfg, configHash(cfg, cl.Spec.ProxyURL, cl.Spec.ProxyHeader), nil
}

// credentials reads the Secret named by spec.secretRef: a kubeconfig under
// "value" (read with cluster-api's utilities when the Secret follows its
// <cluster>-kubeconfig naming) or a token under "token" with the CA under
// "caBundle".
func credentials(ctx context.Context, host client.Reader, cl *clusterv1alpha1.Cluster, secretName string) (*rest.Config, error) {
	ref := cl.Spec.SecretRef
	if ref.Name == cl.Name+capiKubeconfigSuffix {
		data, err := kubeconfig.FromSecret(ctx, host, client.ObjectKey{Namespace: ref.Namespace, Name: cl.Name})
		if err == nil {
			return fromKubeconfig(data, secretName)
		}
		if apierrors.IsNotFound(err) {
			return nil, credentialsError(secretName, err, "the credentials Secret %s does not exist", secretName)
		}
		// A <cluster>-kubeconfig Secret in the token format falls through.
	}
	var sec corev1.Secret
	if err := host.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, credentialsError(secretName, err, "the credentials Secret %s does not exist", secretName)
		}
		return nil, credentialsError(secretName, err, "reading the credentials Secret %s: %v", secretName, err)
	}
	if data, ok := sec.Data[clusterv1alpha1.SecretKubeconfigKey]; ok {
		return fromKubeconfig(data, secretName)
	}
	token := strings.TrimSpace(string(sec.Data[clusterv1alpha1.SecretTokenKey]))
	if token == "" {
		return nil, credentialsError(secretName, nil, "the credentials Secret %s has neither a kubeconfig under key %q nor a token under key %q",
			secretName, clusterv1alpha1.SecretKubeconfigKey, clusterv1alpha1.SecretTokenKey)
	}
	return &rest.Config{
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: sec.Data[clusterv1alpha1.SecretCADataKey]},
	}, nil
}

// fromKubeconfig builds a config from a kubeconfig's current context. It
// refuses what would make the manager run a command or read its own files
// (exec and auth-provider plugins, file paths): whoever can write a Secret
// in the system namespace must not gain the manager's process or identity.
func fromKubeconfig(data []byte, secretName string) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, credentialsError(secretName, err, "the kubeconfig in Secret %s is not valid: %v", secretName, err)
	}
	ctxName := raw.CurrentContext
	kctx, ok := raw.Contexts[ctxName]
	if !ok && len(raw.Contexts) == 1 {
		for name, c := range raw.Contexts {
			ctxName, kctx, ok = name, c, true
		}
	}
	if !ok {
		return nil, credentialsError(secretName, nil, "the kubeconfig in Secret %s has no current-context", secretName)
	}
	if err := checkKubeconfig(raw, kctx); err != nil {
		return nil, credentialsError(secretName, nil, "the kubeconfig in Secret %s cannot be used: %s", secretName, err)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, ctxName, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, credentialsError(secretName, err, "the kubeconfig in Secret %s is not valid: %v", secretName, err)
	}
	return cfg, nil
}

func checkKubeconfig(raw *clientcmdapi.Config, kctx *clientcmdapi.Context) error {
	cluster, ok := raw.Clusters[kctx.Cluster]
	if !ok {
		return fmt.Errorf("its context names cluster %q, which it does not define", kctx.Cluster)
	}
	if cluster.CertificateAuthority != "" {
		return fmt.Errorf("it names a file (certificate-authority); embed certificate-authority-data instead")
	}
	auth, ok := raw.AuthInfos[kctx.AuthInfo]
	if !ok {
		if kctx.AuthInfo == "" {
			return nil
		}
		return fmt.Errorf("its context names user %q, which it does not define", kctx.AuthInfo)
	}
	switch {
	case auth.Exec != nil:
		return fmt.Errorf("it runs an exec credential plugin; use a token or a client certificate")
	case auth.AuthProvider != nil:
		return fmt.Errorf("it uses an auth-provider plugin; use a token or a client certificate")
	case auth.ClientCertificate != "" || auth.ClientKey != "" || auth.TokenFile != "":
		return fmt.Errorf("it names a file (client-certificate, client-key or tokenFile); embed the data instead")
	}
	return nil
}

// configHash covers everything that decides where and how the member is
// dialled and who the manager is there. Functions (Proxy, Wrap) are hashed
// through the spec fields they are made from.
func configHash(cfg *rest.Config, proxyURL string, proxyHeader map[string]string) string {
	headers := make([]string, 0, len(proxyHeader))
	for k, v := range proxyHeader {
		headers = append(headers, k+"="+v)
	}
	slices.Sort(headers)
	in := struct {
		Host, APIPath, Username, Password, BearerToken, BearerTokenFile string
		Impersonate                                                     rest.ImpersonationConfig
		Insecure                                                        bool
		ServerName, CertFile, KeyFile, CAFile                           string
		CertData, KeyData, CAData                                       []byte
		NextProtos                                                      []string
		ProxyURL                                                        string
		ProxyHeader                                                     []string
		QPS                                                             float32
		Burst                                                           int
	}{
		cfg.Host, cfg.APIPath, cfg.Username, cfg.Password, cfg.BearerToken, cfg.BearerTokenFile,
		cfg.Impersonate,
		cfg.Insecure,
		cfg.ServerName, cfg.CertFile, cfg.KeyFile, cfg.CAFile,
		cfg.CertData, cfg.KeyData, cfg.CAData,
		cfg.NextProtos,
		proxyURL, headers,
		cfg.QPS, cfg.Burst,
	}
	b, _ := json.Marshal(in) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// proxyHeaderWrapper sends spec.proxyHeader to the proxy: on the CONNECT
// request for https endpoints, and on every request for plain http ones
// (the proxy reads them from the request itself then).
func proxyHeaderWrapper(headers map[string]string) func(http.RoundTripper) http.RoundTripper {
	h := http.Header{}
	for k, v := range headers {
		for part := range strings.SplitSeq(v, ",") {
			h.Add(k, strings.TrimSpace(part))
		}
	}
	return func(rt http.RoundTripper) http.RoundTripper {
		if t, ok := rt.(*http.Transport); ok {
			t = t.Clone()
			t.ProxyConnectHeader = h.Clone()
			rt = t
		}
		return &proxyHeaderRoundTripper{rt: rt, headers: h}
	}
}

type proxyHeaderRoundTripper struct {
	rt      http.RoundTripper
	headers http.Header
}

func (p *proxyHeaderRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		req = req.Clone(req.Context())
		for k, vs := range p.headers {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	return p.rt.RoundTrip(req)
}

// WrappedRoundTripper lets client-go's debugging helpers see through the wrapper.
func (p *proxyHeaderRoundTripper) WrappedRoundTripper() http.RoundTripper { return p.rt }

// RESTConfig is the client config the manager builds for cl from what the
// host stores (the credentials Secret, spec.apiEndpoint, TLS and proxy
// settings), with the same refusals, for tools that act on a member as the
// manager would (`kubectl argosy promote`).
func RESTConfig(ctx context.Context, host client.Reader, cl *clusterv1alpha1.Cluster) (*rest.Config, error) {
	cfg, _, err := buildConfig(ctx, host, cl, "", clientSettings{QPS: 20, Burst: 40})
	return cfg, err
}
