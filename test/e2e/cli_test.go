package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/membership"
)

var (
	pluginOnce sync.Once
	pluginDir  string
	pluginErr  error
)

// pluginBinary builds kubectl-argosy from the tree once per run, as
// TestMain builds the manager.
func pluginBinary(t *testing.T) string {
	t.Helper()
	pluginOnce.Do(func() {
		if pluginDir, pluginErr = os.MkdirTemp(workDir, "plugin-"); pluginErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "kubectl-argosy"), "./cmd/kubectl-argosy")
		var out bytes.Buffer
		build.Dir, build.Stdout, build.Stderr = repoRoot, &out, &out
		if err := build.Run(); err != nil {
			pluginErr = &buildError{err: err, out: out.String()}
		}
	})
	if pluginErr != nil {
		t.Fatalf("building kubectl-argosy: %v", pluginErr)
	}
	return filepath.Join(pluginDir, "kubectl-argosy")
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// cliRun is one run of the plugin binary.
type cliRun struct {
	out, errOut string
	err         error
}

// argosyCLI runs the plugin against the host of the fleet's kubeconfig
// (context argosy-host).
func argosyCLI(t *testing.T, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(pluginBinary(t), append(args, "--kubeconfig", testFleet.KubeconfigPath(), "--context", "argosy-host")...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return cliRun{out: out.String(), errOut: errOut.String(), err: err}
}

// must fails unless the run succeeded and stdout matches want.
func (r cliRun) must(t *testing.T, what, want string) {
	t.Helper()
	if r.err != nil || !regexp.MustCompile(want).MatchString(r.out) {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s\nwant stdout matching %q", what, r.err, r.out, r.errOut, want)
	}
}

// TestCLIHelpThroughKubectl: kubectl finds the plugin on PATH and
// `kubectl argosy --help` lists the commands.
func TestCLIHelpThroughKubectl(t *testing.T) {
	plugin := pluginBinary(t)
	cmd := exec.Command(filepath.Join(binDir, "kubectl"), "argosy", "--help")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(plugin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl argosy --help: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "kubectl argosy [command]") {
		t.Errorf("usage line missing:\n%s", out)
	}
	for _, c := range []string{"join", "unjoin", "taint", "cordon", "uncordon", "get", "describe", "apply", "wrap", "promote", "rebalance"} {
		if !regexp.MustCompile(`(?m)^  ` + c + ` `).Match(out) {
			t.Errorf("kubectl argosy --help does not list %s:\n%s", c, out)
		}
	}
}

// TestCLIJoinAndUnjoin joins member2's apiserver a second time, as
// member2-joined, with the fleet kubeconfig's member2 context: the member
// gets a ServiceAccount whose token the host stores, and the Cluster turns
// Ready with its nodes counted (so the token and RBAC work). Joining again
// changes nothing; unjoin removes both sides. A NoSchedule taint keeps
// other tests' workloads off the second copy of member2 meanwhile.
func TestCLIJoinAndUnjoin(t *testing.T) {
	ctx := context.Background()
	const name = "member2-joined"
	kubeconfig := testFleet.KubeconfigPath()
	member := exMemberOf(t, "member2")
	t.Cleanup(func() {
		_ = argosyCLI(t, "unjoin", name, "--cluster-kubeconfig", kubeconfig, "--cluster-context", "member2", "--ignore-not-found")
	})

	argosyCLI(t, "join", name, "--cluster-kubeconfig", kubeconfig, "--cluster-context", "member2", "--cluster-region", "e2e").
		must(t, "join", `^cluster/`+name+` joined\n$`)
	argosyCLI(t, "taint", "clusters", name, "e2e-joined-copy:NoSchedule").must(t, "taint", `^cluster/`+name+` tainted\n$`)

	cl := getCluster(ctx, t, name)
	if ref := cl.Spec.SecretRef; ref == nil || ref.Namespace != membership.SystemNamespace || ref.Name != name+"-kubeconfig" ||
		cl.Spec.APIEndpoint != testFleet.MemberEndpoint("member2") || cl.Spec.Region != "e2e" || cl.Spec.SyncMode != clusterv1alpha1.Push {
		t.Fatalf("Cluster spec %+v", cl.Spec)
	}
	// The host stores the ServiceAccount's token, not the user's certificate.
	var sec corev1.Secret
	if err := hostClient.Get(ctx, client.ObjectKey{Namespace: membership.SystemNamespace, Name: name + "-kubeconfig"}, &sec); err != nil {
		t.Fatal(err)
	}
	stored, err := clientcmd.Load(sec.Data["value"])
	if err != nil {
		t.Fatal(err)
	}
	user := stored.AuthInfos[stored.Contexts[stored.CurrentContext].AuthInfo]
	if user == nil || user.Token == "" || len(user.ClientCertificateData) > 0 {
		t.Fatalf("stored user %+v: want a token only", user)
	}
	if len(sec.OwnerReferences) != 1 || sec.OwnerReferences[0].UID != cl.UID {
		t.Errorf("credentials Secret owners %+v, want the Cluster", sec.OwnerReferences)
	}
	names := membership.NamesFor(name)
	var token corev1.Secret
	if err := member.Get(ctx, client.ObjectKey{Namespace: names.Namespace, Name: names.Secret}, &token); err != nil {
		t.Fatal(err)
	}
	if string(token.Data["token"]) != user.Token {
		t.Error("the stored token is not the member's ServiceAccount token")
	}

	eventually(t, clusterPatience, name+" Ready with its nodes", func(ctx context.Context) (bool, string) {
		cl, why := lookCluster(ctx, name)
		if cl == nil {
			return false, why
		}
		c := readyOf(cl)
		ok := c != nil && c.Status == metav1.ConditionTrue && cl.Status.NodeSummary != nil && cl.Status.NodeSummary.ReadyNum > 0
		return ok, describeReady(cl)
	})
	argosyCLI(t, "get", "clusters", name, "-o", "wide").must(t, "get clusters", `(?m)^`+name+` +v\S+ +Push +True +\S+ +e2e +<none> +e2e-joined-copy:NoSchedule$`)

	// Joining again updates in place: same token, taint kept.
	before := getCluster(ctx, t, name)
	argosyCLI(t, "join", name, "--cluster-kubeconfig", kubeconfig, "--cluster-context", "member2", "--cluster-region", "e2e").
		must(t, "join again", `^cluster/`+name+` joined\n$`)
	after := getCluster(ctx, t, name)
	if after.Generation != before.Generation || !hasTaint(after, "e2e-joined-copy") {
		t.Errorf("re-join changed the Cluster: generation %d -> %d, taints %v", before.Generation, after.Generation, taintKeysOf(after))
	}

	argosyCLI(t, "unjoin", name, "--cluster-kubeconfig", kubeconfig, "--cluster-context", "member2").
		must(t, "unjoin", `(?s)^deleted in the member: secret/.*clusterrole/argosy:member:`+name+`.*\ncluster/`+name+` unjoined\n$`)
	if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &clusterv1alpha1.Cluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("Cluster after unjoin: %v", err)
	}
	if err := hostClient.Get(ctx, client.ObjectKeyFromObject(&sec), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("credentials Secret after unjoin: %v", err)
	}
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: names.Namespace, Name: names.ServiceAccount}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: names.Namespace, Name: names.Secret}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRole}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRole}},
	} {
		if err := member.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s in member2 after unjoin: %v", obj, obj.GetName(), err)
		}
	}
	r := argosyCLI(t, "unjoin", name)
	if r.err == nil || !strings.Contains(r.errOut, `cluster "`+name+`" not found`) {
		t.Errorf("second unjoin: %v, stderr %q", r.err, r.errOut)
	}
}

