/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package scheduler is Argosy's scheduling algorithm: it decides which member
// clusters receive a ResourceBinding's object and how many replicas each
// gets. It is a pure function over a snapshot (Input) with no Kubernetes
// client, so it can be table-tested exhaustively and benchmarked; the
// scheduler controller builds the snapshot from Cluster objects and member
// informers and writes the Result to the binding.
//
// Schedule runs, for the placement's clusterAffinity or for each
// clusterAffinities group in turn:
//
//  1. filter: affinity, taints vs. clusterTolerations, API enablement,
//     graceful eviction (filter.go);
//  2. select: spread constraints by cluster and by region, zone, provider or
//     label, preferring clusters already in use, then clusters with more
//     room (spread.go);
//  3. assign: Duplicated, or Divided as Aggregated, static weights or
//     dynamic weights by available replicas (assign.go), with the Webster
//     method for remainders (webster.go) and per-node capacity estimates
//     (estimate.go).
//
// Scheduling is steady by default: an existing assignment is kept and only
// the difference moves. Input.Fresh redistributes from scratch.
package scheduler

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
	"argosy.dev/argosy/internal/tolerations"
)

// strategy is how replicas are assigned to the selected clusters.
type strategy uint8

const (
	duplicated strategy = iota
	staticWeight
	dynamicWeight
	aggregated
)

// clusterState is the per-call view of one cluster.
type clusterState struct {
	c *Cluster
	// target is c as the affinity matcher reads it.
	target clusteraffinity.Target
	hash   uint64
	// current is the replicas the binding has in the cluster now.
	current   int32
	inCurrent bool
	// base is the outcome of the filters that do not depend on the affinity
	// group: taints, API enablement, eviction.
	base verdict
	// keepOnly marks a cluster that is filtered out only by a taint but
	// already runs the workload (steady mode). As in Karmada, the taint
	// filter does not apply to it: a NoSchedule taint (a cordon, for
	// example) keeps new replicas away but does not evict, and NoExecute
	// taints are enforced by the taint manager through graceful eviction
	// (Input.Evicting). Unlike Karmada, such a cluster receives no new
	// replicas; it keeps at most what it has.
	keepOnly bool
	// avail caches AvailableReplicas; -1 until computed.
	avail int64
}

// run is one Schedule call: the input compiled once, plus caches.
type run struct {
	in        *Input
	placement *policyv1alpha1.Placement
	strategy  strategy
	fresh     bool
	seed      uint64
	est       estimator
	clusters  []clusterState
	// statics is the compiled staticWeightList; nil means equal weights.
	statics   []compiledWeight
	useSpread bool
	spread    spreadSpec

	// Buffers reused between decisions (see runPool).
	sc       scratch
	shareBuf []share
	candBuf  []int32
	current  map[string]int32
	evicting map[string]struct{}
}

// runPool recycles the per-call state: at 100 clusters, allocating it anew
// for every decision made garbage collection a tenth of the cost.
var runPool = sync.Pool{New: func() any { return new(run) }}

type compiledWeight struct {
	m      clusteraffinity.Matcher
	weight int64
}

// outcome is the result of one attempt (one affinity group).
type outcome struct {
	reason     string
	problem    string
	filtered   []filtered
	candidates int
	targets    []workv1alpha1.TargetCluster
}

