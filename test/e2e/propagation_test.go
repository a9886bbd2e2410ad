package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
	"argosy.dev/argosy/test/install"
)

// The tests of this file play the seed tutorials through the whole
// pipeline: template, binding, Works, member objects, and status back on
// the template.

// waitTemplate polls the template until ok says it is done, and fails the
// test with ok's last explanation otherwise.
func waitTemplate(t *testing.T, name string, timeout time.Duration, ok func(*workv1alpha1.ResourceTemplate) (bool, string)) *workv1alpha1.ResourceTemplate {
	t.Helper()
	var rt workv1alpha1.ResourceTemplate
	last := "not found"
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: name}, &rt); err != nil {
			last = err.Error()
			return false, nil
		}
		done, why := ok(&rt)
		last = why
		return done, nil
	})
	if err != nil {
		t.Fatalf("template %s: %s", name, last)
	}
	return &rt
}

// templateReady is done when the template is Ready for its generation.
func templateReady(rt *workv1alpha1.ResourceTemplate) (bool, string) {
	c := meta.FindStatusCondition(rt.Status.Conditions, workv1alpha1.TemplateConditionReady)
	if c == nil {
		return false, "no Ready condition; " + conditionsOf(rt.Status.Conditions)
	}
	ok := c.Status == metav1.ConditionTrue && c.ObservedGeneration == rt.Generation && rt.Status.ObservedGeneration == rt.Generation
	return ok, conditionsOf(rt.Status.Conditions)
}

// templateStalled is done when the template is Stalled with reason.
func templateStalled(reason string) func(*workv1alpha1.ResourceTemplate) (bool, string) {
	return func(rt *workv1alpha1.ResourceTemplate) (bool, string) {
		c := meta.FindStatusCondition(rt.Status.Conditions, workv1alpha1.TemplateConditionStalled)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason, conditionsOf(rt.Status.Conditions)
	}
}

func conditionsOf(cs []metav1.Condition) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s=%s %s: %s (gen %d); ", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration)
	}
	return b.String()
}

// aggregated decodes the template's aggregated status.
func aggregated(t *testing.T, rt *workv1alpha1.ResourceTemplate) map[string]any {
	t.Helper()
	if rt.Status.AggregatedStatus == nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(rt.Status.AggregatedStatus.Raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitBindingFullyApplied waits for FullyApplied=True for the binding's
// current generation.
func waitBindingFullyApplied(t *testing.T, name string, timeout time.Duration) *workv1alpha1.ResourceBinding {
	t.Helper()
	var rb workv1alpha1.ResourceBinding
	last := "not found"
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: name}, &rb); err != nil {
			last = err.Error()
			return false, nil
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionFullyApplied)
		last = conditionsOf(rb.Status.Conditions)
		return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == rb.Generation, nil
	})
	if err != nil {
		t.Fatalf("binding %s not FullyApplied: %s", name, last)
	}
	return &rb
}

// waitMember polls obj (namespace and name set) in a member until ok.
func waitMember(t *testing.T, cluster string, obj client.Object, timeout time.Duration, ok func() (bool, string)) {
	t.Helper()
	last := "not found"
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := exMemberOf(t, cluster).Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			last = err.Error()
			return false, nil
		}
		done, why := ok()
		last = why
		return done, nil
	})
	if err != nil {
		t.Fatalf("%s %s/%s in %s: %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), cluster, last)
	}
}

// waitMemberGone waits until obj no longer exists in the member.
func waitMemberGone(t *testing.T, cluster string, obj client.Object, timeout time.Duration) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		err := exMemberOf(t, cluster).Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("%s/%s still in %s", obj.GetNamespace(), obj.GetName(), cluster)
	}
}

func absentFromMember(t *testing.T, cluster string, obj client.Object) {
	t.Helper()
	err := exMemberOf(t, cluster).Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
	if !apierrors.IsNotFound(err) {
		t.Errorf("%s/%s in %s: want NotFound, got %v", obj.GetNamespace(), obj.GetName(), cluster, err)
	}
}

