/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// KindResourceBinding is the kind name of ResourceBinding.
const KindResourceBinding = "ResourceBinding"

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=resourcebindings,scope=Namespaced,shortName=rb,categories=argosy
// +kubebuilder:printcolumn:name="Scheduled",type=string,JSONPath=`.status.conditions[?(@.type=="Scheduled")].status`
// +kubebuilder:printcolumn:name="FullyApplied",type=string,JSONPath=`.status.conditions[?(@.type=="FullyApplied")].status`
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.resource.kind`,priority=1
// +kubebuilder:printcolumn:name="Target-Name",type=string,JSONPath=`.spec.resource.name`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ResourceBinding binds one wrapped object to the member clusters it is
// scheduled to. There is one ResourceBinding per ResourceTemplate, in the
// template's namespace and owned by the template. The detector writes the
// spec from the template and its claiming policy, the scheduler writes
// spec.clusters, and the binding controller renders one Work per cluster
// from it.
type ResourceBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the binding.
	// +required
	Spec ResourceBindingSpec `json:"spec"`

	// Status is the most recently observed status of the binding.
	// +optional
	Status ResourceBindingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ResourceBindingList is a list of ResourceBinding.
type ResourceBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of ResourceBinding.
	Items []ResourceBinding `json:"items"`
}

// ResourceBindingSpec is the desired state of a ResourceBinding.
type ResourceBindingSpec struct {
	// Resource identifies the wrapped object to propagate. Its kind,
	// namespace and name cannot change.
	// +required
	// +kubebuilder:validation:XValidation:rule="self.kind == oldSelf.kind && self.name == oldSelf.name && has(self.__namespace__) == has(oldSelf.__namespace__) && (!has(self.__namespace__) || self.__namespace__ == oldSelf.__namespace__)",message="spec.resource kind, namespace and name are immutable"
	Resource ObjectReference `json:"resource"`

	// PropagateDeps tells whether the objects this one depends on are
	// propagated along with it. Copied from the policy.
	// +optional
	PropagateDeps bool `json:"propagateDeps,omitempty"`

	// ReplicaRequirements are the scheduling constraints and resource
	// requests of one replica, used to estimate how many replicas each
	// cluster can run. Unset for kinds without replicas.
	// +optional
	ReplicaRequirements *ReplicaRequirements `json:"replicaRequirements,omitempty"`

	// Replicas is the replica count of the wrapped object; 0 for kinds
	// without replicas.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas,omitempty"`

	// Clusters is the scheduling result: the target clusters and, for
	// objects with replicas, the replicas assigned to each. Written by the
	// scheduler. Cluster names are unique.
	// +optional
	// +listType=map
	// +listMapKey=name
	Clusters []TargetCluster `json:"clusters,omitempty"`

	// Placement is the placement of the claiming policy, copied here so that
	// the scheduler needs nothing but the binding.
	// +optional
	Placement *policyv1alpha1.Placement `json:"placement,omitempty"`

	// GracefulEvictionTasks are evictions that wait before removing the
	// object from a cluster. The flow is:
	//
	//  1. A controller that evicts the object from a cluster (for example
	//     because of a NoExecute taint or an application failure) removes
	//     the cluster from spec.clusters, or lowers its replicas, and adds
	//     a task here.
	//  2. The scheduler may pick a substitute cluster.
	//  3. The graceful eviction controller deletes the object from the old
	//     cluster once it is healthy on the substitute, or when the grace
	//     period ends (10 minutes unless gracePeriodSeconds says otherwise),
	//     and removes the task.
	// +optional
	// +listType=atomic
	GracefulEvictionTasks []GracefulEvictionTask `json:"gracefulEvictionTasks,omitempty"`

	// RequiredBy lists the bindings that depend on this object (for an
	// object propagated as a dependency through propagateDeps) together
	// with their scheduling results; the object is propagated to the union
	// of their clusters.
	// +optional
	// +listType=atomic
	RequiredBy []BindingSnapshot `json:"requiredBy,omitempty"`

	// SchedulerName is the scheduler that handles this binding. Copied from
	// the policy.
	// +optional
	SchedulerName string `json:"schedulerName,omitempty"`

	// Failover is the failover behavior of the policy.
	// +optional
	Failover *policyv1alpha1.FailoverBehavior `json:"failover,omitempty"`

	// ConflictResolution is what to do when the object already exists in a
	// member cluster and is not managed by Argosy: "Abort" (the default)
	// or "Overwrite". Copied from the policy.
	// +optional
	// +kubebuilder:default=Abort
	// +kubebuilder:validation:Enum=Abort;Overwrite
	ConflictResolution policyv1alpha1.ConflictResolution `json:"conflictResolution,omitempty"`

	// RescheduleTriggeredAt asks for a fresh schedule that ignores the
	// current assignment (set by a WorkloadRebalancer, for example). The
	// scheduler acts on it only when it is later than
	// status.lastScheduledTime. RFC 3339, UTC.
	// +optional
	RescheduleTriggeredAt *metav1.Time `json:"rescheduleTriggeredAt,omitempty"`

	// Suspension pauses scheduling or dispatching of this binding.
	// +optional
	Suspension *Suspension `json:"suspension,omitempty"`

	// PreserveResourcesOnDeletion keeps the propagated objects in the member
	// clusters when the binding is deleted. Applies to every Work of the
	// binding. Copied from the policy.
	// +optional
	PreserveResourcesOnDeletion *bool `json:"preserveResourcesOnDeletion,omitempty"`

	// SchedulePriority is the scheduling priority of the binding, resolved
	// from the policy's schedulePriority.
	// +optional
	SchedulePriority *SchedulePriority `json:"schedulePriority,omitempty"`
}

