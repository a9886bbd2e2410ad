/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// KindResourceTemplate is the kind name of ResourceTemplate.
const KindResourceTemplate = "ResourceTemplate"

// DefaultTemplateNamespace is the namespace ResourceTemplates live in unless
// the manager is configured otherwise.
const DefaultTemplateNamespace = "argosy-templates"

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=resourcetemplates,scope=Namespaced,shortName=rt,categories=argosy
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.template.kind`
// +kubebuilder:printcolumn:name="Target-Namespace",type=string,JSONPath=`.spec.template.metadata.namespace`
// +kubebuilder:printcolumn:name="Target-Name",type=string,JSONPath=`.spec.template.metadata.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.status.policy.name`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ResourceTemplate holds a native Kubernetes object (any kind, namespaced or
// cluster-scoped, custom resources included) that Argosy propagates to
// member clusters. The object is wrapped instead of being stored as itself
// so that the host cluster's own controllers never act on it: a wrapped
// Deployment starts no Pods on the host, a wrapped Service claims no host
// ports.
//
// ResourceTemplates live in one namespace (argosy-templates by default).
// Exactly one ResourceTemplate may wrap a given (API group, kind, namespace,
// name); its own name is derived from those four parts. The namespace of the
// wrapped object (spec.template.metadata.namespace) is the namespace the
// object gets in every member cluster, and the namespace that
// PropagationPolicies and OverridePolicies are matched against.
//
// The status carries the member clusters' status of the object, aggregated,
// together with kstatus-compatible conditions (Ready, Reconciling, Stalled)
// and observedGeneration, so that kubectl wait, Argo CD, Flux and kstatus can
// tell when a rollout is complete.
type ResourceTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the wrapped object.
	// +required
	Spec ResourceTemplateSpec `json:"spec"`

	// Status is the most recently observed status of the propagation and of
	// the wrapped object in the member clusters.
	// +optional
	Status ResourceTemplateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ResourceTemplateList is a list of ResourceTemplate.
type ResourceTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of ResourceTemplate.
	Items []ResourceTemplate `json:"items"`
}

// ResourceTemplateSpec holds the wrapped object.
type ResourceTemplateSpec struct {
	// Template is the complete object to propagate, exactly as it would be
	// applied to a single cluster: apiVersion, kind, metadata (name is
	// required; namespace is required for namespaced kinds and defaults to
	// "default") and the kind's own fields such as spec or data. A status in
	// the template is ignored.
	//
	// The API group, kind, namespace and name of the object identify it and
	// cannot change after creation; the version part of apiVersion may
	// change (for example autoscaling/v2beta2 to autoscaling/v2).
	// +required
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:EmbeddedResource
	// +kubebuilder:validation:XValidation:rule="has(self.metadata) && has(self.metadata.name) && size(self.metadata.name) > 0",message="spec.template.metadata.name is required"
	// +kubebuilder:validation:XValidation:rule="self.kind == oldSelf.kind",message="spec.template.kind is immutable"
	// +kubebuilder:validation:XValidation:rule="self.apiVersion.substring(0, self.apiVersion.lastIndexOf('/') + 1) == oldSelf.apiVersion.substring(0, oldSelf.apiVersion.lastIndexOf('/') + 1)",message="the API group of spec.template.apiVersion is immutable (only the version may change)"
	// +kubebuilder:validation:XValidation:rule="has(self.metadata) && has(self.metadata.name) && has(oldSelf.metadata) && has(oldSelf.metadata.name) ? self.metadata.name == oldSelf.metadata.name : true",message="spec.template.metadata.name is immutable"
	Template runtime.RawExtension `json:"template"`
}

// ResourceTemplateStatus is the observed state of a ResourceTemplate.
type ResourceTemplateStatus struct {
	// ObservedGeneration is the metadata.generation of the ResourceTemplate
	// that this status describes. While it is lower than
	// metadata.generation, the status is out of date.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions follow the kstatus conventions:
	//
	//   - Ready: True when the current generation is applied to every
	//     target cluster and the object is healthy (for workloads: the
	//     rollout is complete) in all of them.
	//   - Reconciling: True while propagation or rollout is still in
	//     progress (scheduling, applying, waiting for replicas); absent or
	//     False otherwise.
	//   - Stalled: True when progress needs intervention (no policy
	//     matches, scheduling failed, an apply conflict under
	//     conflictResolution Abort, an invalid override); absent or False
	//     otherwise.
	//
	// Reasons are listed in the TemplateReason* constants.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// Policy is the PropagationPolicy or ClusterPropagationPolicy that
	// currently claims the wrapped object; unset when none matches.
	// +optional
	Policy *PolicyReference `json:"policy,omitempty"`

	// AggregatedStatus is the status of the wrapped object combined over
	// all target clusters, shaped like the object's own status so that
	// tools that understand the native kind can read it. Counters are summed
	// (for a Deployment: replicas, readyReplicas, updatedReplicas,
	// availableReplicas; for a Job: active, succeeded, failed), lists are
	// concatenated (for a Service: status.loadBalancer.ingress), and
	// status.observedGeneration is reported as the template's generation
	// once every cluster has observed the latest change. Kinds without a
	// known aggregation rule carry the status reported by the first target
	// cluster, by name. Unset until a member cluster reports status.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	AggregatedStatus *runtime.RawExtension `json:"aggregatedStatus,omitempty"`

	// Clusters summarizes the object in each target cluster, one entry per
	// cluster that the object is scheduled to or is still being removed
	// from, sorted by name.
	// +optional
	// +listType=map
	// +listMapKey=name
	Clusters []TemplateClusterStatus `json:"clusters,omitempty"`
}

// PolicyReference names a PropagationPolicy or ClusterPropagationPolicy.
type PolicyReference struct {
	// Kind is PropagationPolicy or ClusterPropagationPolicy.
	// +required
	// +kubebuilder:validation:Enum=PropagationPolicy;ClusterPropagationPolicy
	Kind string `json:"kind"`

	// Namespace of a PropagationPolicy; empty for a ClusterPropagationPolicy.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the policy.
	// +required
	Name string `json:"name"`
}

// TemplateClusterStatus summarizes the wrapped object in one member cluster.
type TemplateClusterStatus struct {
	// Name of the member cluster.
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Applied is true when the current version of the object (with
	// overrides) has been applied to the cluster.
	// +optional
	Applied bool `json:"applied"`

	// AppliedMessage explains why the object is not applied (for example a
	// conflict with an existing object or a rejection by the member's
	// apiserver). Empty when applied.
	// +optional
	AppliedMessage string `json:"appliedMessage,omitempty"`

	// Health of the object in the cluster: Healthy, Unhealthy or Unknown
	// (not applied yet, no status reported, or the cluster is unreachable).
	// +optional
	Health ResourceHealth `json:"health,omitempty"`

	// Evicting is true while the object is being removed from this cluster
	// (failover or rescheduling) and kept there during a graceful eviction.
	// +optional
	Evicting bool `json:"evicting,omitempty"`

	// AssignedReplicas is the number of replicas the scheduler assigned to
	// this cluster. Unset for kinds without replicas.
	// +optional
	AssignedReplicas *int32 `json:"assignedReplicas,omitempty"`

	// Replicas is the number of replicas the cluster reports (for a
	// Deployment: status.replicas). Unset for kinds without replicas or
	// before the first status report.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// ReadyReplicas is the number of ready replicas the cluster reports.
	// Unset for kinds without replicas or before the first status report.
	// +optional
	ReadyReplicas *int32 `json:"readyReplicas,omitempty"`
}

// Condition types of ResourceTemplateStatus (the kstatus vocabulary).
const (
	// TemplateConditionReady is True when the object is applied and healthy
	// in every target cluster.
	TemplateConditionReady = "Ready"
	// TemplateConditionReconciling is True while propagation or rollout is
	// in progress.
	TemplateConditionReconciling = "Reconciling"
	// TemplateConditionStalled is True when propagation cannot progress
	// without intervention.
	TemplateConditionStalled = "Stalled"
)

// Reasons of the ResourceTemplate conditions.
const (
	// TemplateReasonSucceeded (Ready=True): applied and healthy everywhere.
	TemplateReasonSucceeded = "Succeeded"
	// TemplateReasonProgressing (Reconciling=True, Ready=False): being
	// scheduled, applied or rolled out.
	TemplateReasonProgressing = "Progressing"
	// TemplateReasonNoMatchingPolicy (Stalled=True): no PropagationPolicy or
	// ClusterPropagationPolicy selects the object.
	TemplateReasonNoMatchingPolicy = "NoMatchingPolicy"
	// TemplateReasonSchedulingFailed (Stalled=True): the scheduler found no
	// placement.
	TemplateReasonSchedulingFailed = "SchedulingFailed"
	// TemplateReasonApplyFailed (Stalled=True): applying to at least one
	// cluster failed.
	TemplateReasonApplyFailed = "ApplyFailed"
	// TemplateReasonConflict (Stalled=True): an object not managed by
	// Argosy already exists in a cluster and conflictResolution is Abort.
	TemplateReasonConflict = "Conflict"
	// TemplateReasonOverrideFailed (Stalled=True): an override could not be
	// applied.
	TemplateReasonOverrideFailed = "OverrideFailed"
	// TemplateReasonUnhealthy (Ready=False): applied, but unhealthy in at
	// least one cluster.
	TemplateReasonUnhealthy = "Unhealthy"
	// TemplateReasonSuspended (Ready=False): dispatching is suspended by
	// the policy.
	TemplateReasonSuspended = "Suspended"
)

func init() {
	SchemeBuilder.Register(&ResourceTemplate{}, &ResourceTemplateList{})
}
