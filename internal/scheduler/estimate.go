/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/tolerations"
)

// Unlimited is what AvailableReplicas returns for a cluster whose capacity is
// unknown (Cluster.Nodes is nil), and the most it returns otherwise.
const Unlimited = math.MaxInt32

// AvailableReplicas estimates how many more replicas of req cluster c can run.
//
// Replicas are packed per node, because a replica cannot straddle nodes: two
// nodes with room for 1.5 replicas each hold 2 replicas, not 3. For each
// node that is Ready, schedulable, matches the replica's node selector and
// required node affinity, and whose NoSchedule/NoExecute taints the replica
// tolerates, the node holds
//
//	min over requested resources r of floor((allocatable[r] - requested[r]) / request[r])
//
// further limited by allocatable pods minus the pods already on the node. A
// nil req, or one without requests, is limited by pods only. The sum over
// nodes is then reduced by Cluster.Pending, converted to replicas of this
// size (for each resource, the number of replicas the pending amount would
// occupy; the largest of those and the pending pod count), and floored at 0.
//
// A cluster with nil Nodes has unknown capacity and is treated as unlimited:
// the result is Unlimited. Quantities are compared in milli-units, which is
// exact for every practical amount (up to 9.2e15 base units, 8 PiB of
// memory).
func AvailableReplicas(c Cluster, req *workv1alpha1.ReplicaRequirements) int64 {
	e := newEstimator(req)
	return e.available(&c)
}

// estimator is req compiled for the per-node loop: the requests as parallel
// slices of names and milli-amounts, so that each node costs two map
// lookups per requested resource and nothing else.
type estimator struct {
	names       []corev1.ResourceName
	milli       []int64
	selector    []labelPair
	affinity    *corev1.NodeSelector
	tolerations []corev1.Toleration
	// selectorKeys is the node selector as keys of nodeTable.labels.
	selectorKeys []string
	// cols caches the columns of the requested resources in colsFor, the
	// resource names of a prepared cluster (see columns).
	cols    []int
	colsFor []corev1.ResourceName
	colsOK  bool
}

type labelPair struct{ key, value string }

func newEstimator(req *workv1alpha1.ReplicaRequirements) estimator {
	var e estimator
	if req == nil {
		return e
	}
	for name, q := range req.ResourceRequest {
		if name == corev1.ResourcePods {
			continue // the pods dimension is always accounted for
		}
		if v := q.MilliValue(); v > 0 {
			e.names = append(e.names, name)
			e.milli = append(e.milli, v)
		}
	}
	if nc := req.NodeClaim; nc != nil {
		// A slice, not the map: ranging over a map costs a random seed per
		// loop, which showed up as a quarter of the time per node.
		for k, v := range nc.NodeSelector {
			e.selector = append(e.selector, labelPair{k, v})
			e.selectorKeys = append(e.selectorKeys, labelKey(k, v))
		}
		e.affinity = nc.HardNodeAffinity
		e.tolerations = nc.Tolerations
	}
	return e
}

func (e *estimator) available(c *Cluster) int64 {
	if c.Nodes == nil {
		return Unlimited
	}
	var sum int64
	if t := c.prepared; t != nil && len(t.pods) == len(c.Nodes) {
		sum = e.fromTable(c, t)
	} else {
		for i := range c.Nodes {
			sum += e.nodeFit(&c.Nodes[i])
			if sum >= Unlimited {
				sum = Unlimited
				break
			}
		}
	}
	sum -= e.pendingReplicas(&c.Pending)
	if sum < 0 {
		return 0
	}
	return sum
}

// nodeFit is how many replicas fit on n.
func (e *estimator) nodeFit(n *Node) int64 {
	if !n.Ready || n.Unschedulable || !e.nodeMatches(n) {
		return 0
	}
	fit := int64(Unlimited)
	if q, ok := n.Allocatable[corev1.ResourcePods]; ok {
		fit = min(fit, q.Value()-n.Pods)
	}
	for k, name := range e.names {
		if fit <= 0 {
			return 0
		}
		alloc, ok := n.Allocatable[name]
		if !ok {
			return 0
		}
		free := alloc.MilliValue()
		if used, ok := n.Requested[name]; ok {
			free -= used.MilliValue()
		}
		fit = min(fit, free/e.milli[k])
	}
	return max(fit, 0)
}

// pendingReplicas converts p into replicas of the estimator's size.
func (e *estimator) pendingReplicas(p *Resources) int64 {
	n := max(p.Pods, 0)
	if len(p.Requests) == 0 {
		return n
	}
	for k, name := range e.names {
		q, ok := p.Requests[name]
		if !ok {
			continue
		}
		if v := q.MilliValue(); v > 0 {
			n = max(n, (v+e.milli[k]-1)/e.milli[k])
		}
	}
	return n
}

// nodeMatches applies the replica's node selector, required node affinity
// and tolerations to n.
func (e *estimator) nodeMatches(n *Node) bool {
	for _, l := range e.selector {
		if got, ok := n.Labels[l.key]; !ok || got != l.value {
			return false
		}
	}
	return e.nodeMatchesBeyondSelector(n)
}

// nodeMatchesBeyondSelector applies the required node affinity and the
// tolerations.
func (e *estimator) nodeMatchesBeyondSelector(n *Node) bool {
	if e.affinity != nil && !nodeSelectorMatches(e.affinity, n) {
		return false
	}
	return tolerations.Untolerated(n.Taints, e.tolerations) == nil
}

// nodeSelectorMatches evaluates a required node affinity as the kube-scheduler
// does: the terms are ORed, the requirements within a term are ANDed, and
// an empty term, like an empty list of terms, matches nothing. matchFields
// supports metadata.name.
func nodeSelectorMatches(s *corev1.NodeSelector, n *Node) bool {
	for i := range s.NodeSelectorTerms {
		t := &s.NodeSelectorTerms[i]
		if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
			continue
		}
		ok := true
		for j := range t.MatchExpressions {
			r := &t.MatchExpressions[j]
			v, has := n.Labels[r.Key]
			if !requirementMatches(r, v, has) {
				ok = false
				break
			}
		}
		for j := 0; ok && j < len(t.MatchFields); j++ {
			r := &t.MatchFields[j]
			ok = r.Key == "metadata.name" && requirementMatches(r, n.Name, true)
		}
		if ok {
			return true
		}
	}
	return false
}

func requirementMatches(r *corev1.NodeSelectorRequirement, v string, has bool) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return has && contains(r.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !has || !contains(r.Values, v)
	case corev1.NodeSelectorOpExists:
		return has
	case corev1.NodeSelectorOpDoesNotExist:
		return !has
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !has || len(r.Values) != 1 {
			return false
		}
		got, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == corev1.NodeSelectorOpGt {
			return got > want
		}
		return got < want
	}
	return false
}

func contains(values []string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}
