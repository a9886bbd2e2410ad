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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

var guestbook = schema.GroupVersionKind{Group: "webapp.my.domain", Version: "v1", Kind: "Guestbook"}

// TestFilterMessage is the example of the design: every filter, grouped,
// in filter order.
func TestFilterMessage(t *testing.T) {
	in := Input{
		GVK: guestbook,
		Placement: &policyv1alpha1.Placement{ClusterAffinity: &policyv1alpha1.ClusterAffinity{
			ExcludeClusters: []string{"member3"}}},
		Clusters: []Cluster{
			{Name: "member1", APIs: NewGVKSet()},
			{Name: "member2", Taints: []corev1.Taint{taint(clusterv1alpha1.TaintClusterNotReady, corev1.TaintEffectNoSchedule)}},
			{Name: "member3"},
		},
	}
	got := Schedule(in)
	expectResult(t, got, ReasonNoClusterFit, nil)
	want := "0/3 clusters are available: member3 is excluded by clusterAffinity; " +
		"member2 has taint cluster.argosy.dev/not-ready:NoSchedule that the policy does not tolerate; " +
		"member1 does not serve webapp.my.domain/v1, Kind=Guestbook"
	if got.Message != want {
		t.Fatalf("message:\n got %q\nwant %q", got.Message, want)
	}
}

func TestFilterMessageGroupsAndBounds(t *testing.T) {
	var clusters []Cluster
	for i := 1; i <= 14; i++ {
		clusters = append(clusters, Cluster{Name: fmt.Sprintf("m%02d", i)})
	}
	clusters = append(clusters,
		Cluster{Name: "t1", Taints: []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoExecute}}},
		Cluster{Name: "t2", Taints: []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoExecute}}},
		Cluster{Name: "e1"},
		Cluster{Name: "core", APIs: NewGVKSet(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})},
	)
	in := Input{
		GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
		Placement: &policyv1alpha1.Placement{ClusterAffinity: &policyv1alpha1.ClusterAffinity{
			ClusterNames: []string{"t1", "t2", "e1", "core"}}},
		Clusters: clusters,
		Evicting: []string{"e1"},
	}
	got := Schedule(in)
	want := "0/18 clusters are available: m01, m02, m03, m04, m05, m06, m07, m08, m09, m10 and 4 more are excluded by clusterAffinity; " +
		"t1, t2 have taint k=v:NoExecute that the policy does not tolerate; core does not serve v1, Kind=ConfigMap; e1 is being evicted"
	if got.Message != want {
		t.Fatalf("message:\n got %q\nwant %q", got.Message, want)
	}
	// Deterministic whatever the input order.
	slices.Reverse(in.Clusters)
	if again := Schedule(in); again.Message != want {
		t.Fatalf("message depends on input order: %q", again.Message)
	}
}

func TestAffinity(t *testing.T) {
	clusters := []Cluster{
		{Name: "aws-east", Provider: "aws", Region: "us-east", Zone: "us-east-1a", Labels: map[string]string{"env": "prod"}},
		{Name: "aws-west", Provider: "aws", Region: "us-west", Zones: []string{"us-west-1a", "us-west-1b"}, Labels: map[string]string{"env": "dev"}},
		{Name: "gcp-east", Provider: "gcp", Region: "us-east", Labels: map[string]string{"env": "prod"}},
		{Name: "onprem"},
	}
	field := func(key string, op corev1.NodeSelectorOperator, values ...string) *policyv1alpha1.FieldSelector {
		return &policyv1alpha1.FieldSelector{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
	}
	tests := []struct {
		name     string
		affinity *policyv1alpha1.ClusterAffinity
		want     []string
		message  string
	}{
		{"nil affinity selects all", nil, []string{"aws-east", "aws-west", "gcp-east", "onprem"}, ""},
		{"empty affinity selects all", &policyv1alpha1.ClusterAffinity{}, []string{"aws-east", "aws-west", "gcp-east", "onprem"}, ""},
		{"names", &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"onprem", "gcp-east", "missing"}}, []string{"gcp-east", "onprem"}, ""},
		{"exclude wins over names", &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"onprem", "gcp-east"}, ExcludeClusters: []string{"onprem"}}, []string{"gcp-east"}, ""},
		{"label selector", &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, []string{"aws-east", "gcp-east"}, ""},
		{"label selector expressions", &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"}}}}}, []string{"aws-west", "onprem"}, ""},
		{"all filters ANDed", &policyv1alpha1.ClusterAffinity{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
			FieldSelector: field("provider", corev1.NodeSelectorOpIn, "aws"),
			ClusterNames:  []string{"aws-east", "gcp-east"}}, []string{"aws-east"}, ""},
		{"provider In", &policyv1alpha1.ClusterAffinity{FieldSelector: field("provider", corev1.NodeSelectorOpIn, "aws")}, []string{"aws-east", "aws-west"}, ""},
		{"region NotIn passes clusters without a region", &policyv1alpha1.ClusterAffinity{FieldSelector: field("region", corev1.NodeSelectorOpNotIn, "us-east")}, []string{"aws-west", "onprem"}, ""},
		{"zone In needs every zone listed", &policyv1alpha1.ClusterAffinity{FieldSelector: field("zone", corev1.NodeSelectorOpIn, "us-east-1a", "us-west-1a")}, []string{"aws-east"}, ""},
		{"zone In with all zones", &policyv1alpha1.ClusterAffinity{FieldSelector: field("zone", corev1.NodeSelectorOpIn, "us-west-1a", "us-west-1b")}, []string{"aws-west"}, ""},
		{"zone NotIn excludes a cluster spanning the zone", &policyv1alpha1.ClusterAffinity{FieldSelector: field("zone", corev1.NodeSelectorOpNotIn, "us-west-1b")}, []string{"aws-east", "gcp-east", "onprem"}, ""},
		{"empty fieldSelector selects all", &policyv1alpha1.ClusterAffinity{FieldSelector: &policyv1alpha1.FieldSelector{}}, []string{"aws-east", "aws-west", "gcp-east", "onprem"}, ""},
		{"invalid field key selects nothing and says why", &policyv1alpha1.ClusterAffinity{FieldSelector: field("color", corev1.NodeSelectorOpIn, "blue")}, nil,
			`aws-east, aws-west, gcp-east, onprem are excluded by clusterAffinity (invalid fieldSelector: unknown key "color")`},
		{"invalid label selector selects nothing", &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: "Near"}}}}, nil, "invalid labelSelector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{Placement: &policyv1alpha1.Placement{ClusterAffinity: tt.affinity}, Clusters: clusters})
			var names []string
			for _, c := range got.Clusters {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("selected %v, want %v (%s)", names, tt.want, got.Message)
			}
			if !strings.Contains(got.Message, tt.message) {
				t.Fatalf("message %q does not contain %q", got.Message, tt.message)
			}
		})
	}
}

