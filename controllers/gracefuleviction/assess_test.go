package gracefuleviction

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const gen = 7

// binding is a binding at generation 7 evicted from "old" and placed on
// "new" (Scheduled=True for generation 7), applied and healthy there; opts
// change it.
func binding(opts ...func(*workv1alpha1.ResourceBinding)) *workv1alpha1.ResourceBinding {
	rb := &workv1alpha1.ResourceBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "rb", Generation: gen},
		Spec: workv1alpha1.ResourceBindingSpec{
			Replicas: 3,
			Clusters: []workv1alpha1.TargetCluster{{Name: "new", Replicas: 2}, {Name: "other", Replicas: 1}},
		},
		Status: workv1alpha1.ResourceBindingStatus{
			SchedulerObservedGeneration: gen,
			Conditions: []metav1.Condition{
				{Type: workv1alpha1.ConditionScheduled, Status: metav1.ConditionTrue, Reason: workv1alpha1.BindingReasonSuccess, ObservedGeneration: gen},
				{Type: workv1alpha1.ConditionFullyApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.BindingReasonFullyAppliedSuccess, ObservedGeneration: gen},
			},
			AggregatedStatus: []workv1alpha1.AggregatedStatusItem{
				{ClusterName: "new", Applied: true, Health: workv1alpha1.ResourceHealthy},
				{ClusterName: "old", Applied: true, Health: workv1alpha1.ResourceUnhealthy},
				{ClusterName: "other", Applied: true, Health: workv1alpha1.ResourceHealthy},
			},
		},
	}
	for _, o := range opts {
		o(rb)
	}
	return rb
}

func cond(rb *workv1alpha1.ResourceBinding, typ string) *metav1.Condition {
	for i := range rb.Status.Conditions {
		if rb.Status.Conditions[i].Type == typ {
			return &rb.Status.Conditions[i]
		}
	}
	panic("no condition " + typ)
}

func unhealthyOn(cluster string, h workv1alpha1.ResourceHealth) func(*workv1alpha1.ResourceBinding) {
	return func(rb *workv1alpha1.ResourceBinding) {
		for i := range rb.Status.AggregatedStatus {
			if rb.Status.AggregatedStatus[i].ClusterName == cluster {
				rb.Status.AggregatedStatus[i].Health = h
			}
		}
	}
}

func notFullyApplied(rb *workv1alpha1.ResourceBinding) {
	c := cond(rb, workv1alpha1.ConditionFullyApplied)
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, workv1alpha1.BindingReasonFullyAppliedFailed, "Not applied yet in 1 of 2 clusters: new"
}

func scheduleFailed(rb *workv1alpha1.ResourceBinding) {
	c := cond(rb, workv1alpha1.ConditionScheduled)
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, workv1alpha1.BindingReasonNoClusterFit, "0/1 clusters are available: old (being evicted)"
	rb.Spec.Clusters = []workv1alpha1.TargetCluster{{Name: "old", Replicas: 3}}
}

