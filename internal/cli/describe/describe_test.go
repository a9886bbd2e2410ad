package describe

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func TestRender(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }
	rt := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "deployment-default-foo-1", CreationTimestamp: ago(5 * time.Minute)},
		Spec: workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: []byte(
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"foo","namespace":"default"},"spec":{"replicas":3}}`)}},
		Status: workv1alpha1.ResourceTemplateStatus{
			Policy:     &workv1alpha1.PolicyReference{Kind: "PropagationPolicy", Namespace: "default", Name: "foo-pp"},
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Progressing", Message: "member2:\n 0/1 ready", LastTransitionTime: ago(time.Minute)}},
		},
	}
	rb := &workv1alpha1.ResourceBinding{
		ObjectMeta: rt.ObjectMeta,
		Spec: workv1alpha1.ResourceBindingSpec{
			Replicas: 3,
			Clusters: []workv1alpha1.TargetCluster{{Name: "member2", Replicas: 3}},
			GracefulEvictionTasks: []workv1alpha1.GracefulEvictionTask{{
				FromCluster: "member1", Replicas: ptr.To[int32](2), Reason: workv1alpha1.EvictionReasonTaintUntolerated,
				Producer: workv1alpha1.EvictionProducerTaintManager, PurgeMode: "Gracefully", Message: "taint workload-rebalancer-test:NoExecute", CreationTimestamp: ptr.To(ago(30 * time.Second)),
			}},
		},
		Status: workv1alpha1.ResourceBindingStatus{
			LastScheduledTime: ptr.To(ago(20 * time.Second)),
			Conditions:        []metav1.Condition{{Type: "Scheduled", Status: metav1.ConditionTrue, Reason: "Success", LastTransitionTime: ago(20 * time.Second)}},
			AggregatedStatus: []workv1alpha1.AggregatedStatusItem{
				{ClusterName: "member1", Applied: true, Health: workv1alpha1.ResourceHealthy, Status: &runtime.RawExtension{Raw: []byte(`{"readyReplicas":2}`)}},
				{ClusterName: "member2", Applied: true, Health: workv1alpha1.ResourceUnhealthy, Status: &runtime.RawExtension{Raw: []byte(`{"readyReplicas":1}`)}},
			},
		},
	}
	d := &Description{
		Template: rt, Binding: rb,
		WorkTimes: map[string]metav1.Time{"member2": ago(20 * time.Second)},
		Events: []Event{
			{Object: "work/member2", Event: corev1.Event{Type: "Normal", Reason: "SyncSucceed", Message: "applied", ReportingController: "argosy-execution", EventTime: metav1.NewMicroTime(now.Add(-10 * time.Second))}},
			{Object: "resourcebinding", Event: corev1.Event{Type: "Normal", Reason: "ScheduleBindingSucceed", Message: "member2:3", Source: corev1.EventSource{Component: "argosy-scheduler"}, LastTimestamp: ago(20 * time.Second), Count: 2}},
		},
	}
	var out bytes.Buffer
	if err := Render(&out, d, now); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	t.Logf("\n%s", s)
	for _, want := range []string{
		`(?m)^Name: +foo$`, `(?m)^Namespace: +default$`, `(?m)^Kind: +Deployment$`,
		`(?m)^Template: +argosy-templates/deployment-default-foo-1$`,
		`(?m)^Policy: +PropagationPolicy default/foo-pp$`, `(?m)^Replicas: +3$`,
		`(?m)^Placement:\n  Cluster +Replicas\n  -+ +-+\n  member2 +3$`,
		// The cluster being evicted from keeps a row until its task is gone.
		`(?m)^  member1 +True +Healthy +2/2 +True +\S+ +<none>$`,
		`(?m)^  member2 +True +Unhealthy +1/3 +False +20s +<none>$`,
		`(?m)^  member1 +2 +TaintUntolerated +TaintManager +Gracefully +30s +taint workload-rebalancer-test:NoExecute$`,
		// Multi-line messages are folded into one line.
		`(?m)^  template +Ready +False +Progressing +60s +member2: 0/1 ready$`,
		`(?m)^  binding +Scheduled +True +Success +20s +<none>$`,
		// Events oldest first, with the count and whose they are.
		`(?ms)^  Normal +ScheduleBindingSucceed +20s \(x2\) +argosy-scheduler +resourcebinding +member2:3$.*^  Normal +SyncSucceed +10s +argosy-execution +work/member2 +applied$`,
	} {
		if !regexp.MustCompile(want).MatchString(s) {
			t.Errorf("output does not match %s", want)
		}
	}

	// A template no policy claims yet.
	out.Reset()
	if err := Render(&out, &Description{Template: &workv1alpha1.ResourceTemplate{ObjectMeta: rt.ObjectMeta, Spec: rt.Spec}}, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^Policy: +<none>$`, `(?m)^Placement: +<none> \(no ResourceBinding yet`, `(?m)^Conditions: +<none>$`, `(?m)^Events: +<none>$`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("unclaimed template: no %q in\n%s", want, out.String())
		}
	}
}
