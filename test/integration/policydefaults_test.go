package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// noExecuteToleration is a toleration of the NoExecute taint with key for
// seconds, the shape of the defaults.
func noExecuteToleration(key string, seconds int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)}
}

// defaultTolerations are the two defaults with the manager's seconds.
func defaultTolerations() []corev1.Toleration {
	return []corev1.Toleration{
		noExecuteToleration(clusterv1alpha1.TaintClusterNotReady, mgrOptions.DefaultNotReadyTolerationSeconds),
		noExecuteToleration(clusterv1alpha1.TaintClusterUnreachable, mgrOptions.DefaultUnreachableTolerationSeconds),
	}
}

func checkTolerations(t *testing.T, what string, got, want []corev1.Toleration) {
	t.Helper()
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("%s: clusterTolerations %s, want %s", what, formatTolerations(got), formatTolerations(want))
	}
}

// formatTolerations shows the seconds rather than their pointers.
func formatTolerations(tols []corev1.Toleration) string {
	var out []string
	for _, t := range tols {
		s := fmt.Sprintf("%s %s %q %s", t.Key, t.Operator, t.Value, t.Effect)
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" %ds", *t.TolerationSeconds)
		}
		out = append(out, "{"+s+"}")
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// TestPolicyDefaultTolerations: the mutating webhook gives a
// PropagationPolicy and a ClusterPropagationPolicy the NoExecute
// tolerations for the not-ready and unreachable taints (300 s by default)
// on create, keeps a policy's own toleration for one of them, and puts the
// defaults back when an update drops them.
func TestPolicyDefaultTolerations(t *testing.T) {
	ctx := context.Background()
	ns := "policydefaults-webhook"
	createNamespace(t, ns)
	if mgrOptions.DefaultNotReadyTolerationSeconds != 300 || mgrOptions.DefaultUnreachableTolerationSeconds != 300 {
		t.Fatalf("the manager runs with %d/%d s, want the defaults of 300 s", mgrOptions.DefaultNotReadyTolerationSeconds, mgrOptions.DefaultUnreachableTolerationSeconds)
	}
	selector := policyv1alpha1.ResourceSelector{APIVersion: "v1", Kind: "ConfigMap", Name: "policydefaults-none"}

	bare := propagationPolicy("bare", ns, selector)
	create(t, bare)
	got := &policyv1alpha1.PropagationPolicy{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(bare), got); err != nil {
		t.Fatal(err)
	}
	checkTolerations(t, "policy without tolerations", got.Spec.Placement.ClusterTolerations, defaultTolerations())
	if got.Spec.Placement.ClusterAffinity == nil || len(got.Spec.Placement.ClusterAffinity.ClusterNames) != 1 {
		t.Errorf("the rest of the placement changed: %+v", got.Spec.Placement)
	}

	// An update dropping them gets them back; one that keeps them leaves
	// the policy's generation alone.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(bare), got); err != nil {
			return err
		}
		got.Spec.Placement.ClusterTolerations = nil
		return k8sClient.Update(ctx, got)
	}); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(bare), got); err != nil {
		t.Fatal(err)
	}
	checkTolerations(t, "policy after an update without tolerations", got.Spec.Placement.ClusterTolerations, defaultTolerations())
	gen := got.Generation
	if err := k8sClient.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Generation != gen {
		t.Errorf("a no-op update moved the generation from %d to %d", gen, got.Generation)
	}

	own := noExecuteToleration(clusterv1alpha1.TaintClusterNotReady, 10)
	custom := corev1.Toleration{Key: "workload-rebalancer-test", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
	withOwn := propagationPolicy("own", ns, selector)
	withOwn.Spec.Placement.ClusterTolerations = []corev1.Toleration{custom, own}
	create(t, withOwn)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(withOwn), got); err != nil {
		t.Fatal(err)
	}
	checkTolerations(t, "policy with its own not-ready toleration", got.Spec.Placement.ClusterTolerations,
		[]corev1.Toleration{custom, own, noExecuteToleration(clusterv1alpha1.TaintClusterUnreachable, 300)})

	// A toleration of every taint already covers both.
	all := propagationPolicy("all", ns, selector)
	all.Spec.Placement.ClusterTolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	create(t, all)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(all), got); err != nil {
		t.Fatal(err)
	}
	checkTolerations(t, "policy tolerating everything", got.Spec.Placement.ClusterTolerations, []corev1.Toleration{{Operator: corev1.TolerationOpExists}})

	cpp := &policyv1alpha1.ClusterPropagationPolicy{}
	cpp.Name = "policydefaults-cluster"
	cpp.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "policydefaults-none"}}
	create(t, cpp)
	gotCPP := &policyv1alpha1.ClusterPropagationPolicy{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cpp), gotCPP); err != nil {
		t.Fatal(err)
	}
	checkTolerations(t, "ClusterPropagationPolicy", gotCPP.Spec.Placement.ClusterTolerations, defaultTolerations())
}

// TestPolicyDefaultTolerationsInBinding: a claimed template's binding
// carries the policy's placement with the defaults (the policy's own
// not-ready toleration plus the unreachable default), and the detector
// does not rewrite it once written.
func TestPolicyDefaultTolerationsInBinding(t *testing.T) {
	ctx := context.Background()
	ns := "policydefaults-binding"
	createNamespace(t, ns)
	own := noExecuteToleration(clusterv1alpha1.TaintClusterNotReady, 10)
	pp := propagationPolicy("cfg", ns, policyv1alpha1.ResourceSelector{APIVersion: "v1", Kind: "ConfigMap", Name: "cfg"})
	// No such cluster: the scheduler leaves spec.clusters alone, so only the
	// detector could move the binding's generation.
	pp.Spec.Placement.ClusterAffinity.ClusterNames = []string{"policydefaults-nowhere"}
	pp.Spec.Placement.ClusterTolerations = []corev1.Toleration{own}
	create(t, pp)
	rt := wrap(t, "", templateNS, configMap("cfg", ns))
	create(t, rt)

	want := refOf(policyv1alpha1.KindPropagationPolicy, ns, pp.Name)
	claimedBy(t, rt.Name, &want)
	rb, err := getBinding(ctx, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Spec.Placement == nil {
		t.Fatal("the binding has no placement")
	}
	checkTolerations(t, "binding", rb.Spec.Placement.ClusterTolerations,
		[]corev1.Toleration{own, noExecuteToleration(clusterv1alpha1.TaintClusterUnreachable, 300)})
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pp), pp); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(rb.Spec.Placement, &pp.Spec.Placement) {
		t.Errorf("binding placement differs from the policy's: tolerations %s and %s, affinity %+v and %+v",
			formatTolerations(rb.Spec.Placement.ClusterTolerations), formatTolerations(pp.Spec.Placement.ClusterTolerations),
			rb.Spec.Placement.ClusterAffinity, pp.Spec.Placement.ClusterAffinity)
	}
	gen := rb.Generation
	consistently(t, "binding generation", 2*time.Second, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return rb.Generation == gen, fmt.Sprintf("generation %d, was %d", rb.Generation, gen)
	})
}
