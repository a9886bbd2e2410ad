package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/controllers/rebalancer"
)

func deploymentRef(name string) appsv1alpha1.ObjectReference {
	return appsv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: name}
}

// scheduledDeployment creates a Deployment template and a policy dividing
// it 1:1 over the clusters, and returns the template's name.
func scheduledDeployment(t *testing.T, name string, clusters ...string) string {
	t.Helper()
	rt := deploymentTemplate(t, name, 4)
	weights := map[string]int64{}
	for _, c := range clusters {
		weights[c] = 1
	}
	pp := weightedPolicy(name, name, true, weights)
	pp.Spec.Placement.ClusterTolerations = healthTolerations()
	create(t, pp)
	create(t, rt)
	return rt.Name
}

// scheduled is a waitBindingCondition check: scheduled as want, for the
// current generation.
func scheduled(want string) func(*workv1alpha1.ResourceBinding, *metav1.Condition) bool {
	return func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		return c.Status == metav1.ConditionTrue && rb.Status.SchedulerObservedGeneration == rb.Generation && placement(rb) == want
	}
}

// rebalancerView renders what a test checks of a rebalancer's status.
func rebalancerView(wr *appsv1alpha1.WorkloadRebalancer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "generation %d observed %d;", wr.Generation, wr.Status.ObservedGeneration)
	for _, o := range wr.Status.ObservedWorkloads {
		fmt.Fprintf(&b, " %s=%s", o.Workload.Name, o.Result)
		if o.Reason != "" {
			fmt.Fprintf(&b, "/%s", o.Reason)
		}
	}
	if c := meta.FindStatusCondition(wr.Status.Conditions, appsv1alpha1.WorkloadRebalancerConditionFinished); c != nil {
		fmt.Fprintf(&b, "; Finished=%s/%s@%d", c.Status, c.Reason, c.ObservedGeneration)
	}
	fmt.Fprintf(&b, "; finishTime set %v", wr.Status.FinishTime != nil)
	return b.String()
}

// waitRebalancer waits until the rebalancer's status, for its current
// generation, renders as want (see rebalancerView) and returns it.
func waitRebalancer(t *testing.T, name, want string) *appsv1alpha1.WorkloadRebalancer {
	t.Helper()
	wr := &appsv1alpha1.WorkloadRebalancer{}
	eventually(t, fmt.Sprintf("WorkloadRebalancer %s: %s", name, want), func(ctx context.Context) (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, wr); err != nil {
			return false, err.Error()
		}
		got := rebalancerView(wr)
		return got == want, got
	})
	return wr
}

func editRebalancer(t *testing.T, name string, edit func(*appsv1alpha1.WorkloadRebalancer)) {
	t.Helper()
	wr := &appsv1alpha1.WorkloadRebalancer{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, wr); err != nil {
		t.Fatal(err)
	}
	edit(wr)
	if err := k8sClient.Update(context.Background(), wr); err != nil {
		t.Fatalf("editing WorkloadRebalancer %s: %v", name, err)
	}
}

// rebalancerEvents returns the rebalancer controller's events on the
// rebalancer, as "reason: note", counting a repeated event once per repeat.
func rebalancerEvents(ctx context.Context, name string) ([]string, error) {
	var list eventsv1.EventList
	if err := k8sClient.List(ctx, &list); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind != appsv1alpha1.ResourceKindWorkloadRebalancer || e.Regarding.Name != name || e.ReportingController != rebalancer.ControllerName {
			continue
		}
		n := 1
		if e.Series != nil {
			n = int(e.Series.Count)
		}
		for range n {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out, nil
}

func countMatching(events []string, reason, text string) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e, reason+": ") && strings.Contains(e, text) {
			n++
		}
	}
	return n
}

