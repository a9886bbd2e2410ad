/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// oneCPU is the replica size most tests use: 1 CPU, 1Gi.
var oneCPU = &workv1alpha1.ReplicaRequirements{ResourceRequest: corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("1"),
	corev1.ResourceMemory: resource.MustParse("1Gi"),
}}

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

// readyNode is a Ready node with the given allocatable cpu, 64Gi and 110 pods.
func readyNode(name, cpu string) Node {
	return Node{Name: name, Ready: true, Allocatable: rl("cpu", cpu, "memory", "64Gi", "pods", "110")}
}

// roomy is a cluster with one node that has room for exactly n replicas of
// oneCPU.
func roomy(name string, n int) Cluster {
	return Cluster{Name: name, Nodes: []Node{readyNode(name+"-n1", fmt.Sprint(n))}}
}

func tc(kv ...any) []workv1alpha1.TargetCluster {
	var out []workv1alpha1.TargetCluster
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, workv1alpha1.TargetCluster{Name: kv[i].(string), Replicas: int32(kv[i+1].(int))})
	}
	return out
}

func fmtTargets(t []workv1alpha1.TargetCluster) string {
	parts := make([]string, len(t))
	for i, x := range t {
		parts[i] = fmt.Sprintf("%s:%d", x.Name, x.Replicas)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func divided(pref policyv1alpha1.ReplicaDivisionPreference, wp *policyv1alpha1.ClusterPreferences) *policyv1alpha1.ReplicaSchedulingStrategy {
	return &policyv1alpha1.ReplicaSchedulingStrategy{
		ReplicaSchedulingType:     policyv1alpha1.ReplicaSchedulingTypeDivided,
		ReplicaDivisionPreference: pref,
		WeightPreference:          wp,
	}
}

func dynamicPlacement() *policyv1alpha1.Placement {
	return &policyv1alpha1.Placement{ReplicaScheduling: divided(policyv1alpha1.ReplicaDivisionPreferenceWeighted,
		&policyv1alpha1.ClusterPreferences{DynamicWeight: policyv1alpha1.DynamicWeightByAvailableReplicas})}
}

func aggregatedPlacement() *policyv1alpha1.Placement {
	return &policyv1alpha1.Placement{ReplicaScheduling: divided(policyv1alpha1.ReplicaDivisionPreferenceAggregated, nil)}
}

func staticPlacement(weights ...any) *policyv1alpha1.Placement {
	wp := &policyv1alpha1.ClusterPreferences{}
	for i := 0; i+1 < len(weights); i += 2 {
		wp.StaticWeightList = append(wp.StaticWeightList, policyv1alpha1.StaticClusterWeight{
			TargetCluster: policyv1alpha1.ClusterAffinity{ClusterNames: []string{weights[i].(string)}},
			Weight:        int64(weights[i+1].(int)),
		})
	}
	return &policyv1alpha1.Placement{ReplicaScheduling: divided(policyv1alpha1.ReplicaDivisionPreferenceWeighted, wp)}
}

func taint(key string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Effect: effect}
}

// expectResult checks reason and clusters, and that the message contains
// every fragment.
func expectResult(t *testing.T, got Result, reason string, want []workv1alpha1.TargetCluster, fragments ...string) {
	t.Helper()
	if got.Reason != reason {
		t.Fatalf("reason = %s, want %s; message: %s", got.Reason, reason, got.Message)
	}
	if !slices.Equal(got.Clusters, want) {
		t.Fatalf("clusters = %s, want %s; message: %s", fmtTargets(got.Clusters), fmtTargets(want), got.Message)
	}
	for _, f := range fragments {
		if !strings.Contains(got.Message, f) {
			t.Errorf("message %q does not contain %q", got.Message, f)
		}
	}
}

func sum(t []workv1alpha1.TargetCluster) int32 {
	var n int32
	for _, x := range t {
		n += x.Replicas
	}
	return n
}

func asMap(t []workv1alpha1.TargetCluster) map[string]int32 {
	m := map[string]int32{}
	for _, x := range t {
		m[x.Name] = x.Replicas
	}
	return m
}
