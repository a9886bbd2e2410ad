/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the FederatedHPA resource.
const (
	// FederatedHPAKind is the kind of FederatedHPA.
	FederatedHPAKind = "FederatedHPA"
	// ResourcePluralFederatedHPA is the plural resource name of FederatedHPA.
	ResourcePluralFederatedHPA = "federatedhpas"
)

// Defaults and bounds of FederatedHPA.
const (
	// DefaultFederatedHPAMinReplicas is spec.minReplicas when it is omitted.
	DefaultFederatedHPAMinReplicas int32 = 1
	// DefaultCPUUtilization is the average CPU utilization (percent of
	// requests) targeted when spec.metrics is omitted or empty.
	DefaultCPUUtilization int32 = 80
	// MaxFederatedHPAMetrics bounds spec.metrics.
	MaxFederatedHPAMetrics = 32
	// MaxStabilizationWindowSeconds is the longest stabilization window, as in
	// Kubernetes' HPA.
	MaxStabilizationWindowSeconds int32 = 3600
	// MaxPeriodSeconds is the longest scaling policy period, as in Kubernetes' HPA.
	MaxPeriodSeconds int32 = 1800
)

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=fhpa,categories=argosy
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="REFERENCE-KIND",type=string,JSONPath=`.spec.scaleTargetRef.kind`
// +kubebuilder:printcolumn:name="REFERENCE-NAME",type=string,JSONPath=`.spec.scaleTargetRef.name`
// +kubebuilder:printcolumn:name="MINPODS",type=integer,JSONPath=`.spec.minReplicas`
// +kubebuilder:printcolumn:name="MAXPODS",type=integer,JSONPath=`.spec.maxReplicas`
// +kubebuilder:printcolumn:name="REPLICAS",type=integer,JSONPath=`.status.currentReplicas`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`

// FederatedHPA is a horizontal pod autoscaler for a workload that runs in
// several member clusters. It reads the pod metrics of the workload from every
// member it runs in, runs the Kubernetes HPA algorithm (tolerance, scaling
// policies and stabilization windows) on the combined figures, and sets the
// total replica count of the workload's template; the scheduler then divides
// the replicas among the clusters according to the propagation policy.
// A FederatedHPA in namespace N scales workloads whose namespace is N.
type FederatedHPA struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired behavior of the autoscaler.
	// +required
	Spec FederatedHPASpec `json:"spec"`

	// status is the state of the autoscaler, in the format of a Kubernetes
	// HorizontalPodAutoscaler's status (autoscaling/v2). Its conditions are
	// AbleToScale, ScalingActive and ScalingLimited.
	// +optional
	Status autoscalingv2.HorizontalPodAutoscalerStatus `json:"status,omitempty"`
}

