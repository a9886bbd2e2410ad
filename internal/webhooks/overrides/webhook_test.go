package overrides

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

func TestValidateSpec(t *testing.T) {
	val := apiextensionsv1.JSON{Raw: []byte(`"x"`)}
	cases := []struct {
		desc      string
		o         policyv1alpha1.Overriders
		namespace string
		sel       []policyv1alpha1.ResourceSelector
		want      []string // substrings of the error; none means valid
	}{
		{desc: "valid plaintext", o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/replicas", Operator: "replace", Value: apiextensionsv1.JSON{Raw: []byte("2")}}}}},
		{desc: "bad escape", o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/metadata/a~2b", Operator: "add", Value: val}}},
			want: []string{"spec.overriders.plaintext[0].path", "bad escape"}},
		{desc: "replace without value", o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/replicas", Operator: "replace"}}},
			want: []string{"spec.overriders.plaintext[0].value", "value is required"}},
		{desc: "unknown operator", o: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{Path: "/spec", Operator: "merge", Value: val}}},
			want: []string{"spec.overriders.plaintext[0].operator"}},
		{desc: "remove repository", o: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: policyv1alpha1.Repository, Operator: "remove"}}},
			want: []string{"spec.overriders.imageOverrider[0].value", "cannot remove the repository"}},
		{desc: "tag that is no tag", o: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: policyv1alpha1.Tag, Operator: "replace", Value: "v 1"}}},
			want: []string{"spec.overriders.imageOverrider[0].value"}},
		{desc: "valid registry replace", o: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{{Component: policyv1alpha1.Registry, Operator: "replace", Value: "mirror.example.com"}}}},
		{desc: "field overrider json sub path", o: policyv1alpha1.Overriders{FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: "/data/cfg", JSON: []policyv1alpha1.JSONPatchOperation{{SubPath: "/a~x", Operator: "add", Value: val}}}}},
			want: []string{"spec.overriders.fieldOverrider[0].json[0].subPath"}},
		{desc: "invalid label key", o: policyv1alpha1.Overriders{LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"bad key": "v"}}}},
			want: []string{"spec.overriders.labelsOverrider[0].value"}},
		{desc: "selector in another namespace", namespace: "team-a", sel: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-b"}},
			want: []string{"spec.resourceSelectors[0].namespace", "team-a"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			spec := &policyv1alpha1.OverrideSpec{ResourceSelectors: c.sel, Overriders: c.o}
			errs := (&Validator{}).ValidateSpec(spec, c.namespace, policyv1alpha1.KindOverridePolicy)
			if len(c.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatal("accepted")
			}
			got := errs.ToAggregate().Error()
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not mention %q", got, w)
				}
			}
		})
	}
}
