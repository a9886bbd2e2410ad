// Package overrides is the override engine (issue 4 item 2): it rewrites
// the copy of an object sent to one member cluster with the matching
// OverridePolicies and ClusterOverridePolicies. It is pure: callers pass
// the object, the cluster and the policies read from a cache.
//
// The semantics are Karmada's (pkg/util/overridemanager):
//
//   - A policy applies when one of its resource selectors selects the object
//     (apiVersion, kind, namespace, then name or labelSelector); a policy
//     without selectors selects every object. The caller has already
//     filtered policies by scope (an OverridePolicy only sees objects of its
//     own namespace).
//   - Policies apply ClusterOverridePolicies first, then OverridePolicies;
//     within each kind the least specific first (selector with kind only or
//     no selector, then labelSelector, then name), then by namespace and
//     name, so the most specific policy applies last and wins.
//   - A rule applies when its targetCluster selects the cluster (nil
//     selects every cluster). The rules of a policy apply in order. The
//     deprecated top-level targetCluster/overriders form is used as a
//     single rule (index 0) when overrideRules is empty.
//   - Within a rule: imageOverrider, commandOverrider, argsOverrider,
//     labelsOverrider, annotationsOverrider, fieldOverrider, plaintext, each
//     list in its order.
package overrides

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	"argosy.dev/argosy/internal/clusteraffinity"
	"argosy.dev/argosy/internal/policymatch"
)

// Policy is one override policy as the engine sees it. Spec is never
// modified.
type Policy struct {
	// Kind is policyv1alpha1.KindOverridePolicy or
	// policyv1alpha1.KindClusterOverridePolicy.
	Kind string
	// Namespace is empty for a ClusterOverridePolicy.
	Namespace string
	Name      string
	Spec      policyv1alpha1.OverrideSpec
}

// FromOverridePolicy wraps an OverridePolicy.
func FromOverridePolicy(p *policyv1alpha1.OverridePolicy) Policy {
	return Policy{Kind: policyv1alpha1.KindOverridePolicy, Namespace: p.Namespace, Name: p.Name, Spec: p.Spec}
}

// FromClusterOverridePolicy wraps a ClusterOverridePolicy.
func FromClusterOverridePolicy(p *policyv1alpha1.ClusterOverridePolicy) Policy {
	return Policy{Kind: policyv1alpha1.KindClusterOverridePolicy, Name: p.Name, Spec: p.Spec}
}

// Ref is "kind/namespace/name", or "kind/name" for a cluster-scoped policy.
func (p Policy) Ref() string {
	if p.Namespace == "" {
		return p.Kind + "/" + p.Name
	}
	return p.Kind + "/" + p.Namespace + "/" + p.Name
}

// display is "kind namespace/name", or "kind name", for error messages.
func (p Policy) display() string {
	if p.Namespace == "" {
		return p.Kind + " " + p.Name
	}
	return p.Kind + " " + p.Namespace + "/" + p.Name
}

// Cluster is the part of a member cluster that targetCluster looks at.
type Cluster = clusteraffinity.Target

// AppliedOverride records one rule that was applied.
type AppliedOverride struct {
	// Policy is Policy.Ref() of the policy.
	Policy string
	// Rule is the index of the rule in spec.overrideRules (0 for the
	// deprecated top-level form).
	Rule int
}

// Apply returns a copy of obj rewritten for cluster by policies, and the
// rules applied, in order. obj is never modified. On error nothing is
// returned but the error, which names the policy, the rule and the path.
func Apply(obj *unstructured.Unstructured, cluster Cluster, policies []Policy) (result *unstructured.Unstructured, applied []AppliedOverride, err error) {
	if obj == nil {
		return nil, nil, errors.New("nil object")
	}
	defer func() {
		// Objects decoded from JSON never panic; this guards against
		// non-JSON values put in obj by a caller.
		if r := recover(); r != nil {
			result, applied, err = nil, nil, fmt.Errorf("override engine: %v", r)
		}
	}()
	out := obj.DeepCopy()
	for _, m := range Matching(obj, policies) {
		for i, rule := range rules(&m.Spec) {
			if !ClusterMatches(cluster, rule.TargetCluster) {
				continue
			}
			if err := applyOverriders(out, &rule.Overriders); err != nil {
				return nil, nil, fmt.Errorf("%s rule %d: %w", m.display(), i, err)
			}
			applied = append(applied, AppliedOverride{Policy: m.Ref(), Rule: i})
		}
	}
	return out, applied, nil
}

