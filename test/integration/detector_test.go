package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/controllers/detector"
	"argosy.dev/argosy/test/apimetrics"
	"argosy.dev/argosy/test/paths"
)

const templateNS = "argosy-templates"

// eventually polls cond until it holds or 30 s pass; the failure names what
// was awaited and the last reason cond gave.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, why := cond(ctx)
		last = why
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %s", what, last)
	}
}

// consistently checks that cond keeps holding for d.
func consistently(t *testing.T, what string, d time.Duration, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	ctx := context.Background()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ok, why := cond(ctx); !ok {
			t.Fatalf("%s no longer holds: %s", what, why)
		}
	}
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if err := ensureNamespace(context.Background(), name); err != nil {
		t.Fatal(err)
	}
}

// create creates obj and deletes it (and, for a template, the binding the
// missing garbage collector of envtest would leave) at the end of the test.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(ctx, obj)
		if _, ok := obj.(*workv1alpha1.ResourceTemplate); ok {
			rb := &workv1alpha1.ResourceBinding{}
			rb.Name, rb.Namespace = obj.GetName(), obj.GetNamespace()
			_ = k8sClient.Delete(ctx, rb)
		}
	})
}

func getTemplate(ctx context.Context, name string) (*workv1alpha1.ResourceTemplate, error) {
	rt := &workv1alpha1.ResourceTemplate{}
	return rt, k8sClient.Get(ctx, client.ObjectKey{Namespace: templateNS, Name: name}, rt)
}

func getBinding(ctx context.Context, name string) (*workv1alpha1.ResourceBinding, error) {
	rb := &workv1alpha1.ResourceBinding{}
	return rb, k8sClient.Get(ctx, client.ObjectKey{Namespace: templateNS, Name: name}, rb)
}

func refOf(kind, ns, name string) workv1alpha1.PolicyReference {
	return workv1alpha1.PolicyReference{Kind: kind, Namespace: ns, Name: name}
}

// claimedBy waits until the template's status.policy is want (nil: no
// claim) and, for a claim, its binding carries the policy's labels.
func claimedBy(t *testing.T, rtName string, want *workv1alpha1.PolicyReference) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s claimed by %v", rtName, want), func(ctx context.Context) (bool, string) {
		rt, err := getTemplate(ctx, rtName)
		if err != nil {
			return false, err.Error()
		}
		if !equality.Semantic.DeepEqual(rt.Status.Policy, want) {
			return false, fmt.Sprintf("status.policy is %v", rt.Status.Policy)
		}
		if want == nil {
			return true, ""
		}
		rb, err := getBinding(ctx, rtName)
		if err != nil {
			return false, err.Error()
		}
		if rb.Labels[detector.LabelPolicyKind] != want.Kind || rb.Labels[detector.LabelPolicyName] != want.Name ||
			rb.Labels[detector.LabelPolicyNamespace] != want.Namespace {
			return false, fmt.Sprintf("binding labels %v", rb.Labels)
		}
		return true, ""
	})
}

// hasEvent waits for an event on the template with the reason and a note
// containing text.
func hasEvent(t *testing.T, rtName, reason, text string) {
	t.Helper()
	eventually(t, fmt.Sprintf("event %s %q on %s", reason, text, rtName), func(ctx context.Context) (bool, string) {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(templateNS)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != rtName {
				continue
			}
			seen = append(seen, e.Reason+": "+e.Note)
			if e.Reason == reason && strings.Contains(e.Note, text) && e.ReportingController == detector.ControllerName {
				return true, ""
			}
		}
		return false, fmt.Sprintf("events: %v", seen)
	})
}

func deployment(name, ns string, replicas int64) map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app": name}},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec": map[string]any{
					"nodeSelector": map[string]any{"disk": "ssd"},
					"containers": []any{
						map[string]any{"name": "app", "image": "nginx", "resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}}},
						// Limits only: the request defaults to the limit.
						map[string]any{"name": "sidecar", "image": "busybox", "resources": map[string]any{"limits": map[string]any{"cpu": "200m"}}},
					},
				},
			},
		},
	}
}

