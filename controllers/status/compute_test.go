package status

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var (
	t0  = metav1.NewTime(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	now = metav1.NewTime(time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC))
)

func jsonOf(t *testing.T, y string) []byte {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// fixture builds a template wrapping kind, its binding and Works.
type fixture struct {
	t     *testing.T
	tpl   *workv1alpha1.ResourceTemplate
	rb    *workv1alpha1.ResourceBinding
	works []workv1alpha1.Work
	// policySelects is Input.PolicySelects.
	policySelects bool
}

func deployment(t *testing.T, generation int64, replicas int) *fixture {
	t.Helper()
	tpl := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "apps.deployment.default.web", Generation: generation, UID: "tpl-uid"},
		Spec: workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: jsonOf(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: `+strconv.Itoa(replicas)+`
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`)}},
		Status: workv1alpha1.ResourceTemplateStatus{Policy: &workv1alpha1.PolicyReference{Kind: policyv1alpha1.KindPropagationPolicy, Namespace: "default", Name: "web"}},
	}
	f := &fixture{t: t, tpl: tpl}
	f.bind("apps/v1", "Deployment", int32(replicas), true)
	return f
}

func job(t *testing.T) *fixture {
	t.Helper()
	tpl := &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-templates", Name: "batch.job.default.pi", Generation: 1, UID: "tpl-uid"},
		Spec: workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: jsonOf(t, `
apiVersion: batch/v1
kind: Job
metadata: {name: pi, namespace: default}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: pi, image: perl}]}
`)}},
		Status: workv1alpha1.ResourceTemplateStatus{Policy: &workv1alpha1.PolicyReference{Kind: policyv1alpha1.KindPropagationPolicy, Namespace: "default", Name: "pi"}},
	}
	f := &fixture{t: t, tpl: tpl}
	f.bind("batch/v1", "Job", 1, true)
	return f
}

// bind gives the fixture a binding that reflects the template, scheduled
// and rendered at generation 2.
func (f *fixture) bind(apiVersion, kind string, replicas int32, claimed bool) {
	var obj struct {
		Metadata struct{ Namespace, Name string }
	}
	_ = json.Unmarshal(f.tpl.Spec.Template.Raw, &obj)
	rb := &workv1alpha1.ResourceBinding{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: f.tpl.Namespace, Name: f.tpl.Name, Generation: 2, UID: "rb-uid",
			Annotations: map[string]string{workv1alpha1.AnnotationTemplateGeneration: strconv.FormatInt(f.tpl.Generation, 10)},
		},
		Spec: workv1alpha1.ResourceBindingSpec{
			Resource:  workv1alpha1.ObjectReference{APIVersion: apiVersion, Kind: kind, Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name},
			Replicas:  replicas,
			Placement: &policyv1alpha1.Placement{},
		},
		Status: workv1alpha1.ResourceBindingStatus{
			ObservedGeneration:          2,
			SchedulerObservedGeneration: 2,
			Conditions: []metav1.Condition{{Type: workv1alpha1.ConditionScheduled, Status: metav1.ConditionTrue,
				Reason: workv1alpha1.BindingReasonSuccess, ObservedGeneration: 2, LastTransitionTime: t0}},
		},
	}
	if replicas > 0 {
		rb.Spec.ReplicaRequirements = &workv1alpha1.ReplicaRequirements{Namespace: obj.Metadata.Namespace}
	}
	if claimed {
		rb.Labels = map[string]string{workv1alpha1.LabelPolicyName: "web"}
	}
	f.rb = rb
}

// cluster adds a target cluster with replicas and its Work, at Work
// generation 1, with the Applied condition given (nil: none) and the
// member status (YAML, "" for none) and health.
func (f *fixture) cluster(name string, replicas int32, applied *metav1.Condition, status string, health workv1alpha1.ResourceHealth) *workv1alpha1.Work {
	f.rb.Spec.Clusters = append(f.rb.Spec.Clusters, workv1alpha1.TargetCluster{Name: name, Replicas: replicas})
	return f.work(name, replicas, applied, status, health)
}

func (f *fixture) work(name string, replicas int32, applied *metav1.Condition, status string, health workv1alpha1.ResourceHealth) *workv1alpha1.Work {
	r := f.rb.Spec.Resource
	manifest := map[string]any{"apiVersion": r.APIVersion, "kind": r.Kind, "metadata": map[string]any{"name": r.Name, "namespace": r.Namespace}}
	if replicas > 0 {
		manifest["spec"] = map[string]any{"replicas": replicas}
	}
	raw, _ := json.Marshal(manifest)
	w := workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: workv1alpha1.ExecutionNamespacePrefix + name, Name: f.rb.Name, Generation: 1,
			Annotations: map[string]string{workv1alpha1.AnnotationBinding: f.rb.Namespace + "/" + f.rb.Name,
				workv1alpha1.AnnotationBindingGeneration: strconv.FormatInt(f.rb.Status.ObservedGeneration, 10)},
		},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}},
	}
	if applied != nil {
		w.Status.ObservedGeneration = 1
		w.Status.Conditions = []metav1.Condition{*applied}
	}
	if status != "" || health != "" {
		ms := workv1alpha1.ManifestStatus{
			Identifier: workv1alpha1.ResourceIdentifier{Group: groupOf(r.APIVersion), Version: "v1", Kind: r.Kind, Namespace: r.Namespace, Name: r.Name},
			Health:     health,
		}
		if status != "" {
			ms.Status = &runtime.RawExtension{Raw: jsonOf(f.t, status)}
		}
		w.Status.ManifestStatuses = []workv1alpha1.ManifestStatus{ms}
	}
	f.works = append(f.works, w)
	return &f.works[len(f.works)-1]
}

func groupOf(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

func appliedTrue() *metav1.Condition {
	return &metav1.Condition{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.WorkReasonAppliedSuccessful, ObservedGeneration: 1}
}

func appliedFalse(reason, message string) *metav1.Condition {
	return &metav1.Condition{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionFalse, Reason: reason, Message: message, ObservedGeneration: 1}
}

func (f *fixture) input() Input {
	return Input{Template: f.tpl, Binding: f.rb, Works: f.works, PolicySelects: f.policySelects, Now: now}
}

const deployReady1 = `
observedGeneration: 1
replicas: 1
updatedReplicas: 1
readyReplicas: 1
availableReplicas: 1
conditions:
- {type: Available, status: "True", reason: MinimumReplicasAvailable}
- {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
`

const deployStarting1 = `
observedGeneration: 1
replicas: 1
updatedReplicas: 1
unavailableReplicas: 1
conditions:
- {type: Available, status: "False", reason: MinimumReplicasUnavailable}
- {type: Progressing, status: "True", reason: ReplicaSetUpdated}
`

// want is what a case expects of the output.
type want struct {
	ready, reconciling, stalled bool
	reason                      string
	message                     string // substring of the Ready message
	kstatus                     kstatus.Status
	fullyApplied                *bool  // nil: no binding status expected
	fullyAppliedMsg             string // substring
	aggregated                  string // YAML of the template's aggregatedStatus; "null" for none; "" to skip
	observedGeneration          *int64 // aggregatedStatus.observedGeneration; nil: absent
}

func check(t *testing.T, f *fixture, w want) Output {
	t.Helper()
	out, err := Compute(f.input())
	if err != nil {
		t.Fatal(err)
	}
	ready := meta.FindStatusCondition(out.Template.Conditions, workv1alpha1.TemplateConditionReady)
	if ready == nil {
		t.Fatal("no Ready condition")
	}
	got := []bool{meta.IsStatusConditionTrue(out.Template.Conditions, workv1alpha1.TemplateConditionReady),
		meta.IsStatusConditionTrue(out.Template.Conditions, workv1alpha1.TemplateConditionReconciling),
		meta.IsStatusConditionTrue(out.Template.Conditions, workv1alpha1.TemplateConditionStalled)}
	if exp := []bool{w.ready, w.reconciling, w.stalled}; got[0] != exp[0] || got[1] != exp[1] || got[2] != exp[2] {
		t.Errorf("Ready/Reconciling/Stalled = %v, want %v (%s: %s)", got, exp, ready.Reason, ready.Message)
	}
	if w.reason != "" && ready.Reason != w.reason {
		t.Errorf("reason = %q, want %q (%s)", ready.Reason, w.reason, ready.Message)
	}
	if !strings.Contains(ready.Message, w.message) {
		t.Errorf("message = %q, want it to contain %q", ready.Message, w.message)
	}
	for _, c := range out.Template.Conditions {
		if c.ObservedGeneration != f.tpl.Generation {
			t.Errorf("condition %s has observedGeneration %d, want %d", c.Type, c.ObservedGeneration, f.tpl.Generation)
		}
		if c.Reason == "" {
			t.Errorf("condition %s has no reason", c.Type)
		}
	}
	if out.Template.ObservedGeneration != f.tpl.Generation {
		t.Errorf("status.observedGeneration = %d, want %d", out.Template.ObservedGeneration, f.tpl.Generation)
	}
	if out.Template.Policy != nil {
		t.Error("the output carries status.policy, which is the detector's")
	}

	// What kstatus (Flux, kubectl wait via cli-utils) makes of the result.
	res := computeKstatus(t, f.tpl, &out.Template)
	if res.Status != w.kstatus {
		t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, w.kstatus)
	}

	switch {
	case w.fullyApplied == nil && out.Binding != nil:
		t.Errorf("binding status %+v, want none", out.Binding)
	case w.fullyApplied != nil && out.Binding == nil:
		t.Error("no binding status")
	case w.fullyApplied != nil:
		c := out.Binding.FullyApplied
		if (c.Status == metav1.ConditionTrue) != *w.fullyApplied {
			t.Errorf("FullyApplied = %s (%s), want %v", c.Status, c.Message, *w.fullyApplied)
		}
		if c.ObservedGeneration != f.rb.Generation {
			t.Errorf("FullyApplied observedGeneration = %d, want %d", c.ObservedGeneration, f.rb.Generation)
		}
		wantReason := workv1alpha1.BindingReasonFullyAppliedFailed
		if *w.fullyApplied {
			wantReason = workv1alpha1.BindingReasonFullyAppliedSuccess
		}
		if c.Reason != wantReason {
			t.Errorf("FullyApplied reason = %s, want %s", c.Reason, wantReason)
		}
		if !strings.Contains(c.Message, w.fullyAppliedMsg) {
			t.Errorf("FullyApplied message = %q, want it to contain %q", c.Message, w.fullyAppliedMsg)
		}
	}

	agg := map[string]any(nil)
	if out.Template.AggregatedStatus != nil {
		if err := json.Unmarshal(out.Template.AggregatedStatus.Raw, &agg); err != nil {
			t.Fatal(err)
		}
	}
	og, hasOG := agg["observedGeneration"]
	switch {
	case w.observedGeneration == nil && hasOG:
		t.Errorf("aggregatedStatus.observedGeneration = %v, want none", og)
	case w.observedGeneration != nil && (!hasOG || og != float64(*w.observedGeneration)):
		t.Errorf("aggregatedStatus.observedGeneration = %v, want %d", og, *w.observedGeneration)
	}
	switch w.aggregated {
	case "":
	case "null":
		if agg != nil {
			t.Errorf("aggregatedStatus = %v, want none", agg)
		}
	default:
		delete(agg, "observedGeneration")
		g, _ := json.Marshal(agg)
		var exp map[string]any
		_ = json.Unmarshal(jsonOf(t, w.aggregated), &exp)
		e, _ := json.Marshal(exp)
		if string(g) != string(e) {
			t.Errorf("aggregatedStatus =\n%s\nwant\n%s", g, e)
		}
	}
	return out
}

// computeKstatus runs kstatus on the template as the apiserver would serve
// it with out as its status.
func computeKstatus(t *testing.T, tpl *workv1alpha1.ResourceTemplate, st *workv1alpha1.ResourceTemplateStatus) *kstatus.Result {
	t.Helper()
	obj := tpl.DeepCopy()
	obj.APIVersion, obj.Kind = workv1alpha1.GroupVersion.String(), workv1alpha1.KindResourceTemplate
	st = st.DeepCopy()
	st.Policy = tpl.Status.Policy
	obj.Status = *st
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	res, err := kstatus.Compute(&unstructured.Unstructured{Object: m})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func int64p(n int64) *int64 { return &n }

func TestDeploymentOverTwoClusters(t *testing.T) {
	t.Run("both ready: 2/2", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		out := check(t, f, want{
			ready: true, reason: workv1alpha1.TemplateReasonSucceeded, message: "ready in all 2 clusters",
			kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true),
			aggregated:         "{replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0}",
			observedGeneration: int64p(3),
		})
		if n := len(out.Binding.AggregatedStatus); n != 2 {
			t.Fatalf("%d aggregated items, want 2", n)
		}
		for _, it := range out.Binding.AggregatedStatus {
			if !it.Applied || it.Health != workv1alpha1.ResourceHealthy || it.AppliedMessage != "" {
				t.Errorf("item %+v, want applied and healthy", it)
			}
			// The scheduler's ledger reads status.replicas from here.
			var s struct{ Replicas int64 }
			if it.Status == nil || json.Unmarshal(it.Status.Raw, &s) != nil || s.Replicas != 1 {
				t.Errorf("item %s status %v, want the member's raw status", it.ClusterName, it.Status)
			}
		}
		for _, c := range out.Template.Clusters {
			if !c.Applied || c.Health != workv1alpha1.ResourceHealthy || ptr.Deref(c.AssignedReplicas, -1) != 1 ||
				ptr.Deref(c.Replicas, -1) != 1 || ptr.Deref(c.ReadyReplicas, -1) != 1 || c.Evicting {
				t.Errorf("cluster %+v, want applied, healthy, 1 assigned, 1/1 ready", c)
			}
		}
	})
	t.Run("one cluster still rolling out", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), deployStarting1, workv1alpha1.ResourceUnhealthy)
		out := check(t, f, want{
			reconciling: true, reason: workv1alpha1.TemplateReasonProgressing, message: "member2 has 0/1 available replicas",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(true),
			aggregated: "{replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 1}",
			// Work status does not carry the member object's generation, so
			// an unhealthy member does not count as having observed it.
			observedGeneration: nil,
		})
		if h := out.Template.Clusters[1].Health; h != workv1alpha1.ResourceUnhealthy {
			t.Errorf("member2 health %s, want Unhealthy", h)
		}
	})
	t.Run("member looks done but is reported unhealthy (not observed yet)", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.tpl.Status.AggregatedStatus = &runtime.RawExtension{Raw: []byte(`{"observedGeneration":2,"replicas":2}`)}
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceUnhealthy)
		check(t, f, want{
			reconciling: true, message: "member2 is reported Unhealthy",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(true),
			// Not every cluster caught up: the generation reported before stays.
			observedGeneration: int64p(2),
		})
	})
	t.Run("one Work's new generation not applied yet", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w := f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w.Generation = 2
		out := check(t, f, want{
			reconciling: true, message: "member2 is not applied yet",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false), fullyAppliedMsg: "Not applied yet in 1 of 2 clusters: member2",
		})
		if it := out.Binding.AggregatedStatus[1]; it.Applied || it.Health != workv1alpha1.ResourceUnknown {
			t.Errorf("member2 item %+v, want not applied, health Unknown", it)
		}
	})
	t.Run("the cache shows a Work rendered from an older binding generation", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w := f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w.Annotations[workv1alpha1.AnnotationBindingGeneration] = "1"
		check(t, f, want{
			reconciling: true, message: "member2 is not applied yet",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false), fullyAppliedMsg: "member2",
		})
	})
	t.Run("cluster without a Work yet", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.rb.Spec.Clusters = append(f.rb.Spec.Clusters, workv1alpha1.TargetCluster{Name: "member2", Replicas: 1})
		check(t, f, want{
			reconciling: true, message: "member2 is not applied yet",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false), fullyAppliedMsg: "member2",
		})
	})
	t.Run("member unreachable", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedFalse(workv1alpha1.WorkReasonClusterUnreachable, "cluster member2 is not reachable"), "", "")
		check(t, f, want{
			reconciling: true, message: "member2 is not applied yet: cluster member2 is not reachable",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false), fullyAppliedMsg: "member2 (cluster member2 is not reachable)",
		})
	})
	t.Run("a target's Work still being deleted", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w := f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w.DeletionTimestamp = &t0
		check(t, f, want{
			reconciling: true, message: "member2 is not applied yet: the Work is being deleted",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false),
		})
	})
	t.Run("dispatching suspended", func(t *testing.T) {
		f := deployment(t, 3, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w := f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w.Generation, w.Spec.SuspendDispatching = 2, ptr.To(true)
		check(t, f, want{
			reconciling: true, reason: workv1alpha1.TemplateReasonSuspended, message: "dispatching is suspended",
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false),
		})
	})
}

func TestStalled(t *testing.T) {
	t.Run("conflict", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedFalse(workv1alpha1.WorkReasonConflict, "Deployment default/web exists in member2 and is not managed by Argosy"), "", "")
		out := check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonConflict, message: "member2: apply failed: Deployment default/web exists",
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(false), fullyAppliedMsg: "Failed to apply in 1 of 2 clusters: member2: Deployment default/web exists",
		})
		c := out.Template.Clusters[1]
		if c.Applied || !strings.Contains(c.AppliedMessage, "not managed by Argosy") {
			t.Errorf("member2 %+v, want not applied with the conflict", c)
		}
		if it := out.Binding.AggregatedStatus[1]; it.Applied || !strings.Contains(it.AppliedMessage, "not managed by Argosy") {
			t.Errorf("member2 item %+v, want not applied with the conflict", it)
		}
	})
	t.Run("override failure from the render-error annotation", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		w := f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		// The previous manifests are applied; the new ones cannot be rendered.
		w.Annotations[workv1alpha1.AnnotationRenderError] = "OverridePolicy default/op, rule 0: /spec/foo does not exist"
		check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonOverrideFailed, message: "rule 0: /spec/foo does not exist",
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(false),
		})
	})
	t.Run("override failure reported by the execution controller", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.cluster("member1", 1, appliedFalse(workv1alpha1.WorkReasonOverrideFailed, "OverridePolicy default/op, rule 0: bad value"), "", "")
		f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonOverrideFailed,
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(false),
		})
	})
	t.Run("apply rejected by the member", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.cluster("member1", 1, appliedFalse(workv1alpha1.WorkReasonAppliedFailed, `admission webhook "deny.example.com" denied the request`), "", "")
		check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonApplyFailed, message: "denied the request",
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(false),
		})
	})
	t.Run("a failure for an older Work generation is not current", func(t *testing.T) {
		f := deployment(t, 1, 2)
		w := f.cluster("member1", 1, appliedFalse(workv1alpha1.WorkReasonConflict, "exists"), "", "")
		w.Generation = 2
		check(t, f, want{reconciling: true, kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false)})
	})
	t.Run("no policy", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.tpl.Status.Policy, f.rb = nil, nil
		check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonNoMatchingPolicy, message: "apps/v1 Deployment default/web",
			kstatus: kstatus.FailedStatus, aggregated: "null",
		})
	})
	t.Run("no claim yet, but a policy selects it", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.tpl.Status.Policy, f.rb, f.policySelects = nil, nil, true
		check(t, f, want{reconciling: true, reason: workv1alpha1.TemplateReasonProgressing, kstatus: kstatus.InProgressStatus})
	})
	t.Run("claimed, binding not created yet", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.rb = nil
		check(t, f, want{reconciling: true, message: "Waiting for the ResourceBinding of PropagationPolicy default/web", kstatus: kstatus.InProgressStatus})
	})
	t.Run("policy gone and the template changed since", func(t *testing.T) {
		f := deployment(t, 2, 2)
		f.cluster("member1", 2, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.tpl.Status.Policy, f.rb.Labels = nil, nil
		f.rb.Annotations[workv1alpha1.AnnotationTemplateGeneration] = "1"
		check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonNoMatchingPolicy, message: "Generation 2 is not propagated",
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(true),
		})
	})
	t.Run("policy gone, nothing changed since: what runs is reported", func(t *testing.T) {
		f := deployment(t, 1, 1)
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.tpl.Status.Policy, f.rb.Labels = nil, nil
		check(t, f, want{ready: true, kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(1)})
	})
	t.Run("scheduling failed", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.rb.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.ConditionScheduled, Status: metav1.ConditionFalse,
			Reason: workv1alpha1.BindingReasonNoClusterFit, Message: "0/2 clusters are available: 2 cluster(s) had untolerated taint", ObservedGeneration: 2}}
		check(t, f, want{
			stalled: true, reason: workv1alpha1.TemplateReasonSchedulingFailed, message: "NoClusterFit: 0/2 clusters are available",
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(false), fullyAppliedMsg: "Not scheduled to any cluster",
		})
	})
	t.Run("unschedulable", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.rb.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.ConditionScheduled, Status: metav1.ConditionFalse,
			Reason: workv1alpha1.BindingReasonUnschedulable, Message: "not enough capacity", ObservedGeneration: 2}}
		check(t, f, want{stalled: true, reason: workv1alpha1.TemplateReasonSchedulingFailed, kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(false)})
	})
	t.Run("a scheduler error is retried, not stalled", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.rb.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.ConditionScheduled, Status: metav1.ConditionFalse,
			Reason: workv1alpha1.BindingReasonSchedulerError, Message: "etcdserver: request timed out", ObservedGeneration: 2}}
		check(t, f, want{reconciling: true, message: "etcdserver", kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false)})
	})
	t.Run("scheduling suspended", func(t *testing.T) {
		f := deployment(t, 1, 2)
		f.rb.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.ConditionScheduled, Status: metav1.ConditionFalse,
			Reason: workv1alpha1.BindingReasonSchedulingSuspended, Message: "scheduling is suspended", ObservedGeneration: 2}}
		check(t, f, want{reconciling: true, reason: workv1alpha1.TemplateReasonSuspended, kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false)})
	})
	t.Run("failed rollout in a member", func(t *testing.T) {
		f := deployment(t, 1, 1)
		f.cluster("member1", 1, appliedTrue(), `
observedGeneration: 1
replicas: 1
updatedReplicas: 1
unavailableReplicas: 1
conditions:
- {type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: 'ReplicaSet "web-1" has timed out progressing.'}
`, workv1alpha1.ResourceUnhealthy)
		check(t, f, want{stalled: true, reason: workv1alpha1.TemplateReasonUnhealthy, message: "progress deadline exceeded",
			kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(1)})
	})
}

func TestCatchingUp(t *testing.T) {
	t.Run("template generation bumped, binding still old", func(t *testing.T) {
		f := deployment(t, 4, 2)
		f.tpl.Status.AggregatedStatus = &runtime.RawExtension{Raw: []byte(`{"observedGeneration":3}`)}
		f.rb.Annotations[workv1alpha1.AnnotationTemplateGeneration] = "3"
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		check(t, f, want{
			reconciling: true, message: "Waiting for the ResourceBinding to take generation 4",
			// The binding's own state is still reported: its Works are applied.
			kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(3),
		})
	})
	t.Run("scheduler has not seen the binding's generation", func(t *testing.T) {
		f := deployment(t, 4, 2)
		f.rb.Generation = 3
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		check(t, f, want{reconciling: true, message: "Waiting for the scheduler", kstatus: kstatus.InProgressStatus,
			fullyApplied: ptr.To(false), fullyAppliedMsg: "generation 3 are not rendered yet"})
	})
	t.Run("binding controller has not rendered the binding's generation", func(t *testing.T) {
		f := deployment(t, 4, 2)
		f.rb.Status.ObservedGeneration = 1
		f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
		check(t, f, want{reconciling: true, message: "Waiting for the Works", kstatus: kstatus.InProgressStatus,
			fullyApplied: ptr.To(false), fullyAppliedMsg: "not rendered yet"})
	})
	t.Run("the previous observedGeneration is never ahead of the template", func(t *testing.T) {
		f := deployment(t, 4, 2)
		f.tpl.Status.AggregatedStatus = &runtime.RawExtension{Raw: []byte(`{"observedGeneration":4}`)}
		f.cluster("member1", 1, nil, "", "")
		check(t, f, want{reconciling: true, kstatus: kstatus.InProgressStatus, fullyApplied: ptr.To(false)})
	})
}

func TestJobCompleteOnlyWhenEveryClusterCompleted(t *testing.T) {
	const running = `{startTime: "2026-01-01T10:00:00Z", active: 1}`
	const complete = `
startTime: "2026-01-01T10:00:00Z"
completionTime: "2026-01-01T10:01:00Z"
succeeded: 1
conditions: [{type: Complete, status: "True", lastTransitionTime: "2026-01-01T10:01:00Z"}]
`
	t.Run("one cluster still running", func(t *testing.T) {
		f := job(t)
		f.cluster("member1", 1, appliedTrue(), complete, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), running, workv1alpha1.ResourceHealthy)
		// kstatus calls a started Job current; only the aggregated
		// status's Complete condition waits for every cluster.
		check(t, f, want{ready: true, kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(1),
			aggregated: `{startTime: "2026-01-01T10:00:00Z", active: 1, succeeded: 1, failed: 0}`})
	})
	t.Run("every cluster completed", func(t *testing.T) {
		f := job(t)
		f.cluster("member1", 1, appliedTrue(), complete, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), complete, workv1alpha1.ResourceHealthy)
		check(t, f, want{ready: true, kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(1),
			aggregated: `
startTime: "2026-01-01T10:00:00Z"
completionTime: "2026-01-01T10:01:00Z"
active: 0
succeeded: 2
failed: 0
conditions: [{type: Complete, status: "True", message: Job completed in all 2 clusters, lastTransitionTime: "2026-01-01T10:01:00Z"}]
`})
	})
	t.Run("failed in one cluster", func(t *testing.T) {
		f := job(t)
		f.cluster("member1", 1, appliedTrue(), complete, workv1alpha1.ResourceHealthy)
		f.cluster("member2", 1, appliedTrue(), `{startTime: "2026-01-01T10:00:00Z", failed: 1, conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded}]}`, workv1alpha1.ResourceUnhealthy)
		check(t, f, want{stalled: true, reason: workv1alpha1.TemplateReasonUnhealthy, kstatus: kstatus.FailedStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(1)})
	})
}

func TestOtherKinds(t *testing.T) {
	t.Run("a ConfigMap: observedGeneration alone once applied everywhere", func(t *testing.T) {
		f := deployment(t, 2, 1)
		f.tpl.Spec.Template.Raw = jsonOf(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: web, namespace: default}, data: {a: b}}`)
		f.bind("v1", "ConfigMap", 0, true)
		f.cluster("member1", 0, appliedTrue(), "", workv1alpha1.ResourceHealthy)
		out := check(t, f, want{ready: true, kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(2), aggregated: "{}"})
		if c := out.Template.Clusters[0]; c.AssignedReplicas != nil || c.Replicas != nil {
			t.Errorf("cluster %+v, want no replica counts for a ConfigMap", c)
		}
	})
	t.Run("a custom resource: the first cluster's status, without its observedGeneration", func(t *testing.T) {
		f := deployment(t, 2, 1)
		f.tpl.Spec.Template.Raw = jsonOf(t, `{apiVersion: example.com/v1, kind: Widget, metadata: {name: web, namespace: default}}`)
		f.bind("example.com/v1", "Widget", 0, true)
		f.cluster("member2", 0, appliedTrue(), `{phase: Idle, observedGeneration: 9}`, workv1alpha1.ResourceHealthy)
		f.cluster("member1", 0, appliedTrue(), `{phase: Running, observedGeneration: 7}`, workv1alpha1.ResourceHealthy)
		check(t, f, want{ready: true, kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(2), aggregated: "{phase: Running}"})
	})
}

