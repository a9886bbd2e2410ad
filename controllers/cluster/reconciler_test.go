package cluster

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/member"
	"argosy.dev/argosy/internal/member/membertest"
	"argosy.dev/argosy/internal/scheme"
)

const systemNS = "argosy-system"

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, eventtype+" "+reason)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

type harness struct {
	t     *testing.T
	c     client.Client
	r     *Reconciler
	clock *clock
	rec   *recorder
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(objs...).
		WithStatusSubresource(&clusterv1alpha1.Cluster{}).Build()
	members := member.NewCache(c, testr.New(t), member.WithSecretNamespace(systemNS), member.WithTimeout(2*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = members.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	h := &harness{t: t, c: c, clock: &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, rec: &recorder{}}
	h.r = &Reconciler{
		Client: c, Members: members, Recorder: h.rec, SystemNamespace: systemNS,
		StatusUpdateFrequency: 10 * time.Second, FailureThreshold: 30 * time.Second, SuccessThreshold: 20 * time.Second,
		Now: h.clock.now,
	}
	return h
}

func (h *harness) reconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.r.Reconcile(ctrl.LoggerInto(context.Background(), testr.New(h.t)), ctrl.Request{NamespacedName: client.ObjectKey{Name: name}})
	if err != nil {
		h.t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func (h *harness) get(name string) *clusterv1alpha1.Cluster {
	h.t.Helper()
	var cl clusterv1alpha1.Cluster
	if err := h.c.Get(context.Background(), client.ObjectKey{Name: name}, &cl); err != nil {
		h.t.Fatal(err)
	}
	return &cl
}

func ready(cl *clusterv1alpha1.Cluster) *metav1.Condition {
	return meta.FindStatusCondition(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
}

func taintSet(cl *clusterv1alpha1.Cluster) string {
	return strings.Join(taintKeys(cl.Spec.Taints), ",")
}

func tokenSecret(name, token string, ca []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: systemNS, Name: name},
		Data:       map[string][]byte{clusterv1alpha1.SecretTokenKey: []byte(token), clusterv1alpha1.SecretCADataKey: ca},
	}
}

func pushCluster(name, endpoint, secret string, taints ...corev1.Taint) *clusterv1alpha1.Cluster {
	return &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: clusterv1alpha1.ClusterSpec{
			SyncMode: clusterv1alpha1.Push, APIEndpoint: endpoint, Taints: taints,
			SecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: systemNS, Name: secret},
		},
	}
}

func waitSynced(t *testing.T, c *member.Cache, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		m := c.Get(name)
		return m != nil && m.Synced(), nil
	})
	if err != nil {
		t.Fatalf("member %s never synced", name)
	}
}

