/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func group(name string, clusters ...string) policyv1alpha1.ClusterAffinityTerm {
	return policyv1alpha1.ClusterAffinityTerm{AffinityName: name, ClusterAffinity: policyv1alpha1.ClusterAffinity{ClusterNames: clusters}}
}

func TestClusterAffinities(t *testing.T) {
	p := dynamicPlacement()
	p.ClusterAffinities = []policyv1alpha1.ClusterAffinityTerm{
		group("primary", "onprem1", "onprem2"),
		group("backup", "cloud1", "cloud2"),
	}
	clusters := func(onprem int) []Cluster {
		return []Cluster{roomy("onprem1", onprem), roomy("onprem2", onprem), roomy("cloud1", 10), roomy("cloud2", 10)}
	}

	// The primary group fits.
	got := Schedule(Input{Replicas: 4, Requirements: oneCPU, Placement: p, Clusters: clusters(5)})
	expectResult(t, got, ReasonSuccess, tc("onprem1", 2, "onprem2", 2))
	if got.AffinityName != "primary" {
		t.Fatalf("affinity = %q", got.AffinityName)
	}

	// It lacks capacity: fall through to the backup group.
	got = Schedule(Input{Replicas: 6, Requirements: oneCPU, Placement: p, Clusters: clusters(2)})
	expectResult(t, got, ReasonSuccess, tc("cloud1", 3, "cloud2", 3))
	if got.AffinityName != "backup" {
		t.Fatalf("affinity = %q", got.AffinityName)
	}

	// Steady: the primary has room again, but the workload stays in backup.
	steady := Schedule(Input{Replicas: 6, Requirements: oneCPU, Placement: p, Clusters: clusters(9),
		Current: got.Clusters, CurrentAffinityName: "backup"})
	expectResult(t, steady, ReasonSuccess, tc("cloud1", 3, "cloud2", 3))
	if steady.AffinityName != "backup" {
		t.Fatalf("affinity = %q", steady.AffinityName)
	}

	// A rebalance (fresh) starts again at the first group.
	fresh := Schedule(Input{Replicas: 6, Requirements: oneCPU, Placement: p, Clusters: clusters(9),
		Current: got.Clusters, CurrentAffinityName: "backup", Fresh: true})
	expectResult(t, fresh, ReasonSuccess, tc("onprem1", 3, "onprem2", 3))
	if fresh.AffinityName != "primary" {
		t.Fatalf("affinity = %q", fresh.AffinityName)
	}

	// The current group stops fitting: earlier groups are tried too.
	gone := []Cluster{roomy("onprem1", 9), roomy("onprem2", 9)}
	back := Schedule(Input{Replicas: 6, Requirements: oneCPU, Placement: p, Clusters: gone,
		Current: got.Clusters, CurrentAffinityName: "backup"})
	expectResult(t, back, ReasonSuccess, tc("onprem1", 3, "onprem2", 3))
	if back.AffinityName != "primary" {
		t.Fatalf("affinity = %q", back.AffinityName)
	}

	// Nothing fits: every group's problem is named; a capacity problem is
	// reported as Unschedulable.
	fail := Schedule(Input{Replicas: 60, Requirements: oneCPU, Placement: p, Clusters: clusters(2), CurrentAffinityName: "backup"})
	expectResult(t, fail, ReasonUnschedulable, nil,
		`no clusterAffinities group fits. Group "backup": not enough capacity: only 20 of 60 replicas can be placed`,
		`Group "primary": not enough capacity: only 4 of 60 replicas can be placed`)
	if fail.AffinityName != "backup" {
		t.Fatalf("a failure must leave the affinity name alone, got %q", fail.AffinityName)
	}
	if strings.Index(fail.Message, `"backup"`) > strings.Index(fail.Message, `"primary"`) {
		t.Errorf("the current group is tried and reported first: %s", fail.Message)
	}

	// No group has any cluster: NoClusterFit.
	none := Schedule(Input{Replicas: 1, Requirements: oneCPU, Placement: p, Clusters: []Cluster{roomy("other", 9)}})
	expectResult(t, none, ReasonNoClusterFit, nil,
		`Group "primary": 0/1 clusters are available: other is excluded by clusterAffinity.`,
		`Group "backup": 0/1 clusters are available`)
}