func TestEviction(t *testing.T) {
	f := deployment(t, 1, 2)
	f.cluster("member1", 2, appliedTrue(), `
observedGeneration: 1
replicas: 2
updatedReplicas: 2
readyReplicas: 2
availableReplicas: 2
conditions:
- {type: Available, status: "True"}
- {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
`, workv1alpha1.ResourceHealthy)
	// member2 was evicted: no longer a target, its Work is still there.
	f.work("member2", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy).Annotations[workv1alpha1.AnnotationBindingGeneration] = "1"
	f.rb.Spec.GracefulEvictionTasks = []workv1alpha1.GracefulEvictionTask{{FromCluster: "member2", Reason: workv1alpha1.EvictionReasonTaintUntolerated, Producer: workv1alpha1.EvictionProducerTaintManager}}
	out := check(t, f, want{ready: true, kstatus: kstatus.CurrentStatus, fullyApplied: ptr.To(true), observedGeneration: int64p(1),
		// Only the targets count.
		aggregated: "{replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0}"})
	if n := len(out.Binding.AggregatedStatus); n != 2 || out.Binding.AggregatedStatus[1].ClusterName != "member2" {
		t.Fatalf("aggregated items %+v, want member1 and member2", out.Binding.AggregatedStatus)
	}
	if len(out.Template.Clusters) != 2 {
		t.Fatalf("clusters %+v, want 2", out.Template.Clusters)
	}
	m1, m2 := out.Template.Clusters[0], out.Template.Clusters[1]
	if m1.Evicting || !m2.Evicting || m2.AssignedReplicas != nil || m2.Health != workv1alpha1.ResourceHealthy || !m2.Applied {
		t.Errorf("clusters %+v / %+v, want member2 evicting, healthy, nothing assigned", m1, m2)
	}
}

