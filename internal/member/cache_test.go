package member

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/member/membertest"
	"argosy.dev/argosy/internal/scheme"
)

const ns = "argosy-system"

// otherCA is a CA that signed nothing the test servers present.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func tokenSecret(name, token string, ca []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string][]byte{clusterv1alpha1.SecretTokenKey: []byte(token), clusterv1alpha1.SecretCADataKey: ca},
	}
}

func kubeconfigSecret(t *testing.T, name, server string, ca []byte, token string, mutate func(*clientcmdapi.Config)) *corev1.Secret {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "ctx"
	if mutate != nil {
		mutate(cfg)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string][]byte{clusterv1alpha1.SecretKubeconfigKey: data},
	}
}

func newCluster(name, endpoint, secret string) *clusterv1alpha1.Cluster {
	return &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: clusterv1alpha1.ClusterSpec{
			SyncMode: clusterv1alpha1.Push, APIEndpoint: endpoint,
			SecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: ns, Name: secret},
		},
	}
}

func newTestCache(t *testing.T, objs ...client.Object) (*Cache, client.Client) {
	t.Helper()
	host := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(objs...).Build()
	c := NewCache(host, testr.New(t), WithSecretNamespace(ns), WithTimeout(2*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, host
}

func waitSynced(t *testing.T, m *Member) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return m.Synced(), nil
	})
	if err != nil {
		t.Fatalf("informers of %s never synced: %v (last error: %v)", m.Name, err, m.LastSyncError())
	}
}

func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr
}

func TestConnectServesNodesAndPods(t *testing.T) {
	api := membertest.New(t, "good")
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue}
	api.SetObjects([]corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "n1", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}, Images: []corev1.ContainerImage{{Names: []string{"big"}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "n2"}},
	}, []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "on-n1"}, Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{
			Name: "c", Image: "img", Env: []corev1.EnvVar{{Name: "X", Value: "y"}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
		}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning, HostIP: "10.0.0.1"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "pending"}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
	})
	c, _ := newTestCache(t, tokenSecret("m1-token", "good", api.CA()))
	ctx := context.Background()
	cl := newCluster("m1", api.URL, "m1-token")

	m, err := c.Connect(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("m1") != m {
		t.Fatal("Get does not return the connected member")
	}
	waitSynced(t, m)
	if err := m.CheckHealth(ctx); err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	if v, err := m.Discovery().ServerVersion(); err != nil || v.GitVersion != "v1.37.2" {
		t.Fatalf("ServerVersion = %v, %v", v, err)
	}
	nodes, err := m.Nodes()
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Nodes = %d, %v; want 2", len(nodes), err)
	}
	for _, n := range nodes {
		if n.ManagedFields != nil || n.Status.Images != nil {
			t.Errorf("node %s not trimmed: %+v", n.Name, n)
		}
	}
	pods, err := m.PodsOnNode("n1")
	if err != nil || len(pods) != 1 || pods[0].Name != "on-n1" {
		t.Fatalf("PodsOnNode(n1) = %v, %v", pods, err)
	}
	p := pods[0]
	if p.Spec.Containers[0].Image != "" || p.Spec.Containers[0].Env != nil || p.Status.HostIP != "" {
		t.Errorf("pod not trimmed: %+v", p)
	}
	if q := p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]; q.String() != "100m" {
		t.Errorf("trimmed pod lost its requests: %v", p.Spec.Containers[0].Resources)
	}
	if un, err := m.UnscheduledPods(); err != nil || len(un) != 1 || un[0].Name != "pending" {
		t.Fatalf("UnscheduledPods = %v, %v", un, err)
	}
	if _, err := m.PodsOnNode(""); err == nil {
		t.Error("PodsOnNode(\"\") should refuse")
	}

	again, err := c.Connect(ctx, cl)
	if err != nil || again != m {
		t.Fatalf("unchanged settings reconnected: %p != %p, %v", again, m, err)
	}
}

