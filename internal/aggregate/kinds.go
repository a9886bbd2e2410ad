package aggregate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// kind is a wrapped kind with known status rules; kindOther has none.
type kind int

const (
	kindOther kind = iota
	kindDeployment
	kindStatefulSet
	kindDaemonSet
	kindReplicaSet
	kindJob
	kindCronJob
	kindPod
	kindService
	kindIngress
	kindPVC
	kindPDB
)

// kindOf maps a GroupVersionKind to its rules; the version is ignored.
func kindOf(gvk schema.GroupVersionKind) kind {
	switch gk := gvk.GroupKind(); gk {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		return kindDeployment
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		return kindStatefulSet
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		return kindDaemonSet
	case schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		return kindReplicaSet
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		return kindJob
	case schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		return kindCronJob
	case schema.GroupKind{Kind: "Pod"}:
		return kindPod
	case schema.GroupKind{Kind: "Service"}:
		return kindService
	case schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, schema.GroupKind{Group: "extensions", Kind: "Ingress"}:
		return kindIngress
	case schema.GroupKind{Kind: "PersistentVolumeClaim"}:
		return kindPVC
	case schema.GroupKind{Group: "policy", Kind: "PodDisruptionBudget"}:
		return kindPDB
	}
	return kindOther
}

// needsStatus says whether readiness is read from the status, so that a
// member that has not reported status yet is still in progress. Kinds whose
// readiness does not depend on status (Service, Ingress, CronJob, kinds
// without rules) are current once applied.
func (k kind) needsStatus() bool {
	switch k {
	case kindDeployment, kindStatefulSet, kindDaemonSet, kindReplicaSet, kindJob, kindPod, kindPVC, kindPDB:
		return true
	}
	return false
}

// tracksGeneration says whether the kind's controller always records
// status.observedGeneration, so that its absence means "not observed yet".
// For other kinds kstatus checks observedGeneration only when present.
func (k kind) tracksGeneration() bool {
	switch k {
	case kindDeployment, kindStatefulSet, kindDaemonSet, kindReplicaSet, kindPDB:
		return true
	}
	return false
}

// failure reports a terminal failure of the object, as kstatus's Failed.
func (k kind) failure(st map[string]any) (string, bool) {
	switch k {
	case kindDeployment:
		if c := condition(st, "Progressing"); c != nil && str(c, "reason") == "ProgressDeadlineExceeded" {
			return withMessage("progress deadline exceeded", c), true
		}
	case kindJob:
		if c := condition(st, "Failed"); c != nil && str(c, "status") == "True" {
			return withMessage("Job failed", c), true
		}
	case kindPod:
		if str(st, "phase") == "Failed" {
			return withMessage("Pod failed", st), true
		}
	case kindPVC:
		if str(st, "phase") == "Lost" {
			return "PersistentVolumeClaim lost its volume", true
		}
	}
	if c := condition(st, "Stalled"); c != nil && str(c, "status") == "True" {
		return withMessage("stalled", c), true
	}
	return "", false
}

