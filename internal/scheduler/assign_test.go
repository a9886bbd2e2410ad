/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func TestDuplicatedAndNonWorkloads(t *testing.T) {
	clusters := []Cluster{roomy("member2", 0), roomy("member1", 1), roomy("member3", 10)}
	tests := []struct {
		name      string
		placement *policyv1alpha1.Placement
		replicas  int32
		want      []workv1alpha1.TargetCluster
	}{
		{"nil placement is every cluster, Duplicated", nil, 3, tc("member1", 3, "member2", 3, "member3", 3)},
		{"nil replicaScheduling is Duplicated", &policyv1alpha1.Placement{}, 3, tc("member1", 3, "member2", 3, "member3", 3)},
		{"Duplicated ignores capacity (as Karmada)", &policyv1alpha1.Placement{ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{
			ReplicaSchedulingType: policyv1alpha1.ReplicaSchedulingTypeDuplicated}}, 5, tc("member1", 5, "member2", 5, "member3", 5)},
		{"non-workload: every cluster with 0", nil, 0, tc("member1", 0, "member2", 0, "member3", 0)},
		{"non-workload under Divided: every cluster with 0", dynamicPlacement(), 0, tc("member1", 0, "member2", 0, "member3", 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: tt.placement, Clusters: clusters})
			expectResult(t, got, ReasonSuccess, tt.want, "3/3 clusters are available")
		})
	}
}

func TestStaticWeights(t *testing.T) {
	three := []Cluster{roomy("member1", 0), roomy("member2", 0), roomy("member3", 0)}
	tests := []struct {
		name      string
		replicas  int32
		placement *policyv1alpha1.Placement
		clusters  []Cluster
		current   []workv1alpha1.TargetCluster
		want      []workv1alpha1.TargetCluster
	}{
		{"9 at 1:3", 9, staticPlacement("member1", 1, "member2", 3), three, nil, tc("member1", 2, "member2", 7)},
		{"2 at 2:1", 2, staticPlacement("member1", 2, "member2", 1), three, nil, tc("member1", 1, "member2", 1)},
		{"2 at 1:1", 2, staticPlacement("member1", 1, "member2", 1), three, nil, tc("member1", 1, "member2", 1)},
		{"capacity is not considered (declarative, as Karmada)", 6, staticPlacement("member1", 1, "member2", 2), three, nil, tc("member1", 2, "member2", 4)},
		{"unlisted cluster gets nothing", 4, staticPlacement("member1", 1), three, nil, tc("member1", 4)},
		{"no cluster matches any entry: equal weights", 3, staticPlacement("other", 5), three, nil, tc("member1", 1, "member2", 1, "member3", 1)},
		{"no weightPreference: equal weights", 6, &policyv1alpha1.Placement{ReplicaScheduling: divided(policyv1alpha1.ReplicaDivisionPreferenceWeighted, nil)},
			three, nil, tc("member1", 2, "member2", 2, "member3", 2)},
		{"empty preference and type mean Divided, Weighted", 6, &policyv1alpha1.Placement{ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{}},
			three, nil, tc("member1", 2, "member2", 2, "member3", 2)},
		{"ties follow the current assignment", 5, staticPlacement("member1", 1, "member2", 1), three, tc("member2", 3, "member1", 2), tc("member1", 2, "member2", 3)},
		{"ties follow the current assignment (other way)", 5, staticPlacement("member1", 1, "member2", 1), three, tc("member2", 2, "member1", 3), tc("member1", 3, "member2", 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: tt.placement, Clusters: tt.clusters, Current: tt.current})
			expectResult(t, got, ReasonSuccess, tt.want)
		})
	}

	t.Run("a cluster takes the highest weight of the entries that select it", func(t *testing.T) {
		clusters := []Cluster{
			{Name: "member1", Labels: map[string]string{"tier": "gold"}},
			{Name: "member2", Labels: map[string]string{"tier": "silver"}},
		}
		p := &policyv1alpha1.Placement{ReplicaScheduling: divided(policyv1alpha1.ReplicaDivisionPreferenceWeighted, &policyv1alpha1.ClusterPreferences{
			StaticWeightList: []policyv1alpha1.StaticClusterWeight{
				{TargetCluster: policyv1alpha1.ClusterAffinity{}, Weight: 1},
				{TargetCluster: policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}}, Weight: 3},
			}})}
		got := Schedule(Input{Replicas: 8, Placement: p, Clusters: clusters})
		expectResult(t, got, ReasonSuccess, tc("member1", 6, "member2", 2))
	})

	t.Run("steady: scaling and a leaving cluster only move the difference", func(t *testing.T) {
		p := staticPlacement("member1", 1, "member2", 1, "member3", 1)
		var cur []workv1alpha1.TargetCluster
		for _, replicas := range []int32{7, 8, 10, 11, 6, 5, 9} {
			got := Schedule(Input{Replicas: replicas, Placement: p, Clusters: three, Current: cur})
			if sum(got.Clusters) != replicas {
				t.Fatalf("%d replicas: %s", replicas, fmtTargets(got.Clusters))
			}
			before, after := asMap(cur), asMap(got.Clusters)
			for name := range after {
				if up := replicas > sum(cur); (up && after[name] < before[name]) || (!up && after[name] > before[name]) {
					t.Fatalf("%s -> %d replicas gave %s", fmtTargets(cur), replicas, fmtTargets(got.Clusters))
				}
			}
			cur = got.Clusters
		}
		// member3 becomes unschedulable: only its replicas move.
		tainted := append([]Cluster{}, three...)
		tainted[2].Taints = []corev1.Taint{taint("x", corev1.TaintEffectNoExecute)}
		got := Schedule(Input{Replicas: 9, Placement: p, Clusters: tainted, Current: cur, Evicting: []string{"member3"}})
		before := asMap(cur)
		for _, c := range got.Clusters {
			if c.Name == "member3" || c.Replicas < before[c.Name] {
				t.Fatalf("%s without member3 gave %s", fmtTargets(cur), fmtTargets(got.Clusters))
			}
		}
	})
}