func TestSpreadByCluster(t *testing.T) {
	spread := func(p *policyv1alpha1.Placement, min, max int32) *policyv1alpha1.Placement {
		p.SpreadConstraints = []policyv1alpha1.SpreadConstraint{{SpreadByField: policyv1alpha1.SpreadByFieldCluster, MinGroups: min, MaxGroups: max}}
		return p
	}
	clusters := []Cluster{roomy("a", 1), roomy("b", 8), roomy("c", 4), roomy("d", 2)}
	tests := []struct {
		name      string
		placement *policyv1alpha1.Placement
		replicas  int32
		current   []workv1alpha1.TargetCluster
		reason    string
		want      []workv1alpha1.TargetCluster
		message   string
	}{
		{"duplicated: the roomiest maxGroups clusters", spread(&policyv1alpha1.Placement{}, 1, 2), 2, nil,
			ReasonSuccess, tc("b", 2, "c", 2), ""},
		{"duplicated: clusters in use first (steady)", spread(&policyv1alpha1.Placement{}, 1, 2), 2, tc("a", 2, "d", 2),
			ReasonSuccess, tc("a", 2, "d", 2), ""},
		{"no max: all clusters", spread(&policyv1alpha1.Placement{}, 1, 0), 1, nil,
			ReasonSuccess, tc("a", 1, "b", 1, "c", 1, "d", 1), ""},
		{"minGroups not reachable", spread(&policyv1alpha1.Placement{}, 5, 6), 1, nil,
			ReasonUnschedulable, nil, "spreadConstraints cannot be met: at least 5 clusters are required; 4/4 clusters are available"},
		{"dynamic within the selected clusters", spread(dynamicPlacement(), 1, 2), 6, nil,
			ReasonSuccess, tc("b", 4, "c", 2), ""},
		{"dynamic: the clusters in use lack room, the roomiest are taken", spread(dynamicPlacement(), 1, 2), 10, tc("a", 1, "d", 1),
			ReasonSuccess, tc("b", 7, "c", 3), ""},
		{"dynamic: even the roomiest cannot hold it", spread(dynamicPlacement(), 1, 2), 13, nil,
			ReasonUnschedulable, nil, "only 12 of 13 replicas can be placed"},
		{"equal weights honour the constraint", spread(&policyv1alpha1.Placement{ReplicaScheduling: divided("", nil)}, 1, 3), 6, nil,
			ReasonSuccess, tc("b", 2, "c", 2, "d", 2), ""},
		{"a static weight list ignores it (as Karmada)", spread(staticPlacement("a", 1, "b", 1, "c", 1), 1, 1), 3, nil,
			ReasonSuccess, tc("a", 1, "b", 1, "c", 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: tt.placement, Clusters: clusters, Current: tt.current})
			expectResult(t, got, tt.reason, tt.want, tt.message)
		})
	}
}

