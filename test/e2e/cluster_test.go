package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	clustercontroller "argosy.dev/argosy/controllers/cluster"
	"argosy.dev/argosy/test/fleet"
	"argosy.dev/argosy/test/install"
)

// The suite runs the manager with --cluster-status-update-frequency=1s,
// --cluster-failure-threshold=3s and --cluster-success-threshold=2s.
const (
	failureThreshold = 3 * time.Second
	// clusterPatience covers a threshold, a probe period, a probe timeout
	// and a slow machine.
	clusterPatience = 30 * time.Second
)

// eventually polls cond every 200ms until it holds or timeout passes; on
// timeout the test fails with cond's last explanation.
func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ok, why := cond(ctx)
		last = why
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s: %s", what, timeout, last)
	}
}

func getCluster(ctx context.Context, t *testing.T, name string) *clusterv1alpha1.Cluster {
	t.Helper()
	var cl clusterv1alpha1.Cluster
	if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
		t.Fatalf("getting Cluster %s: %v", name, err)
	}
	return &cl
}

// lookCluster is getCluster for polls: an error is a reason to look again.
func lookCluster(ctx context.Context, name string) (*clusterv1alpha1.Cluster, string) {
	var cl clusterv1alpha1.Cluster
	if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
		return nil, fmt.Sprintf("getting Cluster %s: %v", name, err)
	}
	return &cl, ""
}

func readyOf(cl *clusterv1alpha1.Cluster) *metav1.Condition {
	return meta.FindStatusCondition(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
}

func describeReady(cl *clusterv1alpha1.Cluster) string {
	c := readyOf(cl)
	if c == nil {
		return "no Ready condition; taints " + fmt.Sprint(taintKeysOf(cl))
	}
	return fmt.Sprintf("Ready=%s reason=%s message=%q taints=%v", c.Status, c.Reason, c.Message, taintKeysOf(cl))
}

func taintKeysOf(cl *clusterv1alpha1.Cluster) []string {
	var keys []string
	for _, t := range cl.Spec.Taints {
		keys = append(keys, t.Key+":"+string(t.Effect))
	}
	return keys
}

func hasTaint(cl *clusterv1alpha1.Cluster, key string) bool {
	return slices.ContainsFunc(cl.Spec.Taints, func(t corev1.Taint) bool {
		return t.Key == key && t.Effect == corev1.TaintEffectNoSchedule
	})
}

// hasTaintKey tells whether the Cluster has a taint with key, whatever its
// effect.
func hasTaintKey(cl *clusterv1alpha1.Cluster, key string) bool {
	return slices.ContainsFunc(cl.Spec.Taints, func(t corev1.Taint) bool { return t.Key == key })
}

// hasHealthTaint tells whether the Cluster has the health taint key as the
// cluster controller keeps it: with both effects, NoSchedule and NoExecute,
// each with timeAdded.
func hasHealthTaint(cl *clusterv1alpha1.Cluster, key string) bool {
	for _, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
		if !slices.ContainsFunc(cl.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == key && t.Effect == effect && t.TimeAdded != nil
		}) {
			return false
		}
	}
	return true
}

// waitClusterReady waits until the Cluster is Ready=True with none of the
// controller's health taints.
func waitClusterReady(t *testing.T, name string, timeout time.Duration) *clusterv1alpha1.Cluster {
	t.Helper()
	var cl *clusterv1alpha1.Cluster
	eventually(t, timeout, "Cluster "+name+" Ready", func(ctx context.Context) (bool, string) {
		var why string
		if cl, why = lookCluster(ctx, name); cl == nil {
			return false, why
		}
		c := readyOf(cl)
		ok := c != nil && c.Status == metav1.ConditionTrue && c.Reason == clusterv1alpha1.ClusterReasonReady &&
			!hasTaintKey(cl, clusterv1alpha1.TaintClusterNotReady) && !hasTaintKey(cl, clusterv1alpha1.TaintClusterUnreachable)
		return ok, describeReady(cl)
	})
	return cl
}

