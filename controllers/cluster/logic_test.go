package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/member"
)

func cond(status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: clusterv1alpha1.ClusterConditionReady, Status: status, Reason: reason}
}

var (
	condTrue        = cond(metav1.ConditionTrue, clusterv1alpha1.ClusterReasonReady)
	condNotReady    = cond(metav1.ConditionFalse, clusterv1alpha1.ClusterReasonNotReady)
	condUnreachable = cond(metav1.ConditionFalse, clusterv1alpha1.ClusterReasonNotReachable)
)

// TestThresholds plays sequences of probe results, one per second, and
// checks the recorded status after each.
func TestThresholds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name             string
		failure, success time.Duration
		initial          *metav1.Condition
		observed         []metav1.Condition
		want             string // recorded status after each observation: T or F
	}{
		{"first observation is recorded at once", 30 * time.Second, 30 * time.Second, nil, []metav1.Condition{condUnreachable}, "F"},
		{"blip shorter than the failure threshold", 3 * time.Second, 2 * time.Second, &condTrue,
			[]metav1.Condition{condUnreachable, condUnreachable, condTrue, condUnreachable, condTrue}, "TTTTT"},
		{"failure persisting for the threshold", 3 * time.Second, 2 * time.Second, &condTrue,
			[]metav1.Condition{condUnreachable, condUnreachable, condUnreachable, condUnreachable, condUnreachable}, "TTTFF"},
		{"a blip restarts the count", 2 * time.Second, 2 * time.Second, &condTrue,
			[]metav1.Condition{condUnreachable, condUnreachable, condTrue, condUnreachable, condUnreachable, condUnreachable}, "TTTTTF"},
		{"recovery needs the success threshold", 1 * time.Second, 2 * time.Second, &condUnreachable,
			[]metav1.Condition{condTrue, condTrue, condTrue, condTrue}, "FFTT"},
		{"zero thresholds follow every probe", 0, 0, &condTrue,
			[]metav1.Condition{condUnreachable, condTrue, condNotReady, condTrue}, "FTFT"},
		{"a False with another reason counts as the same failure", 2 * time.Second, 2 * time.Second, &condTrue,
			[]metav1.Condition{condUnreachable, condNotReady, condUnreachable}, "TTF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			th := newReadyThresholds(tc.failure, tc.success)
			recorded := tc.initial
			var got strings.Builder
			for i, o := range tc.observed {
				c, wait := th.adjust("c1", recorded, o, t0.Add(time.Duration(i)*time.Second))
				if (wait > 0) != (c.Status != o.Status) {
					t.Errorf("step %d: wait %s with recorded %s and observed %s", i, wait, c.Status, o.Status)
				}
				recorded = &c
				got.WriteString(string(c.Status)[:1])
			}
			if got.String() != tc.want {
				t.Errorf("recorded %s, want %s", got.String(), tc.want)
			}
		})
	}
}

func TestThresholdsReasonChangesAtOnce(t *testing.T) {
	th := newReadyThresholds(time.Hour, time.Hour)
	c, wait := th.adjust("c1", &condUnreachable, condNotReady, time.Now())
	if wait != 0 || c.Reason != clusterv1alpha1.ClusterReasonNotReady {
		t.Fatalf("same status, new reason: got %+v wait %s", c, wait)
	}
}

func TestThresholdsAreKeptPerCluster(t *testing.T) {
	th := newReadyThresholds(2*time.Second, 2*time.Second)
	t0 := time.Now()
	th.adjust("a", &condTrue, condUnreachable, t0)
	if c, _ := th.adjust("b", &condTrue, condUnreachable, t0.Add(5*time.Second)); c.Status != metav1.ConditionTrue {
		t.Fatal("b's first failure was counted from a's")
	}
	if c, _ := th.adjust("a", &condTrue, condUnreachable, t0.Add(2*time.Second)); c.Status != metav1.ConditionFalse {
		t.Fatal("a's failure did not pass its threshold")
	}
	th.adjust("c", &condTrue, condUnreachable, t0)
	th.forget("c")
	if c, _ := th.adjust("c", &condTrue, condUnreachable, t0.Add(10*time.Second)); c.Status != metav1.ConditionTrue {
		t.Fatal("forget kept c's pending failure")
	}
}