func TestConnectRebuildsWhenSettingsChange(t *testing.T) {
	api := membertest.New(t, "")
	c, host := newTestCache(t, tokenSecret("m1-token", "one", api.CA()))
	ctx := context.Background()
	cl := newCluster("m1", api.URL, "m1-token")
	m1, err := c.Connect(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	sec := tokenSecret("m1-token", "two", api.CA())
	if err := host.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	m2, err := c.Connect(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if m2 == m1 || m2.Config.BearerToken != "two" {
		t.Fatal("a new token did not rebuild the member")
	}
	select {
	case <-m1.Stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced member was not stopped")
	}
	cl.Spec.InsecureSkipTLSVerification = true
	m3, err := c.Connect(ctx, cl)
	if err != nil || m3 == m2 || !m3.Config.Insecure || m3.Config.CAData != nil {
		t.Fatalf("insecureSkipTLSVerification did not rebuild an insecure member: %v", err)
	}
	// Credentials gone: the member goes too.
	if err := host.Delete(ctx, sec); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx, cl); KindOf(err) != KindCredentials {
		t.Fatalf("Connect without a Secret = %v, want a credentials error", err)
	}
	if c.Get("m1") != nil {
		t.Fatal("member kept after its credentials were deleted")
	}
}

func TestConnectClassifiesFailures(t *testing.T) {
	api := membertest.New(t, "good")
	ca := api.CA()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	closed := closedPortURL(t)
	objs := []client.Object{
		tokenSecret("good", "good", ca),
		tokenSecret("bad-token", "wrong", ca),
		tokenSecret("wrong-ca", "good", otherCA(t)),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "empty"}, Data: map[string][]byte{"foo": nil}},
		kubeconfigSecret(t, "exec", api.URL, ca, "", func(c *clientcmdapi.Config) {
			c.AuthInfos["u"].Exec = &clientcmdapi.ExecConfig{Command: "/bin/sh", APIVersion: "client.authentication.k8s.io/v1"}
		}),
		kubeconfigSecret(t, "file", api.URL, nil, "good", func(c *clientcmdapi.Config) { c.Clusters["c"].CertificateAuthority = "/etc/ca.crt" }),
		kubeconfigSecret(t, "garbage", api.URL, ca, "good", nil),
	}
	objs[len(objs)-1].(*corev1.Secret).Data[clusterv1alpha1.SecretKubeconfigKey] = []byte("{not yaml")
	c, _ := newTestCache(t, objs...)

	cases := []struct {
		name, endpoint, secret, secretNS string
		kind                             ErrorKind
		msg                              []string
	}{
		{"missing secret", api.URL, "nope", ns, KindCredentials, []string{"argosy-system/nope", "does not exist"}},
		{"other namespace", api.URL, "good", "default", KindCredentials, []string{"default/good", "outside argosy-system"}},
		{"no token no kubeconfig", api.URL, "empty", ns, KindCredentials, []string{"argosy-system/empty", `"value"`, `"token"`}},
		{"exec plugin", api.URL, "exec", ns, KindCredentials, []string{"exec credential plugin"}},
		{"file reference", api.URL, "file", ns, KindCredentials, []string{"names a file"}},
		{"garbage kubeconfig", api.URL, "garbage", ns, KindCredentials, []string{"argosy-system/garbage", "not valid"}},
		{"wrong CA", api.URL, "wrong-ca", ns, KindTLS, []string{"not signed by the CA in Secret argosy-system/wrong-ca"}},
		{"bad token", api.URL, "bad-token", ns, KindUnauthorized, []string{"rejected the credentials in Secret argosy-system/bad-token", "401"}},
		{"refused", closed, "good", ns, KindUnreachable, []string{"cannot reach the API server at " + closed, "connection refused"}},
		{"https to plain http", strings.Replace(plain.URL, "http:", "https:", 1), "good", ns, KindTLS, []string{"does not speak TLS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster("m-"+strings.ReplaceAll(tc.name, " ", "-"), tc.endpoint, tc.secret)
			cl.Spec.SecretRef.Namespace = tc.secretNS
			m, err := c.Connect(context.Background(), cl)
			if err == nil {
				t.Fatalf("Connect succeeded: %v", m)
			}
			if got := KindOf(err); got != tc.kind {
				t.Fatalf("kind %q, want %q (%v)", got, tc.kind, err)
			}
			for _, s := range tc.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
			if c.Get(cl.Name) != nil {
				t.Error("a failed member was kept")
			}
		})
	}
}

