/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// KindWork is the kind name of Work.
const KindWork = "Work"

// ExecutionNamespacePrefix prefixes the name of a member cluster to form the
// namespace its Works live in (argosy-es-<cluster>).
const ExecutionNamespacePrefix = "argosy-es-"

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=works,scope=Namespaced,shortName=wk,categories=argosy
// +kubebuilder:printcolumn:name="Workload-Kind",type=string,JSONPath=`.spec.workload.manifests[*].kind`
// +kubebuilder:printcolumn:name="Workload-Name",type=string,JSONPath=`.spec.workload.manifests[*].metadata.name`,priority=1
// +kubebuilder:printcolumn:name="Applied",type=string,JSONPath=`.status.conditions[?(@.type=="Applied")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Work is the set of objects to apply to one member cluster, rendered by the
// binding controller from a ResourceBinding with the overrides for that
// cluster applied. Works live in the execution namespace of their cluster,
// argosy-es-<cluster>, so that a pull-mode agent can be limited by RBAC to
// its own cluster's Works.
type Work struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the objects to apply.
	// +required
	Spec WorkSpec `json:"spec"`

	// Status is the most recently observed state of the objects in the
	// member cluster.
	// +optional
	Status WorkStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WorkList is a list of Work.
type WorkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of Work.
	Items []Work `json:"items"`
}

// WorkSpec is the desired state of a Work.
type WorkSpec struct {
	// Workload is the objects to apply to the member cluster.
	// +optional
	Workload WorkloadTemplate `json:"workload,omitempty"`

	// SuspendDispatching, when true, stops applying changes to the member
	// cluster; the objects already there keep running and their status is
	// still collected. Unset or false means not suspended.
	// +optional
	SuspendDispatching *bool `json:"suspendDispatching,omitempty"`

	// PreserveResourcesOnDeletion, when true, leaves the objects in the
	// member cluster when the Work is deleted. When false or unset they are
	// deleted with the Work.
	// +optional
	PreserveResourcesOnDeletion *bool `json:"preserveResourcesOnDeletion,omitempty"`
}

// WorkloadTemplate is the list of objects of a Work.
type WorkloadTemplate struct {
	// Manifests are the complete objects to apply, in order.
	// +optional
	// +listType=atomic
	Manifests []Manifest `json:"manifests,omitempty"`
}

// Manifest is one complete Kubernetes object (apiVersion, kind, metadata
// and the kind's fields).
type Manifest struct {
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:EmbeddedResource
	runtime.RawExtension `json:",inline"`
}

// WorkStatus is the observed state of a Work.
type WorkStatus struct {
	// ObservedGeneration is the metadata.generation of the Work that the
	// execution controller last applied (or tried to apply).
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the Work:
	//
	//   - Applied: the manifests are applied to the member cluster.
	//   - Progressing: the manifests are being applied.
	//   - Available: all manifests exist in the member cluster.
	//   - Degraded: the objects have not matched the desired state for
	//     some time.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ManifestStatuses are the status of each manifest in the member
	// cluster.
	// +optional
	// +listType=atomic
	ManifestStatuses []ManifestStatus `json:"manifestStatuses,omitempty"`
}

// ManifestStatus is the status of one manifest in the member cluster.
type ManifestStatus struct {
	// Identifier links the status to its manifest.
	// +required
	Identifier ResourceIdentifier `json:"identifier"`

	// Status is the status field of the object in the member cluster.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Status *runtime.RawExtension `json:"status,omitempty"`

	// Health of the object: Healthy, Unhealthy or Unknown.
	// +optional
	Health ResourceHealth `json:"health,omitempty"`
}

// ResourceIdentifier identifies a manifest and the object it became.
type ResourceIdentifier struct {
	// Ordinal is the index of the manifest in spec.workload.manifests, so
	// that a status can be linked to a manifest that could not be parsed.
	// +required
	// +kubebuilder:validation:Minimum=0
	Ordinal int32 `json:"ordinal"`

	// Group is the API group of the object; empty for the core group.
	// +optional
	Group string `json:"group,omitempty"`

	// Version is the API version of the object.
	// +required
	Version string `json:"version"`

	// Kind is the kind of the object.
	// +required
	Kind string `json:"kind"`

	// Resource is the resource (plural) name of the kind, for example
	// "deployments".
	// +required
	Resource string `json:"resource"`

	// Namespace of the object; empty for cluster-scoped objects.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the object.
	// +required
	Name string `json:"name"`
}

// Condition types of WorkStatus.
const (
	// WorkApplied is True when the manifests are applied to the member
	// cluster.
	WorkApplied = "Applied"
	// WorkProgressing is True while the manifests are being applied.
	WorkProgressing = "Progressing"
	// WorkAvailable is True when all manifests exist in the member cluster.
	WorkAvailable = "Available"
	// WorkDegraded is True when the objects have not matched the desired
	// state for some time.
	WorkDegraded = "Degraded"
)

// Reasons of the Work conditions.
const (
	// WorkReasonAppliedSuccessful: every manifest was applied.
	WorkReasonAppliedSuccessful = "AppliedSuccessful"
	// WorkReasonAppliedFailed: applying at least one manifest failed.
	WorkReasonAppliedFailed = "AppliedFailed"
	// WorkReasonConflict: an object exists in the member cluster, is not
	// managed by Argosy, and conflictResolution is Abort.
	WorkReasonConflict = "Conflict"
	// WorkReasonDispatchingSuspended: spec.suspendDispatching is true.
	WorkReasonDispatchingSuspended = "DispatchingSuspended"
	// WorkReasonClusterUnreachable: the member cluster cannot be reached.
	WorkReasonClusterUnreachable = "ClusterUnreachable"
)

func init() {
	SchemeBuilder.Register(&Work{}, &WorkList{})
}
