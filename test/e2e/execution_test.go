package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/scheme"
	"argosy.dev/argosy/test/apimetrics"
)

// The tests of this file drive the execution controller alone: they create
// Works directly in argosy-es-member1 (argosy-es-member2 for the outage
// test), without the binding annotation, so the binding controller leaves
// them alone, and look at the member itself. Each test uses its own member
// namespace and its own Work names.

const exCluster = "member1"

var exWorkNamespace = workv1alpha1.ExecutionNamespacePrefix + exCluster

var (
	exClientsMu sync.Mutex
	exClients   = map[string]client.Client{}
)

// exMemberOf is a client of a member.
func exMemberOf(t *testing.T, cluster string) client.Client {
	t.Helper()
	exClientsMu.Lock()
	defer exClientsMu.Unlock()
	if c, ok := exClients[cluster]; ok {
		return c
	}
	c, err := client.New(testFleet.MemberConfig(cluster), client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	exClients[cluster] = c
	return c
}

// exMember is a client of member1.
func exMember(t *testing.T) client.Client { return exMemberOf(t, exCluster) }

// exNamespace names a member namespace for one test and deletes it from
// member1 when the test ends (after its Works are gone). The execution
// controller creates it.
func exNamespace(t *testing.T, name string) string { return exNamespaceIn(t, exCluster, name) }

func exNamespaceIn(t *testing.T, cluster, name string) string {
	t.Helper()
	t.Cleanup(func() {
		_ = exMemberOf(t, cluster).Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	return name
}

// exEnsureWorkNamespace creates argosy-es-member1 on the host if needed
// (the binding controller normally does); it is never deleted.
func exEnsureWorkNamespace(t *testing.T, ns string) {
	t.Helper()
	err := hostClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// exManifests turns YAML objects into Work manifests.
func exManifests(t *testing.T, docs ...string) []workv1alpha1.Manifest {
	t.Helper()
	out := make([]workv1alpha1.Manifest, len(docs))
	for i, d := range docs {
		j, err := yaml.YAMLToJSON([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: j}}
	}
	return out
}

// exCreateWork creates a Work in argosy-es-member1 and, when the test ends,
// deletes it and waits until it is gone (its finalizer released).
func exCreateWork(t *testing.T, name string, annotations map[string]string, spec workv1alpha1.WorkSpec) *workv1alpha1.Work {
	t.Helper()
	return exCreateWorkIn(t, exCluster, name, annotations, spec)
}

func exCreateWorkIn(t *testing.T, cluster, name string, annotations map[string]string, spec workv1alpha1.WorkSpec) *workv1alpha1.Work {
	t.Helper()
	ns := workv1alpha1.ExecutionNamespacePrefix + cluster
	exEnsureWorkNamespace(t, ns)
	w := &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec:       spec,
	}
	if err := hostClient.Create(context.Background(), w); err != nil {
		t.Fatalf("creating Work %s: %v", name, err)
	}
	t.Cleanup(func() { exDeleteWorkIn(t, cluster, name) })
	return w
}

// exDeleteWork deletes a Work and waits until the execution controller has
// released it.
func exDeleteWork(t *testing.T, name string) { exDeleteWorkIn(t, exCluster, name) }

func exDeleteWorkIn(t *testing.T, cluster, name string) {
	t.Helper()
	ctx := context.Background()
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespacePrefix + cluster, Name: name}}
	if err := hostClient.Delete(ctx, w); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting Work %s: %v", name, err)
		return
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(hostClient.Get(ctx, client.ObjectKeyFromObject(w), w)), nil
	})
	if err != nil {
		t.Errorf("Work %s not released within 30s (finalizers %v)", name, w.Finalizers)
	}
}

// exUpdateWork changes a Work, retrying on conflicts.
func exUpdateWork(t *testing.T, name string, change func(*workv1alpha1.Work)) {
	t.Helper()
	ctx := context.Background()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		w := &workv1alpha1.Work{}
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: exWorkNamespace, Name: name}, w); err != nil {
			return false, err
		}
		change(w)
		err := hostClient.Update(ctx, w)
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("updating Work %s: %v", name, err)
	}
}

