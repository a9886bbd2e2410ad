/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func TestAvailableReplicas(t *testing.T) {
	n := func(mut func(*Node)) Node {
		x := Node{Name: "n", Ready: true, Labels: map[string]string{"disk": "ssd", "gen": "5"},
			Allocatable: rl("cpu", "4", "memory", "8Gi", "pods", "110")}
		if mut != nil {
			mut(&x)
		}
		return x
	}
	claim := func(nc *workv1alpha1.NodeClaim) *workv1alpha1.ReplicaRequirements {
		return &workv1alpha1.ReplicaRequirements{ResourceRequest: rl("cpu", "1"), NodeClaim: nc}
	}
	affinity := func(reqs ...corev1.NodeSelectorRequirement) *workv1alpha1.NodeClaim {
		return &workv1alpha1.NodeClaim{HardNodeAffinity: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: reqs}}}}
	}
	req := func(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
	}

	tests := []struct {
		name string
		c    Cluster
		req  *workv1alpha1.ReplicaRequirements
		want int64
	}{
		{
			name: "per node, not pooled: two nodes with room for 1.5 each hold 2",
			c: Cluster{Nodes: []Node{
				n(func(x *Node) { x.Allocatable = rl("cpu", "1500m", "memory", "8Gi", "pods", "110") }),
				n(func(x *Node) { x.Allocatable = rl("cpu", "1500m", "memory", "8Gi", "pods", "110") }),
			}},
			req:  oneCPU,
			want: 2,
		},
		{
			name: "requested resources are subtracted",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Requested = rl("cpu", "2500m") })}},
			req:  oneCPU,
			want: 1,
		},
		{
			name: "the scarcest resource limits",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Allocatable = rl("cpu", "16", "memory", "3Gi", "pods", "110") })}},
			req:  oneCPU,
			want: 3,
		},
		{
			name: "pods limit",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Pods = 108 })}},
			req:  oneCPU,
			want: 2,
		},
		{
			name: "nil requirements: only pods limit",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Pods = 100 }), n(nil)}},
			want: 120,
		},
		{
			name: "no requests: only pods limit",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Pods = 10 })}},
			req:  &workv1alpha1.ReplicaRequirements{},
			want: 100,
		},
		{
			name: "a requested resource the node lacks",
			c:    Cluster{Nodes: []Node{n(nil)}},
			req:  &workv1alpha1.ReplicaRequirements{ResourceRequest: rl("nvidia.com/gpu", "1")},
			want: 0,
		},
		{
			name: "extended resources",
			c: Cluster{Nodes: []Node{n(func(x *Node) {
				x.Allocatable["nvidia.com/gpu"] = rl("g", "8")["g"]
				x.Requested = rl("nvidia.com/gpu", "3")
			})}},
			req:  &workv1alpha1.ReplicaRequirements{ResourceRequest: rl("nvidia.com/gpu", "2")},
			want: 2,
		},
		{
			name: "not ready and unschedulable nodes hold nothing",
			c: Cluster{Nodes: []Node{
				n(func(x *Node) { x.Ready = false }),
				n(func(x *Node) { x.Unschedulable = true }),
				n(nil),
			}},
			req:  oneCPU,
			want: 4,
		},
		{
			name: "overcommitted node counts as zero, not negative",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Requested = rl("cpu", "6") }), n(nil)}},
			req:  oneCPU,
			want: 4,
		},
		{
			name: "pending is subtracted in replicas of this size (max over resources)",
			c: Cluster{Nodes: []Node{n(nil), n(nil)},
				Pending: Resources{Requests: rl("cpu", "2500m", "memory", "1Gi"), Pods: 1}},
			req:  oneCPU,
			want: 8 - 3,
		},
		{
			name: "pending pods count when the replica requests nothing",
			c:    Cluster{Nodes: []Node{n(func(x *Node) { x.Pods = 100 })}, Pending: Resources{Pods: 4, Requests: rl("cpu", "100")}},
			want: 6,
		},
		{
			name: "pending beyond capacity floors at zero",
			c:    Cluster{Nodes: []Node{n(nil)}, Pending: Resources{Requests: rl("cpu", "64")}},
			req:  oneCPU,
			want: 0,
		},
		{
			name: "unknown capacity is unlimited",
			c:    Cluster{Pending: Resources{Pods: 5}},
			req:  oneCPU,
			want: Unlimited,
		},
		{
			name: "no nodes at all",
			c:    Cluster{Nodes: []Node{}},
			req:  oneCPU,
			want: 0,
		},
		{
			name: "node selector",
			c:    Cluster{Nodes: []Node{n(nil), n(func(x *Node) { x.Labels = nil })}},
			req:  claim(&workv1alpha1.NodeClaim{NodeSelector: map[string]string{"disk": "ssd"}}),
			want: 4,
		},
		{
			name: "affinity In / NotIn",
			c:    Cluster{Nodes: []Node{n(nil), n(func(x *Node) { x.Labels = map[string]string{"disk": "hdd"} })}},
			req:  claim(affinity(req("disk", corev1.NodeSelectorOpIn, "ssd", "nvme"), req("zone", corev1.NodeSelectorOpNotIn, "z1"))),
			want: 4,
		},
		{
			name: "affinity Exists / DoesNotExist",
			c:    Cluster{Nodes: []Node{n(nil), n(func(x *Node) { x.Labels = map[string]string{"disk": "hdd", "spot": ""} })}},
			req:  claim(affinity(req("disk", corev1.NodeSelectorOpExists), req("spot", corev1.NodeSelectorOpDoesNotExist))),
			want: 4,
		},
		{
			name: "affinity Gt / Lt",
			c: Cluster{Nodes: []Node{n(nil),
				n(func(x *Node) { x.Labels = map[string]string{"gen": "3"} }),
				n(func(x *Node) { x.Labels = map[string]string{"gen": "x"} })}},
			req:  claim(affinity(req("gen", corev1.NodeSelectorOpGt, "4"), req("gen", corev1.NodeSelectorOpLt, "10"))),
			want: 4,
		},
		{
			name: "affinity terms are ORed; an empty term matches nothing",
			c:    Cluster{Nodes: []Node{n(nil), n(func(x *Node) { x.Name = "special"; x.Labels = nil })}},
			req: claim(&workv1alpha1.NodeClaim{HardNodeAffinity: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
				{},
				{MatchFields: []corev1.NodeSelectorRequirement{req("metadata.name", corev1.NodeSelectorOpIn, "special")}},
			}}}),
			want: 4,
		},
		{
			name: "affinity without terms matches nothing",
			c:    Cluster{Nodes: []Node{n(nil)}},
			req:  claim(&workv1alpha1.NodeClaim{HardNodeAffinity: &corev1.NodeSelector{}}),
			want: 0,
		},
		{
			name: "node taints: NoSchedule must be tolerated, PreferNoSchedule does not matter",
			c: Cluster{Nodes: []Node{
				n(func(x *Node) {
					x.Taints = []corev1.Taint{taint("node-role.kubernetes.io/control-plane", corev1.TaintEffectNoSchedule)}
				}),
				n(func(x *Node) { x.Taints = []corev1.Taint{taint("soft", corev1.TaintEffectPreferNoSchedule)} }),
			}},
			req:  oneCPU,
			want: 4,
		},
		{
			name: "node taints tolerated by the replica",
			c: Cluster{Nodes: []Node{
				n(func(x *Node) {
					x.Taints = []corev1.Taint{{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoExecute}}
				}),
			}},
			req: claim(&workv1alpha1.NodeClaim{Tolerations: []corev1.Toleration{
				{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "true"}}}),
			want: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AvailableReplicas(tt.c, tt.req); got != tt.want {
				t.Fatalf("AvailableReplicas = %d, want %d", got, tt.want)
			}
			prepared := []Cluster{tt.c}
			Prepare(prepared)
			if got := AvailableReplicas(prepared[0], tt.req); got != tt.want {
				t.Fatalf("AvailableReplicas after Prepare = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestResourcesFor(t *testing.T) {
	var p Resources
	p.Add(ResourcesFor(oneCPU, 3))
	p.Add(ResourcesFor(&workv1alpha1.ReplicaRequirements{ResourceRequest: rl("cpu", "500m")}, 2))
	p.Add(ResourcesFor(nil, 4))
	if p.Pods != 9 {
		t.Errorf("pods = %d, want 9", p.Pods)
	}
	if cpu := p.Requests[corev1.ResourceCPU]; cpu.MilliValue() != 4000 {
		t.Errorf("cpu = %s, want 4", cpu.String())
	}
	if mem := p.Requests[corev1.ResourceMemory]; mem.Value() != 3<<30 {
		t.Errorf("memory = %s, want 3Gi", mem.String())
	}
	// Pending of the same size is exactly that many replicas.
	c := Cluster{Nodes: []Node{readyNode("n", "10")}, Pending: ResourcesFor(oneCPU, 4)}
	if got := AvailableReplicas(c, oneCPU); got != 6 {
		t.Errorf("AvailableReplicas with 4 pending = %d, want 6", got)
	}
}

// TestPrepareIsTransparent: the prepared fast path gives exactly what the
// plain path gives, on random fleets and requirements.
func TestPrepareIsTransparent(t *testing.T) {
	reqs := []*workv1alpha1.ReplicaRequirements{
		nil,
		oneCPU,
		{ResourceRequest: rl("cpu", "250m", "memory", "512Mi")},
		{ResourceRequest: rl("nvidia.com/gpu", "1")},
		{ResourceRequest: rl("cpu", "100m"), NodeClaim: &workv1alpha1.NodeClaim{NodeSelector: map[string]string{"kubernetes.io/os": "linux"}}},
		{ResourceRequest: rl("cpu", "100m"), NodeClaim: &workv1alpha1.NodeClaim{Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}},
	}
	for n := 1; n <= 40; n++ {
		fleet := benchFleet(n)
		for i := range fleet {
			if i%3 == 0 {
				fleet[i].Nodes[0].Taints = []corev1.Taint{taint("dedicated", corev1.TaintEffectNoSchedule)}
			}
			if i%4 == 0 {
				fleet[i].Nodes[0].Ready = false
				fleet[i].Nodes[1].Allocatable["nvidia.com/gpu"] = rl("g", "4")["g"]
			}
			if i%5 == 0 {
				fleet[i].Nodes[1].Labels = nil
			}
		}
		prepared := slices.Clone(fleet)
		Prepare(prepared)
		for i := range fleet {
			for _, req := range reqs {
				if a, b := AvailableReplicas(fleet[i], req), AvailableReplicas(prepared[i], req); a != b {
					t.Fatalf("cluster %d, req %v: plain %d, prepared %d", i, req, a, b)
				}
			}
		}
	}
}
