/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// assign gives replicas to the selected clusters according to the strategy,
// or returns a problem.
//
// Kinds without replicas and Duplicated workloads put the full count (0 for
// the former) on every selected cluster. Divided workloads are assigned by
// assignStatic, assignDynamic or assignAggregated; clusters that end up
// with 0 replicas are left out, as in Karmada.
func (r *run) assign(sel []int32) ([]workv1alpha1.TargetCluster, string) {
	if r.in.Replicas <= 0 || r.strategy == duplicated {
		out := make([]workv1alpha1.TargetCluster, len(sel))
		for k, i := range sel {
			out[k] = workv1alpha1.TargetCluster{Name: r.clusters[i].c.Name, Replicas: max(r.in.Replicas, 0)}
		}
		sortTargets(out)
		return out, ""
	}
	if r.in.Settled && !r.fresh {
		if out, ok := r.keepCurrent(sel); ok {
			return out, ""
		}
	}
	switch r.strategy {
	case staticWeight:
		return r.assignStatic(sel)
	case dynamicWeight:
		return r.assignDynamic(sel)
	}
	return r.assignAggregated(sel)
}

// assignStatic divides by the static weight list. A cluster's weight is the
// highest weight among the entries whose targetCluster selects it; a
// cluster no entry selects gets no replicas, unless no selected cluster
// matches any entry, in which case all weigh the same (both as Karmada).
// Without a list all clusters weigh the same.
//
// The division is recomputed from the weights each time, as in Karmada:
// static weights are declarative, so a weight change takes effect without
// a rebalance. That is still steady: Webster is house monotone (scaling up
// only adds, scaling down only removes) and consistent (when a cluster
// leaves, the others only gain), and ties are broken in favour of the
// current assignment, so an unchanged input never moves a replica.
func (r *run) assignStatic(sel []int32) ([]workv1alpha1.TargetCluster, string) {
	s := r.shares(len(sel))
	anyWeight := false
	for k, i := range sel {
		cs := &r.clusters[i]
		w := int64(1)
		if len(r.statics) > 0 {
			w = 0
			for e := range r.statics {
				if ok, _ := r.statics[e].m.Matches(&cs.target); ok {
					w = max(w, r.statics[e].weight)
				}
			}
		}
		anyWeight = anyWeight || w > 0
		s[k] = r.newShare(i, w)
	}
	if !anyWeight {
		for k := range s {
			s[k].weight = 1
		}
	}
	r.sc.apportion(r.in.Replicas, s)
	out, placed := r.targets(sel, s, false)
	if placed < r.in.Replicas {
		// Only possible when the clusters that could take replicas are all
		// keep-only (tainted clusters already running the workload).
		return nil, fmt.Sprintf("only %d of %d replicas can be placed: the other clusters with weight have taints the policy does not tolerate", placed, r.in.Replicas)
	}
	return out, ""
}

// assignDynamic divides by the clusters' available replicas
// (dynamicWeight: AvailableReplicas). It never overcommits: when the
// clusters cannot take the replicas it fails instead.
//
// Steady (the default), like Karmada: the current replicas on selected
// clusters stay; on scale-up only the new replicas (including those of
// clusters that are no longer selected) are divided, by availability; on
// scale-down the current assignment is the weight, so every cluster shrinks
// in proportion. Fresh: everything is divided by availability, counting a
// cluster's current replicas as available since moving them frees their
// room.
func (r *run) assignDynamic(sel []int32) ([]workv1alpha1.TargetCluster, string) {
	want := r.in.Replicas
	s := r.shares(len(sel))
	if r.fresh {
		for k, i := range sel {
			s[k] = r.newShare(i, 0)
		}
		if room := r.roomSum(sel); room < int64(want) {
			return nil, r.capacityProblem(sel, room, want, false)
		}
		r.weighByRoom(sel, s, want)
		r.sc.apportion(want, s)
		out, _ := r.targets(sel, s, false)
		return out, ""
	}

	assigned := r.assignedIn(sel)
	for k, i := range sel {
		s[k] = r.newShare(i, 0)
	}
	switch {
	case assigned == want:
		out, _ := r.targets(sel, s, true)
		return out, ""
	case assigned > want:
		for k := range s {
			s[k].weight = uint64(s[k].current)
		}
		r.sc.apportion(want, s)
		out, _ := r.targets(sel, s, false)
		return out, ""
	}
	need := want - assigned
	if avail := r.availSum(sel); avail < int64(need) {
		return nil, r.capacityProblem(sel, avail, need, assigned > 0)
	}
	r.weighByAvail(sel, s, need)
	r.sc.apportion(need, s)
	out, _ := r.targets(sel, s, true)
	return out, ""
}