func TestSpreadByRegion(t *testing.T) {
	c := func(name, region string, room int) Cluster {
		x := roomy(name, room)
		x.Region = region
		x.Zone = region + "-a"
		return x
	}
	clusters := []Cluster{
		c("east1", "east", 5), c("east2", "east", 4), c("east3", "east", 1),
		c("west1", "west", 3), c("west2", "west", 3),
		c("south1", "south", 2),
		{Name: "noregion", Nodes: roomy("", 50).Nodes},
	}
	spread := func(p *policyv1alpha1.Placement, rmin, rmax, cmin, cmax int32) *policyv1alpha1.Placement {
		p.SpreadConstraints = []policyv1alpha1.SpreadConstraint{
			{SpreadByField: policyv1alpha1.SpreadByFieldRegion, MinGroups: rmin, MaxGroups: rmax},
			{SpreadByField: policyv1alpha1.SpreadByFieldCluster, MinGroups: cmin, MaxGroups: cmax},
		}
		return p
	}
	tests := []struct {
		name      string
		placement *policyv1alpha1.Placement
		replicas  int32
		current   []workv1alpha1.TargetCluster
		reason    string
		want      []workv1alpha1.TargetCluster
		message   string
	}{
		{"two regions, best cluster of each, then the best others", spread(&policyv1alpha1.Placement{}, 2, 2, 3, 3), 1, nil,
			ReasonSuccess, tc("east1", 1, "east2", 1, "west1", 1), ""},
		{"as few regions as allowed", spread(&policyv1alpha1.Placement{}, 1, 3, 1, 2), 1, nil,
			ReasonSuccess, tc("east1", 1, "east2", 1), ""},
		{"more regions when the cluster minimum needs them", spread(&policyv1alpha1.Placement{}, 1, 3, 4, 4), 1, nil,
			ReasonSuccess, tc("east1", 1, "east2", 1, "west1", 1, "west2", 1), ""},
		{"regions in use are kept (steady)", spread(&policyv1alpha1.Placement{}, 1, 1, 1, 1), 1, tc("south1", 1),
			ReasonSuccess, tc("south1", 1), ""},
		{"more regions when capacity needs them", spread(dynamicPlacement(), 1, 3, 1, 0), 14, nil,
			ReasonSuccess, tc("east1", 4, "east2", 3, "east3", 1, "west1", 3, "west2", 3), ""},
		{"too few regions", spread(&policyv1alpha1.Placement{}, 4, 4, 4, 6), 1, nil,
			ReasonUnschedulable, nil, "at least 4 regions are required, the available clusters span 3 [east, south, west]"},
		{"not enough clusters allowed for the regions", spread(&policyv1alpha1.Placement{}, 3, 3, 1, 2), 1, nil,
			ReasonUnschedulable, nil, "3 regions need at least 3 clusters, at most 2 are allowed"},
		{"capacity in any allowed selection", spread(dynamicPlacement(), 1, 1, 1, 0), 11, nil,
			ReasonUnschedulable, nil, "3 clusters in the best 1 regions can hold 10 of 11 replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Replicas: tt.replicas, Requirements: oneCPU, Placement: tt.placement, Clusters: clusters, Current: tt.current})
			expectResult(t, got, tt.reason, tt.want, tt.message)
		})
	}

	t.Run("secondary constraints are checked on the result", func(t *testing.T) {
		p := spread(&policyv1alpha1.Placement{}, 2, 2, 2, 2)
		p.SpreadConstraints = append(p.SpreadConstraints, policyv1alpha1.SpreadConstraint{SpreadByField: policyv1alpha1.SpreadByFieldZone, MinGroups: 3})
		got := Schedule(Input{Replicas: 1, Placement: p, Clusters: clusters})
		expectResult(t, got, ReasonUnschedulable, nil, "the selected clusters span 2 zones, the constraint asks for at least 3")
	})

	t.Run("by label", func(t *testing.T) {
		labelled := slices.Clone(clusters)
		for i := range labelled {
			labelled[i].Labels = map[string]string{"rack": labelled[i].Name[:len(labelled[i].Name)-1]}
		}
		p := &policyv1alpha1.Placement{SpreadConstraints: []policyv1alpha1.SpreadConstraint{
			{SpreadByLabel: "rack", MinGroups: 3, MaxGroups: 3},
			{SpreadByField: policyv1alpha1.SpreadByFieldCluster, MaxGroups: 3},
		}}
		got := Schedule(Input{Replicas: 1, Requirements: oneCPU, Placement: p, Clusters: labelled})
		// Racks by room: noregio (50), east (10), west (6), sout (2).
		expectResult(t, got, ReasonSuccess, tc("east1", 1, "noregion", 1, "west1", 1))
	})
}

func TestEmptyFleet(t *testing.T) {
	got := Schedule(Input{Replicas: 1})
	expectResult(t, got, ReasonNoClusterFit, nil, "no member clusters are registered")
}

func TestKeepOnlyNeedsOnlyTaintFailure(t *testing.T) {
	// A cluster in use that is evicted, or no longer serves the API, is not
	// kept even though it is also tainted.
	x := roomy("x", 5)
	x.Taints = []corev1.Taint{taint("t", corev1.TaintEffectNoSchedule)}
	got := Schedule(Input{Replicas: 2, Requirements: oneCPU, Placement: dynamicPlacement(),
		Clusters: []Cluster{x, roomy("y", 5)}, Current: tc("x", 2), Evicting: []string{"x"}})
	expectResult(t, got, ReasonSuccess, tc("y", 2))
}

