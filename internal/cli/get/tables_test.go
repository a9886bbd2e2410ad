package get

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func render(t *testing.T, table *metav1.Table, wide bool) string {
	t.Helper()
	var buf bytes.Buffer
	if err := printers.NewTablePrinter(printers.PrintOptions{Wide: wide}).PrintObj(table, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// squash collapses the tabwriter's padding so expectations stay readable.
func squash(s string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

func TestClusterTable(t *testing.T) {
	clusters := []clusterv1alpha1.Cluster{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "member2", CreationTimestamp: ago(2 * time.Second)},
			Spec:       clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull, Region: "eu", Zone: "eu-1"},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "member1", CreationTimestamp: ago(12 * time.Minute)},
			Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Push, Zones: []string{"a", "b"}, Taints: []corev1.Taint{
				{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule},
				{Key: clusterv1alpha1.TaintClusterUnschedulable, Effect: corev1.TaintEffectNoSchedule},
			}},
			Status: clusterv1alpha1.ClusterStatus{KubernetesVersion: "v1.37.2", Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}},
		},
	}
	table := ClusterTable(clusters, now)
	want := `NAME VERSION MODE READY AGE
member1 v1.37.2 Push True 12m
member2 <none> Pull Unknown 2s`
	if got := squash(render(t, table, false)); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	wantWide := `NAME VERSION MODE READY AGE REGION ZONES TAINTS
member1 v1.37.2 Push True 12m <none> a,b dedicated=x:NoSchedule,cluster.argosy.dev/unschedulable:NoSchedule
member2 <none> Pull Unknown 2s eu eu-1 <none>`
	if got := squash(render(t, table, true)); got != wantWide {
		t.Errorf("wide table:\n%s\nwant:\n%s", got, wantWide)
	}
}

func deploymentStatus(ready, updated, available int) *runtime.RawExtension {
	return &runtime.RawExtension{Raw: []byte(`{"replicas":` + itoa(ready) + `,"readyReplicas":` + itoa(ready) + `,"updatedReplicas":` + itoa(updated) + `,"availableReplicas":` + itoa(available) + `}`)}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRowsAndWorkloadTable(t *testing.T) {
	foo := &workv1alpha1.ResourceBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deployment-default-foo-1", CreationTimestamp: ago(5 * time.Minute)},
		Spec: workv1alpha1.ResourceBindingSpec{
			Resource: workv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "foo"},
			Clusters: []workv1alpha1.TargetCluster{{Name: "member2", Replicas: 1}, {Name: "member1", Replicas: 2}},
			GracefulEvictionTasks: []workv1alpha1.GracefulEvictionTask{
				{FromCluster: "member3", Replicas: ptr.To[int32](3)},
				{FromCluster: "member1"}, // also in spec.clusters: one row only
			},
		},
		Status: workv1alpha1.ResourceBindingStatus{AggregatedStatus: []workv1alpha1.AggregatedStatusItem{
			{ClusterName: "member1", Applied: true, Health: workv1alpha1.ResourceHealthy, Status: deploymentStatus(2, 2, 2)},
			{ClusterName: "member2", Applied: false, AppliedMessage: "an object not managed by Argosy exists", Health: workv1alpha1.ResourceUnknown},
			{ClusterName: "member3", Applied: true, Health: workv1alpha1.ResourceUnhealthy, Status: deploymentStatus(1, 1, 0)},
		}},
	}
	bar := &workv1alpha1.ResourceBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deployment-default-bar-1", CreationTimestamp: ago(time.Hour)},
		Spec: workv1alpha1.ResourceBindingSpec{
			Resource: workv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "bar"},
			Clusters: []workv1alpha1.TargetCluster{{Name: "member1", Replicas: 3}},
		},
	}
	placements := []Placement{
		{Binding: foo, WorkTimes: map[string]metav1.Time{"member1": ago(20 * time.Second), "member2": ago(57 * time.Second)}},
		{Binding: bar},
	}
	rows := Rows(placements, now)

	want := `NAME CLUSTER READY UP-TO-DATE AVAILABLE AGE ADOPTION
bar member1 0/3 0 0 60m N
foo member1 2/2 2 2 20s Y
foo member2 0/1 0 0 57s N
foo member3 1/3 1 0 5m Y`
	gk := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	if got := squash(render(t, WorkloadTable(gk, rows, false), false)); got != want {
		t.Errorf("deployment table:\n%s\nwant:\n%s", got, want)
	}
	wantWide := `NAMESPACE NAME CLUSTER READY UP-TO-DATE AVAILABLE AGE ADOPTION HEALTH EVICTING MESSAGE
default bar member1 0/3 0 0 60m N Unknown N <none>
default foo member1 2/2 2 2 20s Y Healthy N <none>
default foo member2 0/1 0 0 57s N Unknown N an object not managed by Argosy exists
default foo member3 1/3 1 0 5m Y Unhealthy Y <none>`
	if got := squash(render(t, WorkloadTable(gk, rows, true), true)); got != wantWide {
		t.Errorf("wide deployment table:\n%s\nwant:\n%s", got, wantWide)
	}
	wantGeneric := `NAME CLUSTER READY AGE ADOPTION
bar member1 Unknown 60m N
foo member1 True 20s Y
foo member2 Unknown 57s N
foo member3 False 5m Y`
	if got := squash(render(t, WorkloadTable(schema.GroupKind{Kind: "ConfigMap"}, rows, false), false)); got != wantGeneric {
		t.Errorf("generic table:\n%s\nwant:\n%s", got, wantGeneric)
	}
}

func TestKindMatches(t *testing.T) {
	ref := workv1alpha1.ObjectReference{APIVersion: "webapp.my.domain/v1", Kind: "Guestbook", Name: "g"}
	for _, arg := range []string{"guestbook", "Guestbook", "guestbooks", "guestbooks.webapp.my.domain", "guestbook.webapp.my.domain"} {
		if !KindMatches(arg, ref) {
			t.Errorf("%q should match %s", arg, ref.Kind)
		}
	}
	for _, arg := range []string{"guest", "guestbooks.other.domain", "deployment"} {
		if KindMatches(arg, ref) {
			t.Errorf("%q should not match %s", arg, ref.Kind)
		}
	}
}
