package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cluster-api/util/kubeconfig"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
	"argosy.dev/argosy/test/install"
)

// TestInstallManifestsServerDryRun is the install path a user takes:
// `kubectl apply -k config/default --dry-run=server` against the host must
// succeed, every object passing the host's own validation and admission.
func TestInstallManifestsServerDryRun(t *testing.T) {
	out, err := kubectl(t, "--context", "argosy-host", "apply", "-k", filepath.Join(repoRoot, "config", "default"), "--dry-run=server")
	if err != nil {
		t.Fatalf("kubectl apply -k config/default --dry-run=server: %v\n%s", err, out)
	}
	for _, want := range []string{"customresourcedefinition.apiextensions.k8s.io/propagationpolicies.policy.argosy.dev", "deployment.apps/argosy-controller-manager", "service/argosy-webhook-service", "namespace/argosy-templates"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
}

// TestMembersRegistered checks that each member has a Cluster whose
// credentials Secret, read back with cluster-api's kubeconfig utilities,
// reaches that member's apiserver and sees its Ready fake nodes.
func TestMembersRegistered(t *testing.T) {
	ctx := context.Background()
	for _, name := range testFleet.MemberNames() {
		t.Run(name, func(t *testing.T) {
			var cl clusterv1alpha1.Cluster
			if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
				t.Fatalf("Cluster %s: %v", name, err)
			}
			if cl.Spec.SecretRef == nil || cl.Spec.SecretRef.Namespace != install.SystemNamespace {
				t.Fatalf("Cluster %s secretRef %+v, want one in %s", name, cl.Spec.SecretRef, install.SystemNamespace)
			}
			data, err := kubeconfig.FromSecret(ctx, hostClient, client.ObjectKey{Namespace: cl.Spec.SecretRef.Namespace, Name: name})
			if err != nil {
				t.Fatalf("reading the credentials of %s: %v", name, err)
			}
			rc, err := clientcmd.RESTConfigFromKubeConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			cs := kubernetes.NewForConfigOrDie(rc)
			nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("listing nodes of %s with its registered credentials: %v", name, err)
			}
			if len(nodes.Items) == 0 {
				t.Fatalf("%s has no nodes", name)
			}
			for _, n := range nodes.Items {
				if !nodeReady(n) {
					t.Errorf("node %s of %s is not Ready", n.Name, name)
				}
			}
		})
	}
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// kubectl runs the kubectl built into bin/ against the fleet's kubeconfig.
func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "kubectl"), append([]string{"--kubeconfig", testFleet.KubeconfigPath()}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestHostCallsManagerWebhooks: on the fleet the host apiserver calls the
// manager's webhook server on loopback, so a template created without a
// name gets its derived one, and a wrong name is refused.
func TestHostCallsManagerWebhooks(t *testing.T) {
	ctx := context.Background()
	raw := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"e2e-webhook"},"data":{"k":"v"}}`)
	rt := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates"},
		Spec:       workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: raw}},
	}
	if err := hostClient.Create(ctx, rt); err != nil {
		t.Fatalf("creating a template through the webhooks: %v", err)
	}
	t.Cleanup(func() { _ = hostClient.Delete(ctx, rt) })
	if want := template.Name("", "ConfigMap", "default", "e2e-webhook"); rt.Name != want {
		t.Errorf("template named %q, want the derived %q", rt.Name, want)
	}
	bad := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "not-derived"},
		Spec:       workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: raw}},
	}
	if err := hostClient.Create(ctx, bad); err == nil || !strings.Contains(err.Error(), "metadata.name") {
		t.Errorf("a template with a wrong name: %v, want a metadata.name error", err)
	}

	// The wrapped object is checked by a dry run on the host: the
	// apiserver's own field error, under spec.template.
	invalid := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates"},
		Spec: workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment",
"metadata":{"name":"e2e-invalid"},"spec":{"replicas":-1,"selector":{"matchLabels":{"app":"x"}},
"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`)}},
	}
	if err := hostClient.Create(ctx, invalid); err == nil || !strings.Contains(err.Error(), "spec.template.spec.replicas") {
		_ = hostClient.Delete(ctx, invalid)
		t.Errorf("a template wrapping a Deployment with replicas -1: %v, want a spec.template.spec.replicas error", err)
	}

	// Policies get Karmada's default tolerations from the mutating webhook.
	pp := &policyv1alpha1.PropagationPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "e2e-webhook-defaults"},
		Spec: policyv1alpha1.PropagationSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap", Name: "e2e-none"}},
		},
	}
	if err := hostClient.Create(ctx, pp); err != nil {
		t.Fatalf("creating a PropagationPolicy through the webhooks: %v", err)
	}
	t.Cleanup(func() { _ = hostClient.Delete(ctx, pp) })
	var keys []string
	for _, tol := range pp.Spec.Placement.ClusterTolerations {
		if tol.Effect == corev1.TaintEffectNoExecute && tol.TolerationSeconds != nil && *tol.TolerationSeconds == 300 {
			keys = append(keys, tol.Key)
		}
	}
	if want := []string{clusterv1alpha1.TaintClusterNotReady, clusterv1alpha1.TaintClusterUnreachable}; !slices.Equal(keys, want) {
		t.Errorf("default tolerations for %v, want %v", keys, want)
	}
}