func TestConnectKubeconfigSecrets(t *testing.T) {
	api := membertest.New(t, "good")
	ca := api.CA()
	// Cluster API's naming, read with its utilities; the server in the
	// kubeconfig is overridden by spec.apiEndpoint.
	capi := kubeconfigSecret(t, "m1-kubeconfig", "https://elsewhere.invalid:6443", ca, "good", nil)
	other := kubeconfigSecret(t, "creds", api.URL, ca, "good", nil)
	c, _ := newTestCache(t, capi, other)
	if _, err := c.Connect(context.Background(), newCluster("m1", api.URL, "m1-kubeconfig")); err != nil {
		t.Fatalf("cluster-api kubeconfig Secret: %v", err)
	}
	if _, err := c.Connect(context.Background(), newCluster("m2", "", "creds")); err != nil {
		t.Fatalf("kubeconfig Secret of another name, server from the kubeconfig: %v", err)
	}
}

func TestCheckHealthReportsFailedChecks(t *testing.T) {
	api := membertest.New(t, "")
	c, _ := newTestCache(t, tokenSecret("t", "x", api.CA()))
	m, err := c.Connect(context.Background(), newCluster("m1", api.URL, "t"))
	if err != nil {
		t.Fatal(err)
	}
	api.SetReadyz(http.StatusInternalServerError, "[+]ping ok\n[-]etcd failed: reason withheld\n[+]log ok\nreadyz check failed\n")
	err = m.CheckHealth(context.Background())
	if KindOf(err) != KindUnhealthy || !strings.Contains(err.Error(), "[-]etcd failed: reason withheld") || strings.Contains(err.Error(), "[+]ping") {
		t.Fatalf("CheckHealth = %v, want unhealthy naming the failed check only", err)
	}
	api.SetReadyz(http.StatusOK, "ok")
	if err := m.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	api.Shutdown()
	if err := m.CheckHealth(context.Background()); KindOf(err) != KindUnreachable {
		t.Fatalf("CheckHealth on a stopped server = %v, want unreachable", err)
	}
}

// TestRemoveLeaksNoGoroutines connects members, lets their informers sync
// and watch, removes them (and stops the cache), and expects the goroutine
// count back where it was.
func TestRemoveLeaksNoGoroutines(t *testing.T) {
	api := membertest.New(t, "")
	api.SetObjects([]corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}, nil)
	host := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(tokenSecret("t", "x", api.CA())).Build()
	before := runtime.NumGoroutine()

	c := NewCache(host, testr.New(t), WithSecretNamespace(ns))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = c.Start(ctx); close(stopped) }()
	for _, name := range []string{"a", "b", "c"} {
		m, err := c.Connect(context.Background(), newCluster(name, api.URL, "t"))
		if err != nil {
			t.Fatal(err)
		}
		waitSynced(t, m)
	}
	c.Remove("a")
	cancel() // stops b and c
	<-stopped
	if _, err := c.Connect(context.Background(), newCluster("d", api.URL, "t")); err != ErrStopped {
		t.Fatalf("Connect after stop = %v, want ErrStopped", err)
	}
	api.CloseClientConnections()

	var now int
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		now = runtime.NumGoroutine()
		return now <= before, nil
	})
	if err != nil {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after removing every member:\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
}