// assignAggregated packs the replicas into as few clusters as possible:
// clusters are taken in order (steady: those already running the workload
// first, then the roomiest) until they can hold the replicas, and the
// replicas are divided among them by room, leaving headroom in each rather
// than filling one to the brim (as Karmada). Scale-down keeps the clusters
// with the most replicas and shrinks them in proportion.
func (r *run) assignAggregated(sel []int32) ([]workv1alpha1.TargetCluster, string) {
	want := r.in.Replicas
	order := slices.Clone(sel)
	s := r.shares(len(order))
	if r.fresh {
		slices.SortFunc(order, func(a, b int32) int { return r.cmpRoom(a, b) })
		for k, i := range order {
			s[k] = r.newShare(i, 0)
		}
		n, room := r.prefix(order, want, r.room)
		if room < int64(want) {
			return nil, r.capacityProblem(order, room, want, false)
		}
		r.weighByRoom(order[:n], s[:n], want)
		r.sc.apportion(want, s[:n])
		out, _ := r.targets(order, s, false)
		return out, ""
	}

	assigned := r.assignedIn(order)
	switch {
	case assigned == want:
		for k, i := range order {
			s[k] = r.newShare(i, 0)
		}
		out, _ := r.targets(order, s, true)
		return out, ""
	case assigned > want:
		slices.SortFunc(order, func(a, b int32) int {
			if ca, cb := r.clusters[a].current, r.clusters[b].current; ca != cb {
				return int(cb - ca)
			}
			return r.cmpClusters(a, b)
		})
		for k, i := range order {
			s[k] = r.newShare(i, 0)
			s[k].weight = uint64(s[k].current)
		}
		n, _ := r.prefix(order, want, func(i int32) int64 { return int64(r.clusters[i].current) })
		r.sc.apportion(want, s[:n])
		out, _ := r.targets(order, s, false)
		return out, ""
	}
	need := want - assigned
	slices.SortFunc(order, func(a, b int32) int {
		if ha, hb := r.clusters[a].current > 0, r.clusters[b].current > 0; ha != hb {
			if ha {
				return -1
			}
			return 1
		}
		return r.cmpAvail(a, b)
	})
	for k, i := range order {
		s[k] = r.newShare(i, 0)
	}
	n, avail := r.prefix(order, need, r.avail)
	if avail < int64(need) {
		return nil, r.capacityProblem(order, avail, need, assigned > 0)
	}
	r.weighByAvail(order[:n], s[:n], need)
	r.sc.apportion(need, s[:n])
	out, _ := r.targets(order, s, true)
	return out, ""
}

// shares returns a zeroed buffer of n shares, reused between decisions.
func (r *run) shares(n int) []share {
	r.shareBuf = slices.Grow(r.shareBuf[:0], n)[:n]
	clear(r.shareBuf)
	return r.shareBuf
}

// newShare is the Webster participant for cluster i with weight w. The
// current assignment breaks ties unless fresh; keep-only clusters are capped
// at what they have.
func (r *run) newShare(i int32, w int64) share {
	cs := &r.clusters[i]
	sh := share{name: cs.c.Name, weight: uint64(max(w, 0)), tie: cs.hash, limit: -1}
	if !r.fresh {
		sh.current = cs.current
	}
	if cs.keepOnly {
		sh.limit = cs.current
	}
	return sh
}

// weighByAvail and weighByRoom set the weights to the clusters' available
// replicas or room. A cluster of unknown capacity (Unlimited) weighs as much
// as the roomiest known cluster, and at least need: it is assumed to be as
// able as any, without letting MaxInt32 swamp the others.
func (r *run) weighByAvail(sel []int32, s []share, need int32) {
	r.weigh(sel, s, need, r.avail)
}

func (r *run) weighByRoom(sel []int32, s []share, need int32) {
	r.weigh(sel, s, need, r.room)
}

func (r *run) weigh(sel []int32, s []share, need int32, f func(int32) int64) {
	known := int64(need)
	for _, i := range sel {
		if v := f(i); v < Unlimited {
			known = max(known, v)
		}
	}
	for k, i := range sel {
		v := f(i)
		if v >= Unlimited {
			v = known
		}
		s[k].weight = uint64(v)
	}
}

// prefix returns how many clusters of order, taken in order, are needed
// for their f to sum to need (all of them if it never does), and that sum.
func (r *run) prefix(order []int32, need int32, f func(int32) int64) (int, int64) {
	var sum int64
	for k, i := range order {
		sum = min(sum+f(i), Unlimited)
		if sum >= int64(need) {
			return k + 1, sum
		}
	}
	return len(order), sum
}