func TestLastTransitionTime(t *testing.T) {
	f := deployment(t, 1, 1)
	f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
	f.tpl.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.TemplateConditionReady, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "old", LastTransitionTime: t0}}
	f.rb.Status.Conditions = append(f.rb.Status.Conditions, metav1.Condition{Type: workv1alpha1.ConditionFullyApplied, Status: metav1.ConditionFalse, LastTransitionTime: t0})
	out, err := Compute(f.input())
	if err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(out.Template.Conditions, workv1alpha1.TemplateConditionReady); !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("Ready lastTransitionTime = %v, want the old %v (status unchanged)", c.LastTransitionTime, t0)
	}
	if c := out.Binding.FullyApplied; !c.LastTransitionTime.Equal(&now) {
		t.Errorf("FullyApplied lastTransitionTime = %v, want %v (False -> True)", c.LastTransitionTime, now)
	}
	if n := len(out.Template.Conditions); n != 1 {
		t.Errorf("conditions %+v, want Ready alone (Reconciling and Stalled only while True)", out.Template.Conditions)
	}
}

func TestUpToDate(t *testing.T) {
	f := deployment(t, 1, 2)
	f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
	f.cluster("member2", 1, appliedTrue(), deployStarting1, workv1alpha1.ResourceUnhealthy)
	out, err := Compute(f.input())
	if err != nil {
		t.Fatal(err)
	}
	// The apiserver serves back what was applied, keys reordered.
	served := out.Template.DeepCopy()
	var m map[string]any
	_ = json.Unmarshal(served.AggregatedStatus.Raw, &m)
	served.AggregatedStatus.Raw, _ = json.Marshal(m)
	for i := range served.Conditions {
		served.Conditions[i].LastTransitionTime = t0
	}
	if !templateUpToDate(served, &out.Template) {
		t.Error("the served status is not recognized as up to date")
	}
	served.Clusters[1].ReadyReplicas = ptr.To[int32](1)
	if templateUpToDate(served, &out.Template) {
		t.Error("a changed cluster summary is taken as up to date")
	}

	rb := f.rb.DeepCopy()
	for _, it := range out.Binding.AggregatedStatus {
		rb.Status.AggregatedStatus = append(rb.Status.AggregatedStatus, *it.DeepCopy())
	}
	rb.Status.Conditions = append(rb.Status.Conditions, out.Binding.FullyApplied)
	if !bindingUpToDate(rb, out.Binding) {
		t.Error("the binding's status is not recognized as up to date")
	}
	rb.Status.AggregatedStatus[0].Status = &runtime.RawExtension{Raw: []byte(`{"replicas":5}`)}
	if bindingUpToDate(rb, out.Binding) {
		t.Error("a changed member status is taken as up to date")
	}
}

