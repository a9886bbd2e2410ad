package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return func(stdin string, args ...string) cliResult {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args, "--kubeconfig", path, "--cache-dir", filepath.Join(dir, "cache"))
		code := cli.Main(context.Background(), "kubectl-argosy", args, genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
		return cliResult{code: code, out: out.String(), errOut: errOut.String()}
	}
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