// TestClusterStatusOfMembers: every member is Ready, with the version the
// fleet runs, its API enablements, and node and resource summaries that
// match its nodes.
func TestClusterStatusOfMembers(t *testing.T) {
	ctx := context.Background()
	for _, name := range testFleet.MemberNames() {
		t.Run(name, func(t *testing.T) {
			cl := waitClusterReady(t, name, clusterPatience)
			mc := kubernetes.NewForConfigOrDie(testFleet.MemberConfig(name))
			nodes, err := mc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// The version the member's apiserver reports (v1.37.2 when the
			// fleet's binaries are built with Kubernetes' version ldflags).
			v, err := mc.Discovery().ServerVersion()
			if err != nil {
				t.Fatal(err)
			}
			wantVersion := v.GitVersion
			capacity := corev1.ResourceList{}
			for _, n := range nodes.Items {
				for k, q := range n.Status.Capacity {
					cur := capacity[k]
					cur.Add(q)
					capacity[k] = cur
				}
			}
			// Summaries come from the member's informers, which may still be
			// syncing on the first pass after the manager started.
			eventually(t, clusterPatience, "status of "+name, func(ctx context.Context) (bool, string) {
				var why string
				if cl, why = lookCluster(ctx, name); cl == nil {
					return false, why
				}
				st := cl.Status
				var problems []string
				if st.KubernetesVersion != wantVersion {
					problems = append(problems, fmt.Sprintf("kubernetesVersion %q, want %q", st.KubernetesVersion, wantVersion))
				}
				if !servesKind(st.APIEnablements, "apps/v1", "deployments", "Deployment") {
					problems = append(problems, "apiEnablements lack apps/v1 Deployment")
				}
				if c := meta.FindStatusCondition(st.Conditions, clusterv1alpha1.ClusterConditionCompleteAPIEnablements); c == nil || c.Status != metav1.ConditionTrue {
					problems = append(problems, fmt.Sprintf("CompleteAPIEnablements %+v", c))
				}
				if ns := st.NodeSummary; ns == nil || int(ns.TotalNum) != len(nodes.Items) || int(ns.ReadyNum) != len(nodes.Items) {
					problems = append(problems, fmt.Sprintf("nodeSummary %+v, want %d total and ready", ns, len(nodes.Items)))
				}
				if rs := st.ResourceSummary; rs == nil {
					problems = append(problems, "no resourceSummary")
				} else {
					for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods} {
						if got, want := rs.Allocatable[k], capacity[k]; got.Cmp(want) != 0 {
							problems = append(problems, fmt.Sprintf("allocatable %s %s, want %s", k, got.String(), want.String()))
						}
					}
					if _, ok := rs.Allocated[corev1.ResourcePods]; !ok {
						problems = append(problems, "allocated has no pod count")
					}
				}
				if st.ObservedGeneration != cl.Generation || readyOf(cl).ObservedGeneration != cl.Generation {
					problems = append(problems, fmt.Sprintf("observedGeneration %d (Ready %d), generation %d", st.ObservedGeneration, readyOf(cl).ObservedGeneration, cl.Generation))
				}
				return len(problems) == 0, strings.Join(problems, "; ")
			})
			byGV := func(a, b clusterv1alpha1.APIEnablement) int { return strings.Compare(a.GroupVersion, b.GroupVersion) }
			if !slices.IsSortedFunc(cl.Status.APIEnablements, byGV) {
				t.Errorf("apiEnablements not sorted by group version: %v", cl.Status.APIEnablements)
			}
		})
	}
}

func servesKind(es []clusterv1alpha1.APIEnablement, gv, resource, kind string) bool {
	for _, e := range es {
		if e.GroupVersion != gv {
			continue
		}
		for _, r := range e.Resources {
			if r.Name == resource && r.Kind == kind {
				return true
			}
		}
	}
	return false
}

