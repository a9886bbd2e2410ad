package resourcetemplate

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestFieldErrors: the apiserver's own 422 keeps its fields, moved under
// spec.template, and its messages; other errors and 422s of other admission
// plugins are not field errors of the object.
func TestFieldErrors(t *testing.T) {
	gk := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	invalid := apierrors.NewInvalid(gk, "web", field.ErrorList{
		field.Invalid(field.NewPath("spec", "replicas"), int64(-1), "must be greater than or equal to 0"),
		field.Required(field.NewPath("spec", "template", "spec", "containers").Index(0).Child("image"), ""),
	})
	errs := fieldErrors(invalid)
	got := apierrors.NewInvalid(gk, "web", errs).Error()
	for _, want := range []string{
		"spec.template.spec.replicas: Invalid value: -1: must be greater than or equal to 0",
		"spec.template.spec.template.spec.containers[0].image: Required value",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%q does not contain %q", got, want)
		}
	}
	if fieldErrors(apierrors.NewForbidden(schema.GroupResource{Resource: "deployments"}, "web", errors.New("exceeded quota"))) != nil {
		t.Error("a Forbidden error became a field error")
	}
	webhook := apierrors.NewInvalid(gk, "web", field.ErrorList{field.Invalid(field.NewPath("spec"), "", "x")})
	webhook.ErrStatus.Message = `admission webhook "policy.example.com" denied the request: ` + webhook.ErrStatus.Message
	if fieldErrors(webhook) != nil {
		t.Error("another webhook's 422 became a field error")
	}
}

func TestShape(t *testing.T) {
	cases := []struct {
		desc string
		obj  map[string]any
		want string // "" means valid
	}{
		{"valid", map[string]any{"metadata": map[string]any{"name": "one", "labels": map[string]any{"a": "b"}}}, ""},
		{"name not a subdomain", map[string]any{"metadata": map[string]any{"name": "One_"}}, "spec.template.metadata.name"},
		{"labels not a map of strings", map[string]any{"metadata": map[string]any{"name": "one", "labels": []any{"a"}}}, "spec.template.metadata"},
		{"bad label value", map[string]any{"metadata": map[string]any{"name": "one", "labels": map[string]any{"a": "b c"}}}, "spec.template.metadata.labels"},
		{"metadata not an object", map[string]any{"metadata": "x"}, "spec.template.metadata"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			errs := shape(&unstructured.Unstructured{Object: c.obj}, apivalidation.NameIsDNSSubdomain)
			switch {
			case c.want == "" && len(errs) > 0:
				t.Fatalf("rejected: %v", errs)
			case c.want != "" && (len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), c.want)):
				t.Fatalf("errors %v, want one naming %s", errs, c.want)
			}
		})
	}
}

func TestDryRunCopyDropsAllocatedServiceFields(t *testing.T) {
	svc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "web", "namespace": "team-a", "resourceVersion": "7"},
		"spec":     map[string]any{"clusterIP": "10.0.0.10", "clusterIPs": []any{"10.0.0.10"}, "ports": []any{map[string]any{"port": int64(80), "nodePort": int64(30080)}}}}}
	c := dryRunCopy(svc, "argosy-templates")
	if c.GetNamespace() != "argosy-templates" || c.GetResourceVersion() != "" {
		t.Errorf("namespace %q resourceVersion %q", c.GetNamespace(), c.GetResourceVersion())
	}
	if _, has, _ := unstructured.NestedString(c.Object, "spec", "clusterIP"); has {
		t.Error("clusterIP kept")
	}
	ports, _, _ := unstructured.NestedSlice(c.Object, "spec", "ports")
	if _, has := ports[0].(map[string]any)["nodePort"]; has {
		t.Error("nodePort kept")
	}
	if svc.GetNamespace() != "team-a" {
		t.Error("the original was changed")
	}
}
