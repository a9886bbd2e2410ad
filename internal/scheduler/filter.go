/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// filterKind is why a cluster was filtered out. The order of the constants
// is the order in which the filters run and in which messages list them.
type filterKind uint8

const (
	passed filterKind = iota
	byAffinity
	byTaint
	byAPI
	byEviction
)

// verdict is the outcome of the filters for one cluster. detail is the
// offending taint or kind, so that clusters filtered for the same reason
// can be grouped in messages.
type verdict struct {
	kind   filterKind
	detail string
}

// phrase returns the verdict as a predicate of the cluster names, in the
// singular or plural.
func (v verdict) phrase(plural bool) string {
	pick := func(one, many string) string {
		if plural {
			return many
		}
		return one
	}
	switch v.kind {
	case byAffinity:
		if v.detail != "" {
			return pick("is", "are") + " excluded by clusterAffinity (" + v.detail + ")"
		}
		return pick("is", "are") + " excluded by clusterAffinity"
	case byTaint:
		return pick("has", "have") + " taint " + v.detail + " that the policy does not tolerate"
	case byAPI:
		return pick("does", "do") + " not serve " + v.detail
	case byEviction:
		return pick("is", "are") + " being evicted"
	}
	return pick("is", "are") + " available"
}

// untolerated returns the first taint with effect NoSchedule or NoExecute
// that tolerations do not tolerate, or nil. Other effects
// (PreferNoSchedule) never filter.
func untolerated(taints []corev1.Taint, tolerations []corev1.Toleration) *corev1.Taint {
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		ok := false
		for j := range tolerations {
			if tolerates(&tolerations[j], t) {
				ok = true
				break
			}
		}
		if !ok {
			return t
		}
	}
	return nil
}

// tolerates is the standard Kubernetes toleration match: an empty effect
// matches every effect, an empty key with Exists matches every key, Exists
// ignores the value, Equal (or an empty operator) compares it, and Lt/Gt
// compare integer values. tolerationSeconds does not matter for scheduling;
// it only delays eviction.
func tolerates(tol *corev1.Toleration, t *corev1.Taint) bool {
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

// formatTaint renders a taint as kubectl does: key=value:Effect, or
// key:Effect without a value.
func formatTaint(t *corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// formatGVK renders a kind as "group/version, Kind=Kind" ("v1, Kind=X" for
// the core group).
func formatGVK(gvk schema.GroupVersionKind) string {
	return gvk.GroupVersion().String() + ", Kind=" + gvk.Kind
}

// filtered is a cluster that did not pass the filters.
type filtered struct {
	name string
	why  verdict
}

// maxNamesPerGroup bounds the cluster names listed per reason, so that a
// message about a fleet of thousands stays readable and small enough for an
// event or a condition.
const maxNamesPerGroup = 10

// describeFiltered groups the filtered clusters by verdict and renders them
// as "a, b are excluded by clusterAffinity; c has taint ...". Groups come in
// filter order, then by detail; names are sorted.
func describeFiltered(out []filtered) string {
	if len(out) == 0 {
		return ""
	}
	out = slices.Clone(out)
	slices.SortFunc(out, func(a, b filtered) int {
		if a.why.kind != b.why.kind {
			return int(a.why.kind) - int(b.why.kind)
		}
		if c := strings.Compare(a.why.detail, b.why.detail); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	var b strings.Builder
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && out[j].why == out[i].why {
			j++
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		writeNames(&b, out[i:j])
		b.WriteByte(' ')
		b.WriteString(out[i].why.phrase(j-i > 1))
		i = j
	}
	return b.String()
}

func writeNames(b *strings.Builder, group []filtered) {
	for k := range group {
		if k == maxNamesPerGroup {
			b.WriteString(" and ")
			b.WriteString(strconv.Itoa(len(group) - k))
			b.WriteString(" more")
			return
		}
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group[k].name)
	}
}
