package policymatch

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

const (
	pp  = policyv1alpha1.KindPropagationPolicy
	cpp = policyv1alpha1.KindClusterPropagationPolicy
)

var nginx = Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "nginx", Labels: map[string]string{"app": "nginx"}}

func sel(apiVersion, kind string) policyv1alpha1.ResourceSelector {
	return policyv1alpha1.ResourceSelector{APIVersion: apiVersion, Kind: kind}
}

func byName(apiVersion, kind, name string) policyv1alpha1.ResourceSelector {
	return policyv1alpha1.ResourceSelector{APIVersion: apiVersion, Kind: kind, Name: name}
}

func byLabels(apiVersion, kind string, l map[string]string) policyv1alpha1.ResourceSelector {
	return policyv1alpha1.ResourceSelector{APIVersion: apiVersion, Kind: kind, LabelSelector: &metav1.LabelSelector{MatchLabels: l}}
}

type opt func(*Policy)

func prio(p int32) opt { return func(x *Policy) { x.Spec.Priority = ptr.To(p) } }
func always() opt      { return func(x *Policy) { x.Spec.Preemption = policyv1alpha1.PreemptAlways } }

func newPolicy(kind, ns, name string, selectors []policyv1alpha1.ResourceSelector, opts ...opt) Policy {
	p := Policy{Kind: kind, Namespace: ns, Name: name, Spec: &policyv1alpha1.PropagationSpec{ResourceSelectors: selectors}}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func ref(kind, ns, name string) *workv1alpha1.PolicyReference {
	return &workv1alpha1.PolicyReference{Kind: kind, Namespace: ns, Name: name}
}

func TestSelectorSpecificity(t *testing.T) {
	cases := []struct {
		desc string
		obj  Object
		rs   policyv1alpha1.ResourceSelector
		want Specificity
	}{
		{"kind only", nginx, sel("apps/v1", "Deployment"), MatchAll},
		{"by name", nginx, byName("apps/v1", "Deployment", "nginx"), MatchName},
		{"other name", nginx, byName("apps/v1", "Deployment", "other"), NoMatch},
		{"by labels", nginx, byLabels("apps/v1", "Deployment", map[string]string{"app": "nginx"}), MatchLabelSelector},
		{"labels do not match", nginx, byLabels("apps/v1", "Deployment", map[string]string{"app": "other"}), NoMatch},
		{"empty label selector selects all labels", nginx, byLabels("apps/v1", "Deployment", nil), MatchLabelSelector},
		{"other kind", nginx, sel("apps/v1", "StatefulSet"), NoMatch},
		{"apiVersion compared exactly: other version", nginx, sel("apps/v1beta1", "Deployment"), NoMatch},
		{"apiVersion compared exactly: group only", nginx, sel("apps", "Deployment"), NoMatch},
		{"core group", Object{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "svc"}, sel("v1", "Service"), MatchAll},
		{"selector namespace matches", nginx, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default"}, MatchAll},
		{"selector namespace differs", nginx, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod"}, NoMatch},
		{"invalid label selector never matches", nginx, policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment",
			LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}}, NoMatch},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			if got := SelectorSpecificity(c.obj, c.rs); got != c.want {
				t.Errorf("SelectorSpecificity() = %d, want %d", got, c.want)
			}
		})
	}
}