// FederatedHPASpec is the desired behavior of a FederatedHPA.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="spec.minReplicas must be less than or equal to spec.maxReplicas"
type FederatedHPASpec struct {
	// scaleTargetRef is the workload to scale, as written in its own manifest
	// (apiVersion, kind, name; the namespace is the FederatedHPA's). Its pods
	// supply the metrics, and its replica count is what gets changed. It
	// must have a replica count that Argosy can interpret (Deployment,
	// StatefulSet, ReplicaSet or a kind with a replica interpreter).
	// +kubebuilder:validation:XValidation:rule="size(self.kind) > 0",message="spec.scaleTargetRef.kind must not be empty"
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="spec.scaleTargetRef.name must not be empty"
	// +kubebuilder:validation:XValidation:rule="!self.name.contains('/') && !self.name.contains('%') && self.name != '.' && self.name != '..'",message="spec.scaleTargetRef.name must be a valid object name (no '/', no '%', not '.' or '..')"
	// +kubebuilder:validation:XValidation:rule="!has(self.apiVersion) || !self.apiVersion.startsWith('autoscaling.argosy.dev/')",message="spec.scaleTargetRef must reference a workload, not another FederatedHPA or CronFederatedHPA"
	// +required
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference `json:"scaleTargetRef"`

	// minReplicas is the lowest total replica count (over all clusters) the
	// autoscaler scales down to. Defaults to 1; scaling to zero is not
	// supported.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the highest total replica count (over all clusters) the
	// autoscaler scales up to. It must not be less than minReplicas.
	// +kubebuilder:validation:Minimum=1
	// +required
	MaxReplicas int32 `json:"maxReplicas"`

	// metrics are what the desired replica count is computed from. For each
	// metric the count is the current count times the ratio of the current
	// value to the target value; the largest count wins. Metrics must
	// therefore fall as pods are added. When omitted it defaults to a single
	// metric: 80% average CPU utilization of the pods; an empty list is
	// treated the same way. At most 32 metrics.
	// +kubebuilder:default={{type: "Resource", resource: {name: "cpu", target: {type: "Utilization", averageUtilization: 80}}}}
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type in ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'])",message="spec.metrics[].type must be one of Object, Pods, Resource, ContainerResource, External"
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type == 'Object' ? has(m.object) : m.type == 'Pods' ? has(m.pods) : m.type == 'Resource' ? has(m.resource) : m.type == 'ContainerResource' ? has(m.containerResource) : m.type == 'External' ? has(m.external) : true)",message="spec.metrics[]: the source named by type must be set (type Resource needs resource, Pods needs pods, Object needs object, External needs external, ContainerResource needs containerResource)"
	// +kubebuilder:validation:XValidation:rule="self.all(m, (has(m.object) ? 1 : 0) + (has(m.pods) ? 1 : 0) + (has(m.resource) ? 1 : 0) + (has(m.containerResource) ? 1 : 0) + (has(m.external) ? 1 : 0) <= 1)",message="spec.metrics[] entries must set only the one source that matches their type"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.resource) || (m.resource.target.type == 'Utilization' && has(m.resource.target.averageUtilization)) || (m.resource.target.type == 'AverageValue' && has(m.resource.target.averageValue)))",message="spec.metrics[].resource.target must be type Utilization with averageUtilization, or type AverageValue with averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.containerResource) || (m.containerResource.target.type == 'Utilization' && has(m.containerResource.target.averageUtilization)) || (m.containerResource.target.type == 'AverageValue' && has(m.containerResource.target.averageValue)))",message="spec.metrics[].containerResource.target must be type Utilization with averageUtilization, or type AverageValue with averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.pods) || (m.pods.target.type == 'AverageValue' && has(m.pods.target.averageValue)))",message="spec.metrics[].pods.target must be type AverageValue with averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.object) || (m.object.target.type == 'Value' && has(m.object.target.value)) || (m.object.target.type == 'AverageValue' && has(m.object.target.averageValue)))",message="spec.metrics[].object.target must be type Value with value, or type AverageValue with averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.external) || (m.external.target.type == 'Value' && has(m.external.target.value)) || (m.external.target.type == 'AverageValue' && has(m.external.target.averageValue)))",message="spec.metrics[].external.target must be type Value with value, or type AverageValue with averageValue"
	// +listType=atomic
	// +optional
	Metrics []autoscalingv2.MetricSpec `json:"metrics,omitempty"`

	// behavior tunes scaling up (scaleUp) and down (scaleDown) separately:
	// stabilization windows, rate-limiting policies and which policy wins.
	// What is not set takes the Kubernetes HPA defaults: scale up without a
	// stabilization window by at most 4 pods or 100% per 15 seconds,
	// whichever is more; scale down after a 300-second stabilization window
	// by up to 100% per 15 seconds.
	// +kubebuilder:validation:XValidation:rule="!has(self.scaleUp) || !has(self.scaleUp.stabilizationWindowSeconds) || (self.scaleUp.stabilizationWindowSeconds >= 0 && self.scaleUp.stabilizationWindowSeconds <= 3600)",message="spec.behavior.scaleUp.stabilizationWindowSeconds must be between 0 and 3600"
	// +kubebuilder:validation:XValidation:rule="!has(self.scaleDown) || !has(self.scaleDown.stabilizationWindowSeconds) || (self.scaleDown.stabilizationWindowSeconds >= 0 && self.scaleDown.stabilizationWindowSeconds <= 3600)",message="spec.behavior.scaleDown.stabilizationWindowSeconds must be between 0 and 3600"
	// +kubebuilder:validation:XValidation:rule="!has(self.scaleUp) || !has(self.scaleUp.selectPolicy) || self.scaleUp.selectPolicy in ['Max', 'Min', 'Disabled']",message="spec.behavior.scaleUp.selectPolicy must be Max, Min or Disabled"
	// +kubebuilder:validation:XValidation:rule="!has(self.scaleDown) || !has(self.scaleDown.selectPolicy) || self.scaleDown.selectPolicy in ['Max', 'Min', 'Disabled']",message="spec.behavior.scaleDown.selectPolicy must be Max, Min or Disabled"
	// +kubebuilder:validation:XValidation:rule="!has(self.scaleUp) || !has(self.scaleUp.policies) || self.scaleUp.policies.all(p, p.type in ['Pods', 'Percent'] && p.value > 0 && p.periodSeconds > 0 && p.periodSeconds <= 1800)",message="spec.behavior.scaleUp.policies[]: type must be Pods or Percent, value greater than 0, periodSeconds between 1 and 1800"
	// +kubebuilder:validation:XValidation:rule="!has(self.scaleDown) || !has(self.scaleDown.policies) || self.scaleDown.policies.all(p, p.type in ['Pods', 'Percent'] && p.value > 0 && p.periodSeconds > 0 && p.periodSeconds <= 1800)",message="spec.behavior.scaleDown.policies[]: type must be Pods or Percent, value greater than 0, periodSeconds between 1 and 1800"
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// +kubebuilder:object:root=true

// FederatedHPAList is a list of FederatedHPAs.
type FederatedHPAList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the FederatedHPAs.
	Items []FederatedHPA `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FederatedHPA{}, &FederatedHPAList{})
}
