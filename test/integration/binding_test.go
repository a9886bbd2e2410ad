package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	bindingctrl "argosy.dev/argosy/controllers/binding"
)

// testSchedulerName keeps the manager's scheduler away from the bindings of
// these tests: they place bindings with simulateScheduler.
const testSchedulerName = "binding-test-scheduler"

// placedDeployment creates a Deployment template in namespace ns and a
// PropagationPolicy claiming it for the test scheduler, and returns the
// template once its binding exists.
func placedDeployment(t *testing.T, ns, name string, replicas int64, tweak func(*policyv1alpha1.PropagationPolicy)) *workv1alpha1.ResourceTemplate {
	t.Helper()
	pp := propagationPolicy(name, ns, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: name})
	pp.Spec.SchedulerName = testSchedulerName
	if tweak != nil {
		tweak(pp)
	}
	create(t, pp)
	rt := wrap(t, "", templateNS, deployment(name, ns, replicas))
	create(t, rt)
	eventually(t, "the binding of "+rt.Name, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return rb.Spec.SchedulerName == testSchedulerName, "schedulerName " + rb.Spec.SchedulerName
	})
	return rt
}

// labelledClusters registers offline Clusters with labels (for override
// rules that select by label).
func labelledClusters(t *testing.T, labels map[string]map[string]string) {
	t.Helper()
	for name, l := range labels {
		offlineClusters(t, l, name)
	}
}

func getWork(ctx context.Context, cluster, name string) (*workv1alpha1.Work, error) {
	w := &workv1alpha1.Work{}
	return w, k8sClient.Get(ctx, client.ObjectKey{Namespace: workv1alpha1.ExecutionNamespacePrefix + cluster, Name: name}, w)
}

// manifestOf decodes the only manifest of w.
func manifestOf(w *workv1alpha1.Work) (*unstructured.Unstructured, error) {
	if n := len(w.Spec.Workload.Manifests); n != 1 {
		return nil, fmt.Errorf("%d manifests", n)
	}
	u := &unstructured.Unstructured{}
	return u, u.UnmarshalJSON(w.Spec.Workload.Manifests[0].Raw)
}

// waitWork waits until the Work of name in cluster exists and ok holds for
// it and its manifest (nil when it has none), and returns it.
func waitWork(t *testing.T, cluster, name, what string, ok func(w *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string)) *workv1alpha1.Work {
	t.Helper()
	var w *workv1alpha1.Work
	eventually(t, fmt.Sprintf("Work of %s in %s: %s", name, cluster, what), func(ctx context.Context) (bool, string) {
		var err error
		if w, err = getWork(ctx, cluster, name); err != nil {
			return false, err.Error()
		}
		var m *unstructured.Unstructured
		if len(w.Spec.Workload.Manifests) > 0 {
			if m, err = manifestOf(w); err != nil {
				return false, err.Error()
			}
		}
		return ok(w, m)
	})
	return w
}

// workGone waits until the Work of name in cluster is deleted or being
// deleted (the execution controller's finalizer may hold it).
func workGone(t *testing.T, cluster, name string) {
	t.Helper()
	eventually(t, fmt.Sprintf("Work of %s in %s deleted", name, cluster), func(ctx context.Context) (bool, string) {
		w, err := getWork(ctx, cluster, name)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return !w.DeletionTimestamp.IsZero(), "still there, not being deleted"
	})
}

func replicasOf(m *unstructured.Unstructured) int64 {
	n, _, _ := unstructured.NestedInt64(m.Object, "spec", "replicas")
	return n
}

func imagesOf(m *unstructured.Unstructured) []string {
	containers, _, _ := unstructured.NestedSlice(m.Object, "spec", "template", "spec", "containers")
	var out []string
	for _, c := range containers {
		img, _, _ := unstructured.NestedString(c.(map[string]any), "image")
		out = append(out, img)
	}
	return out
}