// exWaitApplied waits until the Work's Applied condition, for its current
// generation, has the status and reason given, and returns the Work.
func exWaitApplied(t *testing.T, name string, status metav1.ConditionStatus, reason string, timeout time.Duration) *workv1alpha1.Work {
	t.Helper()
	return exWaitAppliedIn(t, exCluster, name, status, reason, timeout)
}

func exWaitAppliedIn(t *testing.T, cluster, name string, status metav1.ConditionStatus, reason string, timeout time.Duration) *workv1alpha1.Work {
	t.Helper()
	w := &workv1alpha1.Work{}
	eventually(t, timeout, fmt.Sprintf("Work %s in %s Applied=%s %s", name, cluster, status, reason), func(ctx context.Context) (bool, string) {
		if err := hostClient.Get(ctx, client.ObjectKey{Namespace: workv1alpha1.ExecutionNamespacePrefix + cluster, Name: name}, w); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		if c == nil {
			return false, "no Applied condition"
		}
		why := fmt.Sprintf("Applied=%s %s: %s (observed %d/%d, status observed %d)", c.Status, c.Reason, c.Message, c.ObservedGeneration, w.Generation, w.Status.ObservedGeneration)
		return c.Status == status && c.Reason == reason && c.ObservedGeneration == w.Generation && w.Status.ObservedGeneration == w.Generation, why
	})
	return w
}

func exApplied(w *workv1alpha1.Work) *metav1.Condition {
	return meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
}

// exGet reads obj (namespace and name set) from member1 until it exists and
// ok holds.
func exGet(t *testing.T, obj client.Object, timeout time.Duration, ok func() (bool, string)) {
	t.Helper()
	waitMember(t, exCluster, obj, timeout, ok)
}

func exGone(t *testing.T, obj client.Object, timeout time.Duration) {
	t.Helper()
	waitMemberGone(t, exCluster, obj, timeout)
}

func exManaged(o client.Object, work string) bool {
	return o.GetLabels()[workv1alpha1.LabelManaged] == "true" && o.GetAnnotations()[workv1alpha1.AnnotationWork] == exWorkNamespace+"/"+work
}

func exConfigMap(ns, name, data string) string {
	return fmt.Sprintf(`{apiVersion: v1, kind: ConfigMap, metadata: {name: %s, namespace: %s}, data: {owner: %s}}`, name, ns, data)
}

func exDeployment(ns, name, image string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s, labels: {app: %s}}
spec:
  replicas: 1
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
      - {name: app, image: %q}
