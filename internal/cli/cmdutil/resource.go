package cmdutil

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// SplitKindName parses a "KIND/NAME" argument (deployment/foo,
// deployments.apps/foo, deploy/foo). The error names the argument.
func SplitKindName(arg string) (kind, name string, err error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok || kind == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("argument %q: want KIND/NAME, for example deployment/foo", arg)
	}
	if strings.ContainsAny(name, " \t\n") {
		return "", "", fmt.Errorf("argument %q: %q is not a valid object name", arg, name)
	}
	return kind, name, nil
}

// Mapping resolves a resource or kind argument (deploy, deployments,
// Deployment, deployments.apps, deployment.v1.apps) to its REST mapping on
// the host, as kubectl does: first as a resource, then as a kind.
func Mapping(m meta.RESTMapper, arg string) (*meta.RESTMapping, error) {
	fullGVR, gr := schema.ParseResourceArg(arg)
	var gvk schema.GroupVersionKind
	if fullGVR != nil {
		gvk, _ = m.KindFor(*fullGVR)
	}
	if gvk.Empty() {
		gvk, _ = m.KindFor(gr.WithVersion(""))
	}
	if !gvk.Empty() {
		return m.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	fullGVK, gk := schema.ParseKindArg(arg)
	if fullGVK != nil {
		if mapping, err := m.RESTMapping(fullGVK.GroupKind(), fullGVK.Version); err == nil {
			return mapping, nil
		}
	}
	mapping, err := m.RESTMapping(gk)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("the host cluster serves no resource type %q: %w", arg, err)
		}
		return nil, fmt.Errorf("resolving resource type %q: %w", arg, err)
	}
	return mapping, nil
}