func TestWritesOverlay(t *testing.T) {
	var w writes
	tpl := &workv1alpha1.ResourceTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", UID: "u1", ResourceVersion: "10"}}
	st := &workv1alpha1.ResourceTemplateStatus{ObservedGeneration: 4}
	w.wroteTemplate(tpl, "12", st, t0.Time)

	stale := tpl.DeepCopy()
	stale.Status.Policy = &workv1alpha1.PolicyReference{Kind: "PropagationPolicy", Name: "p"}
	w.overlayTemplate(stale)
	if stale.Status.ObservedGeneration != 4 || stale.Status.Policy == nil {
		t.Errorf("stale cache: status %+v, want what was written with the cached policy", stale.Status)
	}
	between := tpl.DeepCopy()
	between.ResourceVersion = "11"
	w.overlayTemplate(between)
	if between.Status.ObservedGeneration != 4 {
		t.Error("a cached version older than the write is not overlaid")
	}
	fresh := tpl.DeepCopy()
	fresh.ResourceVersion = "12"
	w.overlayTemplate(fresh)
	if fresh.Status.ObservedGeneration != 0 {
		t.Error("a cache that shows the write is overlaid")
	}
	if _, ok := w.templates[key(tpl)]; ok {
		t.Error("the record outlives the cache catching up")
	}
	other := tpl.DeepCopy()
	other.UID = "u2"
	w.wroteTemplate(tpl, "12", st, t0.Time)
	w.overlayTemplate(other)
	if other.Status.ObservedGeneration != 0 {
		t.Error("a new template of the same name is overlaid")
	}
}