func TestPolicySpecificityNamespaceSemantics(t *testing.T) {
	crd := Object{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Name: "guestbooks.webapp.my.domain"}
	cases := []struct {
		desc string
		p    Policy
		obj  Object
		want Specificity
	}{
		{"pp governs its own namespace", newPolicy(pp, "default", "p", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment")}), nginx, MatchAll},
		{"pp does not govern another namespace", newPolicy(pp, "prod", "p", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment")}), nginx, NoMatch},
		{"pp never selects cluster-scoped objects", newPolicy(pp, "default", "p", []policyv1alpha1.ResourceSelector{sel("apiextensions.k8s.io/v1", "CustomResourceDefinition")}), crd, NoMatch},
		{"pp selector namespace must be its own", newPolicy(pp, "default", "p", []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod"}}), nginx, NoMatch},
		{"cpp selects any namespace", newPolicy(cpp, "", "c", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment")}), nginx, MatchAll},
		{"cpp selector narrows the namespace", newPolicy(cpp, "", "c", []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod"}}), nginx, NoMatch},
		{"cpp selects cluster-scoped objects", newPolicy(cpp, "", "c", []policyv1alpha1.ResourceSelector{byName("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd.Name)}), crd, MatchName},
		{"best selector counts", newPolicy(pp, "default", "p", []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment"), byName("apps/v1", "Deployment", "nginx")}), nginx, MatchName},
		{"one selector suffices", newPolicy(pp, "default", "p", []policyv1alpha1.ResourceSelector{sel("v1", "Service"), byLabels("apps/v1", "Deployment", map[string]string{"app": "nginx"})}), nginx, MatchLabelSelector},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			if got := c.p.Specificity(c.obj); got != c.want {
				t.Errorf("Specificity() = %d, want %d", got, c.want)
			}
		})
	}
}

func TestDecideFreshClaim(t *testing.T) {
	all := []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment")}
	name := []policyv1alpha1.ResourceSelector{byName("apps/v1", "Deployment", "nginx")}
	lbl := []policyv1alpha1.ResourceSelector{byLabels("apps/v1", "Deployment", map[string]string{"app": "nginx"})}
	cases := []struct {
		desc     string
		policies []Policy
		want     *workv1alpha1.PolicyReference
	}{
		{"no policy", nil, nil},
		{"no matching policy", []Policy{newPolicy(pp, "default", "svc", []policyv1alpha1.ResourceSelector{sel("v1", "Service")})}, nil},
		{"pp before cpp, even with lower priority and less specific",
			[]Policy{newPolicy(cpp, "", "c", name, prio(100)), newPolicy(pp, "default", "p", all, prio(-5))}, ref(pp, "default", "p")},
		{"higher priority first",
			[]Policy{newPolicy(pp, "default", "a", name, prio(1)), newPolicy(pp, "default", "z", all, prio(2))}, ref(pp, "default", "z")},
		{"negative priority loses to default 0",
			[]Policy{newPolicy(pp, "default", "a", name, prio(-1)), newPolicy(pp, "default", "z", all)}, ref(pp, "default", "z")},
		{"same priority: name beats labelSelector",
			[]Policy{newPolicy(pp, "default", "a", lbl), newPolicy(pp, "default", "z", name)}, ref(pp, "default", "z")},
		{"same priority: labelSelector beats kind only",
			[]Policy{newPolicy(pp, "default", "a", all), newPolicy(pp, "default", "z", lbl)}, ref(pp, "default", "z")},
		{"full tie: alphabetical name",
			[]Policy{newPolicy(pp, "default", "foo", all), newPolicy(pp, "default", "bar", all)}, ref(pp, "default", "bar")},
		{"cpps alone: priority then specificity then name",
			[]Policy{newPolicy(cpp, "", "b", all, prio(3)), newPolicy(cpp, "", "a", all, prio(3)), newPolicy(cpp, "", "c", lbl, prio(2))}, ref(cpp, "", "a")},
		{"pp of another namespace is no candidate",
			[]Policy{newPolicy(pp, "prod", "p", all, prio(10)), newPolicy(cpp, "", "c", all)}, ref(cpp, "", "c")},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			d := Decide(nil, Candidates(nginx, c.policies))
			checkWinner(t, d, c.want)
			if d.Preempted || d.Kept {
				t.Errorf("a fresh claim is neither preempted nor kept: %+v", d)
			}
		})
	}
}

func TestDecideExistingClaim(t *testing.T) {
	all := []policyv1alpha1.ResourceSelector{sel("apps/v1", "Deployment")}
	name := []policyv1alpha1.ResourceSelector{byName("apps/v1", "Deployment", "nginx")}
	migrate := newPolicy(pp, "default", "migrate-pp", all, prio(0))
	cases := []struct {
		desc          string
		claim         *workv1alpha1.PolicyReference
		policies      []Policy
		want          *workv1alpha1.PolicyReference
		wantPreempted bool
		wantKept      bool
	}{
		{"seed 002: higher priority with preemption Always takes the object",
			ref(pp, "default", "migrate-pp"), []Policy{migrate, newPolicy(pp, "default", "nginx-pp", name, prio(10), always())},
			ref(pp, "default", "nginx-pp"), true, false},
		{"seed 002 without preemption: the claim is kept",
			ref(pp, "default", "migrate-pp"), []Policy{migrate, newPolicy(pp, "default", "nginx-pp", name, prio(10))},
			ref(pp, "default", "migrate-pp"), false, true},
		{"a better policy without preemption does not take a claim",
			ref(pp, "default", "z"), []Policy{newPolicy(pp, "default", "z", all), newPolicy(pp, "default", "a", name)},
			ref(pp, "default", "z"), false, true},
		{"equal priority cannot preempt",
			ref(pp, "default", "migrate-pp"), []Policy{migrate, newPolicy(pp, "default", "nginx-pp", name, prio(0), always())},
			ref(pp, "default", "migrate-pp"), false, true},
		{"lower priority cannot preempt",
			ref(pp, "default", "hi"), []Policy{newPolicy(pp, "default", "hi", all, prio(5)), newPolicy(pp, "default", "lo", name, prio(1), always())},
			ref(pp, "default", "hi"), false, true},
		{"pp with Always preempts a cpp whatever the priorities",
			ref(cpp, "", "c"), []Policy{newPolicy(cpp, "", "c", all, prio(100)), newPolicy(pp, "default", "p", name, prio(-3), always())},
			ref(pp, "default", "p"), true, false},
		{"pp without Always does not take a cpp claim",
			ref(cpp, "", "c"), []Policy{newPolicy(cpp, "", "c", all), newPolicy(pp, "default", "p", name, prio(10))},
			ref(cpp, "", "c"), false, true},
		{"cpp never preempts a pp",
			ref(pp, "default", "p"), []Policy{newPolicy(pp, "default", "p", all), newPolicy(cpp, "", "c", name, prio(100), always())},
			ref(pp, "default", "p"), false, true},
		{"cpp with Always preempts a lower-priority cpp",
			ref(cpp, "", "lo"), []Policy{newPolicy(cpp, "", "lo", all, prio(1)), newPolicy(cpp, "", "hi", name, prio(2), always())},
			ref(cpp, "", "hi"), true, false},
		{"several preemptors: the best one wins",
			ref(pp, "default", "migrate-pp"), []Policy{migrate, newPolicy(pp, "default", "p5", name, prio(5), always()), newPolicy(pp, "default", "p7", name, prio(7), always())},
			ref(pp, "default", "p7"), true, false},
		{"claiming policy deleted: re-evaluated from scratch",
			ref(pp, "default", "gone"), []Policy{newPolicy(pp, "default", "b", all), newPolicy(pp, "default", "a", all)},
			ref(pp, "default", "a"), false, false},
		{"claiming policy no longer matches: re-evaluated from scratch",
			ref(pp, "default", "svc-only"), []Policy{newPolicy(pp, "default", "svc-only", []policyv1alpha1.ResourceSelector{sel("v1", "Service")}, prio(9)), newPolicy(cpp, "", "c", all)},
			ref(cpp, "", "c"), false, false},
		{"claiming policy gone and nothing else matches",
			ref(pp, "default", "gone"), nil, nil, false, false},
		{"the claiming policy itself with Always keeps its claim",
			ref(pp, "default", "nginx-pp"), []Policy{migrate, newPolicy(pp, "default", "nginx-pp", name, prio(10), always())},
			ref(pp, "default", "nginx-pp"), false, true},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			d := Decide(c.claim, Candidates(nginx, c.policies))
			checkWinner(t, d, c.want)
			if d.Preempted != c.wantPreempted || d.Kept != c.wantKept {
				t.Errorf("Preempted=%v Kept=%v, want %v %v", d.Preempted, d.Kept, c.wantPreempted, c.wantKept)
			}
		})
	}
}

func TestDecideIsStable(t *testing.T) {
	// Applying the decision again changes nothing: no flapping between
	// policies that could each preempt the other.
	name := []policyv1alpha1.ResourceSelector{byName("apps/v1", "Deployment", "nginx")}
	policies := []Policy{
		newPolicy(pp, "default", "a", name, prio(3), always()),
		newPolicy(pp, "default", "b", name, prio(3), always()),
		newPolicy(cpp, "", "c", name, prio(9), always()),
	}
	cands := Candidates(nginx, policies)
	first := Decide(nil, cands)
	r := first.Winner.Ref()
	again := Decide(&r, cands)
	if !again.Kept || again.Winner.Ref() != r {
		t.Fatalf("decision not stable: first %v, then %+v", r, again)
	}
}

func checkWinner(t *testing.T, d Decision, want *workv1alpha1.PolicyReference) {
	t.Helper()
	switch {
	case want == nil && d.Winner != nil:
		t.Errorf("winner %v, want none", d.Winner.Ref())
	case want != nil && d.Winner == nil:
		t.Errorf("no winner, want %v", *want)
	case want != nil && d.Winner.Ref() != *want:
		t.Errorf("winner %v, want %v", d.Winner.Ref(), *want)
	}
}
