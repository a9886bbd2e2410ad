package clusteraffinity

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

func TestTargetOf(t *testing.T) {
	c := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "member1", Labels: map[string]string{"env": "prod"}},
		Spec:       clusterv1alpha1.ClusterSpec{Provider: "aws", Region: "eu-west-1", Zone: "eu-west-1a", Zones: []string{"eu-west-1a", "eu-west-1b"}},
	}
	want := Target{Name: "member1", Labels: map[string]string{"env": "prod"}, Provider: "aws", Region: "eu-west-1", Zone: "eu-west-1a",
		Zones: []string{"eu-west-1a", "eu-west-1b"}}
	got := TargetOf(c)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TargetOf = %+v, want %+v", got, want)
	}
	// Every field an affinity reads is carried over.
	a := &policyv1alpha1.ClusterAffinity{
		ClusterNames:  []string{"member1"},
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
		FieldSelector: &policyv1alpha1.FieldSelector{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: policyv1alpha1.ProviderField, Operator: "In", Values: []string{"aws"}},
			{Key: policyv1alpha1.RegionField, Operator: "In", Values: []string{"eu-west-1"}},
			{Key: policyv1alpha1.ZoneField, Operator: "In", Values: []string{"eu-west-1a", "eu-west-1b"}},
		}},
	}
	if !Matches(&got, a) {
		t.Error("the Cluster's own name, labels and fields do not select it")
	}
}
