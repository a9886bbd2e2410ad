package overrides

import (
	"errors"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// The checks below let the admission webhook reject at creation what the
// engine would fail on at every propagation. They call the engine's own
// parsers, so that the webhook and the engine cannot disagree.

// ValidatePointer checks that p is an RFC 6901 JSON pointer the engine can
// follow; when nonEmpty, it must not designate the whole document.
func ValidatePointer(p string, nonEmpty bool) error {
	toks, err := parsePointer(p)
	if err != nil {
		return err
	}
	if nonEmpty && len(toks) == 0 {
		return errors.New("must not designate the whole object")
	}
	return nil
}

// ValidateOperator checks that op is one the engine implements.
func ValidateOperator(op policyv1alpha1.OverriderOperator) error {
	switch op {
	case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpRemove, policyv1alpha1.OverriderOpReplace:
		return nil
	}
	return fmt.Errorf("unsupported operator %q", op)
}

// ValidateValue checks the value of one operation: required and well-formed
// JSON for add and replace, ignored for remove.
func ValidateValue(op policyv1alpha1.OverriderOperator, v apiextensionsv1.JSON) error {
	_, err := decodeValue(op, v)
	return err
}

// ValidateImageOverrider checks the component, the operator and the value
// by rewriting sample images, with and without a registry and tag, the way
// the engine rewrites real ones: a value that cannot produce a valid image
// is an error of the overrider, not of the object it is applied to.
func ValidateImageOverrider(o *policyv1alpha1.ImageOverrider) error {
	for _, sample := range []string{"registry.example.com/team/app:v1", "app"} {
		if _, err := overrideImage(sample, o); err != nil {
			return err
		}
	}
	return nil
}