// progress returns why an applied, observed, not failed object is not
// current yet; empty when it is current.
func (k kind) progress(st map[string]any, desired int64) string {
	n := func(f string) int64 { v, _ := nestedInt(st, f); return v }
	switch k {
	case kindDeployment:
		replicas, updated, available, ready := n("replicas"), n("updatedReplicas"), n("availableReplicas"), n("readyReplicas")
		switch {
		case desired > replicas:
			return fmt.Sprintf("has %d/%d replicas", replicas, desired)
		case desired > updated:
			return fmt.Sprintf("has %d/%d updated replicas", updated, desired)
		case replicas > desired:
			return fmt.Sprintf("has %d old replicas pending termination", replicas-desired)
		case updated > available:
			return fmt.Sprintf("has %d/%d available replicas", available, updated)
		case desired > ready:
			return fmt.Sprintf("has %d/%d ready replicas", ready, desired)
		}
		if c := condition(st, "Progressing"); c == nil || str(c, "status") != "True" || str(c, "reason") != "NewReplicaSetAvailable" {
			return "has no available new ReplicaSet yet"
		}
		if c := condition(st, "Available"); c == nil || str(c, "status") != "True" {
			return "is not Available"
		}
	case kindStatefulSet:
		replicas, ready, current := n("replicas"), n("readyReplicas"), n("currentReplicas")
		switch {
		case desired > replicas:
			return fmt.Sprintf("has %d/%d replicas", replicas, desired)
		case desired > ready:
			return fmt.Sprintf("has %d/%d ready replicas", ready, desired)
		case replicas > desired:
			return fmt.Sprintf("has %d old replicas pending termination", replicas-desired)
		case desired > current:
			return fmt.Sprintf("has %d/%d current replicas", current, desired)
		}
		if cur, upd := str(st, "currentRevision"), str(st, "updateRevision"); cur != "" && upd != "" && cur != upd {
			return fmt.Sprintf("is waiting for revision %s", upd)
		}
	case kindDaemonSet:
		wanted, ok := nestedInt(st, "desiredNumberScheduled")
		if !ok {
			return "has not reported desiredNumberScheduled yet"
		}
		switch {
		case wanted > n("currentNumberScheduled"):
			return fmt.Sprintf("has %d/%d scheduled pods", n("currentNumberScheduled"), wanted)
		case wanted > n("updatedNumberScheduled"):
			return fmt.Sprintf("has %d/%d updated pods", n("updatedNumberScheduled"), wanted)
		case wanted > n("numberAvailable"):
			return fmt.Sprintf("has %d/%d available pods", n("numberAvailable"), wanted)
		case wanted > n("numberReady"):
			return fmt.Sprintf("has %d/%d ready pods", n("numberReady"), wanted)
		}
	case kindReplicaSet:
		if c := condition(st, "ReplicaFailure"); c != nil && str(c, "status") == "True" {
			return withMessage("reports ReplicaFailure", c)
		}
		replicas := n("replicas")
		switch {
		case desired > n("fullyLabeledReplicas"):
			return fmt.Sprintf("has %d/%d labelled replicas", n("fullyLabeledReplicas"), desired)
		case desired > n("availableReplicas"):
			return fmt.Sprintf("has %d/%d available replicas", n("availableReplicas"), desired)
		case desired > n("readyReplicas"):
			return fmt.Sprintf("has %d/%d ready replicas", n("readyReplicas"), desired)
		case replicas > desired:
			return fmt.Sprintf("has %d old replicas pending termination", replicas-desired)
		}
	case kindJob:
		// kstatus: a started Job is current; a Job only completes in the
		// aggregated status's Complete condition.
		if c := condition(st, "Complete"); c != nil && str(c, "status") == "True" {
			return ""
		}
		if str(st, "startTime") == "" {
			return "has not started the Job yet"
		}
	case kindPod:
		switch phase := str(st, "phase"); phase {
		case "Succeeded":
		case "Running":
			if c := condition(st, "Ready"); c == nil || str(c, "status") != "True" {
				return "has a Pod running but not ready"
			}
		case "":
			return "has a Pod with no phase yet"
		default:
			return "has a Pod in phase " + phase
		}
	case kindPVC:
		if phase := str(st, "phase"); phase != "Bound" {
			if phase == "" {
				phase = "unknown"
			}
			return "has a PersistentVolumeClaim in phase " + phase
		}
	case kindPDB:
		if cur, want := n("currentHealthy"), n("desiredHealthy"); cur < want {
			return fmt.Sprintf("has %d/%d healthy pods for its budget", cur, want)
		}
	}
	if c := condition(st, "Reconciling"); c != nil && str(c, "status") == "True" {
		return withMessage("is reconciling", c)
	}
	return ""
}

// replicas returns the replica counts shown per cluster.
func (k kind) replicas(st map[string]any) (*int32, *int32) {
	if st == nil {
		return nil, nil
	}
	switch k {
	case kindDeployment, kindStatefulSet, kindReplicaSet:
		return int32p(st, "replicas"), int32p(st, "readyReplicas")
	case kindDaemonSet:
		return int32p(st, "desiredNumberScheduled"), int32p(st, "numberReady")
	}
	return nil, nil
}

func int32p(st map[string]any, f string) *int32 {
	v, _ := nestedInt(st, f)
	c := clamp(v)
	return &c
}

// withMessage appends the reason and message of a condition (or status).
func withMessage(what string, c map[string]any) string {
	r, m := str(c, "reason"), str(c, "message")
	switch {
	case r != "" && m != "":
		return fmt.Sprintf("%s: %s: %s", what, r, m)
	case r != "":
		return what + ": " + r
	case m != "":
		return what + ": " + m
	}
	return what
}