// assignedIn is the binding's current replicas on sel (saturating, so that
// absurd input cannot overflow).
func (r *run) assignedIn(sel []int32) int32 {
	var sum int64
	for _, i := range sel {
		sum += int64(r.clusters[i].current)
	}
	return int32(min(sum, Unlimited))
}

func (r *run) availSum(sel []int32) int64 {
	var sum int64
	for _, i := range sel {
		sum = min(sum+r.avail(i), Unlimited)
	}
	return sum
}

// cmpRoom and cmpAvail order by room or availability, most first, then by
// hash and name.
func (r *run) cmpRoom(a, b int32) int {
	if ra, rb := r.room(a), r.room(b); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	return r.cmpHash(a, b)
}

func (r *run) cmpAvail(a, b int32) int {
	if ra, rb := r.avail(a), r.avail(b); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	return r.cmpHash(a, b)
}

func (r *run) cmpHash(a, b int32) int {
	A, B := &r.clusters[a], &r.clusters[b]
	if A.hash != B.hash {
		if A.hash < B.hash {
			return -1
		}
		return 1
	}
	return strings.Compare(A.c.Name, B.c.Name)
}

// targets turns shares into the sorted target list, dropping clusters with
// no replicas. With addCurrent the shares are additions to the current
// assignment. It also returns the number of replicas placed.
func (r *run) targets(sel []int32, s []share, addCurrent bool) ([]workv1alpha1.TargetCluster, int32) {
	out := make([]workv1alpha1.TargetCluster, 0, len(sel))
	var placed int32
	for k, i := range sel {
		n := s[k].n
		if addCurrent {
			n += r.clusters[i].current
		}
		if n > 0 {
			out = append(out, workv1alpha1.TargetCluster{Name: r.clusters[i].c.Name, Replicas: n})
			placed += n
		}
	}
	sortTargets(out)
	return out, placed
}

func sortTargets(t []workv1alpha1.TargetCluster) {
	slices.SortFunc(t, func(a, b workv1alpha1.TargetCluster) int { return strings.Compare(a.Name, b.Name) })
}

// capacityProblem explains that the clusters can take only got of the want
// replicas, listing the roomiest clusters.
func (r *run) capacityProblem(sel []int32, got int64, want int32, additional bool) string {
	var b strings.Builder
	b.WriteString("not enough capacity: only ")
	b.WriteString(strconv.FormatInt(got, 10))
	b.WriteString(" of ")
	if additional {
		b.WriteString("the ")
		b.WriteString(strconv.Itoa(int(want)))
		b.WriteString(" additional replicas can be placed")
	} else {
		b.WriteString(strconv.Itoa(int(want)))
		b.WriteString(" replicas can be placed")
	}
	order := slices.Clone(sel)
	f := r.avail
	if !additional {
		f = r.room
	}
	slices.SortFunc(order, func(a, b int32) int {
		if fa, fb := f(a), f(b); fa != fb {
			if fa > fb {
				return -1
			}
			return 1
		}
		return strings.Compare(r.clusters[a].c.Name, r.clusters[b].c.Name)
	})
	b.WriteString(" (")
	listed := 0
	for _, i := range order {
		v := f(i)
		if v <= 0 {
			break
		}
		if listed == maxNamesPerGroup {
			b.WriteString(", ...")
			break
		}
		if listed > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.clusters[i].c.Name)
		b.WriteString(": ")
		b.WriteString(strconv.FormatInt(v, 10))
		listed++
	}
	if listed == 0 {
		b.WriteString("no cluster has room")
	}
	b.WriteString(")")
	return b.String()
}

// keepCurrent returns the current assignment when it is still valid for
// the selected clusters: every cluster with replicas is selected and the
// replicas add up to the total.
func (r *run) keepCurrent(sel []int32) ([]workv1alpha1.TargetCluster, bool) {
	selected := make(map[string]bool, len(sel))
	for _, i := range sel {
		selected[r.clusters[i].c.Name] = true
	}
	var out []workv1alpha1.TargetCluster
	var sum int32
	for _, tc := range r.in.Current {
		if tc.Replicas <= 0 {
			continue
		}
		if !selected[tc.Name] {
			return nil, false
		}
		sum += tc.Replicas
		out = append(out, tc)
	}
	if sum != r.in.Replicas {
		return nil, false
	}
	sortTargets(out)
	return out, true
}
