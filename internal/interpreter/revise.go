package interpreter

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ReviseReplicas sets the replica count of obj to n, for the copy of a
// workload sent to one member cluster; it is the inverse of Replicas and
// knows the same kinds. It reports whether obj is a kind with replicas
// (false: obj is left unchanged and n means nothing), and an error when the
// field cannot be set (spec is not an object).
//
//   - apps Deployment, StatefulSet, ReplicaSet: spec.replicas.
//   - batch Job: spec.parallelism, as Karmada's reviseJobReplica does. The
//     Job's spec.completions is divided separately (ReviseJobCompletions),
//     only when replicas are divided among clusters.
//   - core Pod: one replica that cannot be changed; obj is left as it is.
//   - any other kind with an integer spec.replicas: spec.replicas.
//
// obj is modified in place.
func ReviseReplicas(obj *unstructured.Unstructured, n int32) (bool, error) {
	if obj == nil {
		return false, nil
	}
	field := "replicas"
	gk := obj.GroupVersionKind().GroupKind()
	switch {
	case gk.Group == "apps" && (gk.Kind == "Deployment" || gk.Kind == "StatefulSet" || gk.Kind == "ReplicaSet"):
	case gk.Group == "batch" && gk.Kind == "Job":
		field = "parallelism"
	case gk.Group == "" && gk.Kind == "Pod":
		return true, nil
	default:
		// Other kinds have replicas only when Replicas finds them.
		if _, found := nestedInt(obj.Object, "spec", "replicas"); !found {
			return false, nil
		}
	}
	if err := unstructured.SetNestedField(obj.Object, int64(n), "spec", field); err != nil {
		return true, fmt.Errorf("setting spec.%s of %s %s: %w", field, obj.GetKind(), obj.GetName(), err)
	}
	return true, nil
}

// JobCompletions returns spec.completions of a batch Job; ok is false for
// other kinds and for Jobs without completions (work-queue Jobs), whose
// completions are never divided.
func JobCompletions(obj *unstructured.Unstructured) (completions int32, ok bool) {
	if obj == nil {
		return 0, false
	}
	gk := obj.GroupVersionKind().GroupKind()
	if gk.Group != "batch" || gk.Kind != "Job" {
		return 0, false
	}
	n, found := nestedInt(obj.Object, "spec", "completions")
	if !found {
		return 0, false
	}
	return clamp(n), true
}

// ReviseJobCompletions sets spec.completions of a batch Job to n. Like
// Karmada, it only replaces a value the Job already has: a Job without
// completions finishes when its work queue is empty, and giving it a count
// would change what it does. It reports whether it changed obj.
func ReviseJobCompletions(obj *unstructured.Unstructured, n int32) (bool, error) {
	if _, ok := JobCompletions(obj); !ok {
		return false, nil
	}
	if err := unstructured.SetNestedField(obj.Object, int64(n), "spec", "completions"); err != nil {
		return false, fmt.Errorf("setting spec.completions of Job %s: %w", obj.GetName(), err)
	}
	return true, nil
}
