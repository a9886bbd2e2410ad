/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"fmt"
	"slices"
	"strings"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
)

// spreadSpec is the placement's spread constraints, compiled.
type spreadSpec struct {
	// clusterMin and clusterMax bound the number of clusters (spreadByField
	// cluster); clusterMax 0 means no bound.
	clusterMin, clusterMax int
	// groups are the other constraints, the one that drives the selection
	// first (region, then zone, provider, label).
	groups []groupSpread
}

// groupSpread is a constraint on the number of groups of clusters sharing a
// region, zone, provider or label value.
type groupSpread struct {
	field    policyv1alpha1.SpreadFieldValue
	label    string
	min, max int
}

func compileSpread(constraints []policyv1alpha1.SpreadConstraint) spreadSpec {
	var s spreadSpec
	s.clusterMin = 1
	for _, c := range constraints {
		lo := max(int(c.MinGroups), 1) // minGroups defaults to 1
		hi := max(int(c.MaxGroups), 0)
		switch {
		case c.SpreadByLabel != "":
			s.groups = append(s.groups, groupSpread{label: c.SpreadByLabel, min: lo, max: hi})
		case c.SpreadByField == "" || c.SpreadByField == policyv1alpha1.SpreadByFieldCluster:
			s.clusterMin, s.clusterMax = lo, hi
		default:
			s.groups = append(s.groups, groupSpread{field: c.SpreadByField, min: lo, max: hi})
		}
	}
	rank := func(g groupSpread) int {
		switch g.field {
		case policyv1alpha1.SpreadByFieldRegion:
			return 0
		case policyv1alpha1.SpreadByFieldZone:
			return 1
		case policyv1alpha1.SpreadByFieldProvider:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(s.groups, func(a, b groupSpread) int { return rank(a) - rank(b) })
	return s
}

// key is the group of c ("" when c has none). A cluster spanning several
// zones is grouped under spec.zone, or else under the first of spec.zones.
func (g *groupSpread) key(c *Cluster) string {
	switch g.field {
	case policyv1alpha1.SpreadByFieldRegion:
		return c.Region
	case policyv1alpha1.SpreadByFieldProvider:
		return c.Provider
	case policyv1alpha1.SpreadByFieldZone:
		t := c.affinityTarget()
		for z := range clusteraffinity.Zones(&t) {
			return z
		}
		return ""
	}
	return c.Labels[g.label]
}

// noun names the groups in messages: "regions", "values of label x".
func (g *groupSpread) noun() string {
	if g.field != "" {
		return string(g.field) + "s"
	}
	return "values of label " + g.label
}

// selectClusters applies the spread constraints to the candidates and
// returns the clusters to assign replicas to, or a problem.
//
// Clusters are ranked by: already running the workload (unless fresh), so
// that a steady schedule does not move it; then room for the workload's
// replicas, so that Divided workloads fit; then a per-workload hash, so that
// equal clusters are not chosen by name.
//
// Spreading by cluster takes the best maxGroups clusters (all when unbound):
// spreading is what the constraint asks for. Spreading by region (or zone,
// provider, label) takes as few groups as minGroups allows, best group
// first, and more only when the clusters in them cannot satisfy the cluster
// constraint or hold the replicas; within the chosen groups it takes the
// best cluster of each group, then the best of the others up to the cluster
// maxGroups. That is Karmada's behaviour, computed greedily instead of by
// exhaustive search, so it stays linear in the number of clusters. Further
// group constraints (region and zone, say) are checked on the result.
func (r *run) selectClusters(cands []int32) ([]int32, string) {
	if !r.useSpread {
		return cands, ""
	}
	cands = slices.Clone(cands)
	slices.SortFunc(cands, r.cmpClusters)
	var sel []int32
	var problem string
	if len(r.spread.groups) == 0 {
		sel, problem = r.selectByCluster(cands)
	} else {
		sel, problem = r.selectByGroup(cands, &r.spread.groups[0])
	}
	if problem != "" {
		return nil, problem
	}
	for k := 1; k < len(r.spread.groups); k++ {
		g := &r.spread.groups[k]
		seen := map[string]struct{}{}
		for _, i := range sel {
			if v := g.key(r.clusters[i].c); v != "" {
				seen[v] = struct{}{}
			}
		}
		if n := len(seen); n < g.min || (g.max > 0 && n > g.max) {
			return nil, fmt.Sprintf("spreadConstraints cannot be met: the selected clusters span %d %s, the constraint asks for %s",
				n, g.noun(), bounds(g.min, g.max))
		}
	}
	return sel, ""
}

func bounds(lo, hi int) string {
	switch {
	case hi == 0:
		return fmt.Sprintf("at least %d", lo)
	case lo == hi:
		return fmt.Sprintf("exactly %d", lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// cmpClusters orders clusters best first; see selectClusters.
func (r *run) cmpClusters(a, b int32) int {
	A, B := &r.clusters[a], &r.clusters[b]
	if !r.fresh && A.inCurrent != B.inCurrent {
		if A.inCurrent {
			return -1
		}
		return 1
	}
	if ra, rb := r.room(a), r.room(b); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	if A.hash != B.hash {
		if A.hash < B.hash {
			return -1
		}
		return 1
	}
	return strings.Compare(A.c.Name, B.c.Name)
}

// roomSum is the total room of clusters, saturating at Unlimited.
func (r *run) roomSum(clusters []int32) int64 {
	var sum int64
	for _, i := range clusters {
		sum += r.room(i)
		if sum >= Unlimited {
			return Unlimited
		}
	}
	return sum
}

func (r *run) selectByCluster(cands []int32) ([]int32, string) {
	n := len(cands)
	if n < r.spread.clusterMin {
		return nil, fmt.Sprintf("spreadConstraints cannot be met: at least %d clusters are required", r.spread.clusterMin)
	}
	k := n
	if r.spread.clusterMax > 0 && r.spread.clusterMax < k {
		k = r.spread.clusterMax
	}
	sel := cands[:k]
	if k < n && r.capacityMatters() && r.roomSum(sel) < int64(r.in.Replicas) {
		// The best clusters by rank cannot hold the workload: take the
		// roomiest instead, even if that moves replicas.
		alt := slices.Clone(cands)
		slices.SortStableFunc(alt, func(a, b int32) int {
			ra, rb := r.room(a), r.room(b)
			switch {
			case ra > rb:
				return -1
			case ra < rb:
				return 1
			}
			return 0
		})
		sel = alt[:k]
	}
	return sel, ""
}

// bucket is one group of candidate clusters, best first.
type bucket struct {
	key     string
	members []int32
	current int
	room    int64
	hash    uint64
}

func (r *run) selectByGroup(cands []int32, g *groupSpread) ([]int32, string) {
	var buckets []bucket
	index := map[string]int{}
	for _, i := range cands {
		cs := &r.clusters[i]
		key := g.key(cs.c)
		if key == "" {
			continue
		}
		b, ok := index[key]
		if !ok {
			b = len(buckets)
			index[key] = b
			buckets = append(buckets, bucket{key: key, hash: nameHash(r.seed, key)})
		}
		bk := &buckets[b]
		bk.members = append(bk.members, i) // cands are sorted, so members are too
		if cs.inCurrent {
			bk.current++
		}
		bk.room = min(bk.room+r.room(i), Unlimited)
	}
	slices.SortFunc(buckets, func(a, b bucket) int {
		if !r.fresh && a.current != b.current {
			return b.current - a.current
		}
		if a.room != b.room {
			if a.room > b.room {
				return -1
			}
			return 1
		}
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})

	if len(buckets) < g.min {
		keys := make([]string, len(buckets))
		for k := range buckets {
			keys[k] = buckets[k].key
		}
		slices.Sort(keys)
		return nil, fmt.Sprintf("spreadConstraints cannot be met: at least %d %s are required, the available clusters span %d [%s]",
			g.min, g.noun(), len(buckets), strings.Join(keys, ", "))
	}
	gMax := len(buckets)
	if g.max > 0 && g.max < gMax {
		gMax = g.max
	}
	cMin, cMax := r.spread.clusterMin, r.spread.clusterMax
	problem := ""
	for n := g.min; n <= gMax; n++ {
		if cMax > 0 && n > cMax {
			problem = fmt.Sprintf("spreadConstraints cannot be met: %d %s need at least %d clusters, at most %d are allowed", n, g.noun(), n, cMax)
			break
		}
		chosen := buckets[:n]
		sel := make([]int32, 0, n)
		var rest []int32
		for k := range chosen {
			sel = append(sel, chosen[k].members[0])
			rest = append(rest, chosen[k].members[1:]...)
		}
		total := n + len(rest)
		if total < cMin {
			problem = fmt.Sprintf("spreadConstraints cannot be met: at least %d clusters are required, the best %d %s have %d", cMin, n, g.noun(), total)
			continue
		}
		k := total
		if cMax > 0 && cMax < k {
			k = cMax
		}
		slices.SortFunc(rest, r.cmpClusters)
		sel = append(sel, rest[:k-n]...)
		if r.capacityMatters() {
			if room := r.roomSum(sel); room < int64(r.in.Replicas) {
				problem = fmt.Sprintf("spreadConstraints cannot be met: %d clusters in the best %d %s can hold %d of %d replicas",
					len(sel), n, g.noun(), room, r.in.Replicas)
				continue
			}
		}
		return sel, ""
	}
	return nil, problem
}
