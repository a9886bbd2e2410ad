package taintmanager

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/note"
	"argosy.dev/argosy/internal/tolerations"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func noExec(key string, added time.Duration) corev1.Taint {
	at := metav1.NewTime(t0.Add(added))
	return corev1.Taint{Key: key, Effect: corev1.TaintEffectNoExecute, TimeAdded: &at}
}

func exists(key string, effect corev1.TaintEffect, seconds *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect, TolerationSeconds: seconds}
}

func TestDecide(t *testing.T) {
	const ne = corev1.TaintEffectNoExecute
	valued := noExec("dedicated", -time.Minute)
	valued.Value = "gpu"
	unstamped := noExec("fresh", 0)
	unstamped.TimeAdded = nil
	type want struct {
		evict []string // cluster=taint@seconds ("-" for untolerated)
		next  time.Duration
	}
	cases := []struct {
		name    string
		taints  map[string][]corev1.Taint // per cluster; a cluster absent from the map does not exist
		tols    []corev1.Toleration
		targets []string
		tasks   []string
		want    want
	}{
		{"no taints", map[string][]corev1.Taint{"a": nil}, nil, []string{"a"}, nil, want{}},
		{"NoSchedule never evicts", map[string][]corev1.Taint{"a": {{Key: "x", Effect: corev1.TaintEffectNoSchedule}}}, nil, []string{"a"}, nil, want{}},
		{"untolerated evicts now", map[string][]corev1.Taint{"a": {noExec("x", 0)}}, nil, []string{"a"}, nil,
			want{evict: []string{"a=x:NoExecute@-"}}},
		{"an untolerated taint added in the future still evicts now", map[string][]corev1.Taint{"a": {noExec("x", time.Hour)}}, nil, []string{"a"}, nil,
			want{evict: []string{"a=x:NoExecute@-"}}},
		{"tolerated without seconds: never", map[string][]corev1.Taint{"a": {noExec("x", -time.Hour)}},
			[]corev1.Toleration{exists("x", ne, nil)}, []string{"a"}, nil, want{}},
		{"tolerationSeconds pending", map[string][]corev1.Taint{"a": {noExec("x", -4*time.Second)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](10))}, []string{"a"}, nil, want{next: 6 * time.Second}},
		{"tolerationSeconds expired", map[string][]corev1.Taint{"a": {noExec("x", -11*time.Second)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](10))}, []string{"a"}, nil, want{evict: []string{"a=x:NoExecute@10"}}},
		{"tolerationSeconds expiring right now", map[string][]corev1.Taint{"a": {noExec("x", -10*time.Second)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](10))}, []string{"a"}, nil, want{evict: []string{"a=x:NoExecute@10"}}},
		{"zero and negative seconds evict at once", map[string][]corev1.Taint{"a": {noExec("x", 0)}, "b": {noExec("y", 0)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](0)), exists("y", ne, ptr.To[int64](-5))}, []string{"a", "b"}, nil,
			want{evict: []string{"a=x:NoExecute@0", "b=y:NoExecute@-5"}}},
		{"seconds too long for a duration: never", map[string][]corev1.Taint{"a": {noExec("x", 0)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](math.MaxInt64))}, []string{"a"}, nil, want{}},
		{"the shortest of the matching tolerations", map[string][]corev1.Taint{"a": {noExec("x", 0)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](30)), exists("", "", ptr.To[int64](20)), exists("y", ne, ptr.To[int64](1))}, []string{"a"}, nil,
			want{next: 20 * time.Second}},
		{"a bounded toleration is not extended by an unbounded one", map[string][]corev1.Taint{"a": {noExec("x", 0)}},
			[]corev1.Toleration{exists("x", ne, nil), exists("x", ne, ptr.To[int64](5))}, []string{"a"}, nil, want{next: 5 * time.Second}},
		{"Exists with an empty key tolerates every taint", map[string][]corev1.Taint{"a": {noExec("x", 0), valued}},
			[]corev1.Toleration{{Operator: corev1.TolerationOpExists}}, []string{"a"}, nil, want{}},
		{"Equal with the taint's value tolerates", map[string][]corev1.Taint{"a": {valued}},
			[]corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: ne}}, []string{"a"}, nil, want{}},
		{"Equal with another value does not", map[string][]corev1.Taint{"a": {valued}},
			[]corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "cpu", Effect: ne}}, []string{"a"}, nil,
			want{evict: []string{"a=dedicated=gpu:NoExecute@-"}}},
		{"an empty effect matches NoExecute", map[string][]corev1.Taint{"a": {noExec("x", 0)}},
			[]corev1.Toleration{exists("x", "", ptr.To[int64](60))}, []string{"a"}, nil, want{next: time.Minute}},
		{"a NoSchedule toleration does not tolerate NoExecute", map[string][]corev1.Taint{"a": {noExec("x", 0)}},
			[]corev1.Toleration{exists("x", corev1.TaintEffectNoSchedule, nil)}, []string{"a"}, nil, want{evict: []string{"a=x:NoExecute@-"}}},
		{"an untolerated taint wins over a tolerated earlier one", map[string][]corev1.Taint{"a": {noExec("x", 0), noExec("y", 0), noExec("z", 0)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](100))}, []string{"a"}, nil, want{evict: []string{"a=y:NoExecute@-"}}},
		{"the taint that falls due first evicts", map[string][]corev1.Taint{"a": {noExec("x", -50*time.Second), noExec("y", -20*time.Second)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](60)), exists("y", ne, ptr.To[int64](15))}, []string{"a"}, nil,
			want{evict: []string{"a=y:NoExecute@15"}}},
		{"already has a task", map[string][]corev1.Taint{"a": {noExec("x", 0)}, "b": {noExec("x", 0)}}, nil, []string{"a", "b"}, []string{"a"},
			want{evict: []string{"b=x:NoExecute@-"}}},
		{"a task without the cluster in spec.clusters changes nothing", map[string][]corev1.Taint{"a": {noExec("x", 0)}}, nil, []string{"a"}, []string{"gone"},
			want{evict: []string{"a=x:NoExecute@-"}}},
		{"cluster missing", map[string][]corev1.Taint{}, nil, []string{"a"}, nil, want{}},
		{"missing timeAdded: not yet, look again shortly", map[string][]corev1.Taint{"a": {unstamped}},
			[]corev1.Toleration{exists("fresh", ne, ptr.To[int64](0))}, []string{"a"}, nil, want{next: stampRetry}},
		{"missing timeAdded does not hold back an untolerated taint", map[string][]corev1.Taint{"a": {unstamped, noExec("x", 0)}},
			[]corev1.Toleration{exists("fresh", ne, ptr.To[int64](0))}, []string{"a"}, nil, want{evict: []string{"a=x:NoExecute@-"}}},
		{"missing timeAdded next to a later due time", map[string][]corev1.Taint{"a": {noExec("x", 0), unstamped}},
			[]corev1.Toleration{exists("", ne, ptr.To[int64](300))}, []string{"a"}, nil, want{next: stampRetry}},
		{"several clusters: due ones in spec order, the earliest pending one next",
			map[string][]corev1.Taint{"a": {noExec("x", -30*time.Second)}, "b": {noExec("y", 0)}, "c": {noExec("x", -5*time.Second)}, "d": {noExec("z", 0)}},
			[]corev1.Toleration{exists("x", ne, ptr.To[int64](20)), exists("z", ne, ptr.To[int64](40))}, []string{"d", "c", "b", "a"}, nil,
			want{evict: []string{"b=y:NoExecute@-", "a=x:NoExecute@20"}, next: 15 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			targets := make([]workv1alpha1.TargetCluster, len(tc.targets))
			for i, n := range tc.targets {
				targets[i] = workv1alpha1.TargetCluster{Name: n, Replicas: int32(i + 1)}
			}
			var tasks []workv1alpha1.GracefulEvictionTask
			for _, n := range tc.tasks {
				tasks = append(tasks, workv1alpha1.GracefulEvictionTask{FromCluster: n})
			}
			d := decide(targets, tasks, tc.tols, func(name string) []corev1.Taint { return tc.taints[name] }, t0)
			var got []string
			for _, e := range d.evict {
				s := "-"
				if e.seconds != nil {
					s = strconv.FormatInt(*e.seconds, 10)
				}
				got = append(got, e.cluster+"="+tolerations.Format(&e.taint)+"@"+s)
				if want := int32(slices.Index(tc.targets, e.cluster) + 1); e.replicas != want {
					t.Errorf("%s: replicas %d, want %d", e.cluster, e.replicas, want)
				}
			}
			if !slices.Equal(got, tc.want.evict) {
				t.Errorf("evict %v, want %v", got, tc.want.evict)
			}
			var next time.Duration
			if !d.next.IsZero() {
				next = d.next.Sub(t0)
			}
			if next != tc.want.next {
				t.Errorf("next in %s, want %s", next, tc.want.next)
			}
		})
	}
}