// hasBindingEvent waits for an event of the binding controller on the
// template with the reason and a note containing every text.
func hasBindingEvent(t *testing.T, rtName, reason string, texts ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("event %s %q on %s", reason, texts, rtName), func(ctx context.Context) (bool, string) {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(templateNS)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != rtName || e.Regarding.Kind != workv1alpha1.KindResourceTemplate || e.ReportingController != bindingctrl.ControllerName {
				continue
			}
			seen = append(seen, e.Reason+": "+e.Note)
			if e.Reason == reason && !slices.ContainsFunc(texts, func(s string) bool { return !strings.Contains(e.Note, s) }) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("events: %v", seen)
	})
}

func setTemplateImage(t *testing.T, rtName, image string) {
	t.Helper()
	ctx := context.Background()
	rt, err := getTemplate(ctx, rtName)
	if err != nil {
		t.Fatal(err)
	}
	before := rt.DeepCopy()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(rt.Spec.Template.Raw); err != nil {
		t.Fatal(err)
	}
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["image"] = image
	_ = unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
	if rt.Spec.Template.Raw, err = json.Marshal(u.Object); err != nil {
		t.Fatal(err)
	}
	// A merge patch: the controllers write the template's status meanwhile.
	if err := k8sClient.Patch(ctx, rt, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}

// TestBindingWorksPerCluster: a Deployment placed {c1:1, c2:3} gives one
// Work per cluster with that cluster's replicas, the binding's settings and
// the managed marks (in execution namespaces the controller creates); the
// binding gets the finalizer and status.observedGeneration (no success
// event: the template's Ready event reports success). A cluster leaving
// the placement loses its Work; a cluster under a graceful eviction keeps
// its Work untouched.
func TestBindingWorksPerCluster(t *testing.T) {
	ctx := context.Background()
	ns := "binding-static"
	createNamespace(t, ns)
	// Offline Clusters: the graceful eviction controller ends the tasks of
	// clusters that do not exist, and this test keeps one.
	c1, c2 := "bind-static-1", "bind-static-2"
	schedulingClusters(t, c1, c2)
	rt := placedDeployment(t, ns, "web", 4, func(pp *policyv1alpha1.PropagationPolicy) {
		pp.Spec.ConflictResolution = policyv1alpha1.ConflictOverwrite
		pp.Spec.PreserveResourcesOnDeletion = ptr.To(true)
		pp.Spec.Suspension = &policyv1alpha1.Suspension{DispatchingOnClusters: &policyv1alpha1.SuspendClusters{ClusterNames: []string{c2}}}
	})
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: c1, Replicas: 1}, {Name: c2, Replicas: 3}})

	rb, err := getBinding(ctx, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	for cluster, replicas := range map[string]int64{c1: 1, c2: 3} {
		w := waitWork(t, cluster, rt.Name, fmt.Sprintf("%d replicas", replicas), func(w *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
			if m == nil || replicasOf(m) != replicas {
				return false, fmt.Sprintf("manifests %d", len(w.Spec.Workload.Manifests))
			}
			return true, ""
		})
		m, _ := manifestOf(w)
		wantAnnotations := map[string]string{
			workv1alpha1.AnnotationBinding:            templateNS + "/" + rt.Name,
			workv1alpha1.AnnotationConflictResolution: "Overwrite",
		}
		for k, v := range wantAnnotations {
			if w.Annotations[k] != v {
				t.Errorf("%s: annotation %s = %q, want %q", cluster, k, w.Annotations[k], v)
			}
		}
		if _, ok := w.Annotations[workv1alpha1.AnnotationRenderError]; ok {
			t.Errorf("%s: render error %q", cluster, w.Annotations[workv1alpha1.AnnotationRenderError])
		}
		if !ptr.Deref(w.Spec.PreserveResourcesOnDeletion, false) {
			t.Errorf("%s: preserveResourcesOnDeletion not set", cluster)
		}
		if got, want := ptr.Deref(w.Spec.SuspendDispatching, false), cluster == c2; got != want {
			t.Errorf("%s: suspendDispatching %v, want %v", cluster, got, want)
		}
		if m.GetName() != "web" || m.GetNamespace() != ns || m.GetKind() != "Deployment" {
			t.Errorf("%s: manifest identity %s %s/%s", cluster, m.GetKind(), m.GetNamespace(), m.GetName())
		}
		if m.GetLabels()[workv1alpha1.LabelManaged] != "true" || m.GetLabels()["app"] != "web" {
			t.Errorf("%s: manifest labels %v", cluster, m.GetLabels())
		}
		if got, want := m.GetAnnotations()[workv1alpha1.AnnotationWork], w.Namespace+"/"+w.Name; got != want {
			t.Errorf("%s: manifest annotation %s = %q, want %q", cluster, workv1alpha1.AnnotationWork, got, want)
		}
		if m.GetUID() != "" || m.GetResourceVersion() != "" || m.GetGeneration() != 0 || len(m.GetOwnerReferences()) != 0 {
			t.Errorf("%s: server-set metadata in the manifest: %v", cluster, m.Object["metadata"])
		}
		if _, ok := m.Object["status"]; ok {
			t.Errorf("%s: status in the manifest", cluster)
		}
		var wns corev1.Namespace
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: w.Namespace}, &wns); err != nil {
			t.Errorf("execution namespace: %v", err)
		}
	}
	eventually(t, "finalizer and observedGeneration on the binding", func(ctx context.Context) (bool, string) {
		rb, err = getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return slices.Contains(rb.Finalizers, workv1alpha1.BindingFinalizer) && rb.Status.ObservedGeneration == rb.Generation,
			fmt.Sprintf("finalizers %v, observedGeneration %d of %d", rb.Finalizers, rb.Status.ObservedGeneration, rb.Generation)
	})
	w1, _ := getWork(ctx, c1, rt.Name)
	if got := w1.Annotations[workv1alpha1.AnnotationBindingGeneration]; got != strconv.FormatInt(rb.Generation, 10) {
		t.Errorf("binding generation annotation %s, want %d", got, rb.Generation)
	}

	// c2 leaves the placement: its Work goes.
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: c1, Replicas: 4}})
	workGone(t, c2, rt.Name)
	waitWork(t, c1, rt.Name, "4 replicas", func(w *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		return m != nil && replicasOf(m) == 4, "not yet"
	})

	// c1 moves to a graceful eviction (taken out of the placement in the
	// same write, as the taint manager does): its Work stays as it is, even
	// when the template changes.
	before, err := getWork(ctx, c1, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	evict := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(), "kind": workv1alpha1.KindResourceBinding,
		"metadata": map[string]any{"name": rt.Name, "namespace": templateNS},
		"spec": map[string]any{"clusters": []any{}, "gracefulEvictionTasks": []any{map[string]any{
			"fromCluster": c1, "reason": workv1alpha1.EvictionReasonTaintUntolerated, "producer": workv1alpha1.EvictionProducerTaintManager}}},
	}}
	if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(evict), client.FieldOwner("test-scheduler"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	setTemplateImage(t, rt.Name, "nginx:1.27")
	eventually(t, "the binding processed", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return len(rb.Spec.Clusters) == 0 && rb.Status.ObservedGeneration == rb.Generation, fmt.Sprintf("clusters %v, observed %d of %d",
			rb.Spec.Clusters, rb.Status.ObservedGeneration, rb.Generation)
	})
	consistently(t, "the evicted cluster's Work untouched", time.Second, func(ctx context.Context) (bool, string) {
		w, err := getWork(ctx, c1, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return w.DeletionTimestamp.IsZero() && w.Generation == before.Generation && equality.Semantic.DeepEqual(w.Annotations, before.Annotations),
			fmt.Sprintf("generation %d→%d, annotations %v", before.Generation, w.Generation, w.Annotations)
	})

	// The eviction is over: the Work goes.
	done := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(), "kind": workv1alpha1.KindResourceBinding,
		"metadata": map[string]any{"name": rt.Name, "namespace": templateNS},
		"spec":     map[string]any{"clusters": []any{}, "gracefulEvictionTasks": []any{}},
	}}
	if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(done), client.FieldOwner("test-scheduler"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	workGone(t, c1, rt.Name)
}