func TestWantedTaints(t *testing.T) {
	notReady := []string{clusterv1alpha1.TaintClusterNotReady + ":NoSchedule", clusterv1alpha1.TaintClusterNotReady + ":NoExecute"}
	unreachable := []string{clusterv1alpha1.TaintClusterUnreachable + ":NoSchedule", clusterv1alpha1.TaintClusterUnreachable + ":NoExecute"}
	cordon := clusterv1alpha1.TaintClusterUnschedulable + ":NoSchedule"
	cases := []struct {
		name          string
		ready         *metav1.Condition
		unschedulable bool
		want          []string
	}{
		{"no condition yet", nil, false, nil},
		{"ready", &condTrue, false, nil},
		{"answered unhealthy", &condNotReady, false, notReady},
		{"unreachable is False too: not-ready", &condUnreachable, false, notReady},
		{"TLS failure", ptrTo(cond(metav1.ConditionFalse, ReasonTLSHandshakeFailed)), false, notReady},
		{"credentials rejected", ptrTo(cond(metav1.ConditionFalse, ReasonCredentialsRejected)), false, notReady},
		{"credentials missing", ptrTo(cond(metav1.ConditionFalse, clusterv1alpha1.ClusterReasonCredentialsUnavailable)), false, notReady},
		{"status collection failed", ptrTo(cond(metav1.ConditionFalse, clusterv1alpha1.ClusterReasonStatusCollectionFailed)), false, notReady},
		{"unknown (agent silent)", ptrTo(cond(metav1.ConditionUnknown, "ClusterStatusUnknown")), false, unreachable},
		{"cordoned and ready: NoSchedule only", &condTrue, true, []string{cordon}},
		{"cordoned and down", &condUnreachable, true, append(slices.Clone(notReady), cordon)},
		{"cordoned and unknown", ptrTo(cond(metav1.ConditionUnknown, "ClusterStatusUnknown")), true, append(slices.Clone(unreachable), cordon)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := taintKeys(wantedTaints(tc.ready, tc.unschedulable))
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReconcileTaints(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	earlier := metav1.NewTime(now.Add(-time.Hour))
	user := corev1.Taint{Key: "team", Value: "a", Effect: corev1.TaintEffectNoSchedule}
	userNoExec := corev1.Taint{Key: "workload-rebalancer-test", Effect: corev1.TaintEffectNoExecute}
	userNoExecStamped := withTime(userNoExec, earlier)
	notReadyNS, notReadyNE := withTime(taintNotReadyNoSchedule, earlier), withTime(taintNotReadyNoExecute, earlier)
	unreachNS, unreachNE := withTime(taintUnreachableNoSchedule, earlier), withTime(taintUnreachableNoExecute, earlier)
	notReady := []corev1.Taint{taintNotReadyNoSchedule, taintNotReadyNoExecute}
	unreachable := []corev1.Taint{taintUnreachableNoSchedule, taintUnreachableNoExecute}
	cases := []struct {
		name        string
		current     []corev1.Taint
		want        []corev1.Taint
		expect      []corev1.Taint
		wantChanged bool
	}{
		{"nothing to do", nil, nil, nil, false},
		{"user taints untouched", []corev1.Taint{user, userNoExecStamped}, nil, []corev1.Taint{user, userNoExecStamped}, false},
		{"add both effects after user taints", []corev1.Taint{user}, notReady,
			[]corev1.Taint{user, withTime(taintNotReadyNoSchedule, now), withTime(taintNotReadyNoExecute, now)}, true},
		{"keep existing with their time", []corev1.Taint{unreachNS, user, unreachNE}, unreachable,
			[]corev1.Taint{unreachNS, user, unreachNE}, false},
		{"add the missing effect only", []corev1.Taint{notReadyNS, user}, notReady,
			[]corev1.Taint{notReadyNS, user, withTime(taintNotReadyNoExecute, now)}, true},
		{"replace unreachable by not-ready", []corev1.Taint{user, unreachNS, unreachNE}, notReady,
			[]corev1.Taint{user, withTime(taintNotReadyNoSchedule, now), withTime(taintNotReadyNoExecute, now)}, true},
		{"replace not-ready by unreachable", []corev1.Taint{notReadyNE, notReadyNS}, unreachable,
			[]corev1.Taint{withTime(taintUnreachableNoSchedule, now), withTime(taintUnreachableNoExecute, now)}, true},
		{"recovery removes both effects, keeps the user's", []corev1.Taint{notReadyNS, userNoExecStamped, notReadyNE, user}, nil,
			[]corev1.Taint{userNoExecStamped, user}, true},
		{"cordon is NoSchedule only; a NoExecute taint of its key is the user's", []corev1.Taint{{Key: clusterv1alpha1.TaintClusterUnschedulable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &earlier}},
			[]corev1.Taint{taintUnschedulable}, []corev1.Taint{{Key: clusterv1alpha1.TaintClusterUnschedulable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &earlier}, withTime(taintUnschedulable, now)}, true},
		{"a user NoExecute taint without timeAdded is stamped", []corev1.Taint{user, userNoExec}, nil,
			[]corev1.Taint{user, withTime(userNoExec, now)}, true},
		{"stamped in the same pass as a health change", []corev1.Taint{userNoExec, unreachNS, unreachNE}, notReady,
			[]corev1.Taint{withTime(userNoExec, now), withTime(taintNotReadyNoSchedule, now), withTime(taintNotReadyNoExecute, now)}, true},
		{"a user NoSchedule taint is not stamped", []corev1.Taint{user}, nil, []corev1.Taint{user}, false},
		{"a wanted managed NoExecute taint without timeAdded is stamped", []corev1.Taint{notReadyNS, taintNotReadyNoExecute}, notReady,
			[]corev1.Taint{notReadyNS, withTime(taintNotReadyNoExecute, now)}, true},
		{"drop duplicates", []corev1.Taint{unreachNS, unreachNS, unreachNE}, unreachable,
			[]corev1.Taint{unreachNS, unreachNE}, true},
		{"empty result is nil", []corev1.Taint{unreachNS, unreachNE}, nil, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fmt.Sprint(tc.current)
			got, changed := reconcileTaints(tc.current, tc.want, now)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if !equality.Semantic.DeepEqual(got, tc.expect) || (got == nil) != (tc.expect == nil) {
				t.Errorf("got %v, want %v", got, tc.expect)
			}
			if fmt.Sprint(tc.current) != before {
				t.Errorf("the input was modified: %v", tc.current)
			}
		})
	}
}

func withTime(t corev1.Taint, at metav1.Time) corev1.Taint {
	t.TimeAdded = &at
	return t
}

func ptrTo[T any](v T) *T { return &v }

func TestReadyConditionReasons(t *testing.T) {
	cases := []struct {
		err    error
		status metav1.ConditionStatus
		reason string
	}{
		{nil, metav1.ConditionTrue, clusterv1alpha1.ClusterReasonReady},
		{&member.Error{Kind: member.KindCredentials, Message: "m"}, metav1.ConditionFalse, clusterv1alpha1.ClusterReasonCredentialsUnavailable},
		{&member.Error{Kind: member.KindUnreachable, Message: "m"}, metav1.ConditionFalse, clusterv1alpha1.ClusterReasonNotReachable},
		{&member.Error{Kind: member.KindTLS, Message: "m"}, metav1.ConditionFalse, ReasonTLSHandshakeFailed},
		{&member.Error{Kind: member.KindUnauthorized, Message: "m"}, metav1.ConditionFalse, ReasonCredentialsRejected},
		{&member.Error{Kind: member.KindUnhealthy, Message: "m"}, metav1.ConditionFalse, clusterv1alpha1.ClusterReasonNotReady},
		{errors.New("unclassified"), metav1.ConditionFalse, clusterv1alpha1.ClusterReasonNotReachable},
	}
	for _, tc := range cases {
		c := readyCondition(tc.err)
		if c.Status != tc.status || c.Reason != tc.reason || c.Message == "" {
			t.Errorf("readyCondition(%v) = %+v, want %s/%s with a message", tc.err, c, tc.status, tc.reason)
		}
	}
}

// fakeMember serves nodes and pods from slices.
type fakeMember struct {
	nodes []*corev1.Node
	pods  []*corev1.Pod
}

func (f *fakeMember) Nodes() ([]*corev1.Node, error) { return f.nodes, nil }
func (f *fakeMember) PodsOnNode(n string) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	for _, p := range f.pods {
		if p.Spec.NodeName == n {
			out = append(out, p)
		}
	}
	return out, nil
}
func (f *fakeMember) UnscheduledPods() ([]*corev1.Pod, error) { return f.PodsOnNode("") }

func node(name string, ready bool, cpu, mem string) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse("110")},
		},
	}
}

