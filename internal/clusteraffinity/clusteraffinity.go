// Package clusteraffinity decides whether a ClusterAffinity (clusterNames,
// exclude, labelSelector, fieldSelector on provider/region/zone) selects a
// cluster. The scheduler and the override engine both use it, so a policy
// selects the same clusters for placement and for overrides.
package clusteraffinity

import (
	"iter"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// Target is what an affinity looks at in a Cluster: its name, labels and
// spec.provider/region/zone/zones.
type Target struct {
	Name                   string
	Labels                 map[string]string
	Provider, Region, Zone string
	Zones                  []string
}

// TargetOf is what an affinity looks at in c. The Target shares c's labels
// and zones; neither may modify them.
func TargetOf(c *clusterv1alpha1.Cluster) Target {
	return Target{Name: c.Name, Labels: c.Labels, Provider: c.Spec.Provider, Region: c.Spec.Region, Zone: c.Spec.Zone, Zones: c.Spec.Zones}
}

// Matches is Compile(a).Matches(c) without the reason, for one-off checks.
func Matches(c *Target, a *policyv1alpha1.ClusterAffinity) bool {
	m := Compile(a)
	ok, _ := m.Matches(c)
	return ok
}

// Matcher is a compiled ClusterAffinity. Compiling once per scheduling
// decision keeps label selector parsing out of the per-cluster loop.
type Matcher struct {
	all     bool // nil affinity: every cluster matches
	invalid string
	names   []string
	exclude []string
	labels  labels.Selector
	fields  []corev1.NodeSelectorRequirement
}

// Compile compiles a. A nil a matches every cluster. A selector
// that does not parse (the webhook should have rejected it) matches no
// cluster, and the message says why.
func Compile(a *policyv1alpha1.ClusterAffinity) Matcher {
	if a == nil {
		return Matcher{all: true}
	}
	m := Matcher{names: a.ClusterNames, exclude: a.ExcludeClusters}
	if a.LabelSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(a.LabelSelector)
		if err != nil {
			m.invalid = "invalid labelSelector: " + err.Error()
		}
		m.labels = sel
	}
	if a.FieldSelector != nil {
		m.fields = a.FieldSelector.MatchExpressions
		for _, r := range m.fields {
			switch {
			case r.Key != policyv1alpha1.ProviderField && r.Key != policyv1alpha1.RegionField && r.Key != policyv1alpha1.ZoneField:
				m.invalid = "invalid fieldSelector: unknown key " + strconv.Quote(r.Key)
			case r.Operator != corev1.NodeSelectorOpIn && r.Operator != corev1.NodeSelectorOpNotIn:
				m.invalid = "invalid fieldSelector: unsupported operator " + strconv.Quote(string(r.Operator))
			}
		}
	}
	return m
}

// Matches reports whether c is selected, and if not, a short detail for the
// message ("" when the generic wording is enough).
func (m *Matcher) Matches(c *Target) (bool, string) {
	if m.all {
		return true, ""
	}
	if m.invalid != "" {
		return false, m.invalid
	}
	if slices.Contains(m.exclude, c.Name) {
		return false, ""
	}
	if len(m.names) > 0 && !slices.Contains(m.names, c.Name) {
		return false, ""
	}
	if m.labels != nil && !m.labels.Matches(labels.Set(c.Labels)) {
		return false, ""
	}
	for i := range m.fields {
		if !fieldMatches(c, &m.fields[i]) {
			return false, ""
		}
	}
	return true, ""
}

// fieldMatches evaluates one fieldSelector requirement. The zone key looks
// at all zones of the cluster (spec.zone and spec.zones): In requires every
// zone of the cluster to be listed, so that a cluster spanning an unlisted
// zone is not selected by accident; NotIn requires none to be listed. A
// missing field fails In and passes NotIn, as with label selectors.
//
// Karmada treats a fieldSelector without expressions as matching nothing;
// here requirements are ANDed, so an empty list matches everything, like an
// empty labelSelector.
func fieldMatches(c *Target, r *corev1.NodeSelectorRequirement) bool {
	in := r.Operator == corev1.NodeSelectorOpIn
	switch r.Key {
	case policyv1alpha1.ProviderField:
		return fieldValueMatches(c.Provider, r.Values, in)
	case policyv1alpha1.RegionField:
		return fieldValueMatches(c.Region, r.Values, in)
	}
	// zone
	n := 0
	for z := range Zones(c) {
		n++
		if slices.Contains(r.Values, z) != in {
			return false
		}
	}
	return n > 0 || !in
}

func fieldValueMatches(v string, values []string, in bool) bool {
	if v == "" {
		return !in
	}
	return slices.Contains(values, v) == in
}

// Zones iterates over the distinct zones of c (spec.zone and spec.zones).
func Zones(c *Target) iter.Seq[string] {
	return func(yield func(string) bool) {
		if c.Zone != "" && !yield(c.Zone) {
			return
		}
		for _, z := range c.Zones {
			if z != "" && z != c.Zone && !yield(z) {
				return
			}
		}
	}
}