`, name, ns, name, name, name, image)
}

// TestExecutionAppliesDeployment: a Deployment Work is applied to member1
// with its namespace created and Argosy's label and annotation; the member
// object's status and health come back into the Work (success records no
// event: that is the template's Ready event); a pass that changes nothing
// in an object does not write it;
// an image edited in the member is put back.
func TestExecutionAppliesDeployment(t *testing.T) {
	ctx := context.Background()
	ns := exNamespace(t, "ex-deploy")
	exCreateWork(t, "ex-deploy", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exDeployment(ns, "web", "nginx:1.25")),
	}})
	w := exWaitApplied(t, "ex-deploy", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	if m := exApplied(w).Message; !strings.Contains(m, exCluster) {
		t.Errorf("Applied message %q does not name the cluster", m)
	}

	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := exMember(t).Get(ctx, client.ObjectKeyFromObject(nsObj), nsObj); err != nil {
		t.Fatalf("namespace %s not created in member1: %v", ns, err)
	}
	if nsObj.Labels[workv1alpha1.LabelManaged] != "true" {
		t.Errorf("namespace created by Argosy not labelled %s: %v", workv1alpha1.LabelManaged, nsObj.Labels)
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	exGet(t, d, 10*time.Second, func() (bool, string) { return true, "" })
	if !exManaged(d, "ex-deploy") {
		t.Errorf("Deployment not labelled and annotated as managed: labels %v annotations %v", d.Labels, d.Annotations)
	}
	if !strings.Contains(fmt.Sprint(d.ManagedFields), workv1alpha1.FieldManagerExecution) {
		t.Errorf("Deployment has no fields managed by %s", workv1alpha1.FieldManagerExecution)
	}

	// Readiness in member1 flows into the Work's status.
	eventually(t, 60*time.Second, "Deployment status in the Work", func(ctx context.Context) (bool, string) {
		if err := hostClient.Get(ctx, client.ObjectKeyFromObject(w), w); err != nil {
			return false, err.Error()
		}
		if len(w.Status.ManifestStatuses) != 1 {
			return false, fmt.Sprintf("%d manifest statuses", len(w.Status.ManifestStatuses))
		}
		s := w.Status.ManifestStatuses[0]
		want := workv1alpha1.ResourceIdentifier{Ordinal: 0, Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Namespace: ns, Name: "web"}
		if s.Identifier != want {
			return false, fmt.Sprintf("identifier %+v, want %+v", s.Identifier, want)
		}
		var st struct {
			ReadyReplicas int32 `json:"readyReplicas"`
		}
		if s.Status != nil {
			_ = json.Unmarshal(s.Status.Raw, &st)
		}
		return s.Health == workv1alpha1.ResourceHealthy && st.ReadyReplicas == 1, fmt.Sprintf("health %s, status %s", s.Health, rawString(s.Status))
	})

	// A new generation that leaves the Deployment as it is does not write
	// it, nor do the Deployment's own status updates (counted by member1's
	// apiserver).
	deployApplies := exApplies(t, "deployments")
	cmApplies := exApplies(t, "configmaps")
	exUpdateWork(t, "ex-deploy", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, exManifests(t, exConfigMap(ns, "extra", "argosy"))...)
	})
	exWaitApplied(t, "ex-deploy", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 30*time.Second)
	exGet(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "extra"}}, 10*time.Second, func() (bool, string) { return true, "" })
	time.Sleep(2 * time.Second) // late events of the Deployment
	if n := exApplies(t, "configmaps") - cmApplies; n != 1 {
		t.Errorf("%v applies of ConfigMaps to member1, want 1", n)
	}
	if n := exApplies(t, "deployments") - deployApplies; n != 0 {
		t.Errorf("%v applies of an unchanged Deployment to member1, want none", n)
	}

	// Drift: the image edited in member1 is put back.
	if err := exMember(t).Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		t.Fatal(err)
	}
	before := d.DeepCopy()
	d.Spec.Template.Spec.Containers[0].Image = "nginx:edited-in-member"
	if err := exMember(t).Patch(ctx, d, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	exGet(t, d, 30*time.Second, func() (bool, string) {
		img := d.Spec.Template.Spec.Containers[0].Image
		return img == "nginx:1.25", "image " + img
	})
}

// exApplies counts the server-side applies member1's apiserver has served
// for resource.
func exApplies(t *testing.T, resource string) float64 {
	t.Helper()
	n, err := apimetrics.Requests(context.Background(), testFleet.MemberConfig(exCluster), resource, "", "APPLY")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func rawString(r *runtime.RawExtension) string {
	if r == nil {
		return "<none>"
	}
	return string(r.Raw)
}

// exWaitEvent waits for an event with reason on the Work.
func exWaitEvent(t *testing.T, work, reason string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%s event on Work %s", reason, work), func(ctx context.Context) (bool, string) {
		var events corev1.EventList
		if err := hostClient.List(ctx, &events, client.InNamespace(exWorkNamespace)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range events.Items {
			if e.InvolvedObject.Name == work {
				if e.Reason == reason {
					return true, ""
				}
				seen = append(seen, e.Reason)
			}
		}
		return false, fmt.Sprintf("events seen: %v", seen)
	})
}

// TestExecutionConflictAbortThenOverwrite: a ConfigMap that already exists
// in member1 without Argosy's label is left alone under Abort (the Work
// reports Conflict and says how to adopt it); with Overwrite it is adopted
// in place (same UID).
func TestExecutionConflictAbortThenOverwrite(t *testing.T) {
	ctx := context.Background()
	ns := exNamespace(t, "ex-conflict")
	if err := exMember(t).Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	existing := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken"}, Data: map[string]string{"owner": "someone-else"}}
	if err := exMember(t).Create(ctx, existing); err != nil {
		t.Fatal(err)
	}
	exCreateWork(t, "ex-conflict", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exConfigMap(ns, "taken", "argosy")),
	}})
	w := exWaitApplied(t, "ex-conflict", metav1.ConditionFalse, workv1alpha1.WorkReasonConflict, 60*time.Second)
	msg := exApplied(w).Message
	for _, want := range []string{"ConfigMap " + ns + "/taken", exCluster, "conflictResolution: Overwrite"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Conflict message %q does not contain %q", msg, want)
		}
	}
	exWaitEvent(t, "ex-conflict", workv1alpha1.EventReasonSyncFailed)
	live := &corev1.ConfigMap{}
	if err := exMember(t).Get(ctx, client.ObjectKeyFromObject(existing), live); err != nil {
		t.Fatal(err)
	}
	if live.Data["owner"] != "someone-else" || live.Labels[workv1alpha1.LabelManaged] != "" || live.ResourceVersion != existing.ResourceVersion {
		t.Errorf("pre-existing ConfigMap touched under Abort: data %v labels %v", live.Data, live.Labels)
	}

	exUpdateWork(t, "ex-conflict", func(w *workv1alpha1.Work) {
		w.Annotations = map[string]string{workv1alpha1.AnnotationConflictResolution: "Overwrite"}
	})
	exWaitApplied(t, "ex-conflict", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	exGet(t, live, 10*time.Second, func() (bool, string) { return live.Data["owner"] == "argosy", fmt.Sprint(live.Data) })
	if live.UID != existing.UID {
		t.Errorf("ConfigMap recreated on adoption: uid %s, was %s", live.UID, existing.UID)
	}
	if !exManaged(live, "ex-conflict") {
		t.Errorf("adopted ConfigMap not labelled: %v %v", live.Labels, live.Annotations)
	}
}

// TestExecutionRevertsDrift: a managed ConfigMap edited in member1 is put
// back, and one deleted there is recreated.
func TestExecutionRevertsDrift(t *testing.T) {
	ctx := context.Background()
	ns := exNamespace(t, "ex-drift")
	exCreateWork(t, "ex-drift", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exConfigMap(ns, "conf", "argosy")),
	}})
	exWaitApplied(t, "ex-drift", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "conf"}}
	exGet(t, cm, 10*time.Second, func() (bool, string) { return cm.Data["owner"] == "argosy", fmt.Sprint(cm.Data) })

	cm.Data["owner"] = "edited-in-member"
	cm.Data["extra"] = "added-in-member"
	if err := exMember(t).Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	exGet(t, cm, 30*time.Second, func() (bool, string) { return cm.Data["owner"] == "argosy", fmt.Sprint(cm.Data) })

	uid := cm.UID
	if err := exMember(t).Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	exGet(t, cm, 30*time.Second, func() (bool, string) { return cm.UID != uid, "uid " + string(cm.UID) })
}

// TestExecutionDeleteWork: deleting a Work deletes its objects from
// member1, but not an object it does not manage (here one that conflicted).
func TestExecutionDeleteWork(t *testing.T) {
	ctx := context.Background()
	ns := exNamespace(t, "ex-delete")
	if err := exMember(t).Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "foreign"}, Data: map[string]string{"owner": "someone-else"}}
	if err := exMember(t).Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	exCreateWork(t, "ex-delete", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exDeployment(ns, "web", "nginx:1.25"), exConfigMap(ns, "conf", "argosy"), exConfigMap(ns, "foreign", "argosy")),
	}})
	exWaitApplied(t, "ex-delete", metav1.ConditionFalse, workv1alpha1.WorkReasonConflict, 60*time.Second)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "conf"}}
	exGet(t, d, 10*time.Second, func() (bool, string) { return true, "" })
	exGet(t, cm, 10*time.Second, func() (bool, string) { return true, "" })

	exDeleteWork(t, "ex-delete")
	exGone(t, d, 30*time.Second)
	exGone(t, cm, 30*time.Second)
	live := &corev1.ConfigMap{}
	if err := exMember(t).Get(ctx, client.ObjectKeyFromObject(foreign), live); err != nil || live.Data["owner"] != "someone-else" {
		t.Errorf("an object the Work did not manage was deleted or changed: %v %v", live.Data, err)
	}
}

// TestExecutionRemovedManifest: a manifest removed from a Work is deleted
// from member1; the others stay.
func TestExecutionRemovedManifest(t *testing.T) {
	ns := exNamespace(t, "ex-removed")
	exCreateWork(t, "ex-removed", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exConfigMap(ns, "stays", "argosy"), exConfigMap(ns, "goes", "argosy")),
	}})
	exWaitApplied(t, "ex-removed", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	goes := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "goes"}}
	exGet(t, goes, 10*time.Second, func() (bool, string) { return true, "" })

	exUpdateWork(t, "ex-removed", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = w.Spec.Workload.Manifests[:1]
	})
	w := exWaitApplied(t, "ex-removed", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 30*time.Second)
	exGone(t, goes, 30*time.Second)
	stays := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stays"}}
	if err := exMember(t).Get(context.Background(), client.ObjectKeyFromObject(stays), stays); err != nil {
		t.Errorf("the remaining manifest's object: %v", err)
	}
	if len(w.Status.ManifestStatuses) != 1 || w.Status.ManifestStatuses[0].Identifier.Name != "stays" {
		t.Errorf("manifest statuses %+v, want only stays", w.Status.ManifestStatuses)
	}
}

// TestExecutionPreserveResourcesOnDeletion: with preserveResourcesOnDeletion
// the object stays in member1 after the Work is deleted, without Argosy's
// label and annotation.
func TestExecutionPreserveResourcesOnDeletion(t *testing.T) {
	ns := exNamespace(t, "ex-preserve")
	exCreateWork(t, "ex-preserve", nil, workv1alpha1.WorkSpec{
		PreserveResourcesOnDeletion: ptr.To(true),
		Workload:                    workv1alpha1.WorkloadTemplate{Manifests: exManifests(t, exConfigMap(ns, "kept", "argosy"))},
	})
	exWaitApplied(t, "ex-preserve", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"}}
	exGet(t, cm, 10*time.Second, func() (bool, string) { return true, "" })
	uid := cm.UID

	exDeleteWork(t, "ex-preserve")
	if err := exMember(t).Get(context.Background(), client.ObjectKeyFromObject(cm), cm); err != nil {
		t.Fatalf("preserved ConfigMap: %v", err)
	}
	if cm.UID != uid || cm.Data["owner"] != "argosy" {
		t.Errorf("preserved ConfigMap changed: uid %s (was %s), data %v", cm.UID, uid, cm.Data)
	}
	if _, ok := cm.Labels[workv1alpha1.LabelManaged]; ok {
		t.Errorf("preserved ConfigMap still labelled: %v", cm.Labels)
	}
	if _, ok := cm.Annotations[workv1alpha1.AnnotationWork]; ok {
		t.Errorf("preserved ConfigMap still annotated: %v", cm.Annotations)
	}
}

// TestExecutionMemberRejections: an invalid object gives Applied=False
// AppliedFailed with member1's own message naming the object; a kind
// member1 does not serve says so.
func TestExecutionMemberRejections(t *testing.T) {
	ns := exNamespace(t, "ex-invalid")
	exCreateWork(t, "ex-invalid", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: `+ns+`}
spec:
  replicas: 1
  selector: {matchLabels: {app: one}}
  template:
    metadata: {labels: {app: other}}
    spec: {containers: [{name: app, image: nginx}]}
`),
	}})
	w := exWaitApplied(t, "ex-invalid", metav1.ConditionFalse, workv1alpha1.WorkReasonAppliedFailed, 60*time.Second)
	msg := exApplied(w).Message
	// The member's own words: `Deployment.apps "bad" is invalid: spec.template.metadata.labels: Invalid value: ...`.
	for _, want := range []string{"Deployment " + ns + "/bad", exCluster, `Deployment.apps "bad" is invalid`, "spec.template.metadata.labels"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}

	exCreateWork(t, "ex-unknown-kind", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, `{apiVersion: nowhere.argosy.dev/v1, kind: Phantom, metadata: {name: p, namespace: `+ns+`}}`),
	}})
	w = exWaitApplied(t, "ex-unknown-kind", metav1.ConditionFalse, workv1alpha1.WorkReasonAppliedFailed, 60*time.Second)
	msg = exApplied(w).Message
	for _, want := range []string{"does not serve kind Phantom", "nowhere.argosy.dev/v1", exCluster} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
}