func pod(name, nodeName string, phase corev1.PodPhase, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
		Status: corev1.PodStatus{Phase: phase},
	}
}

func TestSummarize(t *testing.T) {
	m := &fakeMember{
		nodes: []*corev1.Node{node("a", true, "4", "8Gi"), node("b", true, "2", "4Gi"), node("down", false, "8", "16Gi")},
		pods: []*corev1.Pod{
			pod("run-a", "a", corev1.PodRunning, "500m"),
			pod("bound-b", "b", corev1.PodPending, "250m"), // bound, containers starting
			pod("on-down", "down", corev1.PodRunning, "1"),
			pod("waiting", "", corev1.PodPending, "100m"),
			pod("waiting2", "", corev1.PodPending, "200m"),
		},
	}
	ns, rs, err := summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	if ns.TotalNum != 3 || ns.ReadyNum != 2 {
		t.Errorf("node summary %+v, want 3 total, 2 ready", ns)
	}
	check := func(what string, l corev1.ResourceList, name corev1.ResourceName, want string) {
		t.Helper()
		if q := l[name]; q.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("%s %s = %s, want %s", what, name, q.String(), want)
		}
	}
	check("allocatable", rs.Allocatable, corev1.ResourceCPU, "6")
	check("allocatable", rs.Allocatable, corev1.ResourceMemory, "12Gi")
	check("allocatable", rs.Allocatable, corev1.ResourcePods, "220")
	check("allocated", rs.Allocated, corev1.ResourceCPU, "750m")
	check("allocated", rs.Allocated, corev1.ResourcePods, "2")
	check("allocating", rs.Allocating, corev1.ResourceCPU, "300m")
	check("allocating", rs.Allocating, corev1.ResourcePods, "2")

	_, empty, _ := summarize(&fakeMember{})
	if empty.Allocatable != nil {
		t.Errorf("allocatable of a member without nodes = %v, want nil (so that it compares equal after a round trip)", empty.Allocatable)
	}
}

