/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the CronFederatedHPA resource.
const (
	// CronFederatedHPAKind is the kind of CronFederatedHPA.
	CronFederatedHPAKind = "CronFederatedHPA"
	// ResourcePluralCronFederatedHPA is the plural resource name of CronFederatedHPA.
	ResourcePluralCronFederatedHPA = "cronfederatedhpas"
)

// Defaults and bounds of CronFederatedHPA.
const (
	// DefaultHistoryLimit is the default of successfulHistoryLimit and
	// failedHistoryLimit.
	DefaultHistoryLimit int32 = 3
	// MaxHistoryLimit is the highest successfulHistoryLimit and failedHistoryLimit.
	MaxHistoryLimit int32 = 32
	// MaxCronFederatedHPARules bounds spec.rules.
	MaxCronFederatedHPARules = 100
)

// Condition types of a CronFederatedHPA.
const (
	// CronFederatedHPAConditionReady is True when every rule's schedule and
	// time zone could be parsed and registered, and the scale target exists.
	// False means no rule will run until the problem in the message is fixed.
	CronFederatedHPAConditionReady = "Ready"
)

// Reasons used with the CronFederatedHPA conditions.
const (
	// CronFederatedHPAReasonScheduled: every rule is registered.
	CronFederatedHPAReasonScheduled = "Scheduled"
	// CronFederatedHPAReasonInvalidSchedule: a schedule or time zone could not be parsed.
	CronFederatedHPAReasonInvalidSchedule = "InvalidSchedule"
	// CronFederatedHPAReasonTargetNotFound: the scale target does not exist.
	CronFederatedHPAReasonTargetNotFound = "TargetNotFound"
)

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=cronfhpa,categories=argosy
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="REFERENCE-KIND",type=string,JSONPath=`.spec.scaleTargetRef.kind`
// +kubebuilder:printcolumn:name="REFERENCE-NAME",type=string,JSONPath=`.spec.scaleTargetRef.name`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`

// CronFederatedHPA scales on a timetable. Each rule is a cron schedule and
// the scale to set when it fires: a replica count for a workload (any kind
// whose replicas Argosy can set, such as a Deployment), or new minimum and
// maximum replica counts for a FederatedHPA. The typical use is to scale up
// ahead of a traffic peak that comes at a known time. A CronFederatedHPA in
// namespace N scales workloads and FederatedHPAs in namespace N.
type CronFederatedHPA struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the target and the schedules.
	// +required
	Spec CronFederatedHPASpec `json:"spec"`

	// status records recent executions of each rule.
	// +optional
	Status CronFederatedHPAStatus `json:"status,omitempty"`
}

// CronFederatedHPASpec is the target and the schedules of a CronFederatedHPA.
// +kubebuilder:validation:XValidation:rule="(has(self.scaleTargetRef.apiVersion) && self.scaleTargetRef.apiVersion.startsWith('autoscaling.argosy.dev/')) || self.rules.all(r, has(r.targetReplicas))",message="spec.rules[].targetReplicas is required in every rule when spec.scaleTargetRef is a workload",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!has(self.scaleTargetRef.apiVersion) || !self.scaleTargetRef.apiVersion.startsWith('autoscaling.argosy.dev/') || self.rules.all(r, has(r.targetMinReplicas) || has(r.targetMaxReplicas))",message="spec.rules[]: every rule must set targetMinReplicas, targetMaxReplicas or both when spec.scaleTargetRef is a FederatedHPA",fieldPath=".rules"
type CronFederatedHPASpec struct {
	// scaleTargetRef is what to scale, in the CronFederatedHPA's namespace:
	// either a workload, referenced as in its own manifest (for example
	// apiVersion apps/v1, kind Deployment), whose replica count the rules set
	// through targetReplicas; or a FederatedHPA (apiVersion
	// autoscaling.argosy.dev/v1alpha1, kind FederatedHPA), whose minReplicas
	// and maxReplicas the rules set through targetMinReplicas and
	// targetMaxReplicas.
	// +kubebuilder:validation:XValidation:rule="size(self.kind) > 0",message="spec.scaleTargetRef.kind must not be empty"
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="spec.scaleTargetRef.name must not be empty"
	// +kubebuilder:validation:XValidation:rule="!self.name.contains('/') && !self.name.contains('%') && self.name != '.' && self.name != '..'",message="spec.scaleTargetRef.name must be a valid object name (no '/', no '%', not '.' or '..')"
	// +kubebuilder:validation:XValidation:rule="!has(self.apiVersion) || !self.apiVersion.startsWith('autoscaling.argosy.dev/') || self.kind == 'FederatedHPA'",message="spec.scaleTargetRef.kind must be FederatedHPA when spec.scaleTargetRef.apiVersion is in group autoscaling.argosy.dev"
	// +kubebuilder:validation:XValidation:rule="!has(self.apiVersion) || !self.apiVersion.startsWith('autoscaling.karmada.io/')",message="spec.scaleTargetRef.apiVersion: a FederatedHPA is referenced as autoscaling.argosy.dev/v1alpha1, not autoscaling.karmada.io"
	// +required
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference `json:"scaleTargetRef"`

	// rules are the schedules and the scale each one sets. Rule names are
	// unique; at most 100 rules.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +required
	Rules []CronFederatedHPARule `json:"rules"`
}

