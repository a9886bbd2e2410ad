package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

// offlineClusters registers Clusters (with labels, when given) whose
// credentials do not exist and waits until the cluster controller marks them
// failed: Ready=False, so the not-ready taint with both effects and
// timeAdded. Their capacity is unknown (unlimited), which lets a test steer
// placement with tolerations, weights and labels alone; healthTolerations
// keep the taint manager from evicting from them.
func offlineClusters(t *testing.T, labels map[string]string, names ...string) {
	t.Helper()
	for _, n := range names {
		create(t, &clusterv1alpha1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: n, Labels: labels},
			Spec: clusterv1alpha1.ClusterSpec{
				SyncMode: clusterv1alpha1.Push, APIEndpoint: "https://127.0.0.1:1",
				SecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: mgrOptions.SystemNamespace, Name: n + "-kubeconfig"},
			},
		})
	}
	for _, n := range names {
		eventually(t, "the not-ready taints on "+n, func(ctx context.Context) (bool, string) {
			var cl clusterv1alpha1.Cluster
			if err := k8sClient.Get(ctx, client.ObjectKey{Name: n}, &cl); err != nil {
				return false, err.Error()
			}
			for _, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
				if !slices.ContainsFunc(cl.Spec.Taints, func(t corev1.Taint) bool {
					return t.Key == clusterv1alpha1.TaintClusterNotReady && t.Effect == effect && t.TimeAdded != nil
				}) {
					return false, fmt.Sprintf("taints %+v", cl.Spec.Taints)
				}
			}
			return true, ""
		})
	}
}

// schedulingClusters registers offline Clusters without labels.
func schedulingClusters(t *testing.T, names ...string) { t.Helper(); offlineClusters(t, nil, names...) }

// healthTolerations tolerate the health taints of offline clusters with
// every effect and for ever: no eviction interferes with a test.
func healthTolerations() []corev1.Toleration {
	return []corev1.Toleration{
		{Key: clusterv1alpha1.TaintClusterUnreachable, Operator: corev1.TolerationOpExists},
		{Key: clusterv1alpha1.TaintClusterNotReady, Operator: corev1.TolerationOpExists},
	}
}

func deploymentTemplate(t *testing.T, name string, replicas int) *workv1alpha1.ResourceTemplate {
	t.Helper()
	return deploymentTemplateIn(t, "default", name, replicas)
}

// deploymentTemplateIn is the template of an nginx Deployment ns/name.
func deploymentTemplateIn(t *testing.T, ns, name string, replicas int) *workv1alpha1.ResourceTemplate {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": "nginx"}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: templateNS, Name: template.Name("apps", "Deployment", ns, name)},
		Spec:       workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: raw}},
	}
}

func weightedPolicy(name, deployment string, tolerate bool, weights map[string]int64) *policyv1alpha1.PropagationPolicy {
	pp := &policyv1alpha1.PropagationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: policyv1alpha1.PropagationSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: deployment}},
		},
	}
	var names []string
	var list []policyv1alpha1.StaticClusterWeight
	for c, w := range weights {
		names = append(names, c)
		list = append(list, policyv1alpha1.StaticClusterWeight{TargetCluster: policyv1alpha1.ClusterAffinity{ClusterNames: []string{c}}, Weight: w})
	}
	slices.Sort(names)
	pp.Spec.Placement.ClusterAffinity = &policyv1alpha1.ClusterAffinity{ClusterNames: names}
	pp.Spec.Placement.ReplicaScheduling = &policyv1alpha1.ReplicaSchedulingStrategy{
		ReplicaSchedulingType:     policyv1alpha1.ReplicaSchedulingTypeDivided,
		ReplicaDivisionPreference: policyv1alpha1.ReplicaDivisionPreferenceWeighted,
		WeightPreference:          &policyv1alpha1.ClusterPreferences{StaticWeightList: list},
	}
	if tolerate {
		// Both effects, for ever: the taint manager leaves the binding there.
		pp.Spec.Placement.ClusterTolerations = []corev1.Toleration{{Key: clusterv1alpha1.TaintClusterNotReady, Operator: corev1.TolerationOpExists}}
	}
	return pp
}