// Schedule decides the target clusters of a binding. See the package
// documentation for the steps; the doc comments of Input and Result say what
// goes in and out.
//
// With placement.clusterAffinities, the groups are tried in order and the
// first that fits is used; a group fits when clusters pass its filters and
// the spread constraints and replica assignment succeed. Unless Input.Fresh
// is set, the group named Input.CurrentAffinityName is tried first, so that
// a workload that fell back to a later group stays there while it fits;
// a fresh schedule starts again at the first group, so a rebalance brings
// the workload back to the preferred one. Unlike Karmada, which only moves
// forward from the current group, the groups before the current one are
// tried when it stops fitting.
func Schedule(in Input) Result {
	r := runPool.Get().(*run)
	defer r.release()
	r.init(&in)
	p := r.placement
	if len(p.ClusterAffinities) == 0 {
		m := clusteraffinity.Compile(p.ClusterAffinity)
		return r.result(r.attempt(&m), "")
	}

	order := make([]int, 0, len(p.ClusterAffinities))
	if !in.Fresh && in.CurrentAffinityName != "" {
		for i := range p.ClusterAffinities {
			if p.ClusterAffinities[i].AffinityName == in.CurrentAffinityName {
				order = append(order, i)
			}
		}
	}
	for i := range p.ClusterAffinities {
		if len(order) == 0 || order[0] != i {
			order = append(order, i)
		}
	}

	var msg strings.Builder
	msg.WriteString("no clusterAffinities group fits.")
	reason := ReasonNoClusterFit
	for _, i := range order {
		g := &p.ClusterAffinities[i]
		m := clusteraffinity.Compile(&g.ClusterAffinity)
		o := r.attempt(&m)
		if o.reason == ReasonSuccess {
			return r.result(o, g.AffinityName)
		}
		// A group whose clusters pass the filters but cannot take the
		// workload says more than one that has no clusters at all.
		if o.reason == ReasonUnschedulable {
			reason = ReasonUnschedulable
		}
		msg.WriteString(" Group ")
		msg.WriteString(strconv.Quote(g.AffinityName))
		msg.WriteString(": ")
		msg.WriteString(r.describe(&o))
		msg.WriteByte('.')
	}
	return Result{AffinityName: in.CurrentAffinityName, Reason: reason, Message: msg.String()}
}

// init prepares r for in, reusing r's buffers.
func (r *run) init(in *Input) {
	*r = run{in: in, placement: in.Placement, fresh: in.Fresh,
		sc: r.sc, shareBuf: r.shareBuf, candBuf: r.candBuf, clusters: r.clusters,
		current: r.current, evicting: r.evicting}
	if r.placement == nil {
		r.placement = &policyv1alpha1.Placement{}
	}
	p := r.placement

	r.strategy = duplicated
	if rs := p.ReplicaScheduling; rs != nil && rs.ReplicaSchedulingType != policyv1alpha1.ReplicaSchedulingTypeDuplicated {
		// An empty type is Divided, the API default.
		switch {
		case rs.ReplicaDivisionPreference == policyv1alpha1.ReplicaDivisionPreferenceAggregated:
			r.strategy = aggregated
		case rs.WeightPreference != nil && rs.WeightPreference.DynamicWeight != "":
			r.strategy = dynamicWeight
		default:
			// Weighted, or empty (which means Weighted): static weights, all
			// equal when there is no list.
			r.strategy = staticWeight
			if wp := rs.WeightPreference; wp != nil {
				for i := range wp.StaticWeightList {
					e := &wp.StaticWeightList[i]
					r.statics = append(r.statics, compiledWeight{m: clusteraffinity.Compile(&e.TargetCluster), weight: e.Weight})
				}
			}
		}
	}
	// Karmada ignores spread constraints for a static weight list: the list
	// itself says which clusters get replicas. Equal weights (no list) do
	// honour them here, so that "Divided across at most N clusters" works.
	r.useSpread = len(p.SpreadConstraints) > 0 && !(r.strategy == staticWeight && len(r.statics) > 0)
	if r.useSpread {
		r.spread = compileSpread(p.SpreadConstraints)
	}
	if in.Replicas > 0 {
		r.est = newEstimator(in.Requirements)
	}

	if r.current == nil {
		r.current = make(map[string]int32, len(in.Current))
		r.evicting = map[string]struct{}{}
	}
	current, evicting := r.current, r.evicting
	for _, t := range in.Current {
		current[t.Name] += t.Replicas
	}
	for _, name := range in.Evicting {
		evicting[name] = struct{}{}
	}
	checkAPI := in.GVK.Kind != ""
	r.seed = seedHash(in.Seed)
	r.clusters = slices.Grow(r.clusters[:0], len(in.Clusters))[:len(in.Clusters)]
	clear(r.clusters)
	for i := range in.Clusters {
		c := &in.Clusters[i]
		cs := &r.clusters[i]
		cs.c = c
		cs.target = c.affinityTarget()
		cs.hash = nameHash(r.seed, c.Name)
		cs.avail = -1
		cs.current, cs.inCurrent = current[c.Name]
		cs.current = max(cs.current, 0)

		t := tolerations.Untolerated(c.Taints, p.ClusterTolerations)
		apiOK := !checkAPI || c.APIs == nil || c.APIs.Serves(in.GVK)
		_, evicted := evicting[c.Name]
		switch {
		case t != nil:
			cs.base = verdict{kind: byTaint, detail: tolerations.Format(t)}
			cs.keepOnly = apiOK && !evicted && cs.inCurrent && !in.Fresh
		case !apiOK:
			cs.base = verdict{kind: byAPI, detail: formatGVK(in.GVK)}
		case evicted:
			cs.base = verdict{kind: byEviction}
		}
	}
}

