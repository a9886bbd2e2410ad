package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/controllers/status"
)

// kstatusOf reads the template from the apiserver as a generic client does
// and computes its kstatus, the verdict Flux, kubectl wait (cli-utils)
// and Argo CD's kstatus integration give.
func kstatusOf(ctx context.Context, name string) (*kstatus.Result, *workv1alpha1.ResourceTemplate, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(workv1alpha1.GroupVersion.WithKind(workv1alpha1.KindResourceTemplate))
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: templateNS, Name: name}, u); err != nil {
		return nil, nil, err
	}
	res, err := kstatus.Compute(u)
	if err != nil {
		return nil, nil, err
	}
	rt := &workv1alpha1.ResourceTemplate{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, rt); err != nil {
		return nil, nil, err
	}
	return res, rt, nil
}

// waitTemplateStatus waits until the template's status describes its
// current generation, kstatus gives want, and the condition of type cond
// is True with reason.
func waitTemplateStatus(t *testing.T, name string, want kstatus.Status, cond, reason string) *workv1alpha1.ResourceTemplate {
	t.Helper()
	var rt *workv1alpha1.ResourceTemplate
	eventually(t, fmt.Sprintf("template %s %s with %s=True (%s)", name, want, cond, reason), func(ctx context.Context) (bool, string) {
		res, cur, err := kstatusOf(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		rt = cur
		c := meta.FindStatusCondition(cur.Status.Conditions, cond)
		why := fmt.Sprintf("kstatus %s (%s); observedGeneration %d of %d; conditions %+v", res.Status, res.Message,
			cur.Status.ObservedGeneration, cur.Generation, cur.Status.Conditions)
		return res.Status == want && cur.Status.ObservedGeneration == cur.Generation &&
			c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason && c.ObservedGeneration == cur.Generation, why
	})
	return rt
}

// hasStatusEvent waits for an event of the status controller on the
// template with the reason and a note containing text.
func hasStatusEvent(t *testing.T, rtName, reason, text string) {
	t.Helper()
	eventually(t, fmt.Sprintf("event %s %q on %s", reason, text, rtName), func(ctx context.Context) (bool, string) {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(templateNS)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != rtName || e.ReportingController != status.ControllerName {
				continue
			}
			seen = append(seen, e.Reason+": "+e.Note)
			if e.Reason == reason && strings.Contains(e.Note, text) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("events: %v", seen)
	})
}

// statusEvents counts the status controller's events on the template.
func statusEvents(t *testing.T, rtName string) int {
	t.Helper()
	var list eventsv1.EventList
	if err := k8sClient.List(context.Background(), &list, client.InNamespace(templateNS)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == rtName && e.ReportingController == status.ControllerName {
			n++
		}
	}
	return n
}

// steady checks that the template's status is not rewritten for a while.
func steady(t *testing.T, name string) {
	t.Helper()
	rt, err := getTemplate(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	rv := rt.ResourceVersion
	consistently(t, "template status not rewritten", 2*time.Second, func(ctx context.Context) (bool, string) {
		cur, err := getTemplate(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		return cur.ResourceVersion == rv, fmt.Sprintf("resourceVersion %s -> %s, status %+v", rv, cur.ResourceVersion, cur.Status)
	})
}

// TestStatusNoMatchingPolicy: a template no policy selects stalls with
// NoMatchingPolicy (kstatus Failed) and says so in an event; once a policy
// claims it and scheduling fails, it stalls with SchedulingFailed instead,
// and the status is then left alone.
func TestStatusNoMatchingPolicy(t *testing.T) {
	ctx := context.Background()
	ns := "status-nopolicy"
	createNamespace(t, ns)
	rt := wrap(t, "", templateNS, configMap("orphan", ns))
	create(t, rt)

	got := waitTemplateStatus(t, rt.Name, kstatus.FailedStatus, workv1alpha1.TemplateConditionStalled, workv1alpha1.TemplateReasonNoMatchingPolicy)
	ready := meta.FindStatusCondition(got.Status.Conditions, workv1alpha1.TemplateConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || !strings.Contains(ready.Message, "v1 ConfigMap "+ns+"/orphan") {
		t.Errorf("Ready = %+v, want False naming the ConfigMap", ready)
	}
	if got.Status.Policy != nil || got.Status.AggregatedStatus != nil || len(got.Status.Clusters) != 0 {
		t.Errorf("status %+v, want no policy, aggregated status or clusters", got.Status)
	}
	hasStatusEvent(t, rt.Name, workv1alpha1.EventReasonAggregateStatusFailed, "NoMatchingPolicy: No PropagationPolicy or ClusterPropagationPolicy selects")
	steady(t, rt.Name)

	// A policy for a cluster that does not exist: claimed, then the
	// scheduler finds no cluster.
	create(t, propagationPolicy("orphan", ns, policyv1alpha1.ResourceSelector{APIVersion: "v1", Kind: "ConfigMap", Name: "orphan"}))
	got = waitTemplateStatus(t, rt.Name, kstatus.FailedStatus, workv1alpha1.TemplateConditionStalled, workv1alpha1.TemplateReasonSchedulingFailed)
	if got.Status.Policy == nil || got.Status.Policy.Name != "orphan" {
		t.Errorf("status.policy = %+v: the detector's claim must survive the status controller's writes", got.Status.Policy)
	}
	hasStatusEvent(t, rt.Name, workv1alpha1.EventReasonAggregateStatusFailed, "SchedulingFailed: NoClusterFit")
	rb, err := getBinding(ctx, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	fa := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
	if fa == nil || fa.Status != metav1.ConditionFalse || fa.ObservedGeneration != rb.Generation {
		t.Errorf("FullyApplied = %+v, want False at generation %d", fa, rb.Generation)
	}
	if sc := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled); sc == nil || sc.Reason != workv1alpha1.BindingReasonNoClusterFit {
		t.Errorf("Scheduled = %+v: the scheduler's condition must survive the status controller's writes", sc)
	}
	events := statusEvents(t, rt.Name)
	steady(t, rt.Name)
	if n := statusEvents(t, rt.Name); n != events {
		t.Errorf("%d events in a steady state, want none", n-events)
	}
}

// TestStatusScheduledToUnreachableCluster: a binding placed on a cluster
// Argosy cannot reach is not FullyApplied, and its template is
// Reconciling (kstatus InProgress), with the cluster, its assigned
// replicas and why it is not applied in the template's status; a scale of
// the template moves observedGeneration and the assignment.
func TestStatusScheduledToUnreachableCluster(t *testing.T) {
	ctx := context.Background()
	schedulingClusters(t, "status-ghost")
	rt := deploymentTemplate(t, "status-ghost", 2)
	pp := weightedPolicy("status-ghost", "status-ghost", true, map[string]int64{"status-ghost": 1})
	// The policy first: a template is claimed by the first policy that
	// selects it, and another test's policy in the same namespace may
	// select every Deployment.
	create(t, pp)
	create(t, rt)

	check := func(replicas int32) {
		t.Helper()
		eventually(t, fmt.Sprintf("binding not FullyApplied, %d replicas on status-ghost", replicas), func(ctx context.Context) (bool, string) {
			rb, err := getBinding(ctx, rt.Name)
			if err != nil {
				return false, err.Error()
			}
			fa := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
			why := fmt.Sprintf("FullyApplied %+v at generation %d; clusters %v; aggregated %+v", fa, rb.Generation, rb.Spec.Clusters, rb.Status.AggregatedStatus)
			if fa == nil || fa.Status != metav1.ConditionFalse || fa.Reason != workv1alpha1.BindingReasonFullyAppliedFailed || fa.ObservedGeneration != rb.Generation {
				return false, why
			}
			if len(rb.Spec.Clusters) != 1 || rb.Spec.Clusters[0].Replicas != replicas {
				return false, why
			}
			if len(rb.Status.AggregatedStatus) != 1 || rb.Status.AggregatedStatus[0].ClusterName != "status-ghost" || rb.Status.AggregatedStatus[0].Applied {
				return false, why
			}
			return true, ""
		})
		got := waitTemplateStatus(t, rt.Name, kstatus.InProgressStatus, workv1alpha1.TemplateConditionReconciling, workv1alpha1.TemplateReasonProgressing)
		eventually(t, "template cluster summary", func(ctx context.Context) (bool, string) {
			cur, err := getTemplate(ctx, rt.Name)
			if err != nil {
				return false, err.Error()
			}
			got = cur
			cs := cur.Status.Clusters
			if len(cs) != 1 || cs[0].Name != "status-ghost" || cs[0].Applied || cs[0].AssignedReplicas == nil || *cs[0].AssignedReplicas != replicas {
				return false, fmt.Sprintf("clusters %+v", cs)
			}
			return true, ""
		})
		if meta.IsStatusConditionTrue(got.Status.Conditions, workv1alpha1.TemplateConditionReady) ||
			meta.IsStatusConditionTrue(got.Status.Conditions, workv1alpha1.TemplateConditionStalled) {
			t.Errorf("conditions %+v, want Ready False and not Stalled", got.Status.Conditions)
		}
	}
	check(2)

	// The Work the binding controller renders for the cluster is reported
	// by the execution controller (unreachable); its Applied message
	// reaches the binding and the template.
	eventually(t, "the Work's Applied message in the binding and the template", func(ctx context.Context) (bool, string) {
		w := &workv1alpha1.Work{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: workv1alpha1.ExecutionNamespacePrefix + "status-ghost", Name: rt.Name}, w); err != nil {
			return false, "Work: " + err.Error()
		}
		c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		if c == nil || c.Status == metav1.ConditionTrue || c.Message == "" {
			return false, fmt.Sprintf("Work Applied %+v", c)
		}
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		cur, err := getTemplate(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		items, cs := rb.Status.AggregatedStatus, cur.Status.Clusters
		if len(items) != 1 || !strings.Contains(items[0].AppliedMessage, c.Message) || len(cs) != 1 || !strings.Contains(cs[0].AppliedMessage, c.Message) {
			return false, fmt.Sprintf("Work says %q; binding %+v; template %+v", c.Message, items, cs)
		}
		return true, ""
	})

	// Scale: a new generation of the template is reported at once.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rt), rt); err != nil {
		t.Fatal(err)
	}
	scaled := deploymentTemplate(t, "status-ghost", 3)
	before := rt.DeepCopy()
	rt.Spec.Template = scaled.Spec.Template
	if err := k8sClient.Patch(ctx, rt, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	check(3)
}