func TestPodRequests(t *testing.T) {
	rl := func(cpu, mem string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return l
	}
	c := func(cpu, mem string) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Requests: rl(cpu, mem)}}
	}
	sidecar := func(cpu, mem string) corev1.Container {
		x := c(cpu, mem)
		x.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		return x
	}
	cases := []struct {
		name string
		spec corev1.PodSpec
		want corev1.ResourceList
	}{
		{"containers sum", corev1.PodSpec{Containers: []corev1.Container{c("100m", "1Gi"), c("200m", "")}}, rl("300m", "1Gi")},
		{"init larger", corev1.PodSpec{InitContainers: []corev1.Container{c("1", "")}, Containers: []corev1.Container{c("100m", "1Gi")}}, rl("1", "1Gi")},
		{"sidecar adds", corev1.PodSpec{InitContainers: []corev1.Container{sidecar("100m", ""), c("250m", "")}, Containers: []corev1.Container{c("100m", "")}}, rl("350m", "")},
		{"overhead", corev1.PodSpec{Containers: []corev1.Container{c("100m", "")}, Overhead: rl("10m", "")}, rl("110m", "")},
		{"pod-level", corev1.PodSpec{Containers: []corev1.Container{c("100m", "")}, Resources: &corev1.ResourceRequirements{Requests: rl("2", "")}}, rl("2", "")},
		{"nothing", corev1.PodSpec{Containers: []corev1.Container{{}}}, corev1.ResourceList{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PodRequests(&corev1.Pod{Spec: tc.spec})
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, q := range tc.want {
				if g := got[k]; g.Cmp(q) != 0 {
					t.Errorf("%s: got %s, want %s", k, g.String(), q.String())
				}
			}
			// The trimmed pod asks for the same.
			trimmed, _ := TrimPod(&corev1.Pod{Spec: tc.spec})
			again := PodRequests(trimmed.(*corev1.Pod))
			for k, q := range got {
				if g := again[k]; g.Cmp(q) != 0 {
					t.Errorf("trimmed %s: got %s, want %s", k, g.String(), q.String())
				}
			}
		})
	}
}

func TestConfigHash(t *testing.T) {
	api := membertest.New(t, "")
	ca := api.CA()
	base := newCluster("m1", "https://10.0.0.1:6443", "t")
	host := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(tokenSecret("t", "x", ca), tokenSecret("t2", "y", ca)).Build()
	hash := func(cl *clusterv1alpha1.Cluster) string {
		_, h, err := buildConfig(context.Background(), host, cl, ns, clientSettings{QPS: 40, Burst: 60})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h0 := hash(base)
	if hash(base.DeepCopy()) != h0 {
		t.Fatal("hash is not deterministic")
	}
	for name, mutate := range map[string]func(*clusterv1alpha1.Cluster){
		"endpoint": func(c *clusterv1alpha1.Cluster) { c.Spec.APIEndpoint = "https://10.0.0.2:6443" },
		"secret":   func(c *clusterv1alpha1.Cluster) { c.Spec.SecretRef.Name = "t2" },
		"insecure": func(c *clusterv1alpha1.Cluster) { c.Spec.InsecureSkipTLSVerification = true },
		"proxy":    func(c *clusterv1alpha1.Cluster) { c.Spec.ProxyURL = "http://proxy:3128" },
		"proxy header": func(c *clusterv1alpha1.Cluster) {
			c.Spec.ProxyURL = "http://proxy:3128"
			c.Spec.ProxyHeader = map[string]string{"Proxy-Authorization": "Basic eA=="}
		},
	} {
		cl := base.DeepCopy()
		mutate(cl)
		if hash(cl) == h0 {
			t.Errorf("changing the %s left the hash unchanged", name)
		}
	}
	// Fields that do not affect the connection do not change it.
	cl := base.DeepCopy()
	cl.Spec.Region, cl.Spec.Unschedulable = "eu", true
	cl.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
	if hash(cl) != h0 {
		t.Error("scheduling fields changed the hash")
	}
}
