/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"slices"
	"strconv"
	"strings"

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