func task(opts ...func(*workv1alpha1.GracefulEvictionTask)) *workv1alpha1.GracefulEvictionTask {
	t := &workv1alpha1.GracefulEvictionTask{
		FromCluster: "old", Reason: workv1alpha1.EvictionReasonTaintUntolerated, Producer: workv1alpha1.EvictionProducerTaintManager,
		CreationTimestamp: ptr.To(metav1.NewTime(t0.Add(-time.Minute))),
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

func mode(m policyv1alpha1.PurgeMode) func(*workv1alpha1.GracefulEvictionTask) {
	return func(t *workv1alpha1.GracefulEvictionTask) { t.PurgeMode = m }
}

func TestAssess(t *testing.T) {
	timeout := 10 * time.Minute
	cases := []struct {
		desc          string
		rb            *workv1alpha1.ResourceBinding
		task          *workv1alpha1.GracefulEvictionTask
		clusterExists bool
		now           time.Time
		wantRemove    bool
		wantBlocked   bool
		wantDeadline  time.Time
		wantWhy       string
	}{
		{desc: "cluster gone: remove even when nothing is placed", rb: binding(scheduleFailed), task: task(mode(policyv1alpha1.PurgeModeNever)),
			wantRemove: true, wantWhy: "Cluster old no longer exists"},
		{desc: "Gracefully, placed, applied and healthy: remove", rb: binding(), task: task(), clusterExists: true,
			wantRemove: true, wantWhy: "healthy on its new clusters"},
		{desc: "Graciously is Gracefully", rb: binding(), task: task(mode(policyv1alpha1.PurgeModeGraciously)), clusterExists: true,
			wantRemove: true, wantWhy: "healthy"},
		{desc: "Directly, placed: remove although not applied yet", rb: binding(notFullyApplied, unhealthyOn("new", workv1alpha1.ResourceUnknown)),
			task: task(mode(policyv1alpha1.PurgeModeDirectly)), clusterExists: true, wantRemove: true, wantWhy: "purgeMode is Directly"},
		{desc: "Immediately is Directly", rb: binding(notFullyApplied), task: task(mode(policyv1alpha1.PurgeModeImmediately)), clusterExists: true,
			wantRemove: true, wantWhy: "Directly"},
		{desc: "scheduling failed: keep, blocked, even Directly and past the grace period", rb: binding(scheduleFailed),
			task: task(mode(policyv1alpha1.PurgeModeDirectly), func(t *workv1alpha1.GracefulEvictionTask) {
				t.CreationTimestamp = ptr.To(metav1.NewTime(t0.Add(-time.Hour)))
			}),
			clusterExists: true, wantBlocked: true, wantWhy: "NoClusterFit: 0/1 clusters"},
		{desc: "scheduling suspended: keep, not blocked", rb: binding(scheduleFailed, func(rb *workv1alpha1.ResourceBinding) {
			cond(rb, workv1alpha1.ConditionScheduled).Reason = workv1alpha1.BindingReasonSchedulingSuspended
		}), task: task(mode(policyv1alpha1.PurgeModeDirectly)), clusterExists: true, wantWhy: "suspended"},
		{desc: "Scheduled for an older generation: keep", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			cond(rb, workv1alpha1.ConditionScheduled).ObservedGeneration = gen - 1
		}), task: task(mode(policyv1alpha1.PurgeModeDirectly)), clusterExists: true, wantWhy: "has not placed generation 7"},
		{desc: "schedulerObservedGeneration behind: keep", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			rb.Status.SchedulerObservedGeneration = gen - 1
		}), task: task(mode(policyv1alpha1.PurgeModeDirectly)), clusterExists: true, wantWhy: "has not placed"},
		{desc: "no Scheduled condition: keep", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			rb.Status.Conditions = rb.Status.Conditions[1:]
		}), task: task(mode(policyv1alpha1.PurgeModeDirectly)), clusterExists: true, wantWhy: "has not placed"},
		{desc: "evicted cluster still a target: keep", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			rb.Spec.Clusters = append(rb.Spec.Clusters, workv1alpha1.TargetCluster{Name: "old", Replicas: 1})
		}), task: task(mode(policyv1alpha1.PurgeModeDirectly)), clusterExists: true, wantWhy: "still a target"},
		{desc: "Never: keep even when healthy", rb: binding(), task: task(mode(policyv1alpha1.PurgeModeNever)), clusterExists: true,
			wantWhy: "purgeMode is Never"},
		{desc: "suppressDeletion true: keep even when healthy and Directly", rb: binding(),
			task:          task(mode(policyv1alpha1.PurgeModeDirectly), func(t *workv1alpha1.GracefulEvictionTask) { t.SuppressDeletion = ptr.To(true) }),
			clusterExists: true, wantWhy: "suppressDeletion is true"},
		{desc: "suppressDeletion false approves: remove once placed", rb: binding(notFullyApplied),
			task:          task(mode(policyv1alpha1.PurgeModeNever), func(t *workv1alpha1.GracefulEvictionTask) { t.SuppressDeletion = ptr.To(false) }),
			clusterExists: true, wantRemove: true, wantWhy: "suppressDeletion was set to false"},
		{desc: "suppressDeletion false but scheduling failed: keep", rb: binding(scheduleFailed),
			task: task(func(t *workv1alpha1.GracefulEvictionTask) { t.SuppressDeletion = ptr.To(false) }), clusterExists: true, wantBlocked: true},
		{desc: "Gracefully, not fully applied: keep until the timeout", rb: binding(notFullyApplied), task: task(), clusterExists: true,
			wantDeadline: t0.Add(9 * time.Minute), wantWhy: "not fully applied"},
		{desc: "Gracefully, FullyApplied for an older generation: keep", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			cond(rb, workv1alpha1.ConditionFullyApplied).ObservedGeneration = gen - 1
		}), task: task(), clusterExists: true, wantDeadline: t0.Add(9 * time.Minute), wantWhy: "not applied yet"},
		{desc: "Gracefully, Unhealthy on a target: keep", rb: binding(unhealthyOn("other", workv1alpha1.ResourceUnhealthy)), task: task(), clusterExists: true,
			wantDeadline: t0.Add(9 * time.Minute), wantWhy: "other (Unhealthy)"},
		{desc: "Gracefully, Unknown health is not healthy", rb: binding(unhealthyOn("new", workv1alpha1.ResourceUnknown)), task: task(), clusterExists: true,
			wantDeadline: t0.Add(9 * time.Minute), wantWhy: "new (Unknown)"},
		{desc: "Gracefully, a target without a status item is not healthy", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			rb.Status.AggregatedStatus = rb.Status.AggregatedStatus[1:]
		}), task: task(), clusterExists: true, wantDeadline: t0.Add(9 * time.Minute), wantWhy: "new (not reported)"},
		{desc: "Gracefully, the evicted cluster's own health does not matter", rb: binding(unhealthyOn("old", workv1alpha1.ResourceUnknown)), task: task(),
			clusterExists: true, wantRemove: true},
		{desc: "Gracefully, no target cluster: keep until the timeout", rb: binding(func(rb *workv1alpha1.ResourceBinding) { rb.Spec.Clusters = nil }),
			task: task(), clusterExists: true, wantDeadline: t0.Add(9 * time.Minute), wantWhy: "no target cluster"},
		{desc: "Gracefully, gracePeriodSeconds passed: remove", rb: binding(notFullyApplied),
			task:          task(func(t *workv1alpha1.GracefulEvictionTask) { t.GracePeriodSeconds = ptr.To[int32](60) }),
			clusterExists: true, wantRemove: true, wantWhy: "grace period of 1m0s has passed"},
		{desc: "Gracefully, gracePeriodSeconds not passed: keep until then", rb: binding(notFullyApplied),
			task:          task(func(t *workv1alpha1.GracefulEvictionTask) { t.GracePeriodSeconds = ptr.To[int32](90) }),
			clusterExists: true, wantDeadline: t0.Add(30 * time.Second), wantWhy: "kept until 2026-03-01T12:00:30Z"},
		{desc: "Gracefully, the manager's timeout passed: remove", rb: binding(notFullyApplied),
			task: task(func(t *workv1alpha1.GracefulEvictionTask) {
				t.CreationTimestamp = ptr.To(metav1.NewTime(t0.Add(-timeout)))
			}),
			clusterExists: true, wantRemove: true, wantWhy: "grace period of 10m0s"},
		{desc: "Gracefully, no creationTimestamp counts from now", rb: binding(notFullyApplied),
			task:          task(func(t *workv1alpha1.GracefulEvictionTask) { t.CreationTimestamp = nil }),
			clusterExists: true, wantDeadline: t0.Add(timeout)},
		{desc: "Gracefully, not placed and past the grace period: keep", rb: binding(func(rb *workv1alpha1.ResourceBinding) {
			rb.Status.SchedulerObservedGeneration = gen - 1
		}), task: task(func(t *workv1alpha1.GracefulEvictionTask) { t.GracePeriodSeconds = ptr.To[int32](1) }), clusterExists: true, wantWhy: "has not placed"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = t0
			}
			v := Assess(c.rb, c.task, c.clusterExists, now, timeout)
			if v.Remove != c.wantRemove || v.Blocked != c.wantBlocked || !v.Deadline.Equal(c.wantDeadline) {
				t.Errorf("Assess = %+v, want remove %v, blocked %v, deadline %v", v, c.wantRemove, c.wantBlocked, c.wantDeadline)
			}
			if !strings.Contains(v.Why, c.wantWhy) {
				t.Errorf("why %q does not contain %q", v.Why, c.wantWhy)
			}
			wantPrefix := "kept because"
			if c.wantRemove {
				wantPrefix = "removed because"
			} else if !c.wantDeadline.IsZero() {
				wantPrefix = "kept until"
			}
			if !strings.HasPrefix(v.Why, wantPrefix) {
				t.Errorf("why %q does not start with %q", v.Why, wantPrefix)
			}
		})
	}
}