// TestExecutionCRDThenCustomResource: a Work with a CRD and, created at the
// same moment, a Work with a custom resource of it: the second becomes
// Applied as soon as member1 serves the kind.
func TestExecutionCRDThenCustomResource(t *testing.T) {
	ns := exNamespace(t, "ex-crd")
	crd := `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e-exec.argosy.dev}
spec:
  group: e2e-exec.argosy.dev
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`
	// Cleanups run in reverse: the custom resource's Work goes first.
	exCreateWork(t, "ex-crd", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: exManifests(t, crd)}})
	exCreateWork(t, "ex-widget", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, `{apiVersion: e2e-exec.argosy.dev/v1, kind: Widget, metadata: {name: w1, namespace: `+ns+`}, spec: {size: 4}}`),
	}})
	exWaitApplied(t, "ex-crd", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	start := time.Now()
	w := exWaitApplied(t, "ex-widget", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 30*time.Second)
	t.Logf("custom resource Applied %s after its CRD", time.Since(start).Round(time.Millisecond))
	if id := w.Status.ManifestStatuses[0].Identifier; id.Resource != "widgets" || id.Group != "e2e-exec.argosy.dev" {
		t.Errorf("identifier %+v", id)
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("e2e-exec.argosy.dev/v1")
	u.SetKind("Widget")
	u.SetNamespace(ns)
	u.SetName("w1")
	exGet(t, u, 10*time.Second, func() (bool, string) {
		size, _, _ := unstructured.NestedInt64(u.Object, "spec", "size")
		return size == 4, fmt.Sprint(u.Object["spec"])
	})
}

// TestExecutionSuspendedAndRenderError: a suspended Work is not applied and
// says so; once resumed it is. A Work whose rendering failed reports
// OverrideFailed with the binding controller's message and is not applied.
func TestExecutionSuspendedAndRenderError(t *testing.T) {
	ns := exNamespace(t, "ex-suspend")
	exCreateWork(t, "ex-suspend", nil, workv1alpha1.WorkSpec{
		SuspendDispatching: ptr.To(true),
		Workload:           workv1alpha1.WorkloadTemplate{Manifests: exManifests(t, exConfigMap(ns, "held", "argosy"))},
	})
	exWaitApplied(t, "ex-suspend", metav1.ConditionFalse, workv1alpha1.WorkReasonDispatchingSuspended, 60*time.Second)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "held"}}
	if err := exMember(t).Get(context.Background(), client.ObjectKeyFromObject(cm), cm); !apierrors.IsNotFound(err) {
		t.Errorf("suspended Work applied: %v", err)
	}
	exUpdateWork(t, "ex-suspend", func(w *workv1alpha1.Work) { w.Spec.SuspendDispatching = nil })
	exWaitApplied(t, "ex-suspend", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 30*time.Second)
	exGet(t, cm, 10*time.Second, func() (bool, string) { return true, "" })

	const why = "OverridePolicy default/broken, rule 0: path /spec/nope does not exist"
	exCreateWork(t, "ex-render-error", map[string]string{workv1alpha1.AnnotationRenderError: why}, workv1alpha1.WorkSpec{
		Workload: workv1alpha1.WorkloadTemplate{Manifests: exManifests(t, exConfigMap(ns, "unrendered", "argosy"))},
	})
	w := exWaitApplied(t, "ex-render-error", metav1.ConditionFalse, workv1alpha1.WorkReasonOverrideFailed, 60*time.Second)
	if exApplied(w).Message != why {
		t.Errorf("OverrideFailed message %q, want %q", exApplied(w).Message, why)
	}
	un := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrendered"}}
	if err := exMember(t).Get(context.Background(), client.ObjectKeyFromObject(un), un); !apierrors.IsNotFound(err) {
		t.Errorf("a Work with a render error was applied: %v", err)
	}
}

