/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package tolerations matches taints against tolerations, for clusters (the
// scheduler's filter, the taint manager's evictions) and nodes (the
// scheduler's replica estimate) alike, so that every component agrees on
// what a policy tolerates.
package tolerations

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Untolerated returns the first taint with effect NoSchedule or NoExecute
// that tolerations do not tolerate, or nil. Other effects
// (PreferNoSchedule) never filter.
func Untolerated(taints []corev1.Taint, tolerations []corev1.Toleration) *corev1.Taint {
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !ToleratedBy(t, tolerations) {
			return t
		}
	}
	return nil
}

// ToleratedBy tells whether any of tolerations tolerates t.
func ToleratedBy(t *corev1.Taint, tolerations []corev1.Toleration) bool {
	for j := range tolerations {
		if Tolerates(&tolerations[j], t) {
			return true
		}
	}
	return false
}

// Tolerates is the standard Kubernetes toleration match: an empty effect
// matches every effect, an empty key with Exists matches every key, Exists
// ignores the value, Equal (or an empty operator) compares it, and Lt/Gt
// compare integer values. tolerationSeconds does not matter here; it only
// delays eviction.
func Tolerates(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case "", corev1.TolerationOpEqual:
		return tol.Value == t.Value
	case corev1.TolerationOpExists:
		return true
	case corev1.TolerationOpLt, corev1.TolerationOpGt:
		want, err1 := strconv.ParseInt(tol.Value, 10, 64)
		got, err2 := strconv.ParseInt(t.Value, 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if tol.Operator == corev1.TolerationOpLt {
			return got < want
		}
		return got > want
	}
	return false
}

// Format renders a taint as kubectl does: key=value:Effect, or key:Effect
// without a value.
func Format(t *corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}