// TestBindingOverridesByCluster: an OverridePolicy rule targeting a cluster
// by name (image tag, plaintext replace) applies only there, one targeting
// clusters by label only to those; editing the policy and relabelling a
// Cluster re-render the Works.
func TestBindingOverridesByCluster(t *testing.T) {
	ctx := context.Background()
	ns := "binding-overrides"
	createNamespace(t, ns)
	a, b := "bind-ov-a", "bind-ov-b"
	labelledClusters(t, map[string]map[string]string{a: {"env": "prod"}, b: {"env": "test"}})
	rt := placedDeployment(t, ns, "web", 4, nil)
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: a, Replicas: 2}, {Name: b, Replicas: 2}})

	op := &policyv1alpha1.OverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}}
	op.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}}
	op.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{
		{
			TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{a}},
			Overriders: policyv1alpha1.Overriders{
				ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: policyv1alpha1.Tag, Operator: "replace", Value: "1.26"}},
				Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/template/spec/nodeSelector/disk", Operator: "replace",
					Value: apiextensionsJSON(`"hdd"`)}},
			},
		},
		{
			TargetCluster: &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "test"}}},
			Overriders: policyv1alpha1.Overriders{
				AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"tier": "test"}}},
			},
		},
	}
	create(t, op)

	nodeSelector := func(m *unstructured.Unstructured) string {
		s, _, _ := unstructured.NestedString(m.Object, "spec", "template", "spec", "nodeSelector", "disk")
		return s
	}
	waitWork(t, a, rt.Name, "the rule by name", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		if m == nil {
			return false, "no manifest"
		}
		imgs, disk, tier := imagesOf(m), nodeSelector(m), m.GetAnnotations()["tier"]
		return slices.Equal(imgs, []string{"nginx:1.26", "busybox:1.26"}) && disk == "hdd" && tier == "" && replicasOf(m) == 2,
			fmt.Sprintf("images %v, disk %q, tier %q", imgs, disk, tier)
	})
	waitWork(t, b, rt.Name, "the rule by label", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		if m == nil {
			return false, "no manifest"
		}
		imgs, disk, tier := imagesOf(m), nodeSelector(m), m.GetAnnotations()["tier"]
		return slices.Equal(imgs, []string{"nginx", "busybox"}) && disk == "ssd" && tier == "test",
			fmt.Sprintf("images %v, disk %q, tier %q", imgs, disk, tier)
	})

	// Editing the policy re-renders.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(op), op); err != nil {
		t.Fatal(err)
	}
	op.Spec.OverrideRules[0].Overriders.ImageOverrider[0].Value = "1.27"
	if err := k8sClient.Update(ctx, op); err != nil {
		t.Fatal(err)
	}
	waitWork(t, a, rt.Name, "the edited tag", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		imgs := imagesOf(m)
		return slices.Equal(imgs, []string{"nginx:1.27", "busybox:1.27"}), fmt.Sprintf("images %v", imgs)
	})

	// Relabelling a Cluster re-renders its Work.
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"env":"prod"}}}`))
	if err := k8sClient.Patch(ctx, &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: b}}, patch); err != nil {
		t.Fatal(err)
	}
	waitWork(t, b, rt.Name, "no label rule after relabelling", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		tier, ok := m.GetAnnotations()["tier"]
		return !ok, fmt.Sprintf("tier %q", tier)
	})
}

func apiextensionsJSON(s string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(s)} }

// TestBindingOverrideOrder: a ClusterOverridePolicy applies before an
// OverridePolicy, so the OverridePolicy wins where both set a field.
func TestBindingOverrideOrder(t *testing.T) {
	ns := "binding-order"
	createNamespace(t, ns)
	c := "bind-order-1"
	rt := placedDeployment(t, ns, "web", 1, nil)
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: c, Replicas: 1}})
	selector := []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"}}
	overriders := func(who string) policyv1alpha1.Overriders {
		return policyv1alpha1.Overriders{
			ImageOverrider:       []policyv1alpha1.ImageOverrider{{Component: policyv1alpha1.Tag, Operator: "replace", Value: who}},
			AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"winner": who, who: "applied"}}},
		}
	}
	cop := &policyv1alpha1.ClusterOverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "binding-order-cop"}}
	cop.Spec.ResourceSelectors = selector
	cop.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{{Overriders: overriders("cop")}}
	op := &policyv1alpha1.OverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "order-op", Namespace: ns}}
	op.Spec.ResourceSelectors = selector
	op.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{{Overriders: overriders("op")}}
	create(t, op)
	create(t, cop)
	waitWork(t, c, rt.Name, "both policies, the OverridePolicy last", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		if m == nil {
			return false, "no manifest"
		}
		an := m.GetAnnotations()
		imgs := imagesOf(m)
		return an["cop"] == "applied" && an["op"] == "applied" && an["winner"] == "op" && slices.Equal(imgs, []string{"nginx:op", "busybox:op"}),
			fmt.Sprintf("annotations %v, images %v", an, imgs)
	})
}

// TestBindingRenderError: an override that cannot apply (remove of a
// missing path) puts a render error naming the policy, the rule and the
// path on the Work, reported in an event; the Work keeps its last good
// manifest (a new Work has none); fixing the policy renders again.
func TestBindingRenderError(t *testing.T) {
	ctx := context.Background()
	ns := "binding-error"
	createNamespace(t, ns)
	c1, c2 := "bind-err-1", "bind-err-2"
	rt := placedDeployment(t, ns, "web", 2, nil)
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: c1, Replicas: 2}})
	good := waitWork(t, c1, rt.Name, "a manifest", func(_ *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		return m != nil, "no manifest"
	})

	op := &policyv1alpha1.OverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: ns}}
	op.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{
		{Overriders: policyv1alpha1.Overriders{LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"ok": "yes"}}}}},
		{Overriders: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/doesNotExist", Operator: "remove"}}}},
	}
	create(t, op)
	wantError := fmt.Sprintf("OverridePolicy %s/broken rule 1: plaintext remove /spec/doesNotExist: path not found", ns)
	renderError := func(w *workv1alpha1.Work) string { return w.Annotations[workv1alpha1.AnnotationRenderError] }
	w := waitWork(t, c1, rt.Name, "the render error", func(w *workv1alpha1.Work, _ *unstructured.Unstructured) (bool, string) {
		return strings.Contains(renderError(w), wantError), fmt.Sprintf("render error %q", renderError(w))
	})
	if !equality.Semantic.DeepEqual(w.Spec.Workload, good.Spec.Workload) {
		t.Errorf("the manifest changed with the render error:\n%s\nwas\n%s", w.Spec.Workload.Manifests[0].Raw, good.Spec.Workload.Manifests[0].Raw)
	}
	hasBindingEvent(t, rt.Name, workv1alpha1.EventReasonSyncWorkFailed, c1, wantError)

	// Later changes do not reach the Work either; a new cluster gets a Work
	// without manifests.
	setTemplateImage(t, rt.Name, "nginx:1.27")
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: c1, Replicas: 1}, {Name: c2, Replicas: 1}})
	waitWork(t, c2, rt.Name, "a render error and no manifest", func(w *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
		return strings.Contains(renderError(w), wantError) && m == nil, fmt.Sprintf("render error %q, %d manifests", renderError(w), len(w.Spec.Workload.Manifests))
	})
	eventually(t, "the binding processed", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return rb.Status.ObservedGeneration == rb.Generation, fmt.Sprintf("observed %d of %d", rb.Status.ObservedGeneration, rb.Generation)
	})
	if w, err := getWork(ctx, c1, rt.Name); err != nil || !equality.Semantic.DeepEqual(w.Spec.Workload, good.Spec.Workload) ||
		w.Annotations[workv1alpha1.AnnotationBindingGeneration] != good.Annotations[workv1alpha1.AnnotationBindingGeneration] {
		t.Errorf("the Work with a render error changed (%v): generation %s, was %s", err,
			w.Annotations[workv1alpha1.AnnotationBindingGeneration], good.Annotations[workv1alpha1.AnnotationBindingGeneration])
	}

	// Fixing the policy renders the current template everywhere.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(op), op); err != nil {
		t.Fatal(err)
	}
	op.Spec.OverrideRules = op.Spec.OverrideRules[:1]
	if err := k8sClient.Update(ctx, op); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{c1, c2} {
		waitWork(t, c, rt.Name, "rendered again", func(w *workv1alpha1.Work, m *unstructured.Unstructured) (bool, string) {
			if m == nil {
				return false, "no manifest"
			}
			_, failed := w.Annotations[workv1alpha1.AnnotationRenderError]
			imgs := imagesOf(m)
			return !failed && imgs[0] == "nginx:1.27" && m.GetLabels()["ok"] == "yes" && replicasOf(m) == 1,
				fmt.Sprintf("render error %v, images %v, labels %v", failed, imgs, m.GetLabels())
		})
	}
}

// TestBindingDeletion: deleting the template (and, as the garbage
// collector would, its binding) deletes every Work, and the binding's
// finalizer holds the binding until the Works are gone. A finalizer of the
// test's own on the Works stands for the execution controller's, which
// waits for the member objects to be deleted.
func TestBindingDeletion(t *testing.T) {
	ctx := context.Background()
	ns := "binding-deletion"
	createNamespace(t, ns)
	clusters := []string{"bind-del-1", "bind-del-2"} // no Cluster objects: nothing to clean in members
	rt := placedDeployment(t, ns, "web", 2, nil)
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: clusters[0], Replicas: 1}, {Name: clusters[1], Replicas: 1}})
	const hold = "binding-test.argosy.dev/hold"
	holdWork := func(cluster string, finalizers []any) error {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": workv1alpha1.GroupVersion.String(), "kind": workv1alpha1.KindWork,
			"metadata": map[string]any{"name": rt.Name, "namespace": workv1alpha1.ExecutionNamespacePrefix + cluster, "finalizers": finalizers},
		}}
		return k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("binding-test-hold"))
	}
	for _, c := range clusters {
		waitWork(t, c, rt.Name, "created", func(*workv1alpha1.Work, *unstructured.Unstructured) (bool, string) { return true, "" })
		if err := holdWork(c, []any{hold}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the binding finalizer", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return slices.Contains(rb.Finalizers, workv1alpha1.BindingFinalizer), fmt.Sprintf("finalizers %v", rb.Finalizers)
	})

	if err := k8sClient.Delete(ctx, rt); err != nil {
		t.Fatal(err)
	}
	// envtest runs no garbage collector: delete the binding as it would.
	rb := &workv1alpha1.ResourceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: templateNS, Name: rt.Name}}
	if err := k8sClient.Delete(ctx, rb, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	for _, c := range clusters {
		workGone(t, c, rt.Name)
	}
	consistently(t, "the binding held while its Works remain", time.Second, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return !rb.DeletionTimestamp.IsZero() && slices.Contains(rb.Finalizers, workv1alpha1.BindingFinalizer), fmt.Sprintf("finalizers %v", rb.Finalizers)
	})

	for _, c := range clusters {
		if err := holdWork(c, []any{}); err != nil {
			t.Fatal(err)
		}
	}
	var lastSeen []string
	err := waitFor(ctx, 90*time.Second, func(ctx context.Context) (bool, error) {
		lastSeen = nil
		for _, c := range clusters {
			if _, err := getWork(ctx, c, rt.Name); err == nil {
				lastSeen = append(lastSeen, c)
			} else if !apierrors.IsNotFound(err) {
				return false, err
			}
		}
		_, err := getBinding(ctx, rt.Name)
		if apierrors.IsNotFound(err) {
			if len(lastSeen) > 0 {
				return false, fmt.Errorf("the binding is gone while the Works of %v remain", lastSeen)
			}
			return true, nil
		}
		return false, client.IgnoreNotFound(err)
	})
	if err != nil {
		t.Fatalf("waiting for the Works and the binding to go: %v (Works left: %v)", err, lastSeen)
	}
}

// waitFor polls cond every 100 ms until it holds, fails, or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		ok, err := cond(ctx)
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestBindingSteadyState: once their Works are rendered, bindings cost no
// more Work writes, and each Work's spec was written once.
func TestBindingSteadyState(t *testing.T) {
	ctx := context.Background()
	ns := "binding-steady"
	createNamespace(t, ns)
	const n = 20
	clusters := []workv1alpha1.TargetCluster{{Name: "bind-steady-1", Replicas: 1}, {Name: "bind-steady-2", Replicas: 2}}
	pp := propagationPolicy("all", ns, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment"})
	pp.Spec.SchedulerName = testSchedulerName
	create(t, pp)
	var names []string
	for i := range n {
		rt := wrap(t, "", templateNS, deployment(fmt.Sprintf("app-%02d", i), ns, 3))
		create(t, rt)
		names = append(names, rt.Name)
	}
	for _, name := range names {
		eventually(t, "the binding of "+name, func(ctx context.Context) (bool, string) {
			_, err := getBinding(ctx, name)
			return err == nil, fmt.Sprint(err)
		})
		simulateScheduler(t, name, clusters)
	}
	for _, name := range names {
		eventually(t, "the Works of "+name, func(ctx context.Context) (bool, string) {
			rb, err := getBinding(ctx, name)
			if err != nil {
				return false, err.Error()
			}
			if rb.Status.ObservedGeneration != rb.Generation {
				return false, fmt.Sprintf("observed %d of %d", rb.Status.ObservedGeneration, rb.Generation)
			}
			for _, c := range clusters {
				w, err := getWork(ctx, c.Name, name)
				if err != nil {
					return false, err.Error()
				}
				if w.Annotations[workv1alpha1.AnnotationBindingGeneration] != strconv.FormatInt(rb.Generation, 10) {
					return false, "generation annotation " + w.Annotations[workv1alpha1.AnnotationBindingGeneration]
				}
			}
			return true, ""
		})
	}
	// Writes of the execution controller (its finalizer) may still come in;
	// wait for a quiet moment.
	var writes float64
	err := waitFor(ctx, 20*time.Second, func(context.Context) (bool, error) {
		before := requestCount(t, "APPLY", "works", "")
		time.Sleep(2 * time.Second)
		writes = requestCount(t, "APPLY", "works", "") - before
		return writes == 0, nil
	})
	if err != nil {
		t.Fatalf("Works keep being written: %v applies in 2 s", writes)
	}
	// An OverridePolicy that selects the Deployments but none of their
	// clusters makes every binding render again, to the same Works: no
	// write.
	before := requestCount(t, "APPLY", "works", "")
	op := &policyv1alpha1.OverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: ns}}
	op.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment"}}
	op.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{{
		TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"bind-steady-elsewhere"}},
		Overriders:    policyv1alpha1.Overriders{AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"a": "b"}}}},
	}}
	create(t, op)
	time.Sleep(2 * time.Second)
	if writes := requestCount(t, "APPLY", "works", "") - before; writes != 0 {
		t.Errorf("%v Work writes after a policy change that changes no Work", writes)
	}
	for _, name := range names {
		for _, c := range clusters {
			w, err := getWork(ctx, c.Name, name)
			if err != nil {
				t.Fatal(err)
			}
			if w.Generation != 1 {
				t.Errorf("Work %s/%s at generation %d, want 1", w.Namespace, w.Name, w.Generation)
			}
		}
	}
}