// TestConcurrentSchedules shares one prepared snapshot between goroutines,
// as the controller does; run with -race.
func TestConcurrentSchedules(t *testing.T) {
	in := benchInput(30, true)
	want := Schedule(in)
	done := make(chan Result)
	for g := 0; g < 8; g++ {
		go func() {
			var last Result
			for k := 0; k < 50; k++ {
				last = Schedule(in)
			}
			done <- last
		}()
	}
	for g := 0; g < 8; g++ {
		if got := <-done; !slices.Equal(got.Clusters, want.Clusters) || got.Message != want.Message {
			t.Fatalf("concurrent result differs: %s vs %s", fmtTargets(got.Clusters), fmtTargets(want.Clusters))
		}
	}
}

// TestSettledIsLazy: once a placement is settled, a Divided workload keeps
// it while it stays valid, whatever the strategy; a rebalance (Fresh), a
// cluster that leaves, an eviction or a replica change recompute it;
// Duplicated follows the clusters.
func TestSettledIsLazy(t *testing.T) {
	three := []Cluster{roomy("a", 10), roomy("b", 10), roomy("c", 10)}
	equal := &policyv1alpha1.Placement{ReplicaScheduling: divided(policyv1alpha1.ReplicaDivisionPreferenceWeighted, nil)}
	cases := []struct {
		name     string
		in       Input
		want     []workv1alpha1.TargetCluster
		contains string
	}{
		{"static weights keep a settled placement when a cluster recovers",
			Input{Replicas: 3, Placement: equal, Clusters: three, Current: tc("b", 3), Settled: true},
			tc("b", 3), ""},
		{"unsettled static weights are recomputed",
			Input{Replicas: 3, Placement: equal, Clusters: three, Current: tc("b", 3)},
			tc("a", 1, "b", 1, "c", 1), ""},
		{"a rebalance recomputes a settled placement",
			Input{Replicas: 3, Placement: equal, Clusters: three, Current: tc("b", 3), Settled: true, Fresh: true},
			tc("a", 1, "b", 1, "c", 1), ""},
		{"dynamic weights keep a settled placement when capacity frees up",
			Input{Replicas: 3, Requirements: oneCPU, Placement: dynamicPlacement(), Clusters: three, Current: tc("c", 3), Settled: true},
			tc("c", 3), ""},
		{"a settled cluster that is gone is replaced",
			Input{Replicas: 3, Placement: equal, Clusters: three[:2], Current: tc("b", 1, "z", 2), Settled: true},
			nil, "a"},
		{"an evicted settled cluster is replaced",
			Input{Replicas: 3, Placement: equal, Clusters: three, Current: tc("a", 2, "b", 1), Evicting: []string{"a"}, Settled: true},
			nil, "c"},
		{"a settled placement with the wrong total is recomputed",
			Input{Replicas: 4, Placement: equal, Clusters: three, Current: tc("b", 3), Settled: true},
			nil, "b"},
		{"duplicated follows the clusters even when settled",
			Input{Replicas: 2, Placement: &policyv1alpha1.Placement{}, Clusters: three, Current: tc("a", 2), Settled: true},
			tc("a", 2, "b", 2, "c", 2), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Schedule(c.in)
			if c.want != nil {
				expectResult(t, got, ReasonSuccess, c.want)
				return
			}
			// The exact division is the algorithm's; what matters is that
			// the old placement was not kept.
			if got.Reason != ReasonSuccess || slices.Equal(got.Clusters, c.in.Current) {
				t.Fatalf("got %s %s, want a new placement", got.Reason, fmtTargets(got.Clusters))
			}
			var sum int32
			for _, x := range got.Clusters {
				sum += x.Replicas
			}
			if sum != c.in.Replicas || !slices.ContainsFunc(got.Clusters, func(x workv1alpha1.TargetCluster) bool { return x.Name == c.contains }) {
				t.Fatalf("got %s, want %d replicas including cluster %s", fmtTargets(got.Clusters), c.in.Replicas, c.contains)
			}
		})
	}
}