// release returns r to the pool without keeping the input alive.
func (r *run) release() {
	clear(r.clusters)
	clear(r.shareBuf)
	clear(r.current)
	clear(r.evicting)
	*r = run{sc: r.sc, shareBuf: r.shareBuf[:0], candBuf: r.candBuf[:0], clusters: r.clusters[:0],
		current: r.current, evicting: r.evicting}
	runPool.Put(r)
}

// attempt filters, selects and assigns for one affinity.
func (r *run) attempt(m *clusteraffinity.Matcher) outcome {
	var o outcome
	cands := r.candBuf[:0]
	defer func() { r.candBuf = cands[:0] }()
	for i := range r.clusters {
		cs := &r.clusters[i]
		if ok, detail := m.Matches(&cs.target); !ok {
			o.filtered = append(o.filtered, filtered{name: cs.c.Name, why: verdict{kind: byAffinity, detail: detail}})
			continue
		}
		if cs.base.kind != passed && !cs.keepOnly {
			o.filtered = append(o.filtered, filtered{name: cs.c.Name, why: cs.base})
			continue
		}
		cands = append(cands, int32(i))
	}
	o.candidates = len(cands)
	if len(cands) == 0 {
		o.reason = ReasonNoClusterFit
		return o
	}
	sel, problem := r.selectClusters(cands)
	if problem == "" {
		o.targets, problem = r.assign(sel)
	}
	if problem != "" {
		o.reason, o.problem, o.targets = ReasonUnschedulable, problem, nil
		return o
	}
	o.reason = ReasonSuccess
	return o
}

// result turns a final outcome into a Result.
func (r *run) result(o outcome, affinityName string) Result {
	if o.reason != ReasonSuccess {
		return Result{AffinityName: r.in.CurrentAffinityName, Reason: o.reason, Message: r.describe(&o)}
	}
	var b strings.Builder
	if r.in.Replicas > 0 && r.strategy != duplicated {
		b.WriteString("divided ")
		b.WriteString(strconv.Itoa(int(r.in.Replicas)))
		b.WriteString(" replicas among ")
	} else {
		b.WriteString("scheduled to ")
	}
	b.WriteString(strconv.Itoa(len(o.targets)))
	b.WriteString(" clusters (")
	b.WriteString(r.availability(&o))
	b.WriteString(")")
	return Result{Clusters: o.targets, AffinityName: affinityName, Reason: ReasonSuccess, Message: b.String()}
}

// availability renders "k/n clusters are available".
func (r *run) availability(o *outcome) string {
	return strconv.Itoa(o.candidates) + "/" + strconv.Itoa(len(r.clusters)) + " clusters are available"
}

// describe renders a failed outcome.
func (r *run) describe(o *outcome) string {
	if len(r.clusters) == 0 {
		return "0/0 clusters are available: no member clusters are registered"
	}
	avail := r.availability(o)
	why := describeFiltered(o.filtered)
	if o.reason == ReasonNoClusterFit {
		return avail + ": " + why
	}
	if why == "" {
		return o.problem + "; " + avail
	}
	return o.problem + "; " + avail + ": " + why
}

// avail returns the cached AvailableReplicas of cluster i. A keepOnly
// cluster takes no new replicas, so it has none available.
func (r *run) avail(i int32) int64 {
	cs := &r.clusters[i]
	if cs.avail < 0 {
		if cs.keepOnly || r.in.Replicas <= 0 {
			cs.avail = 0
		} else {
			cs.avail = r.est.available(cs.c)
		}
	}
	return cs.avail
}

// room is how many replicas of the binding cluster i can hold in total: what
// it already has plus what it can take. Fresh scheduling counts the current
// replicas too, since moving them frees their room (as Karmada does).
func (r *run) room(i int32) int64 {
	a := r.avail(i)
	if a >= Unlimited {
		return Unlimited
	}
	return a + int64(r.clusters[i].current)
}

// capacityMatters reports whether the assignment is limited by capacity.
// Duplicated and static weights are declarative and do not look at it (as in
// Karmada): the workload's pods simply stay pending where there is no room.
func (r *run) capacityMatters() bool {
	return r.in.Replicas > 0 && (r.strategy == dynamicWeight || r.strategy == aggregated)
}