func propagationPolicy(name, ns string, selectors ...policyv1alpha1.ResourceSelector) *policyv1alpha1.PropagationPolicy {
	p := &policyv1alpha1.PropagationPolicy{}
	p.Name, p.Namespace = name, ns
	p.Spec.ResourceSelectors = selectors
	p.Spec.Placement.ClusterAffinity = &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}}
	return p
}

// simulateScheduler writes spec.clusters as the scheduler would: server-side
// apply with a field manager of its own.
func simulateScheduler(t *testing.T, name string, clusters []workv1alpha1.TargetCluster) {
	t.Helper()
	var list []any
	for _, c := range clusters {
		list = append(list, map[string]any{"name": c.Name, "replicas": int64(c.Replicas)})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": workv1alpha1.GroupVersion.String(), "kind": workv1alpha1.KindResourceBinding,
		"metadata": map[string]any{"name": name, "namespace": templateNS},
		"spec":     map[string]any{"clusters": list},
	}}
	if err := k8sClient.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("test-scheduler"), client.ForceOwnership); err != nil {
		t.Fatalf("writing spec.clusters of %s: %v", name, err)
	}
}

// TestDetectorDeploymentBinding: a Deployment template and a
// PropagationPolicy give a claim, an event, and a binding with the replicas,
// per-replica requirements and the policy's settings; the binding follows
// template changes, leaves the scheduler's field alone and is not rewritten
// in a steady state.
func TestDetectorDeploymentBinding(t *testing.T) {
	ctx := context.Background()
	ns := "detector-basic"
	createNamespace(t, ns)

	pp := propagationPolicy("web", ns, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"})
	pp.Spec.ConflictResolution = policyv1alpha1.ConflictOverwrite
	pp.Spec.PreserveResourcesOnDeletion = ptr.To(true)
	pp.Spec.Suspension = &policyv1alpha1.Suspension{DispatchingOnClusters: &policyv1alpha1.SuspendClusters{ClusterNames: []string{"member9"}}}
	pp.Spec.Placement.ReplicaScheduling = &policyv1alpha1.ReplicaSchedulingStrategy{
		ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDivided, ReplicaDivisionPreference: policyv1alpha1.ReplicaDivisionPreferenceWeighted}
	create(t, pp)
	rt := wrap(t, "", templateNS, deployment("web", ns, 3))
	create(t, rt)

	want := refOf(policyv1alpha1.KindPropagationPolicy, ns, "web")
	// A first claim records no event (the template's Ready event reports
	// success); the claim is in status.policy.
	claimedBy(t, rt.Name, &want)

	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pp), pp); err != nil {
		t.Fatal(err)
	}
	rb, err := getBinding(ctx, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rt), rt); err != nil {
		t.Fatal(err)
	}
	owner := rb.OwnerReferences
	if len(owner) != 1 || owner[0].UID != rt.UID || owner[0].Kind != "ResourceTemplate" || !ptr.Deref(owner[0].Controller, false) || !ptr.Deref(owner[0].BlockOwnerDeletion, false) {
		t.Errorf("owner references %+v, want the template as controller with blockOwnerDeletion", owner)
	}
	res := rb.Spec.Resource
	if res.APIVersion != "apps/v1" || res.Kind != "Deployment" || res.Namespace != ns || res.Name != "web" || res.UID != rt.UID || res.ResourceVersion == "" {
		t.Errorf("spec.resource %+v", res)
	}
	if rb.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", rb.Spec.Replicas)
	}
	req := rb.Spec.ReplicaRequirements
	if req == nil || req.Namespace != ns || req.NodeClaim == nil || req.NodeClaim.NodeSelector["disk"] != "ssd" {
		t.Fatalf("replicaRequirements %+v", req)
	}
	if cpu := req.ResourceRequest.Cpu(); cpu.Cmp(resource.MustParse("300m")) != 0 {
		t.Errorf("cpu request %v, want 300m (100m requested + 200m limit)", cpu)
	}
	if mem := req.ResourceRequest.Memory(); mem.Cmp(resource.MustParse("128Mi")) != 0 {
		t.Errorf("memory request %v, want 128Mi", mem)
	}
	if !equality.Semantic.DeepEqual(rb.Spec.Placement, &pp.Spec.Placement) {
		t.Errorf("placement %+v, want the policy's %+v", rb.Spec.Placement, pp.Spec.Placement)
	}
	if rb.Spec.ConflictResolution != policyv1alpha1.ConflictOverwrite || rb.Spec.SchedulerName != policyv1alpha1.DefaultSchedulerName ||
		!ptr.Deref(rb.Spec.PreserveResourcesOnDeletion, false) || rb.Spec.PropagateDeps {
		t.Errorf("policy settings not copied: %+v", rb.Spec)
	}
	if s := rb.Spec.Suspension; s == nil || s.DispatchingOnClusters == nil || len(s.DispatchingOnClusters.ClusterNames) != 1 {
		t.Errorf("suspension %+v", s)
	}

	// The scheduler's field survives the detector's writes, and the detector
	// never claims it.
	simulateScheduler(t, rt.Name, []workv1alpha1.TargetCluster{{Name: "member1", Replicas: 3}})
	// The status controller writes the template's status meanwhile: retry
	// on conflicts.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rt), rt); err != nil {
			return err
		}
		rt.Spec.Template = wrap(t, "", "", deployment("web", ns, 5)).Spec.Template
		return k8sClient.Update(ctx, rt)
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replicas 5", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		if rb.Spec.Replicas != 5 {
			return false, fmt.Sprintf("replicas %d", rb.Spec.Replicas)
		}
		if rb.Spec.Resource.ResourceVersion == res.ResourceVersion {
			return false, "resourceVersion not refreshed"
		}
		return true, ""
	})
	rb, _ = getBinding(ctx, rt.Name)
	if len(rb.Spec.Clusters) != 1 || rb.Spec.Clusters[0].Name != "member1" {
		t.Errorf("spec.clusters %+v, want the scheduler's", rb.Spec.Clusters)
	}
	for _, mf := range rb.ManagedFields {
		if mf.Manager == detector.FieldManager && mf.FieldsV1 != nil {
			for _, f := range []string{"f:clusters", "f:gracefulEvictionTasks", "f:rescheduleTriggeredAt"} {
				if strings.Contains(string(mf.FieldsV1.Raw), f) {
					t.Errorf("%s owns %s", detector.FieldManager, f)
				}
			}
		}
	}

	// Steady state: no writes to the binding or the template. Both are
	// compared by what the detector writes (the binding's spec, hence
	// generation, and metadata; the template's status.policy): the
	// scheduler and the status controller running in this manager write
	// their own status fields.
	stable := detectorView(rb)
	rt, _ = getTemplate(ctx, rt.Name)
	stableRT := claimView(rt)
	consistently(t, "steady state", 2*time.Second, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		cur, err := getTemplate(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		if detectorView(rb) != stable || claimView(cur) != stableRT {
			return false, fmt.Sprintf("rewritten: binding %s→%s, template %s→%s", stable, detectorView(rb), stableRT, claimView(cur))
		}
		return true, ""
	})

	// A status write to the template (as the status controller makes)
	// changes its resourceVersion but not the binding.
	before := rt.DeepCopy()
	rt.Status.ObservedGeneration = rt.Generation + 100
	if err := k8sClient.Status().Patch(ctx, rt, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	consistently(t, "binding unchanged by a template status write", time.Second, func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return detectorView(rb) == stable, "binding rewritten"
	})

	// A deleted binding is recreated.
	if err := k8sClient.Delete(ctx, rb); err != nil {
		t.Fatal(err)
	}
	eventually(t, "binding recreated", func(ctx context.Context) (bool, string) {
		got, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return got.UID != rb.UID && got.Spec.Replicas == 5, "not yet"
	})
}