func TestPlanTasks(t *testing.T) {
	exists := func(c string) bool { return c != "gone" }
	withTasks := func(tasks ...*workv1alpha1.GracefulEvictionTask) func(*workv1alpha1.ResourceBinding) {
		return func(rb *workv1alpha1.ResourceBinding) {
			for _, tk := range tasks {
				rb.Spec.GracefulEvictionTasks = append(rb.Spec.GracefulEvictionTasks, *tk)
			}
		}
	}
	from := func(c string) func(*workv1alpha1.GracefulEvictionTask) {
		return func(t *workv1alpha1.GracefulEvictionTask) { t.FromCluster = c }
	}
	grace := func(s int32) func(*workv1alpha1.GracefulEvictionTask) {
		return func(t *workv1alpha1.GracefulEvictionTask) { t.GracePeriodSeconds = ptr.To(s) }
	}
	now := t0.Add(500 * time.Millisecond)

	t.Run("steady: nothing to write, requeue at the earliest deadline", func(t *testing.T) {
		rb := binding(notFullyApplied, withTasks(task(grace(120)), task(from("old2"), grace(90)), task(from("old3"), mode(policyv1alpha1.PurgeModeNever))))
		p := PlanTasks(rb, exists, now, time.Hour)
		if p.Changed || len(p.Removed) != 0 || len(p.Tasks) != 3 || len(p.Blocked) != 0 {
			t.Fatalf("plan = %+v", p)
		}
		if want := t0.Add(30 * time.Second).Sub(now); p.RequeueAfter != want {
			t.Errorf("RequeueAfter = %v, want %v", p.RequeueAfter, want)
		}
	})
	t.Run("remove some, keep the others in order", func(t *testing.T) {
		rb := binding(notFullyApplied, withTasks(task(from("a"), mode(policyv1alpha1.PurgeModeNever)), task(from("gone")),
			task(from("b"), mode(policyv1alpha1.PurgeModeDirectly)), task(from("c"), grace(120))))
		p := PlanTasks(rb, exists, now, time.Hour)
		if !p.Changed || len(p.Removed) != 2 || p.Removed[0].Cluster != "gone" || p.Removed[1].Cluster != "b" {
			t.Fatalf("removed = %+v", p.Removed)
		}
		if len(p.Tasks) != 2 || p.Tasks[0].FromCluster != "a" || p.Tasks[1].FromCluster != "c" {
			t.Fatalf("tasks = %+v", p.Tasks)
		}
		if p.RequeueAfter <= 0 || p.RequeueAfter > time.Minute {
			t.Errorf("RequeueAfter = %v", p.RequeueAfter)
		}
	})
	t.Run("a missing creationTimestamp is stamped to the second", func(t *testing.T) {
		rb := binding(notFullyApplied, withTasks(task(func(t *workv1alpha1.GracefulEvictionTask) { t.CreationTimestamp = nil })))
		p := PlanTasks(rb, exists, now, time.Hour)
		if !p.Changed || len(p.Tasks) != 1 || p.Tasks[0].CreationTimestamp == nil || !p.Tasks[0].CreationTimestamp.Time.Equal(t0) {
			t.Fatalf("plan = %+v", p)
		}
		if rb.Spec.GracefulEvictionTasks[0].CreationTimestamp != nil {
			t.Error("the binding itself was modified")
		}
	})
	t.Run("blocked clusters are listed once, sorted", func(t *testing.T) {
		rb := binding(scheduleFailed, withTasks(task(from("z")), task(from("a")), task(from("z"), mode(policyv1alpha1.PurgeModeDirectly))))
		p := PlanTasks(rb, exists, now, time.Hour)
		if p.Changed || p.RequeueAfter != 0 || strings.Join(p.Blocked, ",") != "a,z" || !strings.Contains(p.BlockedWhy, "NoClusterFit") {
			t.Fatalf("plan = %+v", p)
		}
	})
	t.Run("no tasks: nothing", func(t *testing.T) {
		p := PlanTasks(binding(), exists, now, time.Hour)
		if p.Changed || p.Tasks != nil || p.RequeueAfter != 0 {
			t.Fatalf("plan = %+v", p)
		}
	})
}