func deploymentKey(ns, name string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// TestSeed001NginxRunsInBothMembers: seed 001's nginx (2 replicas, static
// weights 1:1) runs one Ready pod in each member, the template reports 2/2
// ready and Ready, and deleting the template removes both Deployments.
func TestSeed001NginxRunsInBothMembers(t *testing.T) {
	applySeed(t, "001-getting-started/01-nginx-deployment.yaml", "001-getting-started/02-nginx-propagation.yaml")
	const name = "deployment-default-nginx-83094793"
	rb := waitScheduled(t, name)
	expectPlacement(t, rb, map[string]int32{"member1": 1, "member2": 1})
	for _, c := range []string{"member1", "member2"} {
		d := deploymentKey("default", "nginx")
		waitMember(t, c, d, 60*time.Second, func() (bool, string) {
			return d.Status.ReadyReplicas == 1 && ptrVal(d.Spec.Replicas) == 1,
				fmt.Sprintf("replicas %d, ready %d", ptrVal(d.Spec.Replicas), d.Status.ReadyReplicas)
		})
		if d.Labels[workv1alpha1.LabelManaged] != "true" {
			t.Errorf("nginx in %s is not labelled %s=true: %v", c, workv1alpha1.LabelManaged, d.Labels)
		}
	}
	waitBindingFullyApplied(t, name, 30*time.Second)
	rt := waitTemplate(t, name, 60*time.Second, templateReady)
	st := aggregated(t, rt)
	if fmt.Sprint(st["replicas"], "/", st["readyReplicas"]) != "2/2" {
		t.Errorf("template aggregated status %v, want replicas 2 and readyReplicas 2", st)
	}
	waitEvent(t, name, workv1alpha1.EventReasonAggregateStatusSucceed, "Propagated to {member1:1, member2:1}")

	// Deleting the template removes the Deployment from every member.
	deleteAndWait(t, templateObject(name))
	for _, c := range []string{"member1", "member2"} {
		waitMemberGone(t, c, deploymentKey("default", "nginx"), 60*time.Second)
	}
}

func ptrVal(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

func templateObject(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(workv1alpha1.GroupVersion.WithKind(workv1alpha1.KindResourceTemplate))
	u.SetNamespace(templateNamespace)
	u.SetName(name)
	return u
}

// TestSeed001GuestbookCRDAndOverride: the Guestbook CRD goes to member1 with
// a ClusterPropagationPolicy, then a Guestbook to member1 with an
// OverridePolicy that replaces /spec/size with 4 and adds an annotation;
// member2 has neither.
func TestSeed001GuestbookCRDAndOverride(t *testing.T) {
	applySeed(t,
		"001-getting-started/06-guestbook-crd.yaml",
		"001-getting-started/07-guestbook-crd-clusterpropagationpolicy.yaml",
		"001-getting-started/08-guestbook.yaml",
		"001-getting-started/09-guestbook-propagationpolicy.yaml",
		"001-getting-started/10-guestbook-overridepolicy.yaml",
	)
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	crd.SetName("guestbooks.webapp.my.domain")
	waitMember(t, "member1", crd, 60*time.Second, func() (bool, string) { return true, "" })

	gb := &unstructured.Unstructured{}
	gb.SetGroupVersionKind(schema.GroupVersionKind{Group: "webapp.my.domain", Version: "v1", Kind: "Guestbook"})
	gb.SetNamespace("default")
	gb.SetName("guestbook-sample")
	waitMember(t, "member1", gb, 90*time.Second, func() (bool, string) {
		size, _, _ := unstructured.NestedInt64(gb.Object, "spec", "size")
		ann := gb.GetAnnotations()["OverridePolicy"]
		return size == 4 && ann == "test", fmt.Sprintf("spec.size %d, annotation OverridePolicy=%q", size, ann)
	})
	waitBindingFullyApplied(t, "guestbook-default-guestbook-sample-96c052fb", 30*time.Second)
	crd2 := crd.DeepCopy()
	absentFromMember(t, "member2", crd2)

	// The template keeps size 2: the override is for member1 only.
	rt := waitTemplate(t, "guestbook-default-guestbook-sample-96c052fb", 10*time.Second, func(*workv1alpha1.ResourceTemplate) (bool, string) { return true, "" })
	if !strings.Contains(string(rt.Spec.Template.Raw), `"size":2`) {
		t.Errorf("template changed: %s", rt.Spec.Template.Raw)
	}
	// Deleting the template removes the custom resource before the CRD's
	// own template cleanup removes the CRD.
	deleteAndWait(t, templateObject("guestbook-default-guestbook-sample-96c052fb"))
	waitMemberGone(t, "member1", gb.DeepCopy(), 60*time.Second)
}

// TestSeed001ImageOverrideAddsRegistry: an OverridePolicy whose image
// overrider adds the registry test-repo rewrites myapp:1.0.0 to
// test-repo/myapp:1.0.0 in both members.
func TestSeed001ImageOverrideAddsRegistry(t *testing.T) {
	applySeed(t, "001-getting-started/11-myapp-deployment.yaml", "001-getting-started/12-myapp-image-overrider.yaml")
	for _, c := range []string{"member1", "member2"} {
		d := deploymentKey("default", "myapp")
		waitMember(t, c, d, 60*time.Second, func() (bool, string) {
			img := d.Spec.Template.Spec.Containers[0].Image
			return img == "test-repo/myapp:1.0.0", "image " + img
		})
	}
}

// TestSeed002AdoptionThenPreemption: nginx-deploy and nginx-svc already run
// in member1. Templates of the same objects with migrate-pp
// (conflictResolution: Overwrite) adopt them without recreating them (same
// UIDs) and the bindings are FullyApplied; nginx-pp, with a higher priority
// and preemption Always, then spreads them to member1 and member2.
func TestSeed002AdoptionThenPreemption(t *testing.T) {
	ctx := context.Background()
	m1 := exMemberOf(t, "member1")
	natives, err := readSeedObjects("002-migration/member1/01-deployments-and-services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for _, o := range natives {
		if err := m1.Create(ctx, o); err != nil {
			t.Fatalf("creating %s %s in member1: %v", o.GetKind(), o.GetName(), err)
		}
		uids[o.GetKind()] = string(o.GetUID())
		t.Cleanup(func() { _ = m1.Delete(context.Background(), o) })
	}
	applySeed(t, "002-migration/01-deployments-and-services.yaml", "002-migration/02-migrate-pp.yaml")
	const deploy, svc = "deployment-default-nginx-deploy-6e84a16a", "service-default-nginx-svc-720c7957"
	waitBindingFullyApplied(t, deploy, 60*time.Second)
	waitBindingFullyApplied(t, svc, 60*time.Second)
	for _, o := range natives {
		live := o.DeepCopy()
		if err := m1.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			t.Fatal(err)
		}
		if string(live.GetUID()) != uids[o.GetKind()] {
			t.Errorf("%s %s was recreated in member1: uid %s, was %s", o.GetKind(), o.GetName(), live.GetUID(), uids[o.GetKind()])
		}
		if live.GetLabels()[workv1alpha1.LabelManaged] != "true" {
			t.Errorf("%s %s in member1 not adopted: labels %v", o.GetKind(), o.GetName(), live.GetLabels())
		}
	}
	absentFromMember(t, "member2", deploymentKey("default", "nginx-deploy"))

	applySeed(t, "002-migration/03-nginx-pp.yaml")
	d := deploymentKey("default", "nginx-deploy")
	waitMember(t, "member2", d, 60*time.Second, func() (bool, string) {
		return d.Status.ReadyReplicas == 2, fmt.Sprintf("ready %d", d.Status.ReadyReplicas)
	})
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "nginx-svc"}}
	waitMember(t, "member2", s, 60*time.Second, func() (bool, string) { return true, "" })
	rb := waitBindingFullyApplied(t, deploy, 30*time.Second)
	if rb.Labels[workv1alpha1.LabelPolicyName] != "nginx-pp" {
		t.Errorf("nginx-deploy claimed by %q, want nginx-pp", rb.Labels[workv1alpha1.LabelPolicyName])
	}
	live := deploymentKey("default", "nginx-deploy")
	if err := m1.Get(ctx, client.ObjectKeyFromObject(live), live); err != nil || string(live.UID) != uids["Deployment"] {
		t.Errorf("nginx-deploy in member1 after preemption: uid %s (was %s), err %v", live.UID, uids["Deployment"], err)
	}
}