// seed002 reads the wrapped Deployment and Service and the two policies of
// seed 002 (config/samples/seeds/002-migration), moved to namespace ns.
func seed002(t *testing.T, ns string) (templates []*workv1alpha1.ResourceTemplate, migrate, nginx *policyv1alpha1.PropagationPolicy) {
	t.Helper()
	dir, err := paths.Join("config", "samples", "seeds", "002-migration")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range readObjects(t, dir+"/01-deployments-and-services.yaml") {
		wrapped, _, _ := unstructured.NestedMap(u.Object, "spec", "template")
		_ = unstructured.SetNestedField(wrapped, ns, "metadata", "namespace")
		templates = append(templates, wrap(t, "", templateNS, wrapped))
	}
	policy := func(file string) *policyv1alpha1.PropagationPolicy {
		objs := readObjects(t, dir+"/"+file)
		raw, err := json.Marshal(objs[0].Object)
		if err != nil {
			t.Fatal(err)
		}
		p := &policyv1alpha1.PropagationPolicy{}
		if err := json.Unmarshal(raw, p); err != nil {
			t.Fatal(err)
		}
		p.Namespace = ns
		return p
	}
	return templates, policy("02-migrate-pp.yaml"), policy("03-nginx-pp.yaml")
}

// TestDetectorSeed002Preemption replays seed 002: migrate-pp (priority 0)
// claims the Deployment and the Service; nginx-pp (priority 10) takes them
// only once its preemption is Always; deleting nginx-pp gives them back to
// migrate-pp; deleting migrate-pp too leaves them unclaimed with their
// bindings kept, as Karmada does.
func TestDetectorSeed002Preemption(t *testing.T) {
	ctx := context.Background()
	ns := "detector-migration"
	createNamespace(t, ns)
	templates, migrate, nginx := seed002(t, ns)
	for _, rt := range templates {
		create(t, rt)
	}
	create(t, migrate)
	migrateRef := refOf(policyv1alpha1.KindPropagationPolicy, ns, "migrate-pp")
	nginxRef := refOf(policyv1alpha1.KindPropagationPolicy, ns, "nginx-pp")
	for _, rt := range templates {
		claimedBy(t, rt.Name, &migrateRef)
	}
	deploy := templates[0].Name
	rb, err := getBinding(ctx, deploy)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Spec.Replicas != 2 || rb.Spec.ConflictResolution != policyv1alpha1.ConflictOverwrite ||
		!equality.Semantic.DeepEqual(rb.Spec.Placement.ClusterAffinity.ClusterNames, []string{"member1"}) {
		t.Errorf("migrate-pp binding %+v", rb.Spec)
	}

	// Without preemption the higher priority does not take claimed objects.
	nginx.Spec.Preemption = policyv1alpha1.PreemptNever
	create(t, nginx)
	consistently(t, "migrate-pp keeps its claims", 2*time.Second, func(ctx context.Context) (bool, string) {
		for _, rt := range templates {
			got, err := getTemplate(ctx, rt.Name)
			if err != nil {
				return false, err.Error()
			}
			if got.Status.Policy == nil || *got.Status.Policy != migrateRef {
				return false, fmt.Sprintf("%s claimed by %v", rt.Name, got.Status.Policy)
			}
		}
		return true, ""
	})

	// preemption: Always, as in the seed.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(nginx), nginx); err != nil {
		t.Fatal(err)
	}
	nginx.Spec.Preemption = policyv1alpha1.PreemptAlways
	if err := k8sClient.Update(ctx, nginx); err != nil {
		t.Fatal(err)
	}
	for _, rt := range templates {
		claimedBy(t, rt.Name, &nginxRef)
		hasEvent(t, rt.Name, detector.EventReasonPreemptPolicySucceed,
			fmt.Sprintf("Policy(%s/nginx-pp) preempted policy(%s/migrate-pp)", ns, ns))
	}
	eventually(t, "nginx-pp placement on the binding", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, deploy)
		if err != nil {
			return false, err.Error()
		}
		names := rb.Spec.Placement.ClusterAffinity.ClusterNames
		return equality.Semantic.DeepEqual(names, []string{"member1", "member2"}), fmt.Sprintf("clusterNames %v", names)
	})

	// Deleting the claiming policy re-evaluates: migrate-pp still matches.
	if err := k8sClient.Delete(ctx, nginx); err != nil {
		t.Fatal(err)
	}
	for _, rt := range templates {
		claimedBy(t, rt.Name, &migrateRef)
	}
	eventually(t, "migrate-pp placement back on the binding", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, deploy)
		if err != nil {
			return false, err.Error()
		}
		names := rb.Spec.Placement.ClusterAffinity.ClusterNames
		return equality.Semantic.DeepEqual(names, []string{"member1"}), fmt.Sprintf("clusterNames %v", names)
	})

	// Nothing matches any more: unclaimed, binding kept without policy labels.
	if err := k8sClient.Delete(ctx, migrate); err != nil {
		t.Fatal(err)
	}
	for _, rt := range templates {
		claimedBy(t, rt.Name, nil)
		eventually(t, "policy labels removed from "+rt.Name, func(ctx context.Context) (bool, string) {
			rb, err := getBinding(ctx, rt.Name)
			if err != nil {
				return false, "binding deleted: " + err.Error()
			}
			_, labelled := rb.Labels[detector.LabelPolicyName]
			return !labelled && rb.Spec.Placement != nil, fmt.Sprintf("labels %v", rb.Labels)
		})
	}
}