// TestProgressIsThrottled: progress details wait for the interval,
// transitions do not.
func TestProgressIsThrottled(t *testing.T) {
	f := deployment(t, 1, 2)
	f.cluster("member1", 1, appliedTrue(), deployReady1, workv1alpha1.ResourceHealthy)
	f.cluster("member2", 1, appliedTrue(), deployStarting1, workv1alpha1.ResourceUnhealthy)
	first, err := Compute(f.input())
	if err != nil {
		t.Fatal(err)
	}
	f.tpl.Status = first.Template
	f.rb.Status.AggregatedStatus = first.Binding.AggregatedStatus
	f.rb.Status.Conditions = append(f.rb.Status.Conditions, first.Binding.FullyApplied)

	// member2 makes progress (a replica becomes available but not ready).
	// (A new status, as the cache would hold: the binding keeps the old.)
	f.works[1].Status.ManifestStatuses[0].Status = &runtime.RawExtension{Raw: jsonOf(t, `
observedGeneration: 1
replicas: 1
updatedReplicas: 1
availableReplicas: 1
conditions:
- {type: Progressing, status: "True", reason: ReplicaSetUpdated}
`)}
	progress, err := Compute(f.input())
	if err != nil {
		t.Fatal(err)
	}
	if templateUpToDate(&f.tpl.Status, &progress.Template) || templateTransition(&f.tpl.Status, &progress.Template) {
		t.Error("progress: want a change that is not a transition")
	}
	if bindingUpToDate(f.rb, progress.Binding) || bindingTransition(f.rb, progress.Binding) {
		t.Error("progress: want a binding change that is not a transition")
	}
	r := &Reconciler{}
	k := key(f.tpl)
	r.written.wroteTemplate(f.tpl, "2", &first.Template, t0.Time)
	if wait := r.hold(k, templateSlot, t0.Add(300*time.Millisecond), false, false); wait != 700*time.Millisecond {
		t.Errorf("hold = %v, want 700ms", wait)
	}
	if wait := r.hold(k, templateSlot, t0.Add(300*time.Millisecond), true, true); wait != 0 {
		t.Errorf("a transition to an outcome is held for %v", wait)
	}
	// A transition to an intermediate state waits for the outcome, from
	// the first time it was put off, for one interval.
	if wait := r.hold(k, templateSlot, t0.Add(300*time.Millisecond), true, false); wait != time.Second {
		t.Errorf("a transition to an intermediate state is held for %v, want 1s", wait)
	}
	if wait := r.hold(k, templateSlot, t0.Add(900*time.Millisecond), true, false); wait != 400*time.Millisecond {
		t.Errorf("the same, later: held for %v, want 400ms", wait)
	}
	if wait := r.hold(k, templateSlot, t0.Add(1300*time.Millisecond), true, false); wait != 0 {
		t.Errorf("the same, after an interval: held for %v", wait)
	}
	if wait := r.hold(k, bindingSlot, t0.Add(300*time.Millisecond), false, false); wait != 0 {
		t.Errorf("the binding, never written, is held for %v", wait)
	}
	r.ProgressInterval = -1
	if wait := r.hold(k, templateSlot, t0.Add(300*time.Millisecond), false, false); wait != 0 {
		t.Errorf("no bound: held for %v", wait)
	}

	// member2 becomes ready: a transition.
	f.works[1].Status.ManifestStatuses[0] = workv1alpha1.ManifestStatus{Identifier: f.works[1].Status.ManifestStatuses[0].Identifier,
		Status: &runtime.RawExtension{Raw: jsonOf(t, deployReady1)}, Health: workv1alpha1.ResourceHealthy}
	done, err := Compute(f.input())
	if err != nil {
		t.Fatal(err)
	}
	if !templateTransition(&f.tpl.Status, &done.Template) {
		t.Error("Ready: want a transition")
	}
}