// CronFederatedHPARule is one schedule and the scale it sets.
// +kubebuilder:validation:XValidation:rule="!has(self.targetMinReplicas) || !has(self.targetMaxReplicas) || self.targetMinReplicas <= self.targetMaxReplicas",message="spec.rules[].targetMinReplicas must be less than or equal to targetMaxReplicas"
type CronFederatedHPARule struct {
	// name identifies the rule within the CronFederatedHPA and keys its
	// execution history in the status. Renaming a rule is deleting it and
	// adding a new one: the old history is dropped.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +required
	Name string `json:"name"`

	// schedule is a standard five-field cron expression (minute, hour, day of
	// month, month, day of week), as in a Kubernetes CronJob, for example
	// "30 8 * * 1-5"; the macros @yearly, @annually, @monthly, @weekly,
	// @daily, @midnight and @hourly are accepted too. The time zone is set
	// with timeZone, not inside the schedule.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="size(self.trim()) > 0",message="spec.rules[].schedule must not be empty"
	// +kubebuilder:validation:XValidation:rule="!self.trim().startsWith('TZ=') && !self.trim().startsWith('CRON_TZ=')",message="spec.rules[].schedule must not carry a TZ= or CRON_TZ= prefix; set spec.rules[].timeZone instead"
	// +kubebuilder:validation:XValidation:rule="size(self.trim()) == 0 || self.trim().startsWith('TZ=') || self.trim().startsWith('CRON_TZ=') || self.trim().matches('^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[^\\\\s]+([ \\\\t]+[^\\\\s]+){4})$')",message="spec.rules[].schedule must be five cron fields (minute hour day-of-month month day-of-week) or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
	// +required
	Schedule string `json:"schedule"`

	// targetReplicas is the replica count to set on a workload target when
	// the rule fires. Required, and only used, when scaleTargetRef is not a
	// FederatedHPA. May be 0 to scale the workload away.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TargetReplicas *int32 `json:"targetReplicas,omitempty"`

	// targetMinReplicas is the minReplicas to set on a FederatedHPA target
	// when the rule fires. Only used when scaleTargetRef is a FederatedHPA; if
	// unset the FederatedHPA's minReplicas is left alone. At least one of
	// targetMinReplicas and targetMaxReplicas is required for such a target.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TargetMinReplicas *int32 `json:"targetMinReplicas,omitempty"`

	// targetMaxReplicas is the maxReplicas to set on a FederatedHPA target
	// when the rule fires. Only used when scaleTargetRef is a FederatedHPA; if
	// unset the FederatedHPA's maxReplicas is left alone.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TargetMaxReplicas *int32 `json:"targetMaxReplicas,omitempty"`

	// suspend stops future executions of the rule while true; executions
	// already done are not undone. Defaults to false.
	// +kubebuilder:default=false
	// +optional
	Suspend *bool `json:"suspend,omitempty"`

	// timeZone is the IANA time zone the schedule is read in, for example
	// Asia/Shanghai or Europe/Berlin. When unset, the schedule is read in the
	// time zone of the Argosy manager process (usually UTC). A name that is
	// not in the time zone database is rejected at admission by the webhook
	// and reported in the status otherwise.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$`
	// +optional
	TimeZone *string `json:"timeZone,omitempty"`

	// successfulHistoryLimit is how many successful executions of this rule
	// the status keeps, newest first. Between 1 and 32; defaults to 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32
	// +optional
	SuccessfulHistoryLimit *int32 `json:"successfulHistoryLimit,omitempty"`

	// failedHistoryLimit is how many failed executions of this rule the status
	// keeps, newest first. Between 0 and 32; defaults to 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=32
	// +optional
	FailedHistoryLimit *int32 `json:"failedHistoryLimit,omitempty"`
}