// TestDetectorClusterPolicyForCRD: a ClusterPropagationPolicy claims a
// wrapped (cluster-scoped) CustomResourceDefinition.
func TestDetectorClusterPolicyForCRD(t *testing.T) {
	ctx := context.Background()
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.detector.argosy.test"},
		"spec": map[string]any{
			"group": "detector.argosy.test", "scope": "Namespaced",
			"names":    map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true, "schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}
	rt := wrap(t, "", templateNS, crd)
	create(t, rt)
	cpp := &policyv1alpha1.ClusterPropagationPolicy{}
	cpp.Name = "detector-widgets-crd"
	cpp.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Name: "widgets.detector.argosy.test"}}
	cpp.Spec.Placement.ClusterAffinity = &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1", "member2"}}
	create(t, cpp)

	want := refOf(policyv1alpha1.KindClusterPropagationPolicy, "", cpp.Name)
	claimedBy(t, rt.Name, &want)
	rb, err := getBinding(ctx, rt.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rb.Labels[detector.LabelPolicyNamespace]; ok {
		t.Errorf("a ClusterPropagationPolicy claim has a namespace label: %v", rb.Labels)
	}
	if r := rb.Spec.Resource; r.Kind != "CustomResourceDefinition" || r.Namespace != "" || r.Name != "widgets.detector.argosy.test" {
		t.Errorf("spec.resource %+v", r)
	}
	if rb.Spec.Replicas != 0 || rb.Spec.ReplicaRequirements != nil {
		t.Errorf("a CRD has no replicas: %d %+v", rb.Spec.Replicas, rb.Spec.ReplicaRequirements)
	}
}