// ObjectReference identifies the wrapped object of a ResourceTemplate.
type ObjectReference struct {
	// APIVersion of the object, as in spec.template.apiVersion.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	APIVersion string `json:"apiVersion"`

	// Kind of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`

	// Namespace of the object in the member clusters; empty for
	// cluster-scoped kinds.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// Name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// UID of the ResourceTemplate that wraps the object (the wrapped object
	// has no UID of its own on the host).
	// +optional
	UID types.UID `json:"uid,omitempty"`

	// ResourceVersion of the ResourceTemplate that the spec was computed
	// from; it tells which version of the template the binding reflects.
	// +optional
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// ReplicaRequirements are the requirements of one replica.
type ReplicaRequirements struct {
	// NodeClaim holds the node constraints of one replica.
	// +optional
	NodeClaim *NodeClaim `json:"nodeClaim,omitempty"`

	// ResourceRequest is the resources one replica requests (the sum over
	// its containers).
	// +optional
	ResourceRequest corev1.ResourceList `json:"resourceRequest,omitempty"`

	// Namespace of the replicas, used to look up per-namespace quotas.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// PriorityClassName of the replicas' Pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
}

// NodeClaim holds the node constraints of a replica's Pod.
type NodeClaim struct {
	// HardNodeAffinity is the Pod's required node affinity
	// (requiredDuringSchedulingIgnoredDuringExecution), the only part of
	// node affinity that limits where a Pod can run.
	// +optional
	HardNodeAffinity *corev1.NodeSelector `json:"hardNodeAffinity,omitempty"`

	// NodeSelector is the Pod's node selector.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations are the Pod's tolerations.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// TargetCluster is a target cluster and the replicas assigned to it.
type TargetCluster struct {
	// Name of the cluster.
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Replicas assigned to the cluster; 0 for kinds without replicas.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas,omitempty"`
}

// GracefulEvictionTask is a pending graceful eviction from one cluster.
//
// +kubebuilder:validation:XValidation:rule="!has(self.gracePeriodSeconds) || !has(self.suppressDeletion)",message="gracefulEvictionTasks[]: gracePeriodSeconds and suppressDeletion are mutually exclusive"
type GracefulEvictionTask struct {
	// FromCluster is the cluster the object is evicted from.
	// +required
	// +kubebuilder:validation:MinLength=1
	FromCluster string `json:"fromCluster"`

	// PurgeMode is how the old copy is removed: Directly, Gracefully or
	// Never (Immediately and Graciously are deprecated aliases).
	// +optional
	// +kubebuilder:validation:Enum=Directly;Gracefully;Never;Immediately;Graciously
	PurgeMode policyv1alpha1.PurgeMode `json:"purgeMode,omitempty"`

	// Replicas is the number of replicas evicted; unset for kinds without
	// replicas.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Reason is a machine-readable CamelCase reason for the eviction (see
	// the EvictionReason* constants).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`
	Reason string `json:"reason"`

	// Message is a human-readable explanation of the eviction.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// Producer is the controller that created the task (see the
	// EvictionProducer* constants).
	// +required
	// +kubebuilder:validation:MinLength=1
	Producer string `json:"producer"`

	// GracePeriodSeconds is the longest the old copy is kept while the
	// object becomes healthy elsewhere. Cannot be combined with
	// suppressDeletion.
	// +optional
	// +kubebuilder:validation:Minimum=1
	GracePeriodSeconds *int32 `json:"gracePeriodSeconds,omitempty"`

	// SuppressDeletion, when true, keeps the old copy until a person or a
	// tool clears it. Cannot be combined with gracePeriodSeconds.
	// +optional
	SuppressDeletion *bool `json:"suppressDeletion,omitempty"`

	// PreservedLabelState is the state extracted from the old copy by the
	// policy's statePreservation rules, injected into the new copy as
	// labels.
	// +optional
	PreservedLabelState map[string]string `json:"preservedLabelState,omitempty"`

	// ClustersBeforeFailover are the clusters the object ran in before the
	// failover.
	// +optional
	// +listType=atomic
	ClustersBeforeFailover []string `json:"clustersBeforeFailover,omitempty"`

	// CreationTimestamp is when the task was created, set by the system.
	// RFC 3339, UTC. Read-only.
	// +optional
	CreationTimestamp *metav1.Time `json:"creationTimestamp,omitempty"`
}

// Reasons and producers of graceful eviction tasks.
const (
	// EvictionReasonTaintUntolerated means the cluster has a NoExecute taint
	// the object does not tolerate.
	EvictionReasonTaintUntolerated = "TaintUntolerated"
	// EvictionReasonApplicationFailure means the application stayed
	// unhealthy in the cluster for longer than tolerated.
	EvictionReasonApplicationFailure = "ApplicationFailure"

	// EvictionProducerTaintManager is the producer of taint-based evictions.
	EvictionProducerTaintManager = "TaintManager"
	// EvictionProducerApplicationFailover is the producer of application
	// failover evictions.
	EvictionProducerApplicationFailover = "ApplicationFailover"
)

// BindingSnapshot is a dependent binding and its scheduling result.
type BindingSnapshot struct {
	// Namespace of the binding.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the binding.
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Clusters is the binding's scheduling result.
	// +optional
	// +listType=atomic
	Clusters []TargetCluster `json:"clusters,omitempty"`
}

// Suspension pauses scheduling or dispatching of a binding.
type Suspension struct {
	policyv1alpha1.Suspension `json:",inline"`

	// Scheduling, when true, stops the scheduler from processing the
	// binding until it is false or unset again. Meant for external systems
	// (quota managers, queues) that admit workloads; set it when the
	// binding is created, since pausing an already scheduled binding has no
	// effect.
	// +optional
	Scheduling *bool `json:"scheduling,omitempty"`
}

// SchedulePriority is the scheduling priority of a binding.
type SchedulePriority struct {
	// Priority is the scheduling priority; higher values are scheduled
	// first. Defaults to 0.
	// +optional
	Priority int32 `json:"priority,omitempty"`
}

// ResourceBindingStatus is the observed state of a ResourceBinding.
type ResourceBindingStatus struct {
	// ObservedGeneration is the metadata.generation that the binding
	// controller last processed into Works.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// SchedulerObservedGeneration is the metadata.generation the scheduler
	// last processed. While it is lower than metadata.generation, the
	// scheduling result does not reflect the latest spec yet.
	// +optional
	SchedulerObservedGeneration int64 `json:"schedulerObservedGeneration,omitempty"`

	// SchedulerObservedAffinityName is the affinityName of the
	// placement.clusterAffinities group the current schedule is based on.
	// +optional
	SchedulerObservedAffinityName string `json:"schedulerObservingAffinityName,omitempty"`

	// LastScheduledTime is when the scheduler last finished scheduling the
	// binding successfully. RFC 3339, UTC.
	// +optional
	LastScheduledTime *metav1.Time `json:"lastScheduledTime,omitempty"`

	// Conditions of the binding: "Scheduled" (the scheduler found clusters
	// for the current spec) and "FullyApplied" (the object is applied to
	// every scheduled cluster).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// AggregatedStatus is the status of the object in each member cluster,
	// one entry per cluster.
	// +optional
	// +listType=map
	// +listMapKey=clusterName
	AggregatedStatus []AggregatedStatusItem `json:"aggregatedStatus,omitempty"`
}

// AggregatedStatusItem is the status of the object in one member cluster.
type AggregatedStatusItem struct {
	// ClusterName is the member cluster.
	// +required
	// +kubebuilder:validation:MinLength=1
	ClusterName string `json:"clusterName"`

	// Status is the status of the object in that cluster, as collected
	// (the status field of the member object, possibly reduced to the
	// parts Argosy aggregates).
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Status *runtime.RawExtension `json:"status,omitempty"`

	// Applied is true when the object has been applied to the cluster.
	// +optional
	Applied bool `json:"applied,omitempty"`

	// AppliedMessage explains a failed apply.
	// +optional
	AppliedMessage string `json:"appliedMessage,omitempty"`

	// Health of the object in the cluster: Healthy, Unhealthy or Unknown.
	// +optional
	Health ResourceHealth `json:"health,omitempty"`
}

// ResourceHealth is the health of an object in a member cluster.
// +kubebuilder:validation:Enum=Healthy;Unhealthy;Unknown
type ResourceHealth string

// Values of ResourceHealth.
const (
	// ResourceHealthy means the object is healthy in the cluster.
	ResourceHealthy ResourceHealth = "Healthy"
	// ResourceUnhealthy means the object is unhealthy in the cluster.
	ResourceUnhealthy ResourceHealth = "Unhealthy"
	// ResourceUnknown means the health of the object is not known.
	ResourceUnknown ResourceHealth = "Unknown"
)

// Condition types of ResourceBindingStatus.
const (
	// ConditionScheduled is True when the scheduler has found clusters for
	// the current spec.
	ConditionScheduled = "Scheduled"
	// ConditionFullyApplied is True when the object is applied to every
	// scheduled cluster.
	ConditionFullyApplied = "FullyApplied"
)

// Reasons of the Scheduled condition.
const (
	// BindingReasonSuccess: scheduled successfully.
	BindingReasonSuccess = "Success"
	// BindingReasonSchedulerError: an internal error, for example an
	// apiserver error, interrupted scheduling.
	BindingReasonSchedulerError = "SchedulerError"
	// BindingReasonNoClusterFit: no cluster satisfies the placement.
	BindingReasonNoClusterFit = "NoClusterFit"
	// BindingReasonUnschedulable: the binding cannot be scheduled right now,
	// for example because the clusters lack resources.
	BindingReasonUnschedulable = "Unschedulable"
	// BindingReasonSchedulingSuspended: spec.suspension.scheduling is true.
	BindingReasonSchedulingSuspended = "SchedulingSuspended"
)

// Reasons of the FullyApplied condition.
const (
	// BindingReasonFullyAppliedSuccess: applied to every scheduled cluster.
	BindingReasonFullyAppliedSuccess = "FullyAppliedSuccess"
	// BindingReasonFullyAppliedFailed: not applied to at least one scheduled
	// cluster.
	BindingReasonFullyAppliedFailed = "FullyAppliedFailed"
)

func init() {
	SchemeBuilder.Register(&ResourceBinding{}, &ResourceBindingList{})
}
