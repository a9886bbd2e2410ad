package status

import (
	"encoding/json"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/aggregate"
	"argosy.dev/argosy/internal/jsonint"
)

// applyState is what a Work's conditions and annotations say about the
// apply of its current manifests.
type applyState struct {
	// applied: the Work's current generation is applied to the member.
	applied bool
	// message explains a failed or waiting apply.
	message string
	// failReason is the TemplateReason* of an apply that needs
	// intervention; empty when the apply is done, pending or waiting.
	failReason string
	// waiting: not applied, and nothing to fix here (the member is
	// unreachable, dispatching is suspended, the apply is in progress).
	waiting bool
	// suspended: dispatching to the member is suspended.
	suspended bool
}

// workApplied reads whether the Work's current manifests are applied.
// A condition written for an older generation of the Work says nothing
// about the current manifests: they are pending. So is a Work rendered
// from a binding generation older than rendered, the binding's
// status.observedGeneration: the binding controller stamps every Work
// before it records that generation, so the cache has not shown this
// Work's latest version yet.
func workApplied(w *workv1alpha1.Work, rendered int64) applyState {
	if msg := w.Annotations[workv1alpha1.AnnotationRenderError]; msg != "" {
		// The binding controller could not render this cluster's manifests;
		// the annotation is authoritative whatever the execution controller
		// has reported so far.
		return applyState{message: msg, failReason: workv1alpha1.TemplateReasonOverrideFailed}
	}
	if g, err := strconv.ParseInt(w.Annotations[workv1alpha1.AnnotationBindingGeneration], 10, 64); err == nil && g < rendered {
		return applyState{}
	}
	if !w.DeletionTimestamp.IsZero() {
		// The objects are being removed from the member (the cluster left
		// the placement, or the Work is being replaced).
		return applyState{message: "the Work is being deleted", waiting: true}
	}
	suspended := w.Spec.SuspendDispatching != nil && *w.Spec.SuspendDispatching
	c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	current := false
	if c != nil {
		observed := c.ObservedGeneration
		if observed == 0 {
			observed = w.Status.ObservedGeneration
		}
		current = observed >= w.Generation
	}
	switch {
	case current && c.Status == metav1.ConditionTrue:
		return applyState{applied: true}
	case suspended || (current && c.Reason == workv1alpha1.WorkReasonDispatchingSuspended):
		return applyState{waiting: true, suspended: true, message: "dispatching is suspended (spec.suspension of the propagation policy)"}
	case !current:
		return applyState{}
	case c.Status == metav1.ConditionFalse:
		msg := c.Message
		if msg == "" {
			msg = c.Reason
		}
		switch c.Reason {
		case workv1alpha1.WorkReasonConflict:
			return applyState{message: msg, failReason: workv1alpha1.TemplateReasonConflict}
		case workv1alpha1.WorkReasonOverrideFailed:
			return applyState{message: msg, failReason: workv1alpha1.TemplateReasonOverrideFailed}
		case workv1alpha1.WorkReasonClusterUnreachable:
			return applyState{message: msg, waiting: true}
		}
		return applyState{message: msg, failReason: workv1alpha1.TemplateReasonApplyFailed}
	}
	// Unknown: the execution controller is at it.
	return applyState{message: c.Message, waiting: true}
}

// clusterOf is the member cluster of a Work, from its execution namespace.
func clusterOf(w *workv1alpha1.Work) (string, bool) {
	c, ok := strings.CutPrefix(w.Namespace, workv1alpha1.ExecutionNamespacePrefix)
	return c, ok && c != ""
}

// wrapped identifies the wrapped object among a Work's manifests.
type wrapped struct {
	gvk       schema.GroupVersionKind
	namespace string
	name      string
}

func wrappedOf(rb *workv1alpha1.ResourceBinding) wrapped {
	r := rb.Spec.Resource
	return wrapped{gvk: schema.FromAPIVersionAndKind(r.APIVersion, r.Kind), namespace: r.Namespace, name: r.Name}
}

// manifestStatus returns the status the Work reports for the wrapped
// object: the entry whose identifier names it, else the first manifest's.
func manifestStatus(w *workv1alpha1.Work, id wrapped) *workv1alpha1.ManifestStatus {
	var first *workv1alpha1.ManifestStatus
	for i := range w.Status.ManifestStatuses {
		ms := &w.Status.ManifestStatuses[i]
		r := ms.Identifier
		if r.Group == id.gvk.Group && r.Kind == id.gvk.Kind && r.Namespace == id.namespace && r.Name == id.name {
			return ms
		}
		if r.Ordinal == 0 {
			first = ms
		}
	}
	return first
}