// TestReconcileHealthyMemberThenOutage follows one member through the
// controller: healthy with its summaries, a failing /readyz held back by the
// failure threshold then recorded with the not-ready taint, and recovery
// after the success threshold. A user's taint stays throughout.
func TestReconcileHealthyMemberThenOutage(t *testing.T) {
	api := membertest.New(t, "tok")
	readyNode := func(name string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi")},
		}}
	}
	api.SetObjects([]corev1.Node{readyNode("n1"), readyNode("n2")}, []corev1.Pod{*pod("p", "n1", corev1.PodRunning, "1")})
	user := corev1.Taint{Key: "team", Value: "x", Effect: corev1.TaintEffectNoSchedule}
	h := newHarness(t, tokenSecret("m1-token", "tok", api.CA()), pushCluster("m1", api.URL, "m1-token", user))

	res := h.reconcile("m1")
	if res.RequeueAfter != 10*time.Second {
		t.Errorf("RequeueAfter = %s, want the status update frequency", res.RequeueAfter)
	}
	waitSynced(t, h.r.Members, "m1")
	h.reconcile("m1")
	cl := h.get("m1")
	if c := ready(cl); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != 1 {
		t.Fatalf("Ready = %+v, want True for generation 1", c)
	}
	if cl.Status.KubernetesVersion != membertest.Version || cl.Status.ObservedGeneration != 1 {
		t.Errorf("version %q, observedGeneration %d", cl.Status.KubernetesVersion, cl.Status.ObservedGeneration)
	}
	if c := meta.FindStatusCondition(cl.Status.Conditions, clusterv1alpha1.ClusterConditionCompleteAPIEnablements); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("CompleteAPIEnablements = %+v", c)
	}
	if len(cl.Status.APIEnablements) != 2 || cl.Status.APIEnablements[0].GroupVersion != "apps/v1" {
		t.Errorf("apiEnablements = %v", cl.Status.APIEnablements)
	}
	if ns := cl.Status.NodeSummary; ns == nil || ns.TotalNum != 2 || ns.ReadyNum != 2 {
		t.Errorf("nodeSummary = %+v", ns)
	}
	if rs := cl.Status.ResourceSummary; rs == nil || rs.Allocatable.Cpu().Cmp(resource.MustParse("16")) != 0 || rs.Allocated.Cpu().Cmp(resource.MustParse("1")) != 0 {
		t.Errorf("resourceSummary = %+v", rs)
	}
	if got := taintSet(cl); got != "team:NoSchedule" {
		t.Errorf("taints %s, want only the user's", got)
	}
	rv := cl.ResourceVersion
	h.reconcile("m1")
	if h.get("m1").ResourceVersion != rv {
		t.Error("a pass that found nothing new wrote the Cluster")
	}

	// /readyz fails: held back for the failure threshold.
	api.SetReadyz(http.StatusInternalServerError, "[+]ping ok\n[-]etcd failed: reason withheld\n")
	h.clock.advance(time.Second)
	res = h.reconcile("m1")
	if c := ready(h.get("m1")); c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready turned %s on the first failed probe", c.Status)
	}
	if res.RequeueAfter != 10*time.Second {
		t.Errorf("RequeueAfter = %s while held back", res.RequeueAfter)
	}
	h.clock.advance(25 * time.Second)
	if res = h.reconcile("m1"); res.RequeueAfter != 5*time.Second {
		t.Errorf("RequeueAfter = %s, want the 5s left of the threshold", res.RequeueAfter)
	}
	h.clock.advance(5 * time.Second)
	h.reconcile("m1")
	cl = h.get("m1")
	c := ready(cl)
	if c.Status != metav1.ConditionFalse || c.Reason != clusterv1alpha1.ClusterReasonNotReady || !strings.Contains(c.Message, "[-]etcd failed") {
		t.Fatalf("Ready = %+v after the failure threshold", c)
	}
	if got := taintSet(cl); got != "team:NoSchedule,"+clusterv1alpha1.TaintClusterNotReady+":NoSchedule,"+clusterv1alpha1.TaintClusterNotReady+":NoExecute" {
		t.Errorf("taints %s", got)
	}
	for _, ta := range cl.Spec.Taints[1:] {
		if ta.TimeAdded == nil || !ta.TimeAdded.Time.Equal(h.clock.t) {
			t.Errorf("taint %s:%s timeAdded %v, want %s", ta.Key, ta.Effect, ta.TimeAdded, h.clock.t)
		}
	}
	if cl.Status.NodeSummary == nil || cl.Status.KubernetesVersion == "" {
		t.Error("the last known summaries and version were dropped")
	}

	// Healthy again: True after the success threshold, taint removed.
	api.SetReadyz(http.StatusOK, "ok")
	h.reconcile("m1")
	if ready(h.get("m1")).Status != metav1.ConditionFalse {
		t.Fatal("Ready turned True before the success threshold")
	}
	h.clock.advance(20 * time.Second)
	h.reconcile("m1")
	cl = h.get("m1")
	if ready(cl).Status != metav1.ConditionTrue || taintSet(cl) != "team:NoSchedule" {
		t.Fatalf("after recovery Ready=%s taints=%s", ready(cl).Status, taintSet(cl))
	}
	want := []string{"Normal ClusterReady", "Warning ClusterNotReady", "Normal ClusterReady"}
	if got := h.rec.list(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}

	// Cordon and uncordon.
	cl.Spec.Unschedulable = true
	if err := h.c.Update(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	h.reconcile("m1")
	if got := taintSet(h.get("m1")); got != "team:NoSchedule,"+clusterv1alpha1.TaintClusterUnschedulable+":NoSchedule" {
		t.Errorf("cordoned taints %s", got)
	}
	cl = h.get("m1")
	cl.Spec.Unschedulable = false
	if err := h.c.Update(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	h.reconcile("m1")
	if got := taintSet(h.get("m1")); got != "team:NoSchedule" {
		t.Errorf("uncordoned taints %s", got)
	}

	// Deleted: the member is disconnected.
	if err := h.c.Delete(context.Background(), h.get("m1")); err != nil {
		t.Fatal(err)
	}
	if res := h.reconcile("m1"); res.RequeueAfter != 0 {
		t.Errorf("a deleted Cluster is requeued: %+v", res)
	}
	if h.r.Members.Get("m1") != nil {
		t.Error("the deleted Cluster's member is still connected")
	}
}

// TestReconcileBadInput: failures are recorded at once on a new Cluster,
// with the reason and the not-ready taints, and requeued at the normal
// frequency (no error, so no hot retry loop).
func TestReconcileBadInput(t *testing.T) {
	api := membertest.New(t, "tok")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + l.Addr().String()
	l.Close()
	h := newHarness(t,
		tokenSecret("good", "tok", api.CA()), tokenSecret("bad-token", "nope", api.CA()),
		pushCluster("refused", closed, "good"),
		pushCluster("bad-token", api.URL, "bad-token"),
		pushCluster("no-secret", api.URL, "missing"),
	)
	for name, want := range map[string][2]string{
		"refused":   {clusterv1alpha1.ClusterReasonNotReachable, "cannot reach the API server at " + closed},
		"bad-token": {ReasonCredentialsRejected, "rejected the credentials in Secret argosy-system/bad-token"},
		"no-secret": {clusterv1alpha1.ClusterReasonCredentialsUnavailable, "argosy-system/missing"},
	} {
		t.Run(name, func(t *testing.T) {
			res := h.reconcile(name)
			if res.RequeueAfter != h.r.StatusUpdateFrequency {
				t.Errorf("RequeueAfter = %s", res.RequeueAfter)
			}
			cl := h.get(name)
			c := ready(cl)
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != want[0] || !strings.Contains(c.Message, want[1]) {
				t.Fatalf("Ready = %+v, want False/%s mentioning %q", c, want[0], want[1])
			}
			// Ready=False, whatever the reason, is not-ready (Karmada's
			// semantics); unreachable is for Ready=Unknown.
			if got := taintSet(cl); got != clusterv1alpha1.TaintClusterNotReady+":NoSchedule,"+clusterv1alpha1.TaintClusterNotReady+":NoExecute" {
				t.Errorf("taints %s", got)
			}
		})
	}
}

// TestReconcileStampsUserNoExecuteTaints: a user's NoExecute taint without
// timeAdded gets the time of the pass that sees it (the taint manager counts
// tolerationSeconds from it), a stamped one and a NoSchedule one are left
// as they are, and a later pass writes nothing.
func TestReconcileStampsUserNoExecuteTaints(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + l.Addr().String()
	l.Close()
	earlier := metav1.NewTime(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	h := newHarness(t, pullCluster("pulled",
		corev1.Taint{Key: "evict-me", Effect: corev1.TaintEffectNoExecute},
		corev1.Taint{Key: "stamped", Effect: corev1.TaintEffectNoExecute, TimeAdded: &earlier},
		corev1.Taint{Key: "team", Value: "x", Effect: corev1.TaintEffectNoSchedule},
	), pushCluster("pushed", closed, "missing", corev1.Taint{Key: "evict-me", Value: "v", Effect: corev1.TaintEffectNoExecute}))

	h.reconcile("pulled")
	cl := h.get("pulled")
	if got := taintSet(cl); got != "evict-me:NoExecute,stamped:NoExecute,team:NoSchedule" {
		t.Fatalf("taints %s", got)
	}
	if ta := cl.Spec.Taints[0]; ta.TimeAdded == nil || !ta.TimeAdded.Time.Equal(h.clock.t) {
		t.Errorf("evict-me timeAdded %v, want %s", ta.TimeAdded, h.clock.t)
	}
	if ta := cl.Spec.Taints[1]; ta.TimeAdded == nil || !ta.TimeAdded.Time.Equal(earlier.Time) {
		t.Errorf("stamped timeAdded %v, want it kept at %s", ta.TimeAdded, earlier)
	}
	if ta := cl.Spec.Taints[2]; ta.TimeAdded != nil {
		t.Errorf("a NoSchedule taint was stamped: %v", ta.TimeAdded)
	}
	rv := cl.ResourceVersion
	h.clock.advance(time.Minute)
	h.reconcile("pulled")
	if h.get("pulled").ResourceVersion != rv {
		t.Error("a pass with nothing to stamp wrote the Cluster")
	}

	// Push, and the member fails at the same time: one pass stamps the
	// user's taint and adds the health taints, all with the same time.
	h.reconcile("pushed")
	cl = h.get("pushed")
	if got := taintSet(cl); got != "evict-me:NoExecute,"+clusterv1alpha1.TaintClusterNotReady+":NoSchedule,"+clusterv1alpha1.TaintClusterNotReady+":NoExecute" {
		t.Fatalf("taints %s", got)
	}
	for _, ta := range cl.Spec.Taints {
		if ta.TimeAdded == nil || !ta.TimeAdded.Time.Equal(h.clock.t) {
			t.Errorf("taint %s:%s timeAdded %v, want %s", ta.Key, ta.Effect, ta.TimeAdded, h.clock.t)
		}
	}
}

func pullCluster(name string, taints ...corev1.Taint) *clusterv1alpha1.Cluster {
	return &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec:       clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull, Taints: taints},
	}
}