// kubeconfigCA returns the CA data of a kubeconfig's only cluster.
func kubeconfigCA(t *testing.T, data []byte) []byte {
	t.Helper()
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		return c.CertificateAuthorityData
	}
	t.Fatal("kubeconfig without a cluster")
	return nil
}

// withCA returns the kubeconfig with every cluster's CA replaced.
func withCA(t *testing.T, data, ca []byte) []byte {
	t.Helper()
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.CertificateAuthorityData = ca
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createClusterWithSecret registers a push Cluster with the given
// credentials Secret (nil data: no Secret), both removed when the test ends.
func createClusterWithSecret(t *testing.T, name, endpoint, secretName string, data map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	cl := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: clusterv1alpha1.ClusterSpec{
			SyncMode: clusterv1alpha1.Push, APIEndpoint: endpoint,
			SecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: install.SystemNamespace, Name: secretName},
		},
	}
	if err := hostClient.Create(ctx, cl); err != nil {
		t.Fatalf("creating Cluster %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := hostClient.Delete(context.Background(), cl); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting Cluster %s: %v", name, err)
		}
	})
	if data != nil {
		createSecret(t, secretName, data)
	}
}

func createSecret(t *testing.T, name string, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: install.SystemNamespace, Name: name}, Data: data}
	if err := hostClient.Create(context.Background(), s); err != nil {
		t.Fatalf("creating Secret %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := hostClient.Delete(context.Background(), s); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting Secret %s: %v", name, err)
		}
	})
}

// TestClusterBadCredentials: a wrong CA, a rejected token, an endpoint
// nobody listens on and a missing Secret each give Ready=False with a
// reason and a message that say which, and the not-ready taints (Ready=False
// for any reason is not-ready, NoSchedule and NoExecute, as in Karmada). The
// Cluster is not rewritten probe after probe (no hot loop) and the manager
// keeps running. Creating the missing Secret makes that Cluster Ready.
func TestClusterBadCredentials(t *testing.T) {
	ctx := context.Background()
	member := testFleet.MemberNames()[0]
	endpoint := testFleet.MemberEndpoint(member)
	kc := testFleet.MemberKubeconfig(member)
	hostCA := kubeconfigCA(t, testFleet.HostKubeconfig())
	refused, err := install.FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	ns := install.SystemNamespace

	// Cluster API's naming: <cluster>-kubeconfig, read with its utilities.
	createClusterWithSecret(t, "e2e-wrong-ca", endpoint, "e2e-wrong-ca-kubeconfig",
		map[string][]byte{clusterv1alpha1.SecretKubeconfigKey: withCA(t, kc, hostCA)})
	createClusterWithSecret(t, "e2e-bad-token", endpoint, "e2e-bad-token-creds", map[string][]byte{
		clusterv1alpha1.SecretTokenKey: []byte("not-a-valid-token"), clusterv1alpha1.SecretCADataKey: kubeconfigCA(t, kc),
	})
	createClusterWithSecret(t, "e2e-refused", "https://"+refused, "e2e-refused-creds",
		map[string][]byte{clusterv1alpha1.SecretKubeconfigKey: kc})
	createClusterWithSecret(t, "e2e-no-secret", endpoint, "e2e-no-secret-kubeconfig", nil)

	cases := []struct{ name, reason, message string }{
		{"e2e-wrong-ca", clustercontroller.ReasonTLSHandshakeFailed, "the server's certificate is not signed by the CA in Secret " + ns + "/e2e-wrong-ca-kubeconfig"},
		{"e2e-bad-token", clustercontroller.ReasonCredentialsRejected, "rejected the credentials in Secret " + ns + "/e2e-bad-token-creds"},
		{"e2e-refused", clusterv1alpha1.ClusterReasonNotReachable, "cannot reach the API server at https://" + refused},
		{"e2e-no-secret", clusterv1alpha1.ClusterReasonCredentialsUnavailable, "the credentials Secret " + ns + "/e2e-no-secret-kubeconfig does not exist"},
	}
	for _, tc := range cases {
		eventually(t, clusterPatience, tc.name+" "+tc.reason, func(ctx context.Context) (bool, string) {
			cl, why := lookCluster(ctx, tc.name)
			if cl == nil {
				return false, why
			}
			c := readyOf(cl)
			ok := c != nil && c.Status == metav1.ConditionFalse && c.Reason == tc.reason && strings.Contains(c.Message, tc.message) &&
				hasHealthTaint(cl, clusterv1alpha1.TaintClusterNotReady) && !hasTaintKey(cl, clusterv1alpha1.TaintClusterUnreachable) &&
				cl.Status.ObservedGeneration == cl.Generation
			return ok, describeReady(cl)
		})
	}

	// Several probe periods later nothing was rewritten: the failures are
	// requeued at the normal frequency and their messages are stable.
	versions := map[string]string{}
	for _, tc := range cases {
		versions[tc.name] = getCluster(ctx, t, tc.name).ResourceVersion
	}
	time.Sleep(4 * time.Second)
	for _, tc := range cases {
		if cl := getCluster(ctx, t, tc.name); cl.ResourceVersion != versions[tc.name] {
			t.Errorf("Cluster %s was rewritten while its member stayed broken: %s", tc.name, describeReady(cl))
		}
	}
	if !slices.ContainsFunc(testFleet.Usage(), func(u fleet.ProcessUsage) bool { return u.Name == "argosy-manager" }) {
		t.Fatal("the manager is no longer running")
	}

	// The missing Secret appears: the Secret watch brings the Cluster up.
	createSecret(t, "e2e-no-secret-kubeconfig", map[string][]byte{clusterv1alpha1.SecretKubeconfigKey: kc})
	waitClusterReady(t, "e2e-no-secret", clusterPatience)
}

