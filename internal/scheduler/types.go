/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
)

// Reasons of a Result. They are the reasons of the binding's Scheduled
// condition, so that the controller can copy them verbatim.
const (
	// ReasonSuccess: the binding was scheduled.
	ReasonSuccess = workv1alpha1.BindingReasonSuccess
	// ReasonNoClusterFit: no cluster passed the filters (affinity,
	// tolerations, API enablement, eviction).
	ReasonNoClusterFit = workv1alpha1.BindingReasonNoClusterFit
	// ReasonUnschedulable: clusters passed the filters, but the spread
	// constraints cannot be met or they cannot hold the replicas.
	ReasonUnschedulable = workv1alpha1.BindingReasonUnschedulable
)

// Cluster is what the scheduler knows of one member cluster. The controller
// builds it from the Cluster object and the member's informers; the scheduler
// never modifies it, so one snapshot can be shared by concurrent Schedule
// calls.
type Cluster struct {
	// Name of the Cluster object.
	Name string
	// Labels of the Cluster object, for clusterAffinity.labelSelector and
	// spreadByLabel.
	Labels map[string]string
	// Provider, Region and Zone are spec.provider, spec.region and spec.zone.
	Provider, Region, Zone string
	// Zones is spec.zones: the zones a cluster spans. The "zone" field of a
	// fieldSelector and spreadByField zone look at Zone and Zones together.
	Zones []string
	// Taints is spec.taints, including the not-ready, unreachable and
	// unschedulable taints the cluster controller manages.
	Taints []corev1.Taint
	// APIs is what the member serves. Nil means unknown (for example while
	// status.apiEnablements is incomplete): the API filter is skipped rather
	// than excluding a cluster on partial information.
	APIs APISet
	// Nodes of the member, from its informers. Nil means the capacity is
	// unknown and the cluster is treated as unlimited; an empty non-nil
	// slice means a cluster without nodes, which can hold nothing.
	Nodes []Node
	// Pending is what is already promised to other bindings in this cluster
	// but not yet visible as pods. It is subtracted from the free capacity so
	// that workloads scheduled in quick succession do not overcommit the
	// cluster. It must not include the binding being scheduled.
	Pending Resources

	// prepared is set by Prepare.
	prepared *nodeTable
}

// affinityTarget is c as a ClusterAffinity sees it.
func (c *Cluster) affinityTarget() clusteraffinity.Target {
	return clusteraffinity.Target{Name: c.Name, Labels: c.Labels, Provider: c.Provider, Region: c.Region, Zone: c.Zone, Zones: c.Zones}
}

// Node is one node of a member cluster.
type Node struct {
	Name   string
	Labels map[string]string
	Taints []corev1.Taint
	// Ready is the node's Ready condition; Unschedulable is spec.unschedulable.
	Ready, Unschedulable bool
	// Allocatable is status.allocatable, including "pods".
	Allocatable corev1.ResourceList
	// Requested is the sum of the requests of the non-terminated pods bound
	// to the node.
	Requested corev1.ResourceList
	// Pods is the number of non-terminated pods bound to the node.
	Pods int64
}

// APISet tells which kinds a member cluster serves.
type APISet interface {
	Serves(gvk schema.GroupVersionKind) bool
}

// GVKSet is a simple APISet. It is indexed by kind, so that a lookup hashes
// one short string rather than a whole GroupVersionKind: the API filter
// runs for every cluster of every decision. The zero value serves nothing;
// use a nil APISet for "unknown".
type GVKSet struct {
	kinds map[string][]schema.GroupVersion
}

// NewGVKSet returns a GVKSet holding gvks.
func NewGVKSet(gvks ...schema.GroupVersionKind) *GVKSet {
	s := &GVKSet{kinds: make(map[string][]schema.GroupVersion, len(gvks))}
	for _, gvk := range gvks {
		s.Insert(gvk)
	}
	return s
}

// Insert adds gvk to the set.
func (s *GVKSet) Insert(gvk schema.GroupVersionKind) {
	if s.kinds == nil {
		s.kinds = map[string][]schema.GroupVersion{}
	}
	gv := gvk.GroupVersion()
	if !slices.Contains(s.kinds[gvk.Kind], gv) {
		s.kinds[gvk.Kind] = append(s.kinds[gvk.Kind], gv)
	}
}

// Serves reports whether gvk is in the set. A nil *GVKSet means unknown,
// like a nil APISet, and serves everything.
func (s *GVKSet) Serves(gvk schema.GroupVersionKind) bool {
	if s == nil {
		return true
	}
	for _, gv := range s.kinds[gvk.Kind] {
		if gv.Group == gvk.Group && gv.Version == gvk.Version {
			return true
		}
	}
	return false
}