func readSeedObjects(file string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "config", "samples", "seeds", file))
	if err != nil {
		return nil, err
	}
	return install.Decode(data)
}

// TestAbortLeavesExistingObjectAndReportsConflict: with the default
// conflictResolution (Abort) an object that already exists in member1
// without Argosy's label is not touched; the template is Stalled with
// reason Conflict and says how to adopt it. Objects Argosy manages are
// put back when edited in a member.
func TestAbortLeavesExistingObjectAndReportsConflict(t *testing.T) {
	ctx := context.Background()
	m1 := exMemberOf(t, "member1")
	existing := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "e2e-abort"},
		Data:       map[string]string{"owner": "someone-else"},
	}
	if err := m1.Create(ctx, existing); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m1.Delete(context.Background(), existing) })
	applyYAML(t, `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: e2e-abort, namespace: default}
    data: {owner: argosy}
---
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: e2e-drift, namespace: default}
    data: {owner: argosy}
---
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: e2e-abort, namespace: default}
spec:
  resourceSelectors:
  - {apiVersion: v1, kind: ConfigMap, name: e2e-abort}
  - {apiVersion: v1, kind: ConfigMap, name: e2e-drift}
  placement:
    clusterAffinity: {clusterNames: [member1]}
`)
	abortName := wrappedNameOf("", "ConfigMap", "default", "e2e-abort")
	rt := waitTemplate(t, abortName, 60*time.Second, templateStalled(workv1alpha1.TemplateReasonConflict))
	c := meta.FindStatusCondition(rt.Status.Conditions, workv1alpha1.TemplateConditionStalled)
	if !strings.Contains(c.Message, "member1") || !strings.Contains(c.Message, "Overwrite") {
		t.Errorf("Stalled message %q should name member1 and say how to adopt (Overwrite)", c.Message)
	}
	live := &corev1.ConfigMap{}
	if err := m1.Get(ctx, client.ObjectKeyFromObject(existing), live); err != nil {
		t.Fatal(err)
	}
	if live.Data["owner"] != "someone-else" || live.Labels[workv1alpha1.LabelManaged] != "" {
		t.Errorf("pre-existing ConfigMap was touched: data %v labels %v", live.Data, live.Labels)
	}

	// Drift: a managed field edited in the member is put back.
	drift := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "e2e-drift"}}
	waitMember(t, "member1", drift, 60*time.Second, func() (bool, string) { return drift.Data["owner"] == "argosy", fmt.Sprint(drift.Data) })
	drift.Data["owner"] = "edited-in-member"
	if err := m1.Update(ctx, drift); err != nil {
		t.Fatal(err)
	}
	waitMember(t, "member1", drift, 30*time.Second, func() (bool, string) { return drift.Data["owner"] == "argosy", fmt.Sprint(drift.Data) })
}

// wrappedNameOf is the template name of a wrapped object.
func wrappedNameOf(group, kind, ns, name string) string { return template.Name(group, kind, ns, name) }