// stopMemberAPIServer stops the member's apiserver and returns a function
// that starts it again (once). The apiserver is started again, and the
// Cluster waited Ready, when the test ends, even if it failed.
func stopMemberAPIServer(t *testing.T, name string) (restart func()) {
	t.Helper()
	if err := testFleet.StopMemberAPIServer(name); err != nil {
		t.Fatal(err)
	}
	restarted := false
	restart = func() {
		if restarted {
			return
		}
		restarted = true
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := testFleet.StartMemberAPIServer(ctx, name); err != nil {
			t.Fatalf("restarting the apiserver of %s: %v", name, err)
		}
	}
	t.Cleanup(func() {
		restart()
		waitClusterReady(t, name, 2*clusterPatience)
	})
	return restart
}

// TestClusterMemberAPIServerOutage stops member2's apiserver: the Cluster
// turns Ready=False only after the failure threshold, with the not-ready
// taints (NoSchedule and NoExecute: Ready is False, not Unknown); started
// again, it is Ready and untainted after the success threshold. The
// apiserver is restarted even if the test fails.
func TestClusterMemberAPIServerOutage(t *testing.T) {
	names := testFleet.MemberNames()
	name := names[len(names)-1]
	waitClusterReady(t, name, clusterPatience)

	stopped := time.Now()
	restart := stopMemberAPIServer(t, name)

	var flipped time.Duration
	eventually(t, clusterPatience, name+" Ready=False", func(ctx context.Context) (bool, string) {
		cl, why := lookCluster(ctx, name)
		if cl == nil {
			return false, why
		}
		if c := readyOf(cl); c != nil && c.Status == metav1.ConditionFalse && flipped == 0 {
			flipped = time.Since(stopped)
		}
		c := readyOf(cl)
		ok := c != nil && c.Status == metav1.ConditionFalse && c.Reason == clusterv1alpha1.ClusterReasonNotReachable &&
			strings.Contains(c.Message, testFleet.MemberEndpoint(name)) && hasHealthTaint(cl, clusterv1alpha1.TaintClusterNotReady) &&
			!hasTaintKey(cl, clusterv1alpha1.TaintClusterUnreachable)
		return ok, describeReady(cl)
	})
	if flipped < failureThreshold-500*time.Millisecond {
		t.Errorf("Ready turned False %s after the apiserver stopped, before the %s failure threshold", flipped, failureThreshold)
	}
	t.Logf("Ready turned False %s after the apiserver stopped", flipped.Round(100*time.Millisecond))

	restart()
	cl := waitClusterReady(t, name, clusterPatience)
	if cl.Status.NodeSummary == nil || cl.Status.NodeSummary.ReadyNum == 0 {
		t.Errorf("nodeSummary after recovery %+v", cl.Status.NodeSummary)
	}
}