// TestDynamicWeight covers dynamicWeight: AvailableReplicas.
func TestDynamicWeight(t *testing.T) {
	seed := []Cluster{roomy("member1", 2), roomy("member2", 1), roomy("member3", 3)}
	two := &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1", "member2"}}
	withAffinity := func(p *policyv1alpha1.Placement, a *policyv1alpha1.ClusterAffinity) *policyv1alpha1.Placement {
		p.ClusterAffinity = a
		return p
	}
	tests := []struct {
		name      string
		replicas  int32
		placement *policyv1alpha1.Placement
		clusters  []Cluster
		current   []workv1alpha1.TargetCluster
		fresh     bool
		evicting  []string
		reason    string
		want      []workv1alpha1.TargetCluster
		message   []string
	}{
		{
			name: "seed: room for 2 and 1 (member3 not selected) gives 2:1", replicas: 3,
			placement: withAffinity(dynamicPlacement(), two), clusters: seed,
			reason: ReasonSuccess, want: tc("member1", 2, "member2", 1),
		},
		{
			name: "weights are the available replicas (the API doc's example)", replicas: 12,
			placement: dynamicPlacement(), clusters: []Cluster{roomy("a", 6), roomy("b", 12), roomy("c", 18)},
			reason: ReasonSuccess, want: tc("a", 2, "b", 4, "c", 6),
		},
		{
			name: "clusters without room get nothing", replicas: 4,
			placement: dynamicPlacement(), clusters: []Cluster{roomy("a", 0), roomy("b", 4), roomy("c", 4)},
			reason: ReasonSuccess, want: tc("b", 2, "c", 2),
		},
		{
			name: "never overcommits: says how many fit", replicas: 4,
			placement: withAffinity(dynamicPlacement(), two), clusters: seed,
			reason: ReasonUnschedulable,
			message: []string{"not enough capacity: only 3 of 4 replicas can be placed (member1: 2, member2: 1)",
				"; 2/3 clusters are available: member3 is excluded by clusterAffinity"},
		},
		{
			name: "unknown capacity weighs like the roomiest known cluster", replicas: 10,
			placement: dynamicPlacement(), clusters: []Cluster{{Name: "unknown"}, roomy("known", 10), roomy("small", 0)},
			reason: ReasonSuccess, want: tc("known", 5, "unknown", 5),
		},
		{
			name: "steady: nothing changes", replicas: 3,
			placement: withAffinity(dynamicPlacement(), two), clusters: []Cluster{roomy("member1", 0), roomy("member2", 9)},
			current: tc("member1", 2, "member2", 1),
			reason:  ReasonSuccess, want: tc("member1", 2, "member2", 1),
		},
		{
			name: "steady scale-up places only the new replicas, by availability", replicas: 6,
			placement: dynamicPlacement(), clusters: []Cluster{roomy("member1", 4), roomy("member2", 2)},
			current: tc("member1", 2, "member2", 1),
			reason:  ReasonSuccess, want: tc("member1", 4, "member2", 2),
		},
		{
			name: "steady scale-up may add a cluster", replicas: 5,
			placement: dynamicPlacement(), clusters: []Cluster{roomy("member1", 0), roomy("member2", 0), roomy("member3", 9)},
			current: tc("member1", 2, "member2", 1),
			reason:  ReasonSuccess, want: tc("member1", 2, "member2", 1, "member3", 2),
		},
		{
			name: "steady scale-up beyond capacity", replicas: 9,
			placement: dynamicPlacement(), clusters: []Cluster{roomy("member1", 1), roomy("member2", 2)},
			current: tc("member1", 2, "member2", 1),
			reason:  ReasonUnschedulable, message: []string{"only 3 of the 6 additional replicas can be placed"},
		},
		{
			name: "steady scale-down shrinks in proportion", replicas: 3,
			placement: dynamicPlacement(), clusters: []Cluster{roomy("member1", 0), roomy("member2", 100)},
			current: tc("member1", 4, "member2", 2),
			reason:  ReasonSuccess, want: tc("member1", 2, "member2", 1),
		},
		{
			name: "a cluster left: only its replicas move, by availability", replicas: 6,
			placement: dynamicPlacement(),
			clusters: []Cluster{roomy("member1", 1), roomy("member2", 3),
				{Name: "member3", Taints: []corev1.Taint{taint("failed", corev1.TaintEffectNoExecute)}, Nodes: roomy("", 9).Nodes}},
			current: tc("member1", 2, "member2", 1, "member3", 3), evicting: []string{"member3"},
			reason: ReasonSuccess, want: tc("member1", 3, "member2", 3),
		},
		{
			name: "fresh redistributes, counting current replicas as room", replicas: 3,
			placement: withAffinity(dynamicPlacement(), two), clusters: []Cluster{roomy("member1", 20), roomy("member2", 7)},
			current: tc("member2", 3), fresh: true,
			reason: ReasonSuccess, want: tc("member1", 2, "member2", 1),
		},
		{
			name: "without fresh the same input stays put", replicas: 3,
			placement: withAffinity(dynamicPlacement(), two), clusters: []Cluster{roomy("member1", 20), roomy("member2", 7)},
			current: tc("member2", 3),
			reason:  ReasonSuccess, want: tc("member2", 3),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: tt.placement, Clusters: tt.clusters,
				Current: tt.current, Fresh: tt.fresh, Evicting: tt.evicting, Seed: "default/foo"})
			expectResult(t, got, tt.reason, tt.want, tt.message...)
		})
	}
}