// TestExecutionUnreachableMember stops member2's apiserver: a Work for it
// reports ClusterUnreachable (with our finalizer, so deleting it will wait
// for the member). Started again, the Work is applied as soon as the
// Cluster is Ready again, not after a long backoff.
func TestExecutionUnreachableMember(t *testing.T) {
	const cluster = "member2"
	waitClusterReady(t, cluster, clusterPatience)
	ns := exNamespaceIn(t, cluster, "ex-unreachable")
	restart := stopMemberAPIServer(t, cluster)
	eventually(t, clusterPatience, cluster+" Ready=False", func(ctx context.Context) (bool, string) {
		cl, why := lookCluster(ctx, cluster)
		if cl == nil {
			return false, why
		}
		c := readyOf(cl)
		return c != nil && c.Status == metav1.ConditionFalse, describeReady(cl)
	})

	exCreateWorkIn(t, cluster, "ex-unreachable", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exConfigMap(ns, "later", "argosy")),
	}})
	w := exWaitAppliedIn(t, cluster, "ex-unreachable", metav1.ConditionFalse, workv1alpha1.WorkReasonClusterUnreachable, 30*time.Second)
	if m := exApplied(w).Message; !strings.Contains(m, cluster) {
		t.Errorf("ClusterUnreachable message %q does not name the cluster", m)
	}
	if !slices.Contains(w.Finalizers, workv1alpha1.WorkFinalizer) {
		t.Errorf("Work finalizers %v, want %s", w.Finalizers, workv1alpha1.WorkFinalizer)
	}

	restart()
	waitClusterReady(t, cluster, clusterPatience)
	ready := time.Now()
	exWaitAppliedIn(t, cluster, "ex-unreachable", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 10*time.Second)
	t.Logf("applied %s after the Cluster was Ready again", time.Since(ready).Round(time.Millisecond))
	cm := &corev1.ConfigMap{}
	if err := exMemberOf(t, cluster).Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "later"}, cm); err != nil {
		t.Errorf("ConfigMap in %s: %v", cluster, err)
	}
}