// APISetFromEnablements builds a GVKSet from a Cluster's
// status.apiEnablements. Entries whose group version does not parse are
// skipped. Pass nil as Cluster.APIs instead when the cluster's
// CompleteAPIEnablements condition is not True, so that a partial discovery
// does not exclude the cluster.
func APISetFromEnablements(enablements []clusterv1alpha1.APIEnablement) *GVKSet {
	s := &GVKSet{kinds: map[string][]schema.GroupVersion{}}
	for i := range enablements {
		gv, err := schema.ParseGroupVersion(enablements[i].GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range enablements[i].Resources {
			s.Insert(gv.WithKind(r.Kind))
		}
	}
	return s
}

// Resources is an amount of requested resources and pods, used for
// Cluster.Pending.
type Resources struct {
	// Requests is the sum of the resource requests.
	Requests corev1.ResourceList
	// Pods is the number of pods.
	Pods int64
}

// ResourcesFor returns what replicas replicas of req occupy: the per-replica
// request multiplied by replicas, and replicas pods. The controller uses it
// to turn the assignments of bindings not yet running into Cluster.Pending.
func ResourcesFor(req *workv1alpha1.ReplicaRequirements, replicas int32) Resources {
	r := Resources{Pods: int64(replicas)}
	if req == nil || len(req.ResourceRequest) == 0 || replicas <= 0 {
		return r
	}
	r.Requests = make(corev1.ResourceList, len(req.ResourceRequest))
	for name, q := range req.ResourceRequest {
		r.Requests[name] = *resource.NewMilliQuantity(q.MilliValue()*int64(replicas), q.Format)
	}
	return r
}

// Add adds o to r.
func (r *Resources) Add(o Resources) {
	r.Pods += o.Pods
	if len(o.Requests) == 0 {
		return
	}
	if r.Requests == nil {
		r.Requests = make(corev1.ResourceList, len(o.Requests))
	}
	for name, q := range o.Requests {
		sum := r.Requests[name]
		sum.Add(q)
		r.Requests[name] = sum
	}
}

// Input is everything Schedule needs to schedule one binding.
type Input struct {
	// GVK of the wrapped object, for the API enablement filter. An empty
	// Kind skips that filter.
	GVK schema.GroupVersionKind
	// Replicas of the workload; 0 for kinds without replicas, in which case
	// every selected cluster gets an entry with 0 replicas.
	Replicas int32
	// Requirements of one replica, for the capacity estimate.
	Requirements *workv1alpha1.ReplicaRequirements
	// Placement of the binding; nil means every cluster, Duplicated.
	Placement *policyv1alpha1.Placement
	// Clusters is the snapshot of all member clusters.
	Clusters []Cluster
	// Current is the binding's spec.clusters now.
	Current []workv1alpha1.TargetCluster
	// Fresh redistributes everything from scratch, ignoring Current (set it
	// when spec.rescheduleTriggeredAt is newer than status.lastScheduledTime).
	Fresh bool
	// Settled says that Current was computed for the binding as it is now
	// (the scheduler already placed this generation). A Divided workload
	// then keeps Current as long as it is still valid (every cluster that
	// has replicas still selected, the total unchanged): a cluster that
	// recovers, loses a taint or joins, or capacity that frees up, moves
	// nothing (Karmada's lazy scheduling); a WorkloadRebalancer (Fresh)
	// does. Duplicated workloads still follow the selected clusters.
	Settled bool
	// Evicting lists the clusters with graceful eviction tasks; they are
	// filtered out.
	Evicting []string
	// CurrentAffinityName is status.schedulerObservingAffinityName: the
	// clusterAffinities group the current schedule is based on.
	CurrentAffinityName string
	// Seed identifies the workload, for example "namespace/name" of the
	// binding. It seeds the tie-breaking so that, when clusters are equally
	// good, different workloads favour different clusters instead of the
	// whole fleet piling onto one. Optional; the result is deterministic for
	// a given seed.
	Seed string
}

// Result is the outcome of Schedule.
type Result struct {
	// Clusters is the new spec.clusters, sorted by name; nil unless Reason
	// is ReasonSuccess. Clusters that would get 0 replicas of a Divided
	// workload are left out.
	Clusters []workv1alpha1.TargetCluster
	// AffinityName is the clusterAffinities group used ("" without
	// groups). On failure it is Input.CurrentAffinityName, unchanged.
	AffinityName string
	// Reason is ReasonSuccess, ReasonNoClusterFit or ReasonUnschedulable.
	Reason string
	// Message explains the result for people: which clusters were
	// filtered out and why, grouped, in a deterministic order.
	Message string
}
