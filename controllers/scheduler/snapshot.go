package scheduler

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/member"
	sched "argosy.dev/argosy/internal/scheduler"
)

// snapshot is what the algorithm needs of one cluster: its Cluster object,
// its nodes and their use from the member's informers, and what other
// bindings hold there but the member does not show yet.
func (r *Reconciler) snapshot(c *clusterv1alpha1.Cluster, pending reservation) sched.Cluster {
	s := r.nodes.get(c.Name, r.Members.Get(c.Name), r.now())
	s.Name = c.Name
	s.Labels = c.Labels
	s.Provider, s.Region, s.Zone, s.Zones = c.Spec.Provider, c.Spec.Region, c.Spec.Zone, c.Spec.Zones
	s.Taints = c.Spec.Taints
	s.APIs = r.nodes.apis(c)
	s.Pending = sched.Resources{Requests: pending.Resources, Pods: pending.Pods}
	return s
}

// nodeCache keeps each member's nodes, with their requested resources
// summed from the pods on them and prepared for the algorithm, for a short
// while: rebuilding them on every pass would cost more than scheduling. A
// binding scheduled on data up to ttl old is safe because the ledger holds
// what was placed meanwhile.
type nodeCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]nodeEntry
	apiSets map[string]apiSetEntry
}

type nodeEntry struct {
	cluster sched.Cluster // Nodes and their prepared form only
	member  *member.Member
	at      time.Time
}

func newNodeCache(ttl time.Duration) *nodeCache {
	return &nodeCache{ttl: ttl, entries: map[string]nodeEntry{}, apiSets: map[string]apiSetEntry{}}
}

// get returns a copy to fill in; Nodes stay shared and must not change. A
// member not connected or not synced has unknown capacity (nil Nodes).
func (nc *nodeCache) get(name string, m *member.Member, now time.Time) sched.Cluster {
	if m == nil || !m.Synced() {
		return sched.Cluster{}
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if e, ok := nc.entries[name]; ok && e.member == m && now.Sub(e.at) < nc.ttl {
		return e.cluster
	}
	cs := []sched.Cluster{{Nodes: nodes(m)}}
	sched.Prepare(cs)
	nc.entries[name] = nodeEntry{cluster: cs[0], member: m, at: now}
	return cs[0]
}

// apis returns the kinds the member serves, built once per version of the
// Cluster object rather than on every pass.
func (nc *nodeCache) apis(c *clusterv1alpha1.Cluster) sched.APISet {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if e, ok := nc.apiSets[c.Name]; ok && e.resourceVersion == c.ResourceVersion {
		return e.set
	}
	set := apis(c)
	nc.apiSets[c.Name] = apiSetEntry{resourceVersion: c.ResourceVersion, set: set}
	return set
}

type apiSetEntry struct {
	resourceVersion string
	set             sched.APISet
}

// apis is nil (do not filter) unless the cluster controller has recorded a
// complete discovery of the member.
func apis(c *clusterv1alpha1.Cluster) sched.APISet {
	if len(c.Status.APIEnablements) == 0 {
		return nil
	}
	if cond := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionCompleteAPIEnablements); cond != nil && cond.Status != metav1.ConditionTrue {
		return nil
	}
	return sched.APISetFromEnablements(c.Status.APIEnablements)
}

// nodes lists the member's nodes with what their pods request. The member
// cache only holds pods that are not finished, as kube-scheduler counts.
func nodes(m *member.Member) []sched.Node {
	list, err := m.Nodes()
	if err != nil {
		return nil
	}
	out := make([]sched.Node, 0, len(list))
	for _, n := range list {
		node := sched.Node{
			Name: n.Name, Labels: n.Labels, Taints: n.Spec.Taints,
			Ready: member.NodeReady(n), Unschedulable: n.Spec.Unschedulable,
			Allocatable: n.Status.Allocatable, Requested: corev1.ResourceList{},
		}
		pods, _ := m.PodsOnNode(n.Name)
		for _, p := range pods {
			node.Pods++
			member.AddResources(node.Requested, member.PodRequests(p))
		}
		out = append(out, node)
	}
	return out
}

// applyObject is the identity of rb as a server-side apply body.
func applyObject(rb *workv1alpha1.ResourceBinding) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(workv1alpha1.GroupVersion.String())
	u.SetKind("ResourceBinding")
	u.SetNamespace(rb.Namespace)
	u.SetName(rb.Name)
	return u
}
