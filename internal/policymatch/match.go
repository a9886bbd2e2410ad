// Package policymatch decides which PropagationPolicy or
// ClusterPropagationPolicy claims a wrapped object (DESIGN §3, Detector). It
// is pure: callers pass the object and the policies read from a cache.
//
// The rules are Karmada's (pkg/util/selector.go, pkg/detector/policy.go,
// pkg/detector/preemption.go), read against the wrapped object:
//
//   - A PropagationPolicy in namespace N governs objects whose namespace is
//     N; cluster-scoped objects never match one. A ClusterPropagationPolicy
//     governs any namespace and cluster-scoped objects.
//   - A resource selector matches by exact apiVersion (group and version, as
//     Karmada compares them) and kind, then optional namespace, then name or,
//     failing that, labelSelector on the object's own labels.
//   - An unclaimed object goes to the best match: a PropagationPolicy before a
//     ClusterPropagationPolicy; then the higher priority; then the more
//     specific selector (name, then labelSelector, then kind only); then the
//     policy name in alphabetical order.
//   - A claim is kept while its policy exists and matches, even when a better
//     policy appears, unless a matching policy with preemption Always can
//     preempt it: a PropagationPolicy preempts a lower-priority
//     PropagationPolicy and any ClusterPropagationPolicy whatever its
//     priority; a ClusterPropagationPolicy preempts only a lower-priority
//     ClusterPropagationPolicy.
package policymatch

