package membership

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Target is a member apiserver as one context of a kubeconfig names it,
// with every file it refers to read and embedded, so that it can be
// stored or used without the files.
type Target struct {
	// Context is the context that was chosen.
	Context string
	// Cluster is the context's cluster entry (server, CA data, TLS server
	// name, proxy URL, insecure-skip-tls-verify), files embedded.
	Cluster *clientcmdapi.Cluster
	// AuthInfo is the context's user, files embedded; nil when the
	// context names none.
	AuthInfo *clientcmdapi.AuthInfo
	// Namespace is the context's namespace, if any.
	Namespace string
}

// LoadKubeconfig reads a kubeconfig file and picks context (or its
// current-context). It refuses what it cannot carry into a Secret or run
// without the user's machine: exec and auth-provider credential plugins
// (the manager never runs commands from a kubeconfig), and files
// (certificate-authority, client-certificate, client-key, tokenFile) it
// cannot read. Readable files are embedded. Errors name the file, the
// context and the field.
func LoadKubeconfig(path, context string) (*Target, error) {
	raw, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig %s: %w", path, err)
	}
	// Relative file paths are relative to the kubeconfig, as for kubectl.
	if err := clientcmd.ResolveLocalPaths(raw); err != nil {
		return nil, fmt.Errorf("reading kubeconfig %s: %w", path, err)
	}
	t, err := ChooseContext(raw, context)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return t, nil
}

// ChooseContext is LoadKubeconfig on a parsed kubeconfig (relative file
// paths are taken against the working directory).
func ChooseContext(raw *clientcmdapi.Config, context string) (*Target, error) {
	return chooseContext(raw, context, true)
}

// chooseContext reads the files the context names into the target when
// readFiles is set, and refuses them otherwise.
func chooseContext(raw *clientcmdapi.Config, context string, readFiles bool) (*Target, error) {
	name := context
	if name == "" {
		name = raw.CurrentContext
	}
	if name == "" {
		return nil, fmt.Errorf("it has no current-context; choose one with --cluster-context")
	}
	kctx, ok := raw.Contexts[name]
	if !ok {
		return nil, fmt.Errorf("it has no context %q", name)
	}
	cl, ok := raw.Clusters[kctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("context %q names cluster %q, which it does not define", name, kctx.Cluster)
	}
	if cl.Server == "" {
		return nil, fmt.Errorf("cluster %q of context %q has no server", kctx.Cluster, name)
	}
	cl = cl.DeepCopy()
	if cl.CertificateAuthority != "" {
		data, err := readFile(name, "cluster "+kctx.Cluster, "certificate-authority", cl.CertificateAuthority, readFiles)
		if err != nil {
			return nil, err
		}
		cl.CertificateAuthorityData, cl.CertificateAuthority = data, ""
	}
	t := &Target{Context: name, Cluster: cl, Namespace: kctx.Namespace}
	if kctx.AuthInfo == "" {
		return t, nil
	}
	auth, ok := raw.AuthInfos[kctx.AuthInfo]
	if !ok {
		return nil, fmt.Errorf("context %q names user %q, which it does not define", name, kctx.AuthInfo)
	}
	switch {
	case auth.Exec != nil:
		return nil, fmt.Errorf("user %q of context %q runs an exec credential plugin (%s), which kubectl-argosy does not run: use a context with a token or a client certificate (for example from `kubectl config view --raw --minify --flatten` of an admin kubeconfig)", kctx.AuthInfo, name, auth.Exec.Command)
	case auth.AuthProvider != nil:
		return nil, fmt.Errorf("user %q of context %q uses the auth-provider plugin %q, which kubectl-argosy does not run: use a context with a token or a client certificate", kctx.AuthInfo, name, auth.AuthProvider.Name)
	}
	auth = auth.DeepCopy()
	for _, f := range []struct {
		field string
		path  *string
		data  *[]byte
	}{
		{"client-certificate", &auth.ClientCertificate, &auth.ClientCertificateData},
		{"client-key", &auth.ClientKey, &auth.ClientKeyData},
	} {
		if *f.path == "" {
			continue
		}
		data, err := readFile(name, "user "+kctx.AuthInfo, f.field, *f.path, readFiles)
		if err != nil {
			return nil, err
		}
		*f.data, *f.path = data, ""
	}
	if auth.TokenFile != "" {
		data, err := readFile(name, "user "+kctx.AuthInfo, "tokenFile", auth.TokenFile, readFiles)
		if err != nil {
			return nil, err
		}
		auth.Token, auth.TokenFile = string(data), ""
	}
	t.AuthInfo = auth
	return t, nil
}

func readFile(context, owner, field, path string, allowed bool) ([]byte, error) {
	if !allowed {
		return nil, fmt.Errorf("%s of context %q names the file %s (%s); embed the data instead", owner, context, path, field)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s of context %q names the file %s (%s), which cannot be read to embed it: %w", owner, context, path, field, err)
	}
	return data, nil
}

// Kubeconfig is a standalone kubeconfig for t (one cluster, user and
// context, all named name), with the user's credentials replaced by token
// when token is not empty.
func (t *Target) Kubeconfig(name string, token []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cl := t.Cluster.DeepCopy()
	cl.LocationOfOrigin = ""
	cfg.Clusters[name] = cl
	auth := &clientcmdapi.AuthInfo{}
	switch {
	case len(token) > 0:
		auth.Token = string(token)
	case t.AuthInfo != nil:
		auth = t.AuthInfo.DeepCopy()
		auth.LocationOfOrigin = ""
	}
	cfg.AuthInfos[name] = auth
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// RESTConfig is a client config for t with the user's own credentials.
func (t *Target) RESTConfig() (*rest.Config, error) {
	data, err := t.Kubeconfig("member", nil)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", t.Context, err)
	}
	return cfg, nil
}