// TestCLIJoinRefusesExecPlugins: a member context whose user runs an exec
// plugin is refused with a message that says so, before anything is
// written.
func TestCLIJoinRefusesExecPlugins(t *testing.T) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["m"] = &clientcmdapi.Cluster{Server: testFleet.MemberEndpoint("member2")}
	cfg.AuthInfos["m"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "gke-gcloud-auth-plugin", APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	cfg.Contexts["m"] = &clientcmdapi.Context{Cluster: "m", AuthInfo: "m"}
	cfg.CurrentContext = "m"
	path := filepath.Join(t.TempDir(), "exec.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	r := argosyCLI(t, "join", "cli-exec", "--cluster-kubeconfig", path)
	if r.err == nil || !strings.Contains(r.errOut, "runs an exec credential plugin (gke-gcloud-auth-plugin)") || r.out != "" {
		t.Errorf("join with an exec plugin: %v, stdout %q, stderr %q", r.err, r.out, r.errOut)
	}
	if err := hostClient.Get(context.Background(), client.ObjectKey{Name: "cli-exec"}, &clusterv1alpha1.Cluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("Cluster cli-exec: %v, want NotFound", err)
	}
}

// TestCLITaintAndUntaint taints and untaints member1 with a NoSchedule
// taint (nothing is evicted).
func TestCLITaintAndUntaint(t *testing.T) {
	t.Cleanup(func() { _ = argosyCLI(t, "taint", "clusters", "member1", "cli-e2e-") })
	argosyCLI(t, "taint", "clusters", "member1", "cli-e2e=yes:NoSchedule").must(t, "taint", `^cluster/member1 tainted\n$`)
	cl := getCluster(context.Background(), t, "member1")
	if !hasTaint(cl, "cli-e2e") {
		t.Fatalf("member1 taints %v", taintKeysOf(cl))
	}
	argosyCLI(t, "taint", "clusters", "member1", "cli-e2e:NoSchedule-").must(t, "untaint", `^cluster/member1 untainted\n$`)
	if cl := getCluster(context.Background(), t, "member1"); hasTaintKey(cl, "cli-e2e") {
		t.Fatalf("member1 taints after untaint %v", taintKeysOf(cl))
	}
}

// TestCLIApplyAllClustersAndGet applies a plain Deployment with
// --all-clusters; get shows one row per member with READY 1/1, and
// describe shows the placement and the status per cluster.
func TestCLIApplyAllClustersAndGet(t *testing.T) {
	const name = "cli-e2e-web"
	file := filepath.Join(t.TempDir(), "web.yaml")
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	rtName := wrappedNameOf("apps", "Deployment", "default", name)
	t.Cleanup(func() {
		for _, o := range []*unstructured.Unstructured{
			kindNamed(workv1alpha1.GroupVersion.String(), workv1alpha1.KindResourceTemplate, templateNamespace, rtName),
			kindNamed(policyv1alpha1.GroupVersion.String(), "ClusterPropagationPolicy", "", rtName),
		} {
			deleteAndWait(t, o)
		}
		for _, m := range testFleet.MemberNames() {
			waitMemberGone(t, m, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}, 30*time.Second)
		}
	})
	argosyCLI(t, "apply", "-f", file, "--all-clusters").must(t, "apply",
		`^resourcetemplate\.work\.argosy\.dev/`+rtName+` serverside-applied\nclusterpropagationpolicy\.policy\.argosy\.dev/`+rtName+` serverside-applied\n$`)

	var last cliRun
	eventually(t, 60*time.Second, "a Ready row per member", func(ctx context.Context) (bool, string) {
		last = argosyCLI(t, "get", "deployment", name, "-n", "default")
		ok := last.err == nil && regexp.MustCompile(`(?m)^`+name+` +member1 +1/1 +1 +1 +\S+ +Y\n`+name+` +member2 +1/1 +1 +1 +\S+ +Y$`).MatchString(last.out)
		return ok, last.out + last.errOut
	})
	t.Logf("get deployment:\n%s", last.out)

	r := argosyCLI(t, "describe", "deployment", name, "-n", "default")
	r.must(t, "describe", `(?m)^Policy: +ClusterPropagationPolicy `+rtName+`$`)
	r.must(t, "describe", `(?m)^Placement:\n  Cluster +Replicas\n  -+ +-+\n  member1 +1\n  member2 +1$`)
	r.must(t, "describe", `(?m)^  member1 +True +Healthy +1/1 +False `)
	r.must(t, "describe", `(?m)^  template +Ready +True `)
	t.Logf("describe:\n%s", r.out)
}