// TestDynamicWeightRebalanceSeed replays the WorkloadRebalancer tutorial:
// member1 fails (NoExecute, evicted), everything goes to member2; the taint
// goes away and nothing moves; a rebalance (fresh) brings replicas back.
func TestDynamicWeightRebalanceSeed(t *testing.T) {
	p := dynamicPlacement()
	p.ClusterAffinity = &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1", "member2"}}
	p.ClusterTolerations = []corev1.Toleration{{Key: "workload-rebalancer-test", Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64)}}
	// Room left after the pods that are running are counted in Requested.
	clusters := func(m1, m2 int) []Cluster {
		return []Cluster{roomy("member1", m1), roomy("member2", m2), roomy("member3", 50)}
	}

	in := Input{Replicas: 3, Requirements: oneCPU, Placement: p, Clusters: clusters(20, 10)}
	first := Schedule(in)
	expectResult(t, first, ReasonSuccess, tc("member1", 2, "member2", 1))

	// member1 is tainted; the taint manager evicts (the toleration has
	// tolerationSeconds 0), so member1 carries an eviction task.
	tainted := clusters(20, 10)
	tainted[0].Taints = []corev1.Taint{taint("workload-rebalancer-test", corev1.TaintEffectNoExecute)}
	failover := Schedule(Input{Replicas: 3, Requirements: oneCPU, Placement: p, Clusters: tainted,
		Current: tc("member2", 1), Evicting: []string{"member1"}})
	expectResult(t, failover, ReasonSuccess, tc("member2", 3))

	// Taint removed, eviction done: steady, nothing moves.
	after := Schedule(Input{Replicas: 3, Requirements: oneCPU, Placement: p, Clusters: clusters(22, 8), Current: failover.Clusters})
	expectResult(t, after, ReasonSuccess, tc("member2", 3))

	// WorkloadRebalancer: fresh.
	rebalanced := Schedule(Input{Replicas: 3, Requirements: oneCPU, Placement: p, Clusters: clusters(22, 8),
		Current: failover.Clusters, Fresh: true})
	expectResult(t, rebalanced, ReasonSuccess, tc("member1", 2, "member2", 1))
}

