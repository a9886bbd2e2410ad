/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the WorkloadRebalancer resource.
const (
	// ResourceKindWorkloadRebalancer is the kind of WorkloadRebalancer.
	ResourceKindWorkloadRebalancer = "WorkloadRebalancer"
	// ResourcePluralWorkloadRebalancer is the plural resource name of WorkloadRebalancer.
	ResourcePluralWorkloadRebalancer = "workloadrebalancers"
)

// MaxRebalancerWorkloads bounds spec.workloads (and status.observedWorkloads),
// which keeps validation of both lists cheap.
const MaxRebalancerWorkloads = 100

// Condition types of a WorkloadRebalancer.
const (
	// WorkloadRebalancerConditionFinished is True once every workload in
	// spec.workloads has a result (status.finishTime is then set), and False
	// while some are still being processed or retried.
	WorkloadRebalancerConditionFinished = "Finished"
)

// Reasons used with the Finished condition.
const (
	// WorkloadRebalancerReasonInProgress: some workloads have no result yet.
	WorkloadRebalancerReasonInProgress = "InProgress"
	// WorkloadRebalancerReasonSucceeded: every workload was rescheduled.
	WorkloadRebalancerReasonSucceeded = "Succeeded"
	// WorkloadRebalancerReasonPartiallyFailed: every workload has a result and
	// at least one of them is Failed.
	WorkloadRebalancerReasonPartiallyFailed = "PartiallyFailed"
)

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=wr,categories=argosy
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Finished",type=string,JSONPath=`.status.conditions[?(@.type=="Finished")].status`,description="Whether every workload has a rebalance result"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Finish-Time",type=string,JSONPath=`.status.finishTime`,priority=1,description="When the last workload got its result"
// +kubebuilder:printcolumn:name="TTL",type=integer,JSONPath=`.spec.ttlSecondsAfterFinished`,priority=1,description="Seconds after finishing before the object is deleted"

// WorkloadRebalancer is a one-shot request to reschedule a set of workloads
// from scratch. Argosy normally keeps an existing placement stable and only
// moves the difference when something changes; a WorkloadRebalancer asks the
// scheduler to ignore the current placement of each listed workload and
// compute a fresh one (for example to spread replicas back over a cluster
// that recovered). Its status reports a result per workload. It is
// cluster-scoped, so one object can name workloads of any namespace.
type WorkloadRebalancer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec lists the workloads to reschedule.
	// +required
	Spec WorkloadRebalancerSpec `json:"spec"`

	// status reports the result per workload.
	// +optional
	Status WorkloadRebalancerStatus `json:"status,omitempty"`
}

// WorkloadRebalancerSpec lists the workloads to reschedule.
type WorkloadRebalancerSpec struct {
	// workloads are the resources to reschedule, identified as in their own
	// manifests (apiVersion, kind, namespace, name), not by their
	// ResourceTemplate. At least one and at most 100 are required, and each
	// apiVersion/kind/namespace/name combination may appear only once.
	// Adding workloads later reschedules the added ones; a workload that
	// already has a result is not rescheduled again, and removing one drops
	// its result. A rebalancer asks for at most one fresh schedule per
	// workload: to reschedule again, create a new WorkloadRebalancer.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +listType=map
	// +listMapKey=apiVersion
	// +listMapKey=kind
	// +listMapKey=namespace
	// +listMapKey=name
	// +required
	Workloads []ObjectReference `json:"workloads"`

	// ttlSecondsAfterFinished, when set, deletes the WorkloadRebalancer that
	// many seconds after it finished (after every workload got a result); 0
	// deletes it as soon as it finishes. When unset it is kept until deleted
	// by hand. It may be set or changed after the object finished.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// ObjectReference identifies a workload by the apiVersion, kind, namespace
// and name it has in its own manifest.
type ObjectReference struct {
	// apiVersion of the workload, for example apps/v1.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="apiVersion must be <version> or <group>/<version>, for example v1 or apps/v1"
	// +required
	APIVersion string `json:"apiVersion"`

	// kind of the workload, for example Deployment.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`

	// name of the workload.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// namespace of the workload. Leave it empty for cluster-scoped kinds; a
	// namespaced kind needs it (it is not defaulted to "default").
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:default=""
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// WorkloadRebalancerStatus reports the progress and results of a rebalance.
type WorkloadRebalancerStatus struct {
	// observedWorkloads has one entry per workload of spec.workloads, with its
	// result once known. An entry without a result is still being processed
	// or retried (for example after a transient API error).
	// +kubebuilder:validation:MaxItems=100
	// +optional
	ObservedWorkloads []ObservedWorkload `json:"observedWorkloads,omitempty"`

	// observedGeneration is the metadata.generation that this status
	// describes. While it is lower than metadata.generation, the latest
	// change of spec.workloads has not been acted on yet.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// finishTime is when the last workload got its result. The TTL of
	// spec.ttlSecondsAfterFinished counts from here.
	// +optional
	FinishTime *metav1.Time `json:"finishTime,omitempty"`

	// conditions describe the state of the rebalance; Finished is True once
	// every workload has a result.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// ObservedWorkload is the rebalance result of one workload.
type ObservedWorkload struct {
	// workload is the workload this entry is about.
	// +required
	Workload ObjectReference `json:"workload"`

	// result is Successful when the workload was handed to the scheduler for
	// a fresh placement, and Failed when that was impossible. Empty while
	// pending.
	// +optional
	Result RebalanceResult `json:"result,omitempty"`

	// reason is a machine-readable cause when result is Failed.
	// +optional
	Reason RebalanceFailedReason `json:"reason,omitempty"`
}

// RebalanceResult is the outcome of rebalancing one workload.
// +kubebuilder:validation:Enum=Successful;Failed
type RebalanceResult string

const (
	// RebalanceSuccessful means a fresh scheduling of the workload was triggered.
	RebalanceSuccessful RebalanceResult = "Successful"
	// RebalanceFailed means the workload could not be rebalanced; see reason.
	RebalanceFailed RebalanceResult = "Failed"
)

// RebalanceFailedReason says why a workload could not be rebalanced.
type RebalanceFailedReason string

const (
	// RebalanceObjectNotFound means there is no ResourceBinding for the
	// workload: it has no ResourceTemplate, or no propagation policy claims it
	// (or its binding is being deleted). The result is final; list the
	// workload in a new WorkloadRebalancer once it has a binding.
	RebalanceObjectNotFound RebalanceFailedReason = "ReferencedBindingNotFound"
)

// +kubebuilder:object:root=true

// WorkloadRebalancerList is a list of WorkloadRebalancers.
type WorkloadRebalancerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the WorkloadRebalancers.
	Items []WorkloadRebalancer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WorkloadRebalancer{}, &WorkloadRebalancerList{})
}
