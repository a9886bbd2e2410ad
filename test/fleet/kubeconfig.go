package fleet

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfig returns a kubeconfig with one context per cluster (cluster and
// user named like the context), the certs embedded so the file stands alone.
func kubeconfig(current string, clusters ...*cluster) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	for _, c := range clusters {
		cfg.Clusters[c.context] = &clientcmdapi.Cluster{
			Server:                   c.endpoint(),
			CertificateAuthorityData: c.pki.caPEM,
		}
		cfg.AuthInfos[c.context] = &clientcmdapi.AuthInfo{
			ClientCertificateData: c.pki.adminCertPEM,
			ClientKeyData:         c.pki.adminKeyPEM,
		}
		cfg.Contexts[c.context] = &clientcmdapi.Context{Cluster: c.context, AuthInfo: c.context}
	}
	cfg.CurrentContext = current
	return clientcmd.Write(*cfg)
}

// restConfig turns a single-cluster kubeconfig into a client config with
// limits raised above client-go's 5 QPS, which would throttle tests.
func restConfig(kubeconfig []byte) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}