// waitBindingCondition waits until the binding's Scheduled condition, for
// its current generation, satisfies ok.
func waitBindingCondition(t *testing.T, name string, ok func(*workv1alpha1.ResourceBinding, *metav1.Condition) bool) *workv1alpha1.ResourceBinding {
	t.Helper()
	var rb workv1alpha1.ResourceBinding
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: "argosy-templates", Name: name}, &rb); err != nil {
			last = err.Error()
			return false, nil
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		if c == nil || c.ObservedGeneration != rb.Generation {
			last = fmt.Sprintf("condition %+v at generation %d", c, rb.Generation)
			return false, nil
		}
		last = fmt.Sprintf("%s %s: %s; clusters %v", c.Status, c.Reason, c.Message, rb.Spec.Clusters)
		return ok(&rb, c), nil
	})
	if err != nil {
		t.Fatalf("binding %s: %s", name, last)
	}
	return &rb
}

func placement(rb *workv1alpha1.ResourceBinding) string {
	parts := make([]string, 0, len(rb.Spec.Clusters))
	for _, tc := range rb.Spec.Clusters {
		parts = append(parts, fmt.Sprintf("%s:%d", tc.Name, tc.Replicas))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// TestSchedulerPlacesWithWeightsAndFollowsScale: static weights 1:3 place
// 4 replicas as 1:3, the Scheduled condition and schedulerObservedGeneration
// follow, and scaling the template to 8 gives 2:6.
func TestSchedulerPlacesWithWeightsAndFollowsScale(t *testing.T) {
	ctx := context.Background()
	schedulingClusters(t, "sched-a", "sched-b")
	rt := deploymentTemplate(t, "weighted", 4)
	pp := weightedPolicy("weighted", "weighted", true, map[string]int64{"sched-a": 1, "sched-b": 3})
	for _, o := range []client.Object{rt, pp} {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), o) })
	}
	scheduledAs := func(want string) func(*workv1alpha1.ResourceBinding, *metav1.Condition) bool {
		return func(rb *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
			return c.Status == metav1.ConditionTrue && c.Reason == workv1alpha1.BindingReasonSuccess &&
				rb.Status.SchedulerObservedGeneration == rb.Generation && placement(rb) == want
		}
	}
	rb := waitBindingCondition(t, rt.Name, scheduledAs("sched-a:1,sched-b:3"))
	if rb.Status.LastScheduledTime == nil {
		t.Error("lastScheduledTime not set")
	}

	scaled := deploymentTemplate(t, "weighted", 8)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rt), rt); err != nil {
		t.Fatal(err)
	}
	// A merge patch of the spec: the detector and the status controller
	// write the template's status meanwhile, and an Update would conflict.
	before := rt.DeepCopy()
	rt.Spec.Template = scaled.Spec.Template
	if err := k8sClient.Patch(ctx, rt, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	waitBindingCondition(t, rt.Name, scheduledAs("sched-a:2,sched-b:6"))
}

// TestSchedulerReportsNoClusterFit: without a toleration for the
// not-ready taint no cluster fits, and the condition says which clusters
// were filtered out and why, with no placement written.
func TestSchedulerReportsNoClusterFit(t *testing.T) {
	ctx := context.Background()
	schedulingClusters(t, "nofit-a", "nofit-b")
	rt := deploymentTemplate(t, "nofit", 2)
	pp := weightedPolicy("nofit", "nofit", false, map[string]int64{"nofit-a": 1, "nofit-b": 1})
	for _, o := range []client.Object{rt, pp} {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), o) })
	}
	rb := waitBindingCondition(t, rt.Name, func(_ *workv1alpha1.ResourceBinding, c *metav1.Condition) bool {
		return c.Status == metav1.ConditionFalse && c.Reason == workv1alpha1.BindingReasonNoClusterFit
	})
	c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	for _, want := range []string{"nofit-a", "nofit-b", clusterv1alpha1.TaintClusterNotReady} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("message %q does not mention %q", c.Message, want)
		}
	}
	if len(rb.Spec.Clusters) != 0 {
		t.Errorf("an unschedulable binding got clusters %v", rb.Spec.Clusters)
	}
}