// TestDetectorPropagateDeps: with propagateDeps the ConfigMap a Deployment
// mounts gets a binding of its own (its template created after the
// workload's), required by the Deployment's binding and following its
// clusters; without propagateDeps it is removed again.
func TestDetectorPropagateDeps(t *testing.T) {
	ctx := context.Background()
	ns := "detector-deps"
	createNamespace(t, ns)
	d := deployment("app", ns, 2)
	podSpec, _, _ := unstructured.NestedMap(d, "spec", "template", "spec")
	podSpec["volumes"] = []any{map[string]any{"name": "config", "configMap": map[string]any{"name": "app-config"}}}
	podSpec["imagePullSecrets"] = []any{map[string]any{"name": "no-template-for-this"}}
	_ = unstructured.SetNestedMap(d, podSpec, "spec", "template", "spec")
	deploy := wrap(t, "", templateNS, d)
	create(t, deploy)
	pp := propagationPolicy("app", ns, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "app"})
	pp.Spec.PropagateDeps = true
	create(t, pp)
	want := refOf(policyv1alpha1.KindPropagationPolicy, ns, "app")
	claimedBy(t, deploy.Name, &want)

	cm := wrap(t, "", templateNS, configMap("app-config", ns))
	create(t, cm)
	requiredBy := func(clusters []workv1alpha1.TargetCluster) func(ctx context.Context) (bool, string) {
		return func(ctx context.Context) (bool, string) {
			rb, err := getBinding(ctx, cm.Name)
			if err != nil {
				return false, err.Error()
			}
			want := []workv1alpha1.BindingSnapshot{{Namespace: templateNS, Name: deploy.Name, Clusters: clusters}}
			if !equality.Semantic.DeepEqual(rb.Spec.RequiredBy, want) {
				return false, fmt.Sprintf("requiredBy %+v", rb.Spec.RequiredBy)
			}
			if rb.Spec.Placement != nil || len(rb.Labels) != 0 {
				return false, fmt.Sprintf("a dependency binding with placement %v, labels %v", rb.Spec.Placement, rb.Labels)
			}
			if owner := rb.OwnerReferences; len(owner) != 1 || owner[0].Name != cm.Name {
				return false, fmt.Sprintf("owners %+v", owner)
			}
			if r := rb.Spec.Resource; r.Kind != "ConfigMap" || r.Name != "app-config" || r.Namespace != ns {
				return false, fmt.Sprintf("spec.resource %+v", r)
			}
			return true, ""
		}
	}
	eventually(t, "the ConfigMap's binding required by the Deployment's", requiredBy(nil))
	if rt, err := getTemplate(ctx, cm.Name); err != nil || rt.Status.Policy != nil {
		t.Errorf("the dependency is claimed by %v (%v)", rt.Status.Policy, err)
	}

	simulateScheduler(t, deploy.Name, []workv1alpha1.TargetCluster{{Name: "member1", Replicas: 1}, {Name: "member2", Replicas: 1}})
	eventually(t, "requiredBy following the Deployment's clusters",
		requiredBy([]workv1alpha1.TargetCluster{{Name: "member1", Replicas: 1}, {Name: "member2", Replicas: 1}}))

	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pp), pp); err != nil {
		t.Fatal(err)
	}
	pp.Spec.PropagateDeps = false
	if err := k8sClient.Update(ctx, pp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the dependency binding deleted", func(ctx context.Context) (bool, string) {
		_, err := getBinding(ctx, cm.Name)
		return apierrors.IsNotFound(err), fmt.Sprintf("get: %v", err)
	})
	rb, err := getBinding(ctx, deploy.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Spec.PropagateDeps || rb.Annotations[detector.AnnotationDependencies] != "" {
		t.Errorf("propagateDeps off but the binding still has %v, %q", rb.Spec.PropagateDeps, rb.Annotations[detector.AnnotationDependencies])
	}
}