func TestRelevantUpdate(t *testing.T) {
	withTask := func(rb *workv1alpha1.ResourceBinding) {
		rb.Spec.GracefulEvictionTasks = []workv1alpha1.GracefulEvictionTask{*task()}
	}
	cases := []struct {
		desc string
		old  *workv1alpha1.ResourceBinding
		new  *workv1alpha1.ResourceBinding
		want bool
	}{
		{"no tasks: never", binding(), binding(func(rb *workv1alpha1.ResourceBinding) { rb.Generation++ }), false},
		{"last task removed: once, to forget", binding(withTask), binding(), true},
		{"generation", binding(withTask), binding(withTask, func(rb *workv1alpha1.ResourceBinding) { rb.Generation++ }), true},
		{"unrelated status (aggregated member status)", binding(withTask), binding(withTask, func(rb *workv1alpha1.ResourceBinding) {
			rb.Status.AggregatedStatus[0].AppliedMessage = "x"
			rb.Status.ObservedGeneration = 3
		}), false},
		{"Scheduled message only", binding(withTask), binding(withTask, func(rb *workv1alpha1.ResourceBinding) {
			cond(rb, workv1alpha1.ConditionScheduled).Message = "other"
		}), false},
		{"Scheduled status", binding(withTask), binding(withTask, scheduleFailed), true},
		{"Scheduled observedGeneration", binding(withTask), binding(withTask, func(rb *workv1alpha1.ResourceBinding) {
			cond(rb, workv1alpha1.ConditionScheduled).ObservedGeneration++
		}), true},
		{"schedulerObservedGeneration", binding(withTask), binding(withTask, func(rb *workv1alpha1.ResourceBinding) {
			rb.Status.SchedulerObservedGeneration++
		}), true},
		{"FullyApplied", binding(withTask), binding(withTask, notFullyApplied), true},
		{"health", binding(withTask), binding(withTask, unhealthyOn("new", workv1alpha1.ResourceUnhealthy)), true},
		{"deletion starts", binding(withTask), binding(withTask, func(rb *workv1alpha1.ResourceBinding) {
			rb.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
		}), true},
	}
	for _, c := range cases {
		if got := relevantUpdate(c.old, c.new); got != c.want {
			t.Errorf("%s: relevantUpdate = %v, want %v", c.desc, got, c.want)
		}
	}
}

func TestBlockedMark(t *testing.T) {
	rb := binding(scheduleFailed)
	a := blockedMark(rb, []string{"old"})
	if blockedMark(rb, []string{"old"}) != a {
		t.Error("the same episode must give the same mark")
	}
	if blockedMark(rb, []string{"old", "old2"}) == a {
		t.Error("a new blocked cluster is a new episode")
	}
	cond(rb, workv1alpha1.ConditionScheduled).LastTransitionTime = metav1.NewTime(t0)
	if blockedMark(rb, []string{"old"}) == a {
		t.Error("a new failure (transition) is a new episode")
	}
}