func TestAggregated(t *testing.T) {
	tests := []struct {
		name     string
		replicas int32
		clusters []Cluster
		current  []workv1alpha1.TargetCluster
		fresh    bool
		reason   string
		want     []workv1alpha1.TargetCluster
		message  []string
	}{
		{"one cluster suffices", 4, []Cluster{roomy("a", 5), roomy("b", 9), roomy("c", 3)}, nil, false,
			ReasonSuccess, tc("b", 4), nil},
		{"fewest clusters, roomiest first, divided by room", 6, []Cluster{roomy("a", 2), roomy("b", 5), roomy("c", 3)}, nil, false,
			ReasonSuccess, tc("b", 4, "c", 2), nil},
		{"steady scale-up prefers clusters in use", 6, []Cluster{roomy("a", 5), roomy("b", 50)}, tc("a", 2), false,
			ReasonSuccess, tc("a", 6), nil},
		// Divided by room among the clusters needed (as Karmada): a's one
		// free slot weighs little against b's fifty.
		{"steady scale-up spills over when the used cluster is full", 6, []Cluster{roomy("a", 1), roomy("b", 50)}, tc("a", 2), false,
			ReasonSuccess, tc("a", 2, "b", 4), nil},
		{"steady scale-up spills over, divided by room", 12, []Cluster{roomy("a", 5), roomy("b", 5), roomy("c", 1)}, tc("a", 2), false,
			ReasonSuccess, tc("a", 7, "b", 5), nil},
		{"steady scale-down keeps the biggest clusters", 5, []Cluster{roomy("a", 0), roomy("b", 0), roomy("c", 0)}, tc("a", 6, "b", 3, "c", 1), false,
			ReasonSuccess, tc("a", 5), nil},
		{"steady scale-down across clusters", 8, []Cluster{roomy("a", 0), roomy("b", 0), roomy("c", 0)}, tc("a", 6, "b", 3, "c", 1), false,
			ReasonSuccess, tc("a", 5, "b", 3), nil},
		{"fresh repacks", 4, []Cluster{roomy("a", 0), roomy("b", 1), roomy("c", 9)}, tc("a", 2, "b", 2), true,
			ReasonSuccess, tc("c", 4), nil},
		{"not enough room", 9, []Cluster{roomy("a", 2), roomy("b", 3)}, nil, false,
			ReasonUnschedulable, nil, []string{"only 5 of 9 replicas can be placed (b: 3, a: 2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: aggregatedPlacement(), Clusters: tt.clusters,
				Current: tt.current, Fresh: tt.fresh})
			expectResult(t, got, tt.reason, tt.want, tt.message...)
		})
	}
}

