package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
	"argosy.dev/argosy/test/install"
)

const templateNamespace = "argosy-templates"

// TestSeed000DynamicWeight: Deployment foo, 3 replicas of 10m CPU, divided
// by available replicas over members with room for 2 (member1: two nodes
// with room for one each) and 1 (member2) gives {member1:2, member2:1}, and
// the template's one success event (Ready) names that placement.
func TestSeed000DynamicWeight(t *testing.T) {
	applySeed(t, "000-workload-rebalancer/01-deployment-and-policy.yaml")
	rb := waitScheduled(t, "deployment-default-foo-8d3d19e8")
	expectPlacement(t, rb, map[string]int32{"member1": 2, "member2": 1})
	waitEvent(t, "deployment-default-foo-8d3d19e8", workv1alpha1.EventReasonAggregateStatusSucceed, "Propagated to {member1:2, member2:1}")
}

// TestClusterAffinitiesFallThrough: the first group (member2, room for one
// replica) cannot hold three replicas, so the scheduler falls through to
// the second group (both members) and records which group it used.
func TestClusterAffinitiesFallThrough(t *testing.T) {
	applyYAML(t, `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: spill, namespace: default}
    spec:
      replicas: 3
      selector: {matchLabels: {app: spill}}
      template:
        metadata: {labels: {app: spill}}
        spec:
          containers:
          - name: app
            image: nginx
            resources: {requests: {cpu: 10m}}
---
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: spill, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment, name: spill}]
  placement:
    clusterAffinities:
    - affinityName: primary
      clusterNames: [member2]
    - affinityName: backup
      clusterNames: [member1, member2]
    replicaScheduling:
      replicaSchedulingType: Divided
      replicaDivisionPreference: Weighted
      weightPreference: {dynamicWeight: AvailableReplicas}
`)
	rb := waitScheduled(t, "deployment-default-spill-"+nameHash(t, "spill"))
	if rb.Status.SchedulerObservedAffinityName != "backup" {
		t.Errorf("scheduled with affinity group %q, want backup", rb.Status.SchedulerObservedAffinityName)
	}
	expectPlacement(t, rb, map[string]int32{"member1": 2, "member2": 1})
}

// nameHash returns the hash part of a default Deployment's template name.
func nameHash(t *testing.T, name string) string {
	t.Helper()
	full := template.Name("apps", "Deployment", "default", name)
	return full[strings.LastIndex(full, "-")+1:]
}

func applySeed(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(repoRoot, "config", "samples", "seeds", f))
		if err != nil {
			t.Fatal(err)
		}
		applyYAML(t, string(data))
	}
}

// applyYAML server-side applies each object and deletes it when the test
// ends, waiting until it is gone so the next test starts from a clean host.
func applyYAML(t *testing.T, doc string) {
	t.Helper()
	objs, err := install.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, o := range objs {
		if o.GetKind() == "ResourceTemplate" && o.GetName() == "" {
			o.SetName(wrappedName(t, o))
		}
		if err := hostClient.Patch(ctx, o, client.Apply, client.FieldOwner("e2e"), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		t.Cleanup(func() { deleteAndWait(t, o) })
	}
}

func wrappedName(t *testing.T, rt *unstructured.Unstructured) string {
	t.Helper()
	obj, _, _ := unstructured.NestedMap(rt.Object, "spec", "template")
	w := &unstructured.Unstructured{Object: obj}
	gv := w.GroupVersionKind()
	return template.Name(gv.Group, gv.Kind, w.GetNamespace(), w.GetName())
}

func deleteAndWait(t *testing.T, o *unstructured.Unstructured) {
	ctx := context.Background()
	if err := hostClient.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting %s %s: %v", o.GetKind(), o.GetName(), err)
		return
	}
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := hostClient.Get(ctx, client.ObjectKeyFromObject(o), o.DeepCopy())
		return apierrors.IsNotFound(err), nil
	})
	if o.GetKind() == "ResourceTemplate" {
		// The binding goes with its template (owner reference, host garbage collector).
		_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: o.GetName()}, &workv1alpha1.ResourceBinding{})
			return apierrors.IsNotFound(err), nil
		})
	}
}

// waitScheduled waits for the binding of a template to be Scheduled=True
// for its current generation.
func waitScheduled(t *testing.T, name string) *workv1alpha1.ResourceBinding {
	t.Helper()
	var rb workv1alpha1.ResourceBinding
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: templateNamespace, Name: name}, &rb); err != nil {
			last = err.Error()
			return false, nil
		}
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		if c == nil {
			last = "no Scheduled condition"
			return false, nil
		}
		last = fmt.Sprintf("Scheduled=%s %s: %s (observed %d of %d)", c.Status, c.Reason, c.Message, c.ObservedGeneration, rb.Generation)
		return c.Status == metav1.ConditionTrue && c.ObservedGeneration == rb.Generation, nil
	})
	if err != nil {
		t.Fatalf("binding %s/%s not scheduled: %s", templateNamespace, name, last)
	}
	return &rb
}

func expectPlacement(t *testing.T, rb *workv1alpha1.ResourceBinding, want map[string]int32) {
	t.Helper()
	got := map[string]int32{}
	for _, tc := range rb.Spec.Clusters {
		got[tc.Name] = tc.Replicas
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("binding %s placed %v, want %v", rb.Name, got, want)
	}
}

func waitEvent(t *testing.T, template, reason, contains string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var events corev1.EventList
		if err := hostClient.List(ctx, &events, client.InNamespace(templateNamespace)); err != nil {
			return false, nil
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == template && e.Reason == reason && strings.Contains(e.Message, contains) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("no %s event containing %q on template %s", reason, contains, template)
	}
}
