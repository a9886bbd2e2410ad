/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PolicyStatus is the observed state of a propagation or override policy.
type PolicyStatus struct {
	// ObservedGeneration is the metadata.generation of the policy that the
	// conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the state of the policy. Type "Ready" is True once
	// the controllers have accepted the current generation of the policy and
	// act on it, and False with a reason (see the PolicyReason* constants)
	// while they cannot.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Condition types of PolicyStatus.
const (
	// PolicyConditionReady is True when the current generation of the policy
	// is in effect.
	PolicyConditionReady = "Ready"
)

// Reasons of the Ready condition of a policy.
const (
	// PolicyReasonApplied means the policy is in effect.
	PolicyReasonApplied = "Applied"
	// PolicyReasonInvalid means the policy was rejected by a check that the
	// CRD schema cannot express (the message says which).
	PolicyReasonInvalid = "Invalid"
	// PolicyReasonDependentOverridesMissing means an OverridePolicy listed
	// in spec.dependentOverrides does not exist yet, so the policy waits.
	PolicyReasonDependentOverridesMissing = "DependentOverridesMissing"
)