// requestCount sums the host apiserver's apiserver_request_total for a verb
// on a resource (and subresource).
func requestCount(t *testing.T, verb, resource, subresource string) float64 {
	t.Helper()
	n, err := apimetrics.Requests(context.Background(), cfg, resource, subresource, verb)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDetectorWritesOncePerObject: many templates claimed at once cost one
// write of each template (its status.policy) and one of each binding, and
// nothing more once settled.
func TestDetectorWritesOncePerObject(t *testing.T) {
	ctx := context.Background()
	ns := "detector-burst"
	createNamespace(t, ns)
	create(t, propagationPolicy("all", ns, policyv1alpha1.ResourceSelector{APIVersion: "v1", Kind: "ConfigMap"}))
	const n = 200
	bindingsBefore := requestCount(t, "APPLY", "resourcebindings", "")
	claimsBefore := requestCount(t, "APPLY", "resourcetemplates", "status")
	var names []string
	for i := range n {
		rt := wrap(t, "", templateNS, configMap(fmt.Sprintf("cm-%03d", i), ns))
		create(t, rt)
		names = append(names, rt.Name)
	}
	eventually(t, "every template bound", func(ctx context.Context) (bool, string) {
		var list workv1alpha1.ResourceBindingList
		if err := k8sClient.List(ctx, &list, client.InNamespace(templateNS), client.MatchingLabels{detector.LabelPolicyName: "all", detector.LabelPolicyNamespace: ns}); err != nil {
			return false, err.Error()
		}
		return len(list.Items) == n, fmt.Sprintf("%d of %d bindings", len(list.Items), n)
	})
	time.Sleep(2 * time.Second) // settle: anything more would show now
	bindings := requestCount(t, "APPLY", "resourcebindings", "") - bindingsBefore
	statuses := requestCount(t, "APPLY", "resourcetemplates", "status") - claimsBefore
	t.Logf("%d templates: %v binding applies, %v template status applies", n, bindings, statuses)
	// The detector applies each binding once and each template's
	// status.policy once; the status controller, in the same manager,
	// applies the rest of the template's status on the way (waiting for the
	// claim, then the scheduling outcome, sometimes a step in between
	// depending on which event it sees first): at most three more.
	if bindings != n || statuses < n || statuses > 4*n {
		t.Errorf("%v binding writes and %v template status writes for %d templates, want %d and %d to %d", bindings, statuses, n, n, n, 4*n)
	}
	settled := requestCount(t, "APPLY", "resourcetemplates", "status")
	time.Sleep(2 * time.Second)
	if more := requestCount(t, "APPLY", "resourcetemplates", "status") - settled; more != 0 {
		t.Errorf("%v template status writes after settling, want none", more)
	}
	for _, name := range names[:5] {
		rb, err := getBinding(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if rb.Generation != 1 {
			t.Errorf("binding %s at generation %d, want 1", name, rb.Generation)
		}
	}
}

// TestDetectorSchedulePriority: the binding's schedulePriority is the value
// of the PriorityClass the policy names; a missing PriorityClass is
// reported on the template.
func TestDetectorSchedulePriority(t *testing.T) {
	ctx := context.Background()
	ns := "detector-priority"
	createNamespace(t, ns)
	pc := &schedulingv1.PriorityClass{Value: 1000}
	pc.Name = "detector-high"
	create(t, pc)

	rt := wrap(t, "", templateNS, deployment("prio", ns, 1))
	create(t, rt)
	missing := wrap(t, "", templateNS, deployment("missing", ns, 1))
	create(t, missing)
	pp := propagationPolicy("prio", ns, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "prio"})
	pp.Spec.SchedulePriority = &policyv1alpha1.SchedulePriority{PriorityClassSource: policyv1alpha1.KubePriorityClass, PriorityClassName: pc.Name}
	create(t, pp)
	bad := propagationPolicy("missing", ns, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "missing"})
	bad.Spec.SchedulePriority = &policyv1alpha1.SchedulePriority{PriorityClassSource: policyv1alpha1.KubePriorityClass, PriorityClassName: "detector-no-such-class"}
	create(t, bad)

	eventually(t, "schedulePriority from the PriorityClass", func(ctx context.Context) (bool, string) {
		rb, err := getBinding(ctx, rt.Name)
		if err != nil {
			return false, err.Error()
		}
		return rb.Spec.SchedulePriority != nil && rb.Spec.SchedulePriority.Priority == 1000, fmt.Sprintf("schedulePriority %+v", rb.Spec.SchedulePriority)
	})
	hasEvent(t, missing.Name, detector.EventReasonApplyPolicyFailed, "detector-no-such-class")
	if _, err := getBinding(ctx, missing.Name); !apierrors.IsNotFound(err) {
		t.Errorf("a binding without its PriorityClass: %v", err)
	}
}

// detectorView is what the detector writes of a binding: its spec (through
// the generation) and its labels and annotations.
// claimView is what the detector writes to a template.
func claimView(rt *workv1alpha1.ResourceTemplate) string { return fmt.Sprint(rt.Status.Policy) }

func detectorView(rb *workv1alpha1.ResourceBinding) string {
	return fmt.Sprintf("gen=%d labels=%v annotations=%v", rb.Generation, rb.Labels, rb.Annotations)
}