// TestClusterUnschedulable: spec.unschedulable adds the unschedulable
// taint and clearing it removes the taint; a user's taint on the same
// Cluster is left alone throughout.
func TestClusterUnschedulable(t *testing.T) {
	ctx := context.Background()
	name := testFleet.MemberNames()[0]
	waitClusterReady(t, name, clusterPatience)
	user := corev1.Taint{Key: "e2e.argosy.dev/user", Value: "keep", Effect: corev1.TaintEffectNoSchedule}

	patch := func(unschedulable bool, taints []corev1.Taint) {
		t.Helper()
		cl := getCluster(ctx, t, name)
		before := cl.DeepCopy()
		cl.Spec.Unschedulable = unschedulable
		cl.Spec.Taints = taints
		if err := hostClient.Patch(ctx, cl, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			t.Fatalf("patching Cluster %s: %v", name, err)
		}
	}
	withUser := func(cl *clusterv1alpha1.Cluster) []corev1.Taint {
		ts := slices.DeleteFunc(slices.Clone(cl.Spec.Taints), func(t corev1.Taint) bool { return t.Key == user.Key })
		return append(ts, user)
	}
	patch(true, withUser(getCluster(ctx, t, name)))
	t.Cleanup(func() {
		// Remove the user taint and the cordon, whatever happened.
		_ = hostClient.Patch(context.Background(), &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}},
			client.RawPatch(types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/unschedulable","value":false}]`)))
		// The cluster controller writes the same list (the unschedulable
		// taint going away), so an optimistic-lock conflict is retried
		// until the user taint is really gone; later tests schedule here.
		err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			cl := getCluster(ctx, t, name)
			if !slices.ContainsFunc(cl.Spec.Taints, func(x corev1.Taint) bool { return x.Key == user.Key }) {
				return true, nil
			}
			before := cl.DeepCopy()
			cl.Spec.Taints = slices.DeleteFunc(cl.Spec.Taints, func(x corev1.Taint) bool { return x.Key == user.Key })
			_ = hostClient.Patch(ctx, cl, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
			return false, nil
		})
		if err != nil {
			t.Errorf("could not remove the user taint from %s: %v", name, err)
		}
	})
	eventually(t, clusterPatience, "unschedulable taint on "+name, func(ctx context.Context) (bool, string) {
		cl, why := lookCluster(ctx, name)
		if cl == nil {
			return false, why
		}
		return hasTaint(cl, clusterv1alpha1.TaintClusterUnschedulable) && hasTaint(cl, user.Key), describeReady(cl)
	})

	cl := getCluster(ctx, t, name)
	patch(false, cl.Spec.Taints)
	eventually(t, clusterPatience, "unschedulable taint removed from "+name, func(ctx context.Context) (bool, string) {
		cl, why := lookCluster(ctx, name)
		if cl == nil {
			return false, why
		}
		return !hasTaint(cl, clusterv1alpha1.TaintClusterUnschedulable) && hasTaint(cl, user.Key), describeReady(cl)
	})
	for _, ta := range getCluster(ctx, t, name).Spec.Taints {
		if ta.Key == user.Key && ta.Value != user.Value {
			t.Errorf("the user's taint was changed: %+v", ta)
		}
	}
}