func TestEvictionMessage(t *testing.T) {
	e := eviction{cluster: "member1", taint: corev1.Taint{Key: "workload-rebalancer-test", Effect: corev1.TaintEffectNoExecute}}
	if got, want := e.message(), "cluster member1 has taint workload-rebalancer-test:NoExecute that the policy does not tolerate"; got != want {
		t.Errorf("untolerated: %q, want %q", got, want)
	}
	e.seconds = ptr.To[int64](10)
	e.taint.Value = "v"
	if got, want := e.message(), "cluster member1 has taint workload-rebalancer-test=v:NoExecute that the policy tolerated for 10s"; got != want {
		t.Errorf("tolerated for a while: %q, want %q", got, want)
	}
}

func TestTasks(t *testing.T) {
	rb := &workv1alpha1.ResourceBinding{Spec: workv1alpha1.ResourceBindingSpec{
		Clusters: []workv1alpha1.TargetCluster{{Name: "m1", Replicas: 2}, {Name: "m2", Replicas: 0}, {Name: "m3", Replicas: 1}},
	}}
	evs := []eviction{
		{cluster: "m1", replicas: 2, taint: corev1.Taint{Key: "x", Effect: corev1.TaintEffectNoExecute}},
		{cluster: "m2", replicas: 0, taint: corev1.Taint{Key: strings.Repeat("k", 2000), Effect: corev1.TaintEffectNoExecute}},
	}
	got := tasks(rb, evs, t0)
	if len(got) != 2 {
		t.Fatalf("%d tasks", len(got))
	}
	a := got[0]
	if a.FromCluster != "m1" || a.Reason != workv1alpha1.EvictionReasonTaintUntolerated || a.Producer != workv1alpha1.EvictionProducerTaintManager ||
		a.PurgeMode != policyv1alpha1.PurgeModeGracefully || a.Replicas == nil || *a.Replicas != 2 ||
		!slices.Equal(a.ClustersBeforeFailover, []string{"m1", "m2", "m3"}) || a.CreationTimestamp == nil || !a.CreationTimestamp.Time.Equal(t0) ||
		a.Message != evs[0].message() || a.GracePeriodSeconds != nil || a.SuppressDeletion != nil {
		t.Errorf("task %+v", a)
	}
	if b := got[1]; b.Replicas != nil || len(b.Message) > note.MaxEvent || !strings.HasSuffix(b.Message, "...") {
		t.Errorf("task without replicas and with a huge taint key: replicas %v, message of %d bytes", b.Replicas, len(b.Message))
	}
}

