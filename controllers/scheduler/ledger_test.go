package scheduler

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func binding(name string, cpu string, clusters map[string]int32, running map[string]int) *workv1alpha1.ResourceBinding {
	rb := &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: name}}
	rb.Spec.ReplicaRequirements = &workv1alpha1.ReplicaRequirements{ResourceRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
	for c, n := range clusters {
		rb.Spec.Clusters = append(rb.Spec.Clusters, workv1alpha1.TargetCluster{Name: c, Replicas: n})
	}
	for c, n := range running {
		raw := []byte(`{"replicas":` + strconv.Itoa(n) + `}`)
		rb.Status.AggregatedStatus = append(rb.Status.AggregatedStatus, workv1alpha1.AggregatedStatusItem{ClusterName: c, Status: &runtime.RawExtension{Raw: raw}})
	}
	return rb
}

func TestLedger(t *testing.T) {
	l := newLedger()
	a := binding("a", "100m", map[string]int32{"m1": 2, "m2": 1}, nil)
	b := binding("b", "50m", map[string]int32{"m1": 4}, map[string]int{"m1": 3})
	l.set(a)
	l.set(b)
	keyA := types.NamespacedName{Namespace: "t", Name: "a"}
	keyB := types.NamespacedName{Namespace: "t", Name: "b"}

	cases := []struct {
		desc    string
		cluster string
		except  types.NamespacedName
		pods    int64
		cpu     string
	}{
		{"others of a in m1: b's one replica not yet running", "m1", keyA, 1, "50m"},
		{"others of b in m1: a's two", "m1", keyB, 2, "200m"},
		{"others of b in m2: a's one", "m2", keyB, 1, "100m"},
		{"nobody else in m2 for a", "m2", keyA, 0, "0"},
	}
	for _, c := range cases {
		got := l.pendingExcept(c.cluster, c.except)
		cpu := got.Resources[corev1.ResourceCPU]
		if got.Pods != c.pods || cpu.Cmp(resource.MustParse(c.cpu)) != 0 {
			t.Errorf("%s: pods %d cpu %s, want %d %s", c.desc, got.Pods, cpu.String(), c.pods, c.cpu)
		}
	}

	// Moving a out of m1 and deleting b empties m1.
	l.set(binding("a", "100m", map[string]int32{"m2": 3}, nil))
	l.remove(keyB)
	if got := l.pendingExcept("m1", types.NamespacedName{Name: "x"}); got.Pods != 0 {
		t.Errorf("m1 still holds %d pods", got.Pods)
	}
	if got := l.pendingExcept("m2", types.NamespacedName{Name: "x"}); got.Pods != 3 {
		t.Errorf("m2 holds %d pods, want 3", got.Pods)
	}
}

func TestWithRequiredBy(t *testing.T) {
	own := []workv1alpha1.TargetCluster{{Name: "m2", Replicas: 3}}
	req := []workv1alpha1.BindingSnapshot{
		{Name: "p1", Clusters: []workv1alpha1.TargetCluster{{Name: "m1", Replicas: 1}, {Name: "m2", Replicas: 1}}},
		{Name: "p2", Clusters: []workv1alpha1.TargetCluster{{Name: "m3", Replicas: 5}}},
	}
	got := formatClusters(withRequiredBy(own, req))
	if want := "{m1:0, m2:3, m3:0}"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := formatClusters(withRequiredBy(own, nil)); got != "{m2:3}" {
		t.Errorf("without requiredBy: %s", got)
	}
}

func TestFresh(t *testing.T) {
	t0 := metav1.Now()
	t1 := metav1.NewTime(t0.Add(1e9))
	cases := []struct {
		desc      string
		trigger   *metav1.Time
		last      *metav1.Time
		wantFresh bool
	}{
		{"never triggered", nil, &t0, false},
		{"triggered, never scheduled", &t0, nil, true},
		{"triggered after the last schedule", &t1, &t0, true},
		{"already rescheduled since", &t0, &t1, false},
	}
	for _, c := range cases {
		rb := &workv1alpha1.ResourceBinding{}
		rb.Spec.RescheduleTriggeredAt, rb.Status.LastScheduledTime = c.trigger, c.last
		if got := fresh(rb); got != c.wantFresh {
			t.Errorf("%s: fresh=%v", c.desc, got)
		}
	}
}