// CronFederatedHPAStatus records what the rules of a CronFederatedHPA did.
type CronFederatedHPAStatus struct {
	// observedGeneration is the metadata.generation whose rules are currently
	// registered with the scheduler of cron jobs.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe whether the rules are registered; see the
	// CronFederatedHPAConditionReady constant.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// executionHistories has one entry per rule with its next and recent executions.
	// +optional
	ExecutionHistories []ExecutionHistory `json:"executionHistories,omitempty"`
}

// ExecutionHistory is the execution record of one rule.
type ExecutionHistory struct {
	// ruleName is the name of the rule in spec.rules.
	// +required
	RuleName string `json:"ruleName"`

	// nextExecutionTime is when the rule fires next. Unset while the rule is
	// suspended.
	// +optional
	NextExecutionTime *metav1.Time `json:"nextExecutionTime,omitempty"`

	// successfulExecutions are the most recent successful executions, newest
	// first, at most successfulHistoryLimit of them.
	// +optional
	SuccessfulExecutions []SuccessfulExecution `json:"successfulExecutions,omitempty"`

	// failedExecutions are the most recent failed executions, newest first,
	// at most failedHistoryLimit of them.
	// +optional
	FailedExecutions []FailedExecution `json:"failedExecutions,omitempty"`
}

// SuccessfulExecution is one successful execution of a rule.
type SuccessfulExecution struct {
	// scheduleTime is when the schedule said the rule should fire.
	// +required
	ScheduleTime *metav1.Time `json:"scheduleTime"`

	// executionTime is when the rule actually ran; its distance from
	// scheduleTime shows how late the controller was.
	// +required
	ExecutionTime *metav1.Time `json:"executionTime"`

	// appliedReplicas is the replica count set on a workload target. Set
	// when the rule has targetReplicas.
	// +optional
	AppliedReplicas *int32 `json:"appliedReplicas,omitempty"`

	// appliedMaxReplicas is the maxReplicas set on a FederatedHPA target. Set
	// when the rule has targetMaxReplicas.
	// +optional
	AppliedMaxReplicas *int32 `json:"appliedMaxReplicas,omitempty"`

	// appliedMinReplicas is the minReplicas set on a FederatedHPA target. Set
	// when the rule has targetMinReplicas.
	// +optional
	AppliedMinReplicas *int32 `json:"appliedMinReplicas,omitempty"`
}

// FailedExecution is one failed execution of a rule.
type FailedExecution struct {
	// scheduleTime is when the schedule said the rule should fire.
	// +required
	ScheduleTime *metav1.Time `json:"scheduleTime"`

	// executionTime is when the rule actually ran.
	// +required
	ExecutionTime *metav1.Time `json:"executionTime"`

	// message says why the execution failed.
	// +required
	Message string `json:"message"`
}

// +kubebuilder:object:root=true

// CronFederatedHPAList is a list of CronFederatedHPAs.
type CronFederatedHPAList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the CronFederatedHPAs.
	Items []CronFederatedHPA `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CronFederatedHPA{}, &CronFederatedHPAList{})
}
