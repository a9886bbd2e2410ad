package rebalancer

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

var (
	foo     = appsv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "foo"}
	bar     = appsv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "bar"}
	baz     = appsv1alpha1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "baz"}
	t0      = time.Date(2026, 5, 25, 9, 49, 51, 0, time.UTC)
	success = appsv1alpha1.RebalanceSuccessful
	failed  = appsv1alpha1.RebalanceFailed
)

func observed(w appsv1alpha1.ObjectReference, r appsv1alpha1.RebalanceResult) appsv1alpha1.ObservedWorkload {
	o := appsv1alpha1.ObservedWorkload{Workload: w, Result: r}
	if r == failed {
		o.Reason = appsv1alpha1.RebalanceObjectNotFound
	}
	return o
}

func mt(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

func TestMergeWorkloads(t *testing.T) {
	cases := []struct {
		desc     string
		spec     []appsv1alpha1.ObjectReference
		observed []appsv1alpha1.ObservedWorkload
		want     []appsv1alpha1.ObservedWorkload
	}{
		{"first pass: all pending", []appsv1alpha1.ObjectReference{foo, bar}, nil,
			[]appsv1alpha1.ObservedWorkload{{Workload: foo}, {Workload: bar}}},
		{"results are kept", []appsv1alpha1.ObjectReference{foo, bar}, []appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, failed)},
			[]appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, failed)}},
		{"an added workload is pending, the others keep their results", []appsv1alpha1.ObjectReference{foo, bar, baz},
			[]appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, failed)},
			[]appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, failed), {Workload: baz}}},
		{"a removed workload is dropped", []appsv1alpha1.ObjectReference{bar},
			[]appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, failed)},
			[]appsv1alpha1.ObservedWorkload{observed(bar, failed)}},
		{"a pending entry stays pending", []appsv1alpha1.ObjectReference{foo}, []appsv1alpha1.ObservedWorkload{{Workload: foo}},
			[]appsv1alpha1.ObservedWorkload{{Workload: foo}}},
		{"spec order wins", []appsv1alpha1.ObjectReference{bar, foo},
			[]appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, success)},
			[]appsv1alpha1.ObservedWorkload{observed(bar, success), observed(foo, success)}},
		{"another apiVersion is another workload", []appsv1alpha1.ObjectReference{{APIVersion: "apps/v1beta1", Kind: "Deployment", Namespace: "default", Name: "foo"}},
			[]appsv1alpha1.ObservedWorkload{observed(foo, success)},
			[]appsv1alpha1.ObservedWorkload{{Workload: appsv1alpha1.ObjectReference{APIVersion: "apps/v1beta1", Kind: "Deployment", Namespace: "default", Name: "foo"}}}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			if got := mergeWorkloads(c.spec, c.observed); !equality.Semantic.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestBindingName(t *testing.T) {
	cases := []struct {
		w    appsv1alpha1.ObjectReference
		want string
	}{
		{foo, template.Name("apps", "Deployment", "default", "foo")},
		{baz, template.Name("", "ConfigMap", "default", "baz")},
		{appsv1alpha1.ObjectReference{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Name: "x.example.com"},
			template.Name("apiextensions.k8s.io", "CustomResourceDefinition", "", "x.example.com")},
	}
	for _, c := range cases {
		got, err := bindingName(c.w)
		if err != nil || got != c.want {
			t.Errorf("bindingName(%v) = %q, %v; want %q", c.w, got, err, c.want)
		}
	}
	if _, err := bindingName(appsv1alpha1.ObjectReference{APIVersion: "a/b/c", Kind: "K", Name: "n"}); err == nil {
		t.Error("an invalid apiVersion gave a name")
	}
}

func TestTriggerTime(t *testing.T) {
	cases := []struct {
		desc    string
		now     time.Time
		last    *metav1.Time
		created time.Time
		want    time.Time
	}{
		{"never scheduled: now", t0.Add(1500 * time.Millisecond), nil, t0, t0.Add(time.Second)},
		{"now after the last schedule", t0.Add(5 * time.Second), mt(t0), t0, t0.Add(5 * time.Second)},
		{"same second as the last schedule", t0.Add(900 * time.Millisecond), mt(t0), t0, t0.Add(time.Second)},
		{"last schedule in the future", t0, mt(t0.Add(3 * time.Second)), t0, t0.Add(4 * time.Second)},
		{"clock behind the apiserver: not before creation", t0.Add(-2 * time.Second), mt(t0.Add(-10 * time.Second)), t0, t0},
		{"non-UTC clock", t0.In(time.FixedZone("X", 3600)).Add(2 * time.Second), mt(t0), t0, t0.Add(2 * time.Second)},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got := triggerTime(c.now, c.last, c.created)
			if !got.Time.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("got %v, want %v UTC", got.Time, c.want)
			}
			// The scheduler's contract: a request later than the last schedule.
			if c.last != nil && !got.After(c.last.Time) {
				t.Errorf("trigger %v is not after lastScheduledTime %v", got.Time, c.last.Time)
			}
			rb := &workv1alpha1.ResourceBinding{}
			rb.Spec.RescheduleTriggeredAt = &got
			if !alreadyTriggered(rb, c.created) {
				t.Errorf("trigger %v is not recognised as made for a rebalancer created at %v", got.Time, c.created)
			}
		})
	}
}