// rules returns spec.overrideRules, or the deprecated top-level form as one
// rule when overrideRules is empty.
func rules(spec *policyv1alpha1.OverrideSpec) []policyv1alpha1.RuleWithCluster {
	if len(spec.OverrideRules) > 0 {
		return spec.OverrideRules
	}
	if spec.TargetCluster == nil && reflect.DeepEqual(spec.Overriders, policyv1alpha1.Overriders{}) {
		return nil
	}
	return []policyv1alpha1.RuleWithCluster{{TargetCluster: spec.TargetCluster, Overriders: spec.Overriders}}
}

// Matching returns the policies whose resource selectors select obj, in the
// order they apply.
func Matching(obj *unstructured.Unstructured, policies []Policy) []Policy {
	o := policymatch.Object{
		APIVersion: obj.GetAPIVersion(),
		Kind:       obj.GetKind(),
		Namespace:  obj.GetNamespace(),
		Name:       obj.GetName(),
		Labels:     obj.GetLabels(),
	}
	type match struct {
		p    Policy
		spec policymatch.Specificity
	}
	var ms []match
	for _, p := range policies {
		best := policymatch.NoMatch
		if len(p.Spec.ResourceSelectors) == 0 {
			best = policymatch.MatchAll
		}
		for _, rs := range p.Spec.ResourceSelectors {
			best = max(best, policymatch.SelectorSpecificity(o, rs))
		}
		if best != policymatch.NoMatch {
			ms = append(ms, match{p, best})
		}
	}
	slices.SortStableFunc(ms, func(a, b match) int {
		return cmp.Or(
			cmp.Compare(kindOrder(a.p.Kind), kindOrder(b.p.Kind)),
			cmp.Compare(a.spec, b.spec),
			cmp.Compare(a.p.Namespace, b.p.Namespace),
			cmp.Compare(a.p.Name, b.p.Name),
		)
	})
	out := make([]Policy, len(ms))
	for i, m := range ms {
		out[i] = m.p
	}
	return out
}

func kindOrder(kind string) int {
	if kind == policyv1alpha1.KindClusterOverridePolicy {
		return 0
	}
	return 1
}

// ClusterMatches tells whether a selects c; nil selects every cluster. It
// is the scheduler's own rule (internal/clusteraffinity), so a policy's
// targetCluster picks the clusters a placement with the same affinity would.
func ClusterMatches(c Cluster, a *policyv1alpha1.ClusterAffinity) bool {
	return clusteraffinity.Matches(&c, a)
}

// applyOverriders applies one rule's overriders to obj in Karmada's order.
func applyOverriders(obj *unstructured.Unstructured, o *policyv1alpha1.Overriders) error {
	kind := obj.GetKind()
	for i := range o.ImageOverrider {
		if err := applyImage(obj.Object, kind, &o.ImageOverrider[i]); err != nil {
			return err
		}
	}
	for i := range o.CommandOverrider {
		if err := applyCommandArgs(obj.Object, kind, "command", &o.CommandOverrider[i]); err != nil {
			return err
		}
	}
	for i := range o.ArgsOverrider {
		if err := applyCommandArgs(obj.Object, kind, "args", &o.ArgsOverrider[i]); err != nil {
			return err
		}
	}
	for i := range o.LabelsOverrider {
		if err := applyLabelsAnnotations(obj.Object, "labels", &o.LabelsOverrider[i]); err != nil {
			return err
		}
	}
	for i := range o.AnnotationsOverrider {
		if err := applyLabelsAnnotations(obj.Object, "annotations", &o.AnnotationsOverrider[i]); err != nil {
			return err
		}
	}
	for i := range o.FieldOverrider {
		if err := applyField(obj.Object, &o.FieldOverrider[i]); err != nil {
			return err
		}
	}
	for i := range o.Plaintext {
		m, err := applyPlaintext(obj.Object, &o.Plaintext[i])
		if err != nil {
			return err
		}
		obj.Object = m
	}
	return nil
}
