// Package interpreter reads what the detector and the scheduler need from a
// wrapped object (DESIGN §3, Detector): its replica count and the
// requirements of one replica, and the objects it depends on. It is pure: no
// clients, no caches, only the object.
//
// The rules follow Karmada's default resource interpreter
// (pkg/resourceinterpreter/default/native), with the differences noted on
// each function. Wrapped objects are never defaulted by the host's
// apiserver, so the Kubernetes defaults that Karmada gets for free from its
// own apiserver (replicas 1, parallelism 1, requests from limits) are
// applied here.
package interpreter

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/jsonint"
)

// Replicas returns the replica count of obj and the requirements of one
// replica; ok is false for kinds without replicas (ConfigMap, Service,
// DaemonSet, ...), which the scheduler then treats as a whole.
//
//   - apps Deployment, StatefulSet, ReplicaSet: spec.replicas, 1 when
//     absent (the Kubernetes default).
//   - batch Job: spec.parallelism, 1 when absent, but never more than
//     spec.completions when that is set, because a Job with fixed
//     completions never runs more Pods at once than it has completions
//     (Karmada takes parallelism alone and would reserve capacity for Pods
//     that can never run).
//   - core Pod: 1.
//   - any other kind with an integer spec.replicas: that value (custom
//     workloads, a scale subresource's usual shape). Its requirements are
//     read from spec.template when that holds a pod template, else nil.
//
// The requirements of one replica are the resource requests of its Pod (see
// PodRequests), the Pod's node constraints (nodeSelector, required node
// affinity, tolerations) as a NodeClaim, its priorityClassName and the
// object's namespace. A malformed pod template gives nil requirements
// rather than an error: the replica count is still usable.
func Replicas(obj *unstructured.Unstructured) (replicas int32, req *workv1alpha1.ReplicaRequirements, ok bool) {
	if obj == nil {
		return 0, nil, false
	}
	gk := obj.GroupVersionKind().GroupKind()
	switch {
	case gk.Group == "apps" && (gk.Kind == "Deployment" || gk.Kind == "StatefulSet" || gk.Kind == "ReplicaSet"):
		n, found := nestedInt(obj.Object, "spec", "replicas")
		if !found {
			n = 1
		}
		return clamp(n), podTemplateRequirements(obj, "spec", "template"), true
	case gk.Group == "batch" && gk.Kind == "Job":
		n, found := nestedInt(obj.Object, "spec", "parallelism")
		if !found {
			n = 1
		}
		if c, found := nestedInt(obj.Object, "spec", "completions"); found && c < n {
			n = c
		}
		return clamp(n), podTemplateRequirements(obj, "spec", "template"), true
	case gk.Group == "" && gk.Kind == "Pod":
		spec, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec")
		if !found {
			return 1, requirements(obj, nil), true
		}
		var ps corev1.PodSpec
		if decode(spec, &ps) != nil {
			return 1, nil, true
		}
		return 1, requirements(obj, &ps), true
	}
	n, found := nestedInt(obj.Object, "spec", "replicas")
	if !found {
		return 0, nil, false
	}
	if !hasPodTemplate(obj, "spec", "template") {
		return clamp(n), nil, true
	}
	return clamp(n), podTemplateRequirements(obj, "spec", "template"), true
}

// podTemplateRequirements decodes the pod template at path and derives the
// requirements of one replica from it; nil when there is none or it does
// not decode.
func podTemplateRequirements(obj *unstructured.Unstructured, path ...string) *workv1alpha1.ReplicaRequirements {
	pt, ok := PodTemplate(obj, path...)
	if !ok {
		return nil
	}
	return requirements(obj, &pt.Spec)
}

func requirements(obj *unstructured.Unstructured, spec *corev1.PodSpec) *workv1alpha1.ReplicaRequirements {
	req := &workv1alpha1.ReplicaRequirements{Namespace: obj.GetNamespace()}
	if spec == nil {
		return req
	}
	req.PriorityClassName = spec.PriorityClassName
	if r := PodRequests(spec); len(r) > 0 {
		req.ResourceRequest = r
	}
	req.NodeClaim = nodeClaim(spec)
	return req
}

// nodeClaim collects the constraints that limit the nodes a replica can run
// on; nil when there are none.
func nodeClaim(spec *corev1.PodSpec) *workv1alpha1.NodeClaim {
	var hard *corev1.NodeSelector
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		hard = a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.DeepCopy()
	}
	if hard == nil && len(spec.NodeSelector) == 0 && len(spec.Tolerations) == 0 {
		return nil
	}
	nc := &workv1alpha1.NodeClaim{HardNodeAffinity: hard}
	if len(spec.NodeSelector) > 0 {
		nc.NodeSelector = make(map[string]string, len(spec.NodeSelector))
		for k, v := range spec.NodeSelector {
			nc.NodeSelector[k] = v
		}
	}
	if len(spec.Tolerations) > 0 {
		nc.Tolerations = make([]corev1.Toleration, len(spec.Tolerations))
		for i := range spec.Tolerations {
			spec.Tolerations[i].DeepCopyInto(&nc.Tolerations[i])
		}
	}
	return nc
}

// PodTemplate decodes the pod template found at path in obj (for example
// "spec", "template" of a Deployment); ok is false when there is none or it
// does not decode.
func PodTemplate(obj *unstructured.Unstructured, path ...string) (corev1.PodTemplateSpec, bool) {
	var pt corev1.PodTemplateSpec
	raw, found, _ := unstructured.NestedFieldNoCopy(obj.Object, path...)
	if !found || raw == nil {
		return pt, false
	}
	if decode(raw, &pt) != nil {
		return pt, false
	}
	return pt, true
}

// hasPodTemplate tells whether path holds something shaped like a pod
// template: a map with spec.containers.
func hasPodTemplate(obj *unstructured.Unstructured, path ...string) bool {
	containers, found, _ := unstructured.NestedFieldNoCopy(obj.Object, append(append([]string{}, path...), "spec", "containers")...)
	if !found {
		return false
	}
	_, isList := containers.([]any)
	return isList
}

// decode converts a piece of an unstructured object into a typed value
// through JSON, which accepts numbers decoded either as int64 (the
// apimachinery decoder) or as float64 (encoding/json).
func decode(in any, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// nestedInt reads an integer field, whichever way the JSON was decoded.
func nestedInt(obj map[string]any, fields ...string) (int64, bool) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if !found || err != nil {
		return 0, false
	}
	return jsonint.Int64(v)
}

// clamp keeps a replica count within what ResourceBinding.spec.replicas
// accepts (0 to MaxInt32).
func clamp(n int64) int32 { return jsonint.ClampInt32(n) }