// TestWorkloadRebalancer follows seed 000 steps 3-6: a rebalancer naming a
// divided Deployment and a missing one reports Successful and Failed, the
// scheduler consumes the request once, an edit processes only the added
// workload, and ttlSecondsAfterFinished deletes the rebalancer.
func TestWorkloadRebalancer(t *testing.T) {
	ctx := context.Background()
	schedulingClusters(t, "wr-a", "wr-b")
	foo := scheduledDeployment(t, "wr-foo", "wr-a", "wr-b")
	bar := scheduledDeployment(t, "wr-bar", "wr-a", "wr-b")
	before := waitBindingCondition(t, foo, scheduled("wr-a:2,wr-b:2"))
	waitBindingCondition(t, bar, scheduled("wr-a:2,wr-b:2"))

	wr := &appsv1alpha1.WorkloadRebalancer{
		ObjectMeta: metav1.ObjectMeta{Name: "wr-demo"},
		Spec:       appsv1alpha1.WorkloadRebalancerSpec{Workloads: []appsv1alpha1.ObjectReference{deploymentRef("wr-foo"), deploymentRef("wr-missing")}},
	}
	create(t, wr)
	wr = waitRebalancer(t, wr.Name,
		"generation 1 observed 1; wr-foo=Successful wr-missing=Failed/ReferencedBindingNotFound; Finished=True/PartiallyFailed@1; finishTime set true")
	firstFinish := *wr.Status.FinishTime

	// The request: after the last schedule and not before the rebalancer.
	rb, err := getBinding(ctx, foo)
	if err != nil {
		t.Fatal(err)
	}
	trigger := rb.Spec.RescheduleTriggeredAt
	switch {
	case trigger == nil:
		t.Fatalf("binding %s got no spec.rescheduleTriggeredAt", foo)
	case trigger.Before(&wr.CreationTimestamp):
		t.Errorf("rescheduleTriggeredAt %v is before the rebalancer's creation %v", trigger, wr.CreationTimestamp)
	case !trigger.After(before.Status.LastScheduledTime.Time):
		t.Errorf("rescheduleTriggeredAt %v is not after the last schedule %v: the scheduler ignores it", trigger, before.Status.LastScheduledTime)
	}
	// The scheduler consumes it ...
	rb = waitBindingCondition(t, foo, func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		last := rb.Status.LastScheduledTime
		return scheduled("wr-a:2,wr-b:2")(rb, c) && last != nil && !last.Before(trigger)
	})
	// ... once: neither a new request nor another fresh schedule follows.
	consumed := fmt.Sprintf("trigger %v last %v generation %d", rb.Spec.RescheduleTriggeredAt, rb.Status.LastScheduledTime, rb.Generation)
	consistently(t, "one fresh schedule of "+foo, 3*time.Second, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, foo)
		if err != nil {
			return false, err.Error()
		}
		now := fmt.Sprintf("trigger %v last %v generation %d", rb.Spec.RescheduleTriggeredAt, rb.Status.LastScheduledTime, rb.Generation)
		return now == consumed, now
	})
	if rb, err := getBinding(ctx, bar); err != nil || rb.Spec.RescheduleTriggeredAt != nil {
		t.Fatalf("binding %s, not named by the rebalancer, was asked to reschedule (%v)", bar, err)
	}
	eventually(t, "events on the rebalancer", func(ctx context.Context) (bool, string) {
		events, err := rebalancerEvents(ctx, wr.Name)
		if err != nil {
			return false, err.Error()
		}
		ok := countMatching(events, rebalancer.EventReasonRescheduleTriggered, "default/wr-foo") == 1 &&
			countMatching(events, rebalancer.EventReasonReferencedBindingNotFound, "default/wr-missing") == 1
		return ok, fmt.Sprint(events)
	})

	// The missing workload appears; its Failed result is final all the same.
	missing := scheduledDeployment(t, "wr-missing", "wr-a", "wr-b")
	waitBindingCondition(t, missing, scheduled("wr-a:2,wr-b:2"))

	// Adding a workload processes that one alone.
	editRebalancer(t, wr.Name, func(wr *appsv1alpha1.WorkloadRebalancer) {
		wr.Spec.Workloads = append(wr.Spec.Workloads, deploymentRef("wr-bar"))
	})
	wr = waitRebalancer(t, wr.Name,
		"generation 2 observed 2; wr-foo=Successful wr-missing=Failed/ReferencedBindingNotFound wr-bar=Successful; Finished=True/PartiallyFailed@2; finishTime set true")
	if !wr.Status.FinishTime.After(firstFinish.Time) {
		t.Errorf("finishTime %v did not move past %v when the added workload finished", wr.Status.FinishTime, firstFinish)
	}
	if rb, err := getBinding(ctx, bar); err != nil || rb.Spec.RescheduleTriggeredAt == nil {
		t.Errorf("the added workload's binding %s got no request (%v)", bar, err)
	}
	if rb, err := getBinding(ctx, foo); err != nil || !rb.Spec.RescheduleTriggeredAt.Equal(trigger) {
		t.Errorf("binding %s was asked again: %v (%v)", foo, rb.Spec.RescheduleTriggeredAt, err)
	}
	if rb, err := getBinding(ctx, missing); err != nil || rb.Spec.RescheduleTriggeredAt != nil {
		t.Errorf("the Failed workload's binding %s was asked after all (%v)", missing, err)
	}

	// Removing a workload drops its result.
	editRebalancer(t, wr.Name, func(wr *appsv1alpha1.WorkloadRebalancer) {
		wr.Spec.Workloads = []appsv1alpha1.ObjectReference{deploymentRef("wr-foo"), deploymentRef("wr-bar")}
	})
	waitRebalancer(t, wr.Name, "generation 3 observed 3; wr-foo=Successful wr-bar=Successful; Finished=True/Succeeded@3; finishTime set true")

	// Events came on transitions only.
	events, err := rebalancerEvents(ctx, wr.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ reason, text string }{
		{rebalancer.EventReasonRescheduleTriggered, "default/wr-foo"},
		{rebalancer.EventReasonRescheduleTriggered, "default/wr-bar"},
		{rebalancer.EventReasonReferencedBindingNotFound, "default/wr-missing"},
	} {
		if n := countMatching(events, want.reason, want.text); n != 1 {
			t.Errorf("%d events %s for %s, want 1; events: %v", n, want.reason, want.text, events)
		}
	}

	// A TTL set after finishing deletes the rebalancer.
	editRebalancer(t, wr.Name, func(wr *appsv1alpha1.WorkloadRebalancer) { wr.Spec.TTLSecondsAfterFinished = ptr.To[int32](1) })
	eventually(t, "WorkloadRebalancer deleted after its TTL", func(ctx context.Context) (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKey{Name: wr.Name}, &appsv1alpha1.WorkloadRebalancer{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// TestWorkloadRebalancerReturnsToPreferredAffinityGroup: a workload that
// fell back to its backup clusterAffinities group stays there while the
// preferred group becomes possible (steady scheduling), and a rebalancer
// brings it back to the preferred group.
func TestWorkloadRebalancerReturnsToPreferredAffinityGroup(t *testing.T) {
	ctx := context.Background()
	const tierLabel = "rebalancer-test.argosy.dev/tier"
	schedulingClusters(t, "wra-a", "wra-b")
	rt := deploymentTemplate(t, "wr-aff", 2)
	pp := &policyv1alpha1.PropagationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "wr-aff", Namespace: "default"},
		Spec: policyv1alpha1.PropagationSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: "wr-aff"}},
			Placement: policyv1alpha1.Placement{
				ClusterAffinities: []policyv1alpha1.ClusterAffinityTerm{
					{AffinityName: "primary", ClusterAffinity: policyv1alpha1.ClusterAffinity{
						LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{tierLabel: "primary"}}}},
					{AffinityName: "backup", ClusterAffinity: policyv1alpha1.ClusterAffinity{ClusterNames: []string{"wra-a", "wra-b"}}},
				},
				ClusterTolerations: healthTolerations(),
				ReplicaScheduling:  &policyv1alpha1.ReplicaSchedulingStrategy{ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDuplicated},
			},
		},
	}
	create(t, pp)
	create(t, rt)
	inGroup := func(group, want string) func(*workv1alpha1.ResourceBinding, *metav1.Condition) bool {
		return func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
			return scheduled(want)(rb, c) && rb.Status.SchedulerObservedAffinityName == group
		}
	}
	// No cluster has the label yet: the backup group.
	waitBindingCondition(t, rt.Name, inGroup("backup", "wra-a:2,wra-b:2"))

	// wra-a joins the primary group.
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:"primary"}}}`, tierLabel)
	if err := k8sClient.Patch(ctx, &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "wra-a"}}, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	// A steady pass (a scale) keeps the backup group.
	cur, err := getTemplate(ctx, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template = deploymentTemplate(t, "wr-aff", 3).Spec.Template
	if err := k8sClient.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	waitBindingCondition(t, rt.Name, inGroup("backup", "wra-a:3,wra-b:3"))

	create(t, &appsv1alpha1.WorkloadRebalancer{
		ObjectMeta: metav1.ObjectMeta{Name: "wr-aff"},
		Spec:       appsv1alpha1.WorkloadRebalancerSpec{Workloads: []appsv1alpha1.ObjectReference{deploymentRef("wr-aff")}},
	})
	waitRebalancer(t, "wr-aff", "generation 1 observed 1; wr-aff=Successful; Finished=True/Succeeded@1; finishTime set true")
	waitBindingCondition(t, rt.Name, inGroup("primary", "wra-a:3"))
}