// stubDiscovery answers ServerGroupsAndResources with fixed results.
type stubDiscovery struct {
	discovery.DiscoveryInterface
	lists []*metav1.APIResourceList
	err   error
}

func (s *stubDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	return nil, s.lists, s.err
}

func TestAPIEnablements(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "services", Kind: "Service"}, {Name: "pods", Kind: "Pod"}, {Name: "pods/status", Kind: "Pod"}}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "deployments", Kind: "Deployment"}, {Name: "deployments/scale", Kind: "Scale"}}},
		{GroupVersion: "empty/v1", APIResources: []metav1.APIResource{{Name: "things/status", Kind: "Thing"}}},
	}
	got, c, ok := apiEnablements(&stubDiscovery{lists: lists})
	if !ok || c.Status != metav1.ConditionTrue || c.Reason != clusterv1alpha1.APIEnablementsReasonComplete {
		t.Fatalf("complete discovery: ok=%v cond=%+v", ok, c)
	}
	want := "[{apps/v1 [{deployments Deployment}]} {v1 [{pods Pod} {services Service}]}]"
	if fmt.Sprint(got) != want {
		t.Errorf("got %v, want %v (sorted, no subresources, no empty group versions)", got, want)
	}

	partial := &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("503")}}
	got, c, ok = apiEnablements(&stubDiscovery{lists: lists, err: partial})
	if !ok || len(got) != 2 || c.Status != metav1.ConditionFalse || c.Reason != clusterv1alpha1.APIEnablementsReasonPartial || !strings.Contains(c.Message, "metrics.k8s.io/v1beta1") {
		t.Fatalf("partial discovery: ok=%v %v cond=%+v", ok, got, c)
	}

	_, c, ok = apiEnablements(&stubDiscovery{err: errors.New("boom")})
	if ok || c.Status != metav1.ConditionFalse || c.Reason != clusterv1alpha1.APIEnablementsReasonEmpty {
		t.Fatalf("failed discovery: ok=%v cond=%+v", ok, c)
	}
}
