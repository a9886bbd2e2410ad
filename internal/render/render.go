// Package render builds the manifest that one member cluster receives for a
// wrapped object (issue 4, binding controller): the object as the user
// wrote it, without what the host's apiserver or a previous owner set, with
// the cluster's share of the replicas, the override policies for that
// cluster applied, and the marks the execution controller needs. It is pure:
// the caller passes the object, the cluster and the policies read from a
// cache.
package render

import (
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
	"argosy.dev/argosy/internal/interpreter"
	"argosy.dev/argosy/internal/overrides"
	sched "argosy.dev/argosy/internal/scheduler"
)

// Input is what the manifest of one cluster is rendered from.
type Input struct {
	// Object is the wrapped object (a template's spec.template). It is
	// never modified.
	Object *unstructured.Unstructured
	// Cluster is the target cluster as override rules see it.
	Cluster clusteraffinity.Target
	// Replicas is the cluster's replica count (the scheduler's assignment).
	// Nil leaves the object's own count; kinds without replicas ignore it.
	Replicas *int32
	// Completions is the cluster's share of a Job's spec.completions (see
	// JobCompletions); nil leaves the object's own.
	Completions *int32
	// Work is "<namespace>/<name>" of the Work that will carry the
	// manifest, recorded in the manifest's workv1alpha1.AnnotationWork.
	Work string
	// Policies are the override policies that may apply: every
	// ClusterOverridePolicy and the OverridePolicies of the object's
	// namespace. The engine picks those whose selectors select the object
	// and orders them (ClusterOverridePolicies first, then
	// OverridePolicies, least specific first).
	Policies []overrides.Policy
}

// serverSetMetadata are the metadata fields that the host's apiserver, or
// another owner, may have set on the wrapped object; the member sets its
// own.
var serverSetMetadata = []string{
	"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "ownerReferences",
	"deletionTimestamp", "deletionGracePeriodSeconds", "selfLink",
}

// Render returns the manifest of in.Object for in.Cluster and the override
// rules applied, in order. In order, it:
//
//  1. copies the object without status and without the server-set metadata
//     (uid, resourceVersion, generation, creationTimestamp, managedFields,
//     ownerReferences, deletion fields, selfLink);
//  2. sets the cluster's replicas and Job completions (interpreter);
//  3. applies the override policies (overrides.Apply);
//  4. labels the manifest workv1alpha1.LabelManaged="true" and annotates it
//     with workv1alpha1.AnnotationWork.
//
// The marks come last so that no override can remove them: the execution
// controller's member informers select on the label. An override may change
// the version of apiVersion (an older API for an older member) but not the
// API group, kind, namespace or name, which identify the object everywhere.
//
// Errors from overrides name the policy, the rule and the path.
func Render(in Input) (*unstructured.Unstructured, []overrides.AppliedOverride, error) {
	if in.Object == nil {
		return nil, nil, fmt.Errorf("no object to render")
	}
	obj := in.Object.DeepCopy()
	delete(obj.Object, "status")
	if md, ok := obj.Object["metadata"].(map[string]any); ok {
		for _, f := range serverSetMetadata {
			delete(md, f)
		}
	}
	if in.Replicas != nil {
		if _, err := interpreter.ReviseReplicas(obj, *in.Replicas); err != nil {
			return nil, nil, err
		}
	}
	if in.Completions != nil {
		if _, err := interpreter.ReviseJobCompletions(obj, *in.Completions); err != nil {
			return nil, nil, err
		}
	}
	var applied []overrides.AppliedOverride
	if len(in.Policies) > 0 {
		before := identityOf(obj)
		out, a, err := overrides.Apply(obj, in.Cluster, in.Policies)
		if err != nil {
			return nil, nil, err
		}
		if after := identityOf(out); after != before {
			return nil, nil, fmt.Errorf("overrides changed the object's identity from %s to %s (rules applied: %s); "+
				"only the version of apiVersion may be overridden", before, after, appliedString(a))
		}
		obj, applied = out, a
	}
	labels := maps.Clone(obj.GetLabels())
	if labels == nil {
		labels = map[string]string{}
	}
	labels[workv1alpha1.LabelManaged] = "true"
	obj.SetLabels(labels)
	annotations := maps.Clone(obj.GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[workv1alpha1.AnnotationWork] = in.Work
	obj.SetAnnotations(annotations)
	return obj, applied, nil
}

// identity is what an override must not change.
type identity struct {
	group, kind, namespace, name string
}

func identityOf(u *unstructured.Unstructured) identity {
	return identity{schema.FromAPIVersionAndKind(u.GetAPIVersion(), "").Group, u.GetKind(), u.GetNamespace(), u.GetName()}
}

func (id identity) String() string {
	gk := schema.GroupKind{Group: id.group, Kind: id.kind}.String()
	if id.namespace == "" {
		return gk + " " + id.name
	}
	return gk + " " + id.namespace + "/" + id.name
}

func appliedString(a []overrides.AppliedOverride) string {
	s := ""
	for i, o := range a {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s rule %d", o.Policy, o.Rule)
	}
	return s
}

// JobCompletions divides a Job's spec.completions among the target
// clusters in proportion to the parallelism (replicas) the scheduler gave
// each, so that each cluster's part of the Job takes about as long, as
// Karmada does. It returns nil, meaning every cluster keeps the Job's own
// completions, unless obj is a Job with spec.completions whose replicas are
// divided (placement.replicaScheduling of type Divided) among clusters with
// at least one replica.
//
// The division is the scheduler's (Webster, ties broken by seed and cluster
// name; seed is the binding's namespace/name), so it is stable for a given
// placement.
func JobCompletions(obj *unstructured.Unstructured, placement *policyv1alpha1.Placement, clusters []workv1alpha1.TargetCluster, seed string) map[string]int32 {
	completions, ok := interpreter.JobCompletions(obj)
	if !ok || !divided(placement) || len(clusters) == 0 {
		return nil
	}
	items := make([]sched.Weighted, len(clusters))
	var sum int64
	for i, tc := range clusters {
		items[i] = sched.Weighted{Name: tc.Name, Weight: int64(tc.Replicas)}
		sum += int64(tc.Replicas)
	}
	if sum == 0 {
		return nil
	}
	shares := sched.DivideByWeights(completions, items, seed)
	out := make(map[string]int32, len(clusters))
	for i, tc := range clusters {
		out[tc.Name] = shares[i]
	}
	return out
}

// divided tells whether the placement divides replicas among clusters; an
// empty type is Divided, the API default, as the scheduler reads it.
func divided(p *policyv1alpha1.Placement) bool {
	return p != nil && p.ReplicaScheduling != nil && p.ReplicaScheduling.ReplicaSchedulingType != policyv1alpha1.ReplicaSchedulingTypeDuplicated
}