// TestTaintedClusterKeepsItsReplicas: a NoSchedule taint (a cordon) on a
// cluster that already runs the workload keeps new replicas away but does
// not move the existing ones; a fresh schedule moves them.
func TestTaintedClusterKeepsItsReplicas(t *testing.T) {
	cordoned := roomy("member2", 10)
	cordoned.Taints = []corev1.Taint{taint("cluster.argosy.dev/unschedulable", corev1.TaintEffectNoSchedule)}
	clusters := []Cluster{roomy("member1", 10), cordoned}
	cur := tc("member1", 2, "member2", 2)
	for _, tt := range []struct {
		name      string
		placement *policyv1alpha1.Placement
		replicas  int32
		fresh     bool
		want      []workv1alpha1.TargetCluster
	}{
		{"dynamic, unchanged", dynamicPlacement(), 4, false, tc("member1", 2, "member2", 2)},
		{"dynamic, scale-up goes elsewhere", dynamicPlacement(), 8, false, tc("member1", 6, "member2", 2)},
		{"dynamic, scale-down shrinks it too", dynamicPlacement(), 2, false, tc("member1", 1, "member2", 1)},
		{"dynamic, fresh moves away", dynamicPlacement(), 4, true, tc("member1", 4)},
		{"aggregated, scale-up goes elsewhere", aggregatedPlacement(), 6, false, tc("member1", 4, "member2", 2)},
		{"static, capped at what it has", staticPlacement("member1", 1, "member2", 1), 8, false, tc("member1", 6, "member2", 2)},
		{"duplicated stays", nil, 3, false, tc("member1", 3, "member2", 3)},
		{"duplicated, fresh moves away", nil, 3, true, tc("member1", 3)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: tt.placement, Clusters: clusters, Current: cur, Fresh: tt.fresh})
			expectResult(t, got, ReasonSuccess, tt.want)
		})
	}
	// Not in use: the taint filters as usual.
	got := Schedule(Input{Replicas: 4, Requirements: oneCPU, Placement: dynamicPlacement(), Clusters: clusters})
	expectResult(t, got, ReasonSuccess, tc("member1", 4))
}

// TestDynamicSteadyProperty drives a workload through random scaling and
// checks that the steady schedule only ever moves the difference and never
// overcommits.
func TestDynamicSteadyProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for round := 0; round < 50; round++ {
		n := 2 + rng.IntN(6)
		var clusters []Cluster
		for i := 0; i < n; i++ {
			clusters = append(clusters, roomy(fmt.Sprintf("m%d", i), 5+rng.IntN(30)))
		}
		var cur []workv1alpha1.TargetCluster
		for step := 0; step < 10; step++ {
			replicas := int32(1 + rng.IntN(40))
			got := Schedule(Input{Replicas: replicas, Requirements: oneCPU, Placement: dynamicPlacement(), Clusters: clusters, Current: cur, Seed: fmt.Sprint(round)})
			if got.Reason != ReasonSuccess {
				continue
			}
			if sum(got.Clusters) != replicas {
				t.Fatalf("%d replicas: %s", replicas, fmtTargets(got.Clusters))
			}
			before, after := asMap(cur), asMap(got.Clusters)
			up := replicas > sum(cur)
			for _, c := range clusters {
				b, a := before[c.Name], after[c.Name]
				if (up && a < b) || (!up && a > b) {
					t.Fatalf("%s -> %d gave %s", fmtTargets(cur), replicas, fmtTargets(got.Clusters))
				}
				// The new replicas fit in the room of each cluster.
				if a-b > int32(AvailableReplicas(c, oneCPU)) {
					t.Fatalf("%s overcommitted: %s -> %s", c.Name, fmtTargets(cur), fmtTargets(got.Clusters))
				}
			}
			cur = got.Clusters
		}
	}
}
