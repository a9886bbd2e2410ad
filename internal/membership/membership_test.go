package membership

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes cfg with one context "m" (cluster and user "m")
// after tweak, and returns its path.
func writeKubeconfig(t *testing.T, dir string, tweak func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo)) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cl := &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: []byte("CA")}
	u := &clientcmdapi.AuthInfo{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")}
	tweak(cl, u)
	cfg.Clusters["m"], cfg.AuthInfos["m"] = cl, u
	cfg.Contexts["m"] = &clientcmdapi.Context{Cluster: "m", AuthInfo: "m", Namespace: "team"}
	cfg.Contexts["other"] = &clientcmdapi.Context{Cluster: "missing", AuthInfo: "m"}
	cfg.CurrentContext = "m"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKubeconfig(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"ca.crt": "FILE-CA", "client.crt": "FILE-CERT", "client.key": "FILE-KEY", "token": "FILE-TOKEN"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		context string
		tweak   func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo)
		wantErr string
		check   func(t *testing.T, tg *Target)
	}{
		{name: "embedded data", tweak: func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo) {}, check: func(t *testing.T, tg *Target) {
			if string(tg.Cluster.CertificateAuthorityData) != "CA" || string(tg.AuthInfo.ClientCertificateData) != "CERT" || tg.Namespace != "team" || tg.Context != "m" {
				t.Errorf("target %+v", tg)
			}
		}},
		{name: "files are read and embedded", tweak: func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			cl.CertificateAuthorityData, cl.CertificateAuthority = nil, filepath.Join(dir, "ca.crt")
			u.ClientCertificateData, u.ClientCertificate = nil, filepath.Join(dir, "client.crt")
			u.ClientKeyData, u.ClientKey = nil, "client.key" // relative to the kubeconfig
		}, check: func(t *testing.T, tg *Target) {
			if string(tg.Cluster.CertificateAuthorityData) != "FILE-CA" || tg.Cluster.CertificateAuthority != "" ||
				string(tg.AuthInfo.ClientCertificateData) != "FILE-CERT" || string(tg.AuthInfo.ClientKeyData) != "FILE-KEY" ||
				tg.AuthInfo.ClientCertificate != "" || tg.AuthInfo.ClientKey != "" {
				t.Errorf("files not embedded: cluster %+v user %+v", tg.Cluster, tg.AuthInfo)
			}
		}},
		{name: "token file", tweak: func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			*u = clientcmdapi.AuthInfo{TokenFile: filepath.Join(dir, "token")}
		}, check: func(t *testing.T, tg *Target) {
			if tg.AuthInfo.Token != "FILE-TOKEN" || tg.AuthInfo.TokenFile != "" {
				t.Errorf("user %+v", tg.AuthInfo)
			}
		}},
		{name: "unreadable CA file", tweak: func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			cl.CertificateAuthorityData, cl.CertificateAuthority = nil, filepath.Join(dir, "nope.crt")
		}, wantErr: `cluster m of context "m" names the file ` + filepath.Join(dir, "nope.crt") + ` (certificate-authority), which cannot be read`},
		{name: "exec plugin", tweak: func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			*u = clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "aws", APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
		}, wantErr: `user "m" of context "m" runs an exec credential plugin (aws), which kubectl-argosy does not run`},
		{name: "auth provider", tweak: func(cl *clientcmdapi.Cluster, u *clientcmdapi.AuthInfo) {
			*u = clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "oidc"}}
		}, wantErr: `uses the auth-provider plugin "oidc"`},
		{name: "unknown context", context: "nope", tweak: func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo) {}, wantErr: `has no context "nope"`},
		{name: "context without cluster", context: "other", tweak: func(*clientcmdapi.Cluster, *clientcmdapi.AuthInfo) {}, wantErr: `context "other" names cluster "missing"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeKubeconfig(t, dir, c.tweak)
			tg, err := LoadKubeconfig(path, c.context)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, tg)
		})
	}
}

// The kubeconfig join stores has the target's server and CA and the
// ServiceAccount token instead of the user's credentials, and nothing else.
func TestTargetKubeconfig(t *testing.T) {
	tg := &Target{
		Context:  "m",
		Cluster:  &clientcmdapi.Cluster{Server: "https://m:6443", CertificateAuthorityData: []byte("CA"), TLSServerName: "m.internal", LocationOfOrigin: "/home/u/.kube/config"},
		AuthInfo: &clientcmdapi.AuthInfo{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")},
	}
	data, err := tg.Kubeconfig("member3", []byte("SA-TOKEN"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != "member3" || len(raw.Contexts) != 1 || len(raw.AuthInfos) != 1 || len(raw.Clusters) != 1 {
		t.Fatalf("kubeconfig %+v", raw)
	}
	cl, u := raw.Clusters["member3"], raw.AuthInfos["member3"]
	if cl.Server != "https://m:6443" || string(cl.CertificateAuthorityData) != "CA" || cl.TLSServerName != "m.internal" {
		t.Errorf("cluster %+v", cl)
	}
	if u.Token != "SA-TOKEN" || len(u.ClientCertificateData) > 0 || len(u.ClientKeyData) > 0 {
		t.Errorf("user %+v: want only the token", u)
	}
	// That the manager accepts what is stored (no files, no plugins) is
	// internal/member's rule, tested there and end to end by the join tests.
}

func TestMemberObjects(t *testing.T) {
	objs := MemberObjects("member3")
	if len(objs) != 5 {
		t.Fatalf("%d objects", len(objs))
	}
	crb := objs[3].(*rbacv1.ClusterRoleBinding)
	if crb.RoleRef.Name != "argosy:member:member3" || crb.Subjects[0].Name != "argosy-member3" || crb.Subjects[0].Namespace != SystemNamespace {
		t.Errorf("binding %+v", crb)
	}
	sec := objs[4].(*corev1.Secret)
	if sec.Type != corev1.SecretTypeServiceAccountToken || sec.Annotations[corev1.ServiceAccountNameKey] != "argosy-member3" || sec.Labels[LabelJoinedAs] != "member3" {
		t.Errorf("token secret %+v", sec)
	}
	for _, o := range objs {
		if o.GetObjectKind().GroupVersionKind().Kind == "" {
			t.Errorf("%s has no kind: apply needs it", o.GetName())
		}
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"member1": true, "a": true, "Member1": false, "member_1": false, "": false,
		strings.Repeat("a", 48): true, strings.Repeat("a", 49): false,
	} {
		if err := ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