func TestAlreadyTriggered(t *testing.T) {
	cases := []struct {
		desc    string
		trigger *metav1.Time
		want    bool
	}{
		{"no request", nil, false},
		{"an older request", mt(t0.Add(-time.Second)), false},
		{"a request at creation", mt(t0), true},
		{"a later request", mt(t0.Add(time.Minute)), true},
	}
	for _, c := range cases {
		rb := &workv1alpha1.ResourceBinding{}
		rb.Spec.RescheduleTriggeredAt = c.trigger
		if got := alreadyTriggered(rb, t0); got != c.want {
			t.Errorf("%s: got %v, want %v", c.desc, got, c.want)
		}
	}
}

func TestFinishedCondition(t *testing.T) {
	many := make([]appsv1alpha1.ObservedWorkload, 0, 8)
	for i := range 7 {
		w := foo
		w.Name = strings.Repeat("x", i+1)
		many = append(many, observed(w, failed))
	}
	many = append(many, observed(bar, success))
	cases := []struct {
		desc      string
		entries   []appsv1alpha1.ObservedWorkload
		status    metav1.ConditionStatus
		reason    string
		msgHas    []string
		msgHasNot []string
	}{
		{"pending", []appsv1alpha1.ObservedWorkload{observed(foo, success), {Workload: bar}}, metav1.ConditionFalse,
			appsv1alpha1.WorkloadRebalancerReasonInProgress, []string{"1 of 2"}, nil},
		{"pending beats failed", []appsv1alpha1.ObservedWorkload{observed(foo, failed), {Workload: bar}}, metav1.ConditionFalse,
			appsv1alpha1.WorkloadRebalancerReasonInProgress, nil, nil},
		{"all successful", []appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, success)}, metav1.ConditionTrue,
			appsv1alpha1.WorkloadRebalancerReasonSucceeded, []string{"All 2"}, nil},
		{"one failed", []appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, failed)}, metav1.ConditionTrue,
			appsv1alpha1.WorkloadRebalancerReasonPartiallyFailed,
			[]string{"1 of 2", "apps/v1 Deployment default/bar (ReferencedBindingNotFound)"}, []string{"default/foo"}},
		{"all failed", []appsv1alpha1.ObservedWorkload{observed(foo, failed)}, metav1.ConditionTrue,
			appsv1alpha1.WorkloadRebalancerReasonPartiallyFailed, []string{"0 of 1", "default/foo"}, nil},
		{"long failure lists are cut", many, metav1.ConditionTrue, appsv1alpha1.WorkloadRebalancerReasonPartiallyFailed,
			[]string{"1 of 8", "default/xxxxx ", "and 2 more"}, []string{"default/xxxxxx "}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got := finishedCondition(c.entries)
			if got.Type != appsv1alpha1.WorkloadRebalancerConditionFinished || got.Status != c.status || got.Reason != c.reason {
				t.Fatalf("got %s=%s %s, want %s %s", got.Type, got.Status, got.Reason, c.status, c.reason)
			}
			for _, s := range c.msgHas {
				if !strings.Contains(got.Message, s) {
					t.Errorf("message %q lacks %q", got.Message, s)
				}
			}
			for _, s := range c.msgHasNot {
				if strings.Contains(got.Message, s) {
					t.Errorf("message %q has %q", got.Message, s)
				}
			}
		})
	}
}