func TestPurgeMode(t *testing.T) {
	cluster := func(m policyv1alpha1.PurgeMode) *policyv1alpha1.FailoverBehavior {
		return &policyv1alpha1.FailoverBehavior{Cluster: &policyv1alpha1.ClusterFailoverBehavior{PurgeMode: m}}
	}
	cases := []struct {
		in   *policyv1alpha1.FailoverBehavior
		want policyv1alpha1.PurgeMode
	}{
		{nil, policyv1alpha1.PurgeModeGracefully},
		{&policyv1alpha1.FailoverBehavior{}, policyv1alpha1.PurgeModeGracefully},
		{cluster(""), policyv1alpha1.PurgeModeGracefully},
		{cluster(policyv1alpha1.PurgeModeDirectly), policyv1alpha1.PurgeModeDirectly},
		{cluster(policyv1alpha1.PurgeModeImmediately), policyv1alpha1.PurgeModeDirectly},
		{cluster(policyv1alpha1.PurgeModeGraciously), policyv1alpha1.PurgeModeGracefully},
		{cluster(policyv1alpha1.PurgeModeNever), policyv1alpha1.PurgeModeNever},
	}
	for _, tc := range cases {
		if got := purgeMode(tc.in); got != tc.want {
			t.Errorf("purgeMode(%+v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
