package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/cli"
	"argosy.dev/argosy/internal/membership"
	"argosy.dev/argosy/internal/template"
)

// cliResult is one run of the command line.
type cliResult struct {
	code        int
	out, errOut string
}

// cliRunner runs kubectl-argosy's Go entry point (not the binary) against
// the envtest apiserver through a kubeconfig file, as a user would.
func cliRunner(t *testing.T) func(stdin string, args ...string) cliResult {
	t.Helper()
	dir := t.TempDir()
	path := envtestKubeconfig(t, dir, nil)
	return func(stdin string, args ...string) cliResult {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args, "--kubeconfig", path, "--cache-dir", filepath.Join(dir, "cache"))
		code := cli.Main(context.Background(), "kubectl-argosy", args, genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
		return cliResult{code: code, out: out.String(), errOut: errOut.String()}
	}
}

// envtestKubeconfig writes an admin kubeconfig of the envtest apiserver
// (context envtest) into dir, after tweak, and returns its path.
func envtestKubeconfig(t *testing.T, dir string, tweak func(*clientcmdapi.Config)) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	if tweak != nil {
		tweak(kc)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// must fails the test unless the run exited 0 and printed want (a
// regular expression) on stdout.
func (r cliResult) must(t *testing.T, what, want string) {
	t.Helper()
	if r.code != 0 || !regexp.MustCompile(want).MatchString(r.out) {
		t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit 0 and stdout matching %q", what, r.code, r.out, r.errOut, want)
	}
}

func getCluster(t *testing.T, name string) *clusterv1alpha1.Cluster {
	t.Helper()
	var cl clusterv1alpha1.Cluster
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, &cl); err != nil {
		t.Fatal(err)
	}
	return &cl
}

func findTaint(ts []corev1.Taint, key string, effect corev1.TaintEffect) *corev1.Taint {
	for i := range ts {
		if ts[i].Key == key && ts[i].Effect == effect {
			return &ts[i]
		}
	}
	return nil
}