import (
	"cmp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Specificity is how closely a selector names an object; higher is more
// specific. Karmada calls it the implicit priority.
type Specificity int

// Specificities, from no match to a match by name.
const (
	NoMatch            Specificity = 0
	MatchAll           Specificity = 1
	MatchLabelSelector Specificity = 2
	MatchName          Specificity = 3
)

// Object is the part of a wrapped object that selectors look at.
type Object struct {
	APIVersion string
	Kind       string
	// Namespace is empty for cluster-scoped objects.
	Namespace string
	Name      string
	Labels    map[string]string
}

// SelectorSpecificity tells whether rs selects obj and how specifically.
// The selector's own namespace is checked here; the policy's scope is
// checked by Policy.Governs.
func SelectorSpecificity(obj Object, rs policyv1alpha1.ResourceSelector) Specificity {
	if rs.APIVersion != obj.APIVersion || rs.Kind != obj.Kind {
		return NoMatch
	}
	if rs.Namespace != "" && rs.Namespace != obj.Namespace {
		return NoMatch
	}
	// Name wins over labelSelector, as in Karmada (the CRD forbids both).
	if rs.Name != "" {
		if rs.Name == obj.Name {
			return MatchName
		}
		return NoMatch
	}
	if rs.LabelSelector == nil {
		return MatchAll
	}
	s, err := metav1.LabelSelectorAsSelector(rs.LabelSelector)
	if err != nil {
		// Rejected by the apiserver's validation; never matches.
		return NoMatch
	}
	if s.Matches(labels.Set(obj.Labels)) {
		return MatchLabelSelector
	}
	return NoMatch
}

// Policy is a PropagationPolicy or ClusterPropagationPolicy as the matcher
// sees it. Spec is shared with the cache: never modify it.
type Policy struct {
	// Kind is policyv1alpha1.KindPropagationPolicy or
	// policyv1alpha1.KindClusterPropagationPolicy.
	Kind string
	// Namespace is empty for a ClusterPropagationPolicy.
	Namespace string
	Name      string
	Spec      *policyv1alpha1.PropagationSpec
}

// FromPropagationPolicy wraps a PropagationPolicy.
func FromPropagationPolicy(p *policyv1alpha1.PropagationPolicy) Policy {
	return Policy{Kind: policyv1alpha1.KindPropagationPolicy, Namespace: p.Namespace, Name: p.Name, Spec: &p.Spec}
}

// FromClusterPropagationPolicy wraps a ClusterPropagationPolicy.
func FromClusterPropagationPolicy(p *policyv1alpha1.ClusterPropagationPolicy) Policy {
	return Policy{Kind: policyv1alpha1.KindClusterPropagationPolicy, Name: p.Name, Spec: &p.Spec}
}

// Namespaced tells whether p is a PropagationPolicy.
func (p Policy) Namespaced() bool { return p.Kind == policyv1alpha1.KindPropagationPolicy }

// Priority is spec.priority, 0 when unset.
func (p Policy) Priority() int32 {
	if p.Spec == nil || p.Spec.Priority == nil {
		return 0
	}
	return *p.Spec.Priority
}

// Preempts tells whether spec.preemption is Always.
func (p Policy) Preempts() bool {
	return p.Spec != nil && p.Spec.Preemption == policyv1alpha1.PreemptAlways
}

// Ref is the reference a template's status.policy holds for p.
func (p Policy) Ref() workv1alpha1.PolicyReference {
	return workv1alpha1.PolicyReference{Kind: p.Kind, Namespace: p.Namespace, Name: p.Name}
}

// Is tells whether ref names p.
func (p Policy) Is(ref *workv1alpha1.PolicyReference) bool {
	return ref != nil && ref.Kind == p.Kind && ref.Namespace == p.Namespace && ref.Name == p.Name
}

// Governs tells whether obj is in p's scope: a PropagationPolicy governs
// its own namespace only, a ClusterPropagationPolicy everything.
func (p Policy) Governs(obj Object) bool {
	if p.Namespaced() {
		return obj.Namespace != "" && obj.Namespace == p.Namespace
	}
	return true
}

// Specificity is the best specificity of p's selectors for obj, NoMatch
// when p does not select obj (or obj is outside p's scope).
func (p Policy) Specificity(obj Object) Specificity {
	if p.Spec == nil || !p.Governs(obj) {
		return NoMatch
	}
	best := NoMatch
	for i := range p.Spec.ResourceSelectors {
		if s := SelectorSpecificity(obj, p.Spec.ResourceSelectors[i]); s > best {
			best = s
		}
	}
	return best
}

// Candidate is a policy that selects the object, with how specifically.
type Candidate struct {
	Policy
	Specificity Specificity
}

// Candidates returns the policies that select obj, in no particular order.
func Candidates(obj Object, policies []Policy) []Candidate {
	var out []Candidate
	for _, p := range policies {
		if s := p.Specificity(obj); s > NoMatch {
			out = append(out, Candidate{Policy: p, Specificity: s})
		}
	}
	return out
}

// Compare orders candidates for a fresh claim: negative when a should win
// over b. PropagationPolicy before ClusterPropagationPolicy, then higher
// priority, then higher specificity, then name (then namespace, so that the
// order is total).
func Compare(a, b Candidate) int {
	if a.Namespaced() != b.Namespaced() {
		if a.Namespaced() {
			return -1
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(b.Priority(), a.Priority()),
		cmp.Compare(b.Specificity, a.Specificity),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Namespace, b.Namespace),
	)
}

// CanPreempt tells whether candidate c may take an object claimed by
// claimed away: c must have preemption Always, and either c is a
// PropagationPolicy and claimed a ClusterPropagationPolicy (whatever the
// priorities), or both are of the same kind and c has the strictly higher
// priority.
func CanPreempt(c, claimed Policy) bool {
	if !c.Preempts() || c.Ref() == claimed.Ref() {
		return false
	}
	if c.Namespaced() && !claimed.Namespaced() {
		return true
	}
	return c.Namespaced() == claimed.Namespaced() && c.Priority() > claimed.Priority()
}

// Decision is the outcome of Decide.
type Decision struct {
	// Winner is the policy that claims the object; nil when none selects it.
	Winner *Candidate
	// Preempted is set when Winner took the object from the policy that
	// claimed it (which still exists and matches).
	Preempted bool
	// Kept is set when the existing claim stays.
	Kept bool
}

// Decide picks the policy that claims an object given its current claim
// (nil when unclaimed) and the candidates that select it:
//
//   - unclaimed, or the claiming policy is gone or no longer selects the
//     object: the best candidate by Compare;
//   - otherwise the claim is kept, unless candidates can preempt it
//     (CanPreempt), in which case the best of those by Compare wins.
func Decide(claim *workv1alpha1.PolicyReference, cands []Candidate) Decision {
	var claimed *Candidate
	if claim != nil {
		for i := range cands {
			if cands[i].Is(claim) {
				claimed = &cands[i]
				break
			}
		}
	}
	if claimed == nil {
		return Decision{Winner: best(cands, func(Candidate) bool { return true })}
	}
	if p := best(cands, func(c Candidate) bool { return CanPreempt(c.Policy, claimed.Policy) }); p != nil {
		return Decision{Winner: p, Preempted: true}
	}
	return Decision{Winner: claimed, Kept: true}
}

func best(cands []Candidate, ok func(Candidate) bool) *Candidate {
	var b *Candidate
	for i := range cands {
		if !ok(cands[i]) {
			continue
		}
		if b == nil || Compare(cands[i], *b) < 0 {
			b = &cands[i]
		}
	}
	if b == nil {
		return nil
	}
	out := *b
	return &out
}