func TestFinishTime(t *testing.T) {
	now := t0.Add(10*time.Second + 300*time.Millisecond)
	cases := []struct {
		desc                  string
		prev                  *metav1.Time
		finished, resolvedNow bool
		want                  *metav1.Time
	}{
		{"not finished", nil, false, false, nil},
		{"not finished any more (workloads added)", mt(t0), false, false, nil},
		{"finishes now", nil, true, true, mt(t0.Add(10 * time.Second))},
		{"finished before: kept", mt(t0), true, false, mt(t0)},
		{"finishes again after an edit", mt(t0), true, true, mt(t0.Add(10 * time.Second))},
		{"finishes by losing its pending workloads", nil, true, false, mt(t0.Add(10 * time.Second))},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got := finishTime(c.prev, c.finished, c.resolvedNow, now)
			if (got == nil) != (c.want == nil) || (got != nil && !got.Equal(c.want)) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDesiredStatus(t *testing.T) {
	wr := &appsv1alpha1.WorkloadRebalancer{}
	wr.Generation = 2
	wr.Status = appsv1alpha1.WorkloadRebalancerStatus{
		ObservedGeneration: 1,
		ObservedWorkloads:  []appsv1alpha1.ObservedWorkload{observed(foo, success)},
		FinishTime:         mt(t0),
		Conditions: []metav1.Condition{{Type: appsv1alpha1.WorkloadRebalancerConditionFinished, Status: metav1.ConditionTrue,
			Reason: appsv1alpha1.WorkloadRebalancerReasonSucceeded, ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)}},
	}
	now := t0.Add(time.Minute)

	// Generation 2 added bar, which is still pending.
	st := desiredStatus(wr, []appsv1alpha1.ObservedWorkload{observed(foo, success), {Workload: bar}}, false, now)
	c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.WorkloadRebalancerConditionFinished)
	if st.ObservedGeneration != 2 || st.FinishTime != nil || c.Status != metav1.ConditionFalse || c.ObservedGeneration != 2 || !c.LastTransitionTime.Time.Equal(now) {
		t.Errorf("pending: got %+v", st)
	}
	if wr.Status.FinishTime == nil || len(wr.Status.Conditions) != 1 || wr.Status.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("desiredStatus changed its input: %+v", wr.Status)
	}

	// bar got its result: finished again, now.
	wr.Status = st
	st = desiredStatus(wr, []appsv1alpha1.ObservedWorkload{observed(foo, success), observed(bar, success)}, true, now.Add(time.Second))
	c = meta.FindStatusCondition(st.Conditions, appsv1alpha1.WorkloadRebalancerConditionFinished)
	if st.FinishTime == nil || !st.FinishTime.Time.Equal(now.Add(time.Second)) || c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Time.Equal(now.Add(time.Second)) {
		t.Errorf("finished: got %+v", st)
	}

	// A later pass with nothing new changes nothing (no write).
	wr.Status = st
	if again := desiredStatus(wr, st.ObservedWorkloads, false, now.Add(time.Hour)); !equality.Semantic.DeepEqual(again, wr.Status) {
		t.Errorf("a steady pass changed the status:\n%+v\n%+v", again, wr.Status)
	}
}

func TestExpiry(t *testing.T) {
	cases := []struct {
		desc    string
		finish  *metav1.Time
		ttl     *int32
		now     time.Time
		expired bool
		wait    time.Duration
	}{
		{"not finished", nil, ptr.To[int32](0), t0, false, 0},
		{"no TTL", mt(t0), nil, t0.Add(time.Hour), false, 0},
		{"zero TTL deletes right away", mt(t0), ptr.To[int32](0), t0, true, 0},
		{"waits for the remainder", mt(t0), ptr.To[int32](300), t0.Add(100*time.Second + 500*time.Millisecond), false, 199*time.Second + 500*time.Millisecond},
		{"at the deadline", mt(t0), ptr.To[int32](300), t0.Add(300 * time.Second), true, 0},
		{"TTL set long after finishing", mt(t0), ptr.To[int32](60), t0.Add(time.Hour), true, 0},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			expired, wait := expiry(c.finish, c.ttl, c.now)
			if expired != c.expired || wait != c.wait {
				t.Errorf("got %v %v, want %v %v", expired, wait, c.expired, c.wait)
			}
		})
	}
}