// TestCLI runs the commands against the apiserver and the manager: taint,
// untaint, cordon and uncordon a Cluster (while the Cluster controller
// writes its own taints to the same list), rebalance creates a
// WorkloadRebalancer, get lists the Cluster and a scheduled Deployment per
// cluster, and wrap's output is what apply stores and the template webhook
// accepts.
func TestCLI(t *testing.T) {
	ctx := context.Background()
	run := cliRunner(t)
	createNamespace(t, "cli-ns") // for the PropagationPolicy of placedDeployment
	labelledClusters(t, map[string]map[string]string{"cli-m1": nil, "cli-m2": nil})

	t.Run("taint and untaint", func(t *testing.T) {
		run("", "taint", "clusters", "cli-m1", "workload-rebalancer-test:NoExecute", "dedicated=special-user:NoSchedule").
			must(t, "taint", `^cluster/cli-m1 tainted\n$`)
		cl := getCluster(t, "cli-m1")
		ne := findTaint(cl.Spec.Taints, "workload-rebalancer-test", corev1.TaintEffectNoExecute)
		ns := findTaint(cl.Spec.Taints, "dedicated", corev1.TaintEffectNoSchedule)
		if ne == nil || ne.TimeAdded == nil || ns == nil || ns.Value != "special-user" {
			t.Fatalf("taints after tainting: %+v", cl.Spec.Taints)
		}

		r := run("", "taint", "clusters", "cli-m1", "dedicated=other:NoSchedule")
		if r.code == 0 || !strings.Contains(r.errOut, "cluster cli-m1 already has taint(s) dedicated=special-user:NoSchedule") {
			t.Fatalf("re-taint without --overwrite: exit %d, stderr %q", r.code, r.errOut)
		}
		run("", "taint", "clusters", "cli-m1", "dedicated=other:NoSchedule", "--overwrite").must(t, "overwrite", `^cluster/cli-m1 modified\n$`)
		if ns := findTaint(getCluster(t, "cli-m1").Spec.Taints, "dedicated", corev1.TaintEffectNoSchedule); ns == nil || ns.Value != "other" {
			t.Fatalf("overwrite did not change the value: %+v", ns)
		}

		run("", "taint", "clusters", "cli-m1", "workload-rebalancer-test:NoExecute-", "dedicated-").must(t, "untaint", `^cluster/cli-m1 untainted\n$`)
		cl = getCluster(t, "cli-m1")
		for _, tt := range cl.Spec.Taints {
			if tt.Key == "workload-rebalancer-test" || tt.Key == "dedicated" {
				t.Errorf("taint %v still there", tt)
			}
		}

		r = run("", "taint", "clusters", "cli-m1", "workload-rebalancer-test:NoExecute-")
		if r.code == 0 || !strings.Contains(r.errOut, "cluster cli-m1 has no taint workload-rebalancer-test:NoExecute") {
			t.Errorf("removing a missing taint: exit %d, stderr %q", r.code, r.errOut)
		}
		r = run("", "taint", "clusters", "no-such-cluster", "a:NoSchedule")
		if r.code == 0 || !strings.Contains(r.errOut, `cluster "no-such-cluster" not found`) {
			t.Errorf("missing cluster: exit %d, stderr %q", r.code, r.errOut)
		}
	})

	t.Run("cordon and uncordon", func(t *testing.T) {
		run("", "cordon", "cli-m2").must(t, "cordon", `^cluster/cli-m2 cordoned\n$`)
		if !getCluster(t, "cli-m2").Spec.Unschedulable {
			t.Fatal("spec.unschedulable is not set")
		}
		// The Cluster controller turns the cordon into its taint.
		eventually(t, "the unschedulable taint on cli-m2", func(ctx context.Context) (bool, string) {
			cl := getCluster(t, "cli-m2")
			return findTaint(cl.Spec.Taints, clusterv1alpha1.TaintClusterUnschedulable, corev1.TaintEffectNoSchedule) != nil, "taints " + taintList(cl.Spec.Taints)
		})
		run("", "cordon", "cli-m2").must(t, "cordon again", `^cluster/cli-m2 already cordoned\n$`)
		run("", "uncordon", "cli-m2").must(t, "uncordon", `^cluster/cli-m2 uncordoned\n$`)
		if getCluster(t, "cli-m2").Spec.Unschedulable {
			t.Fatal("spec.unschedulable is still set")
		}
	})

	t.Run("rebalance creates a WorkloadRebalancer", func(t *testing.T) {
		r := run("", "rebalance", "deployment/foo", "deploy/bar", "-n", "cli-ns", "--ttl", "5m")
		r.must(t, "rebalance", `^workloadrebalancer\.apps\.argosy\.dev/rebalance-[a-z0-9]+ created\n$`)
		name := strings.TrimSuffix(strings.TrimPrefix(r.out, "workloadrebalancer.apps.argosy.dev/"), " created\n")
		var wr appsv1alpha1.WorkloadRebalancer
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &wr); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), &wr) })
		want := []appsv1alpha1.ObjectReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "cli-ns", Name: "foo"},
			{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "cli-ns", Name: "bar"},
		}
		if !equality.Semantic.DeepEqual(wr.Spec.Workloads, want) || wr.Spec.TTLSecondsAfterFinished == nil || *wr.Spec.TTLSecondsAfterFinished != 300 {
			t.Errorf("spec %+v, want workloads %+v and ttl 300", wr.Spec, want)
		}

		r = run("", "rebalance", "widget/foo")
		if r.code == 0 || !strings.Contains(r.errOut, `argument "widget/foo"`) {
			t.Errorf("unknown kind: exit %d, stderr %q", r.code, r.errOut)
		}
	})

	t.Run("get clusters", func(t *testing.T) {
		r := run("", "get", "clusters")
		r.must(t, "get clusters", `(?m)^NAME +VERSION +MODE +READY +AGE\n`)
		r.must(t, "get clusters", `(?m)^cli-m1 +<none> +Push +(False|Unknown) +\d+s$`)
		run("", "get", "clusters", "cli-m1", "-o", "wide").must(t, "get clusters -o wide", `(?m)^cli-m1 .* (<none>|cluster\.argosy\.dev/not-ready:NoSchedule.*)$`)
		run("", "get", "cluster", "cli-m1", "-o", "name").must(t, "get -o name", `^cluster\.cluster\.argosy\.dev/cli-m1\n$`)
		run("", "get", "clusters", "-o", "yaml").must(t, "get clusters -o yaml", `(?s)^apiVersion: v1\nitems:\n- apiVersion: cluster\.argosy\.dev/v1alpha1\n  kind: Cluster\n.*name: cli-m1\n.*kind: List\n`)
		t.Logf("get clusters:\n%s", r.out)
	})

	t.Run("get a scheduled Deployment per cluster", func(t *testing.T) {
		rt := placedDeployment(t, "cli-ns", "cli-web", 3, nil)
		simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: "cli-m1", Replicas: 2}, {Name: "cli-m2", Replicas: 1}})
		var last cliResult
		eventually(t, "two rows for cli-web", func(ctx context.Context) (bool, string) {
			last = run("", "get", "deployment", "cli-web", "-n", "cli-ns")
			ok := regexp.MustCompile(`(?m)^cli-web +cli-m1 +0/2 +0 +0 +\S+ +N\ncli-web +cli-m2 +0/1 +0 +0 +\S+ +N$`).MatchString(last.out)
			return ok && strings.HasPrefix(last.out, "NAME "), last.out + last.errOut
		})
		t.Logf("get deployment:\n%s", last.out)
		d := run("", "describe", "deployment", "cli-web", "-n", "cli-ns")
		d.must(t, "describe", `(?m)^Template: +`+templateNS+`/`+rt.Name+`$`)
		d.must(t, "describe", `(?m)^Policy: +PropagationPolicy cli-ns/cli-web$`)
		d.must(t, "describe", `(?m)^Placement:\n  Cluster +Replicas\n  -+ +-+\n  cli-m1 +2\n  cli-m2 +1$`)
		d.must(t, "describe", `(?m)^  binding +FullyApplied +\S+ `)
		t.Logf("describe:\n%s", d.out)
		if r := run("", "describe", "deployment", "nope", "-n", "cli-ns"); r.code == 0 || !strings.Contains(r.errOut, `deployment "cli-ns/nope" not found`) {
			t.Errorf("describe of a missing object: exit %d, stderr %q", r.code, r.errOut)
		}
		run("", "get", "deploy", "-A").must(t, "get deploy -A", `(?m)^cli-ns +cli-web +cli-m1 +0/2`)
		run("", "get", "deployment", "cli-web", "-n", "cli-ns", "-o", "json").must(t, "get deployment -o json", `(?s)^\{\n.*"kind": "ResourceBinding",.*"name": "`+rt.Name+`"`)
		r := run("", "get", "deployment", "cli-web", "-n", "other")
		if r.code == 0 || !strings.Contains(r.errOut, `deployment "other/cli-web" not found`) {
			t.Errorf("other namespace: exit %d, stderr %q", r.code, r.errOut)
		}
	})

	t.Run("wrap output round-trips through apply", func(t *testing.T) {
		const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: cli-rt
  labels: {app: cli-rt}
spec:
  replicas: 2
  selector: {matchLabels: {app: cli-rt}}
  template:
    metadata: {labels: {app: cli-rt}}
    spec:
      containers: [{name: nginx, image: nginx:1.27}]
status: {replicas: 9}
`
		r := run(manifest, "wrap", "-n", "cli-ns", "--all-clusters")
		r.must(t, "wrap", `kind: ResourceTemplate`)
		wantName := template.Name("apps", "Deployment", "cli-ns", "cli-rt")
		var wrapped workv1alpha1.ResourceTemplate
		if err := yaml.Unmarshal([]byte(strings.Split(r.out, "\n---\n")[0]), &wrapped); err != nil {
			t.Fatal(err)
		}
		if wrapped.Name != wantName || wrapped.Namespace != templateNS {
			t.Fatalf("wrap named the template %s/%s, want %s/%s", wrapped.Namespace, wrapped.Name, templateNS, wantName)
		}

		file := filepath.Join(t.TempDir(), "deploy.yaml")
		if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		run("", "apply", "-f", file, "-n", "cli-ns", "--all-clusters").must(t, "apply",
			`^resourcetemplate\.work\.argosy\.dev/`+wantName+` serverside-applied\nclusterpropagationpolicy\.policy\.argosy\.dev/`+wantName+` serverside-applied\n$`)
		rt, err := getTemplate(ctx, wantName)
		if err != nil {
			t.Fatalf("apply stored no template %s: %v", wantName, err)
		}
		t.Cleanup(func() {
			_ = k8sClient.Delete(context.Background(), rt)
			_ = k8sClient.Delete(context.Background(), &workv1alpha1.ResourceBinding{ObjectMeta: rt.ObjectMeta})
			_ = k8sClient.Delete(context.Background(), &policyv1alpha1.ClusterPropagationPolicy{ObjectMeta: metav1.ObjectMeta{Name: wantName}})
		})
		var stored, fromWrap map[string]any
		if err := yaml.Unmarshal(rt.Spec.Template.Raw, &stored); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(wrapped.Spec.Template.Raw, &fromWrap); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(stored, fromWrap) {
			t.Errorf("stored template %v, wrap wrote %v", stored, fromWrap)
		}
		if _, has, _ := unstructured.NestedMap(stored, "status"); has {
			t.Error("the source's status was applied")
		}
		var cpp policyv1alpha1.ClusterPropagationPolicy
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: wantName}, &cpp); err != nil {
			t.Fatal(err)
		}
		if sel := cpp.Spec.ResourceSelectors; len(sel) != 1 || sel[0].Name != "cli-rt" || sel[0].Namespace != "cli-ns" || sel[0].Kind != "Deployment" {
			t.Errorf("policy selectors %+v", sel)
		}
		// The policy claims the template: --all-clusters is a working
		// propagation, not just an object.
		claimedBy(t, wantName, &workv1alpha1.PolicyReference{Kind: "ClusterPropagationPolicy", Name: wantName})

		// Applying the same file again changes nothing.
		rv := rt.ResourceVersion
		run("", "apply", "-f", file, "-n", "cli-ns").must(t, "apply again", `serverside-applied`)
		if again, err := getTemplate(ctx, wantName); err != nil || again.Generation != rt.Generation {
			t.Errorf("re-applying changed the template: generation %d -> %d (rv %s), %v", rt.Generation, again.Generation, rv, err)
		}
	})
}

func taintList(ts []corev1.Taint) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.ToString())
	}
	return strings.Join(s, ",")
}

// playTokenController fills the token Secret of a join as the member's
// kube-controller-manager would (envtest runs none), until ctx ends.
func playTokenController(ctx context.Context, t *testing.T, secret client.ObjectKey, token string) {
	go func() {
		_ = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			var s corev1.Secret
			if err := k8sClient.Get(ctx, secret, &s); err != nil || len(s.Data[corev1.ServiceAccountTokenKey]) > 0 {
				return false, nil
			}
			s.Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte(token), corev1.ServiceAccountRootCAKey: cfg.CAData}
			if err := k8sClient.Update(ctx, &s); err != nil {
				t.Logf("filling token Secret %s: %v", secret, err)
			}
			return false, nil
		})
	}()
}

// TestCLIJoinAndUnjoin joins the envtest apiserver as a member of itself:
// the member gets the ServiceAccount, RBAC and token Secret, the host the
// credentials Secret (the token, the CA read from a file the kubeconfig
// names relative to itself) and the Cluster; joining again updates in
// place and keeps taints; unjoin removes both sides. Kubeconfigs with
// auth-provider plugins or unreadable files are refused before anything is
// written.
func TestCLIJoinAndUnjoin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := cliRunner(t)
	const name = "cli-joined"
	names := membership.NamesFor(name)
	playTokenController(ctx, t, client.ObjectKey{Namespace: names.Namespace, Name: names.Secret}, "sa-token-1")

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), cfg.CAData, 0o600); err != nil {
		t.Fatal(err)
	}
	memberKC := envtestKubeconfig(t, dir, func(kc *clientcmdapi.Config) {
		kc.Clusters["envtest"].CertificateAuthorityData = nil
		kc.Clusters["envtest"].CertificateAuthority = "ca.crt" // relative to the kubeconfig
	})
	t.Cleanup(func() { run("", "unjoin", name, "--cluster-kubeconfig", memberKC, "--ignore-not-found") })

	run("", "join", name, "--cluster-kubeconfig", memberKC, "--cluster-zone", "z1", "--token-timeout", "20s").
		must(t, "join", `^cluster/`+name+` joined\n$`)
	cl := getCluster(t, name)
	if cl.Spec.APIEndpoint != cfg.Host || cl.Spec.Zone != "z1" || cl.Spec.SecretRef == nil || cl.Spec.SecretRef.Name != name+"-kubeconfig" {
		t.Fatalf("Cluster spec %+v", cl.Spec)
	}
	var sec corev1.Secret
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: "argosy-system", Name: name + "-kubeconfig"}, &sec); err != nil {
		t.Fatal(err)
	}
	stored, err := clientcmd.Load(sec.Data["value"])
	if err != nil {
		t.Fatal(err)
	}
	sc := stored.Clusters[stored.Contexts[stored.CurrentContext].Cluster]
	su := stored.AuthInfos[stored.Contexts[stored.CurrentContext].AuthInfo]
	if sc.Server != cfg.Host || !bytes.Equal(sc.CertificateAuthorityData, cfg.CAData) || sc.CertificateAuthority != "" {
		t.Errorf("stored cluster %+v: want the server and the CA file's content", sc)
	}
	if su.Token != "sa-token-1" || len(su.ClientCertificateData) > 0 {
		t.Errorf("stored user %+v: want only the ServiceAccount token", su)
	}
	if len(sec.OwnerReferences) != 1 || sec.OwnerReferences[0].UID != cl.UID {
		t.Errorf("credentials owners %+v, want the Cluster", sec.OwnerReferences)
	}
	var crb rbacv1.ClusterRoleBinding
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: names.ClusterRole}, &crb); err != nil {
		t.Fatal(err)
	}
	if crb.RoleRef.Name != names.ClusterRole || len(crb.Subjects) != 1 || crb.Subjects[0].Name != names.ServiceAccount {
		t.Errorf("ClusterRoleBinding %+v", crb)
	}
	var cr rbacv1.ClusterRole
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: names.ClusterRole}, &cr); err != nil || !equality.Semantic.DeepEqual(cr.Rules, membership.MemberRules()) {
		t.Errorf("ClusterRole %+v, %v", cr.Rules, err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: names.Namespace, Name: names.ServiceAccount}, &corev1.ServiceAccount{}); err != nil {
		t.Error(err)
	}

	// Joining again updates in place and keeps what others wrote.
	run("", "taint", "clusters", name, "cli-joined:NoSchedule").must(t, "taint", `tainted`)
	before := getCluster(t, name)
	run("", "join", name, "--cluster-kubeconfig", memberKC, "--cluster-zone", "z1", "--token-timeout", "20s").must(t, "join again", `^cluster/`+name+` joined\n$`)
	if after := getCluster(t, name); after.Generation != before.Generation || findTaint(after.Spec.Taints, "cli-joined", corev1.TaintEffectNoSchedule) == nil {
		t.Errorf("join again: generation %d -> %d, taints %s", before.Generation, after.Generation, taintList(after.Spec.Taints))
	}

	// Refused before anything is written.
	for what, c := range map[string]struct {
		tweak   func(*clientcmdapi.Config)
		wantErr string
	}{
		"auth-provider": {func(kc *clientcmdapi.Config) {
			kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "oidc"}}
		}, `user "admin" of context "envtest" uses the auth-provider plugin "oidc", which kubectl-argosy does not run`},
		"missing client key file": {func(kc *clientcmdapi.Config) {
			kc.AuthInfos["admin"].ClientKeyData, kc.AuthInfos["admin"].ClientKey = nil, "/nonexistent/admin.key"
		}, `names the file /nonexistent/admin.key (client-key), which cannot be read to embed it`},
	} {
		kc := envtestKubeconfig(t, t.TempDir(), c.tweak)
		r := run("", "join", "cli-refused", "--cluster-kubeconfig", kc)
		if r.code == 0 || !strings.Contains(r.errOut, c.wantErr) {
			t.Errorf("%s: exit %d, stderr %q, want %q", what, r.code, r.errOut, c.wantErr)
		}
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: "cli-refused"}, &clusterv1alpha1.Cluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("refused join left a Cluster: %v", err)
	}
	if r := run("", "join", "Bad_Name", "--cluster-kubeconfig", memberKC); r.code == 0 || !strings.Contains(r.errOut, `cluster name "Bad_Name"`) {
		t.Errorf("bad name: exit %d, stderr %q", r.code, r.errOut)
	}

	run("", "unjoin", name, "--cluster-kubeconfig", memberKC).must(t, "unjoin", `^deleted in the member: secret/`+names.Secret+`, clusterrolebinding/`+names.ClusterRole+`, clusterrole/`+names.ClusterRole+`, serviceaccount/`+names.ServiceAccount+`\ncluster/`+name+` unjoined\n$`)
	for _, obj := range []client.Object{
		&clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-system", Name: name + "-kubeconfig"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: names.Namespace, Name: names.Secret}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: names.Namespace, Name: names.ServiceAccount}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRole}},
	} {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s after unjoin: %v", obj, obj.GetName(), err)
		}
	}
	// The shared namespace stays: here it is the host's own.
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: "argosy-system"}, &corev1.Namespace{}); err != nil {
		t.Errorf("argosy-system after unjoin: %v", err)
	}
	if r := run("", "unjoin", name); r.code == 0 || !strings.Contains(r.errOut, `cluster "`+name+`" not found`) {
		t.Errorf("unjoin again: exit %d, stderr %q", r.code, r.errOut)
	}
	run("", "unjoin", name, "--ignore-not-found").must(t, "unjoin --ignore-not-found", `^$`)
}

// TestCLIPromote promotes a Deployment of the envtest apiserver (standing
// in for member cli-pm1): the policy places it on that cluster with
// Overwrite and claims the template, which wraps the object without what
// the cluster set.
func TestCLIPromote(t *testing.T) {
	ctx := context.Background()
	run := cliRunner(t)
	labelledClusters(t, map[string]map[string]string{"cli-pm1": nil})
	const ns = "cli-promote"
	createNamespace(t, ns)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "legacy", Annotations: map[string]string{"deployment.kubernetes.io/revision": "1", "team": "a"}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "legacy"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "legacy"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
	if err := k8sClient.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), dep) })
	name := template.Name("apps", "Deployment", ns, "legacy")
	kc := envtestKubeconfig(t, t.TempDir(), nil)

	// Without --cluster-kubeconfig the host's stored credentials are used;
	// this Cluster has none.
	r := run("", "promote", "deployment", "legacy", "-n", ns, "-C", "cli-pm1")
	if r.code == 0 || !strings.Contains(r.errOut, "cluster cli-pm1: the credentials Secret argosy-system/cli-pm1-kubeconfig does not exist") {
		t.Errorf("promote without credentials: exit %d, stderr %q", r.code, r.errOut)
	}
	if r := run("", "promote", "deployment", "legacy", "-n", ns, "-C", "no-such"); r.code == 0 || !strings.Contains(r.errOut, `cluster "no-such" not found on the host`) {
		t.Errorf("promote to a missing cluster: exit %d, stderr %q", r.code, r.errOut)
	}
	r = run("", "promote", "deploy", "legacy", "-n", ns, "-C", "cli-pm1", "--cluster-kubeconfig", kc, "--dry-run")
	r.must(t, "promote --dry-run", `(?s)^apiVersion: policy\.argosy\.dev/v1alpha1\nkind: PropagationPolicy\n.*conflictResolution: Overwrite.*\n---\napiVersion: work\.argosy\.dev/v1alpha1\nkind: ResourceTemplate\n`)
	if _, err := getTemplate(ctx, name); !apierrors.IsNotFound(err) {
		t.Fatalf("--dry-run stored a template: %v", err)
	}

	run("", "promote", "deploy", "legacy", "-n", ns, "-C", "cli-pm1", "--cluster-kubeconfig", kc).must(t, "promote",
		`^propagationpolicy\.policy\.argosy\.dev/`+name+` serverside-applied\nresourcetemplate\.work\.argosy\.dev/`+name+` serverside-applied\n$`)
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), &workv1alpha1.ResourceTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: templateNS, Name: name}})
		_ = k8sClient.Delete(context.Background(), &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: templateNS, Name: name}})
		_ = k8sClient.Delete(context.Background(), &policyv1alpha1.PropagationPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
	})
	var pp policyv1alpha1.PropagationPolicy
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &pp); err != nil {
		t.Fatal(err)
	}
	if pp.Spec.ConflictResolution != policyv1alpha1.ConflictOverwrite || pp.Spec.Placement.ClusterAffinity == nil ||
		!equality.Semantic.DeepEqual(pp.Spec.Placement.ClusterAffinity.ClusterNames, []string{"cli-pm1"}) {
		t.Errorf("policy spec %+v", pp.Spec)
	}
	claimedBy(t, name, &workv1alpha1.PolicyReference{Kind: "PropagationPolicy", Namespace: ns, Name: name})
	rt, err := getTemplate(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped map[string]any
	if err := yaml.Unmarshal(rt.Spec.Template.Raw, &wrapped); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: wrapped}
	if u.GetUID() != "" || u.GetResourceVersion() != "" || len(u.GetManagedFields()) > 0 || u.GetAnnotations()["team"] != "a" ||
		u.GetAnnotations()["deployment.kubernetes.io/revision"] != "" {
		t.Errorf("wrapped object kept what the cluster set, or lost what the user set: %v", wrapped)
	}
	if _, has := wrapped["status"]; has {
		t.Error("wrapped object has a status")
	}
}