func TestTolerations(t *testing.T) {
	ns := corev1.TaintEffectNoSchedule
	ne := corev1.TaintEffectNoExecute
	tests := []struct {
		name  string
		taint corev1.Taint
		tol   []corev1.Toleration
		ok    bool
	}{
		{"no tolerations", corev1.Taint{Key: "k", Effect: ns}, nil, false},
		{"PreferNoSchedule never filters", corev1.Taint{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}, nil, true},
		{"Exists on key", corev1.Taint{Key: "k", Value: "v", Effect: ne}, []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}, true},
		{"Exists with effect", corev1.Taint{Key: "k", Effect: ne}, []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: ne}}, true},
		{"wrong effect", corev1.Taint{Key: "k", Effect: ne}, []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: ns}}, false},
		{"empty key Exists tolerates everything", corev1.Taint{Key: "k", Effect: ne}, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, true},
		{"Equal needs the value", corev1.Taint{Key: "k", Value: "v", Effect: ns}, []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpEqual, Value: "w"}}, false},
		{"Equal matches", corev1.Taint{Key: "k", Value: "v", Effect: ns}, []corev1.Toleration{{Key: "k", Value: "v"}}, true},
		{"other key", corev1.Taint{Key: "k", Effect: ns}, []corev1.Toleration{{Key: "j", Operator: corev1.TolerationOpExists}}, false},
		{"tolerationSeconds does not matter for scheduling", corev1.Taint{Key: "workload-rebalancer-test", Effect: ne},
			[]corev1.Toleration{{Key: "workload-rebalancer-test", Operator: corev1.TolerationOpExists, Effect: ne, TolerationSeconds: new(int64)}}, true},
		{"Gt", corev1.Taint{Key: "k", Value: "5", Effect: ns}, []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpGt, Value: "3"}}, true},
		{"Lt", corev1.Taint{Key: "k", Value: "5", Effect: ns}, []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpLt, Value: "3"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Schedule(Input{
				Placement: &policyv1alpha1.Placement{ClusterTolerations: tt.tol},
				Clusters:  []Cluster{{Name: "m", Taints: []corev1.Taint{tt.taint}}},
			})
			if (got.Reason == ReasonSuccess) != tt.ok {
				t.Fatalf("scheduled = %v, want %v (%s)", got.Reason == ReasonSuccess, tt.ok, got.Message)
			}
		})
	}
}

func TestAPIFilter(t *testing.T) {
	apis := APISetFromEnablements([]clusterv1alpha1.APIEnablement{
		{GroupVersion: "webapp.my.domain/v1", Resources: []clusterv1alpha1.APIResource{{Name: "guestbooks", Kind: "Guestbook"}}},
		{GroupVersion: "v1", Resources: []clusterv1alpha1.APIResource{{Name: "configmaps", Kind: "ConfigMap"}}},
		{GroupVersion: "not/a/gv"},
	})
	clusters := []Cluster{
		{Name: "serves", APIs: apis},
		{Name: "lacks", APIs: NewGVKSet()},
		{Name: "unknown"},
	}
	got := Schedule(Input{GVK: guestbook, Clusters: clusters})
	expectResult(t, got, ReasonSuccess, tc("serves", 0, "unknown", 0))
	got = Schedule(Input{GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Clusters: clusters})
	expectResult(t, got, ReasonSuccess, tc("serves", 0, "unknown", 0))
	got = Schedule(Input{Clusters: clusters}) // no GVK: no API filter
	expectResult(t, got, ReasonSuccess, tc("lacks", 0, "serves", 0, "unknown", 0))
}