// TestExecutionNamespaceCreatedThenPropagated: a namespace the execution
// controller created for an object is adopted, under Abort, by a Work of
// the Namespace itself (as when namespaces are propagated too), and stays
// when that Work is deleted with preserveResourcesOnDeletion.
func TestExecutionNamespaceCreatedThenPropagated(t *testing.T) {
	ns := exNamespace(t, "ex-ns-adopt")
	exCreateWork(t, "ex-ns-content", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{
		Manifests: exManifests(t, exConfigMap(ns, "inside", "argosy")),
	}})
	exWaitApplied(t, "ex-ns-content", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	exGet(t, nsObj, 10*time.Second, func() (bool, string) { return true, "" })
	uid := nsObj.UID

	exCreateWork(t, "ex-ns-itself", nil, workv1alpha1.WorkSpec{
		PreserveResourcesOnDeletion: ptr.To(true),
		Workload: workv1alpha1.WorkloadTemplate{
			Manifests: exManifests(t, `{apiVersion: v1, kind: Namespace, metadata: {name: `+ns+`, labels: {team: e2e}}}`),
		},
	})
	exWaitApplied(t, "ex-ns-itself", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 30*time.Second)
	exGet(t, nsObj, 10*time.Second, func() (bool, string) {
		return exManaged(nsObj, "ex-ns-itself") && nsObj.Labels["team"] == "e2e", fmt.Sprint(nsObj.Labels, nsObj.Annotations)
	})
	if nsObj.UID != uid {
		t.Errorf("namespace recreated: uid %s, was %s", nsObj.UID, uid)
	}
}