// TestCLIPromote takes over a Deployment created directly in member1, as
// seed 002 does by hand: the template and an Overwrite policy placing it on
// member1; Argosy then manages the existing object.
func TestCLIPromote(t *testing.T) {
	ctx := context.Background()
	const ns, name = "cli-promote", "legacy"
	m1 := exMemberOf(t, "member1")
	if err := m1.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	rtName := wrappedNameOf("apps", "Deployment", ns, name)
	t.Cleanup(func() {
		deleteAndWait(t, kindNamed(policyv1alpha1.GroupVersion.String(), "PropagationPolicy", ns, rtName))
		deleteAndWait(t, kindNamed(workv1alpha1.GroupVersion.String(), workv1alpha1.KindResourceTemplate, templateNamespace, rtName))
		_ = m1.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		_ = hostClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrInt32(1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
	if err := m1.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	uid := dep.UID

	argosyCLI(t, "promote", "deployment", name, "-n", ns, "-C", "member1").must(t, "promote",
		`^namespace/`+ns+` created\npropagationpolicy\.policy\.argosy\.dev/`+rtName+` serverside-applied\nresourcetemplate\.work\.argosy\.dev/`+rtName+` serverside-applied\n$`)
	waitBindingFullyApplied(t, rtName, 60*time.Second)
	waitMember(t, "member1", dep, 30*time.Second, func() (bool, string) {
		return dep.Labels[workv1alpha1.LabelManaged] == "true", "labels " + strings.Join(keys(dep.Labels), ",")
	})
	if dep.UID != uid {
		t.Errorf("the Deployment was recreated (uid %s -> %s), not adopted", uid, dep.UID)
	}
	absentFromMember(t, "member2", &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})

	// An object Argosy already manages is not promoted twice.
	r := argosyCLI(t, "promote", "deployment", name, "-n", ns, "-C", "member1")
	if r.err == nil || !strings.Contains(r.errOut, "already managed by Argosy") {
		t.Errorf("second promote: %v, stderr %q", r.err, r.errOut)
	}
}

func kindNamed(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func ptrInt32(v int32) *int32 { return &v }

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