// member is one cluster's view of the wrapped object.
type member struct {
	aggregate.Member
	// raw is the member object's status as the Work reports it.
	raw *runtime.RawExtension
	// suspended: dispatching to the cluster is suspended and the current
	// manifests are not applied.
	suspended bool
	// work tells whether the cluster has a Work at all.
	work bool
}

// memberOf builds the member of cluster from its Work (nil when the
// binding controller has not rendered it yet); rendered is the binding's
// status.observedGeneration.
//
// The Work's status carries the member object's status and health but not
// its metadata.generation nor its defaulted spec.replicas. Generation is
// left 0 (unknown), and the health the execution controller reported,
// which it computes knowing the generation, stands in for the generation
// check (aggregate.Member.ReportedHealth). The desired replicas are the
// ones in the Work's manifest, which is what was applied, unless the
// object leaves spec.replicas to the member (LabelRetainReplicas): then
// the member's own status.replicas.
func memberOf(cluster string, w *workv1alpha1.Work, id wrapped, rendered int64) member {
	m := member{Member: aggregate.Member{Cluster: cluster}}
	if w == nil {
		return m
	}
	m.work = true
	st := workApplied(w, rendered)
	m.Applied = st.applied
	if !st.applied {
		m.AppliedMessage = st.message
	}
	m.FailureReason = st.failReason
	m.Waiting = st.waiting
	m.suspended = st.suspended && !st.applied
	if ms := manifestStatus(w, id); ms != nil {
		m.ReportedHealth = ms.Health
		m.raw = ms.Status
		m.Status = decodeStatus(ms)
	}
	if replicaKind(id.gvk) {
		m.DesiredReplicas = desiredReplicas(w, id, m.Status)
	}
	return m
}

// decodeStatus decodes a reported status. A manifest whose object was
// observed without a status (or with an empty one) gives an empty map;
// one not observed yet gives nil.
func decodeStatus(ms *workv1alpha1.ManifestStatus) map[string]any {
	if ms.Status != nil && len(ms.Status.Raw) > 0 {
		out := map[string]any{}
		if err := json.Unmarshal(ms.Status.Raw, &out); err == nil && out != nil {
			return out
		}
	}
	if ms.Health == workv1alpha1.ResourceHealthy || ms.Health == workv1alpha1.ResourceUnhealthy {
		return map[string]any{}
	}
	return nil
}

// replicaKind: the kinds whose readiness compares the replicas with
// spec.replicas (aggregate.Member.DesiredReplicas).
func replicaKind(gvk schema.GroupVersionKind) bool {
	return gvk.Group == "apps" && (gvk.Kind == "Deployment" || gvk.Kind == "StatefulSet" || gvk.Kind == "ReplicaSet")
}

// desiredReplicas reads spec.replicas of the wrapped object's manifest in
// w (1 when absent, the Kubernetes default).
func desiredReplicas(w *workv1alpha1.Work, id wrapped, status map[string]any) int32 {
	raw := wrappedManifest(w, id)
	if raw == nil {
		n, _ := jsonint.Int64(status["replicas"])
		return jsonint.ClampInt32(n)
	}
	var obj struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Replicas *int64 `json:"replicas"`
		} `json:"spec"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		n, _ := jsonint.Int64(status["replicas"])
		return jsonint.ClampInt32(n)
	}
	if obj.Metadata.Labels[workv1alpha1.LabelRetainReplicas] == "true" {
		// The member (an HPA there) owns spec.replicas; its status is the
		// best account of what it wants.
		n, _ := jsonint.Int64(status["replicas"])
		return jsonint.ClampInt32(n)
	}
	if obj.Spec.Replicas == nil {
		return 1
	}
	return jsonint.ClampInt32(*obj.Spec.Replicas)
}

// wrappedManifest returns the raw manifest of the wrapped object in w: the
// one with its kind, namespace and name, else the first.
func wrappedManifest(w *workv1alpha1.Work, id wrapped) []byte {
	ms := w.Spec.Workload.Manifests
	if len(ms) == 0 {
		return nil
	}
	if len(ms) > 1 {
		for _, m := range ms {
			var head struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Namespace string `json:"namespace"`
					Name      string `json:"name"`
				} `json:"metadata"`
			}
			if json.Unmarshal(m.Raw, &head) == nil && head.Kind == id.gvk.Kind && head.Metadata.Name == id.name && head.Metadata.Namespace == id.namespace {
				return m.Raw
			}
		}
	}
	return ms[0].Raw
}