// TestExecutionRetainReplicas: with the retain-replicas label, spec.replicas
// changed in member1 (as a member-side HPA would) is left alone, while an
// image edited there in the same update is put back.
func TestExecutionRetainReplicas(t *testing.T) {
	ctx := context.Background()
	ns := exNamespace(t, "ex-retain")
	manifest := strings.Replace(exDeployment(ns, "scaled", "nginx:1.25"),
		"labels: {app: scaled}}", "labels: {app: scaled, "+workv1alpha1.LabelRetainReplicas+": \"true\"}}", 1)
	exCreateWork(t, "ex-retain", nil, workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: exManifests(t, manifest)}})
	exWaitApplied(t, "ex-retain", metav1.ConditionTrue, workv1alpha1.WorkReasonAppliedSuccessful, 60*time.Second)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "scaled"}}
	exGet(t, d, 10*time.Second, func() (bool, string) { return ptr.Deref(d.Spec.Replicas, 0) == 1, fmt.Sprint(d.Spec.Replicas) })

	// A patch, not an update: member1's Deployment controller writes the
	// object's status meanwhile.
	before := d.DeepCopy()
	d.Spec.Replicas = ptr.To[int32](0)
	d.Spec.Template.Spec.Containers[0].Image = "nginx:edited-in-member"
	if err := exMember(t).Patch(ctx, d, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	exGet(t, d, 30*time.Second, func() (bool, string) {
		img := d.Spec.Template.Spec.Containers[0].Image
		return img == "nginx:1.25", "image " + img
	})
	if r := ptr.Deref(d.Spec.Replicas, -1); r != 0 {
		t.Errorf("replicas set in the member = %d, want 0 (retained)", r)
	}
}
