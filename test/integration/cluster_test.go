package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// TestClusterControllerRegistersEnvtestAsMember registers the envtest
// apiserver as a member of itself through the production wiring of the
// manager: a Cluster created before its credentials is CredentialsUnavailable
// at once (a first observation is not held back); the Secret's arrival,
// seen through the Secret watch well before the 10s probe period, connects
// it and records the apiserver's version, while Ready stays False for the
// manager's 30s success threshold.
func TestClusterControllerRegistersEnvtestAsMember(t *testing.T) {
	ctx := context.Background()
	const name = "envtest-self"
	cl := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: clusterv1alpha1.ClusterSpec{
			SyncMode: clusterv1alpha1.Push, APIEndpoint: cfg.Host,
			SecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: mgrOptions.SystemNamespace, Name: name + "-kubeconfig"},
		},
	}
	if err := k8sClient.Create(ctx, cl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), cl) })

	waitReady := func(status metav1.ConditionStatus, reason string) *clusterv1alpha1.Cluster {
		t.Helper()
		var got clusterv1alpha1.Cluster
		var last *metav1.Condition
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 8*time.Second, true, func(ctx context.Context) (bool, error) {
			if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &got); err != nil {
				return false, nil
			}
			last = meta.FindStatusCondition(got.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
			return last != nil && last.Status == status && last.Reason == reason, nil
		})
		if err != nil {
			t.Fatalf("Ready never %s/%s; last %+v", status, reason, last)
		}
		return &got
	}
	waitReady(metav1.ConditionFalse, clusterv1alpha1.ClusterReasonCredentialsUnavailable)

	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: "https://wrong.invalid:1", CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: mgrOptions.SystemNamespace, Name: name + "-kubeconfig"},
		Data:       map[string][]byte{clusterv1alpha1.SecretKubeconfigKey: data},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), secret) })

	// Ready only after the manager's success threshold (30s by default):
	// the recorded False must first have been held that long. Until then the
	// Cluster stays False; the status already shows the version.
	dc := discovery.NewDiscoveryClientForConfigOrDie(cfg)
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	var got clusterv1alpha1.Cluster
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 8*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &got); err != nil {
			return false, nil
		}
		return got.Status.KubernetesVersion == v.GitVersion && got.Status.NodeSummary != nil, nil
	})
	if err != nil {
		t.Fatalf("status never showed version %s and a node summary: %+v", v.GitVersion, got.Status)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, clusterv1alpha1.ClusterConditionReady); c.Status != metav1.ConditionFalse {
		t.Errorf("Ready turned %s before the success threshold", c.Status)
	}
	if got.Status.NodeSummary.TotalNum != 0 {
		t.Errorf("envtest has no nodes, nodeSummary %+v", got.Status.NodeSummary)
	}
}
