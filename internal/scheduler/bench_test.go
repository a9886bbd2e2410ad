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
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var deployment = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

// benchFleet is n clusters of 3 to 5 nodes with some load, labels, regions,
// an API set, and a few tainted clusters, as the controller would build
// them from informers.
func benchFleet(n int) []Cluster {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	apis := NewGVKSet(deployment, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
	clusters := make([]Cluster, n)
	for i := range clusters {
		c := Cluster{
			Name:     fmt.Sprintf("member%04d", i),
			Labels:   map[string]string{"env": "prod", "team": fmt.Sprint(i % 7)},
			Provider: []string{"aws", "gcp", "azure"}[i%3],
			Region:   fmt.Sprintf("region-%d", i%10),
			APIs:     apis,
			Pending:  Resources{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}, Pods: 1},
		}
		if i%25 == 0 {
			c.Taints = []corev1.Taint{{Key: clusterv1alpha1.TaintClusterNotReady, Effect: corev1.TaintEffectNoSchedule}}
		}
		for k := 0; k < 3+rng.IntN(3); k++ {
			c.Nodes = append(c.Nodes, Node{
				Name:   fmt.Sprintf("%s-node%d", c.Name, k),
				Labels: map[string]string{"kubernetes.io/os": "linux"},
				Ready:  true,
				Allocatable: corev1.ResourceList{
					corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(8000+rng.IntN(8)*1000), resource.DecimalSI),
					corev1.ResourceMemory: *resource.NewQuantity(int64(32+rng.IntN(32))<<30, resource.BinarySI),
					corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
				},
				Requested: corev1.ResourceList{
					corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(rng.IntN(6000)), resource.DecimalSI),
					corev1.ResourceMemory: *resource.NewQuantity(int64(rng.IntN(24))<<30, resource.BinarySI),
				},
				Pods: int64(rng.IntN(60)),
			})
		}
		clusters[i] = c
	}
	return clusters
}

func benchInput(n int, prepare bool) Input {
	p := dynamicPlacement()
	p.ClusterAffinity = &policyv1alpha1.ClusterAffinity{FieldSelector: &policyv1alpha1.FieldSelector{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "provider", Operator: corev1.NodeSelectorOpIn, Values: []string{"aws", "gcp", "azure"}}}}}
	clusters := benchFleet(n)
	if prepare {
		Prepare(clusters)
	}
	return Input{
		GVK:      deployment,
		Replicas: int32(3 * n),
		Requirements: &workv1alpha1.ReplicaRequirements{
			ResourceRequest: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("250m"),
				corev1.ResourceMemory: resource.MustParse("512Mi"),
			},
			NodeClaim: &workv1alpha1.NodeClaim{NodeSelector: map[string]string{"kubernetes.io/os": "linux"}},
		},
		Placement: p,
		Clusters:  clusters,
		Seed:      "default/web",
	}
}

// BenchmarkScheduleDynamicWeight measures whole scheduling decisions with
// dynamic weights: filters, per-node capacity estimates for every cluster,
// Webster division. The target is 20,000 decisions/s at 100 clusters. The
// snapshot is prepared (Prepare), as the controller does once per snapshot.
func BenchmarkScheduleDynamicWeight(b *testing.B) {
	benchmarkSchedule(b, true)
}

// BenchmarkScheduleDynamicWeightUnprepared is the same without Prepare.
func BenchmarkScheduleDynamicWeightUnprepared(b *testing.B) {
	benchmarkSchedule(b, false)
}

func benchmarkSchedule(b *testing.B, prepare bool) {
	for _, n := range []int{100, 1000} {
		in := benchInput(n, prepare)
		if r := Schedule(in); r.Reason != ReasonSuccess {
			b.Fatalf("benchmark input does not schedule: %s", r.Message)
		}
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Schedule(in)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// BenchmarkScheduleSteadyScaleUp is the common steady case: the binding
// already runs and gains replicas.
func BenchmarkScheduleSteadyScaleUp(b *testing.B) {
	in := benchInput(100, true)
	first := Schedule(in)
	in.Current = first.Clusters
	in.Replicas += 50
	b.ReportAllocs()
	for b.Loop() {
		Schedule(in)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func BenchmarkAvailableReplicas(b *testing.B) {
	in := benchInput(1, false)
	c := in.Clusters[0]
	b.ReportAllocs()
	for b.Loop() {
		AvailableReplicas(c, in.Requirements)
	}
}

// BenchmarkPrepare is the one-off cost per snapshot.
func BenchmarkPrepare(b *testing.B) {
	clusters := benchFleet(100)
	b.ReportAllocs()
	for b.Loop() {
		Prepare(clusters)
	}
}
