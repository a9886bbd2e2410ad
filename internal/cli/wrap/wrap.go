// Package wrap turns native manifests into ResourceTemplates (DESIGN §1):
// the pure stdin->stdout `wrap` for GitOps and kustomize pipelines, and
// `apply`, which wraps and applies server-side.
package wrap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

// ScopeFunc tells whether a kind is namespaced; known is false when the
// function cannot tell (then the kind is taken as namespaced, as the
// template webhook does for custom kinds).
type ScopeFunc func(gk schema.GroupKind) (namespaced, known bool, err error)

// Options of a wrap.
type Options struct {
	// TemplateNamespace is where the templates go (argosy-templates).
	TemplateNamespace string
	// DefaultNamespace is given to namespaced objects without a namespace,
	// as kubectl apply does with the context's namespace.
	DefaultNamespace string
	// Scope answers for kinds the input does not define itself (a CRD in
	// the input defines its kind's scope); nil means BuiltinScope.
	Scope ScopeFunc
	// AllClusters adds, per wrapped object, a ClusterPropagationPolicy of
	// the same name that propagates it to every cluster, Duplicated.
	AllClusters bool
}

// Source is one named input (a file name, or "stdin").
type Source struct {
	Name string
	Data []byte
}

// Decode reads every object of a YAML (multi-document) or JSON stream;
// List kinds are expanded into their items. Errors name the source and the
// document.
func Decode(src Source) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(bytes.NewReader(src.Data)), 4096)
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", src.Name, doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			continue // an empty or comment-only document
		}
		var m map[string]any
		// The apimachinery decoder keeps integers int64, as unstructured
		// objects need them.
		if err := utiljson.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", src.Name, doc, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			items, ok := m["items"].([]any)
			if !ok && m["items"] != nil {
				return nil, fmt.Errorf("%s: document %d: items of %s is not a list", src.Name, doc, u.GetKind())
			}
			for i, it := range items {
				im, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s: document %d: items[%d] is not an object", src.Name, doc, i)
				}
				out = append(out, &unstructured.Unstructured{Object: im})
			}
			continue
		}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, fmt.Errorf("%s: document %d: apiVersion and kind are required", src.Name, doc)
		}
		out = append(out, u)
	}
}

// IsArgosy tells objects of the argosy.dev groups (policies, templates,
// clusters, ...): they are host objects and pass through unwrapped.
func IsArgosy(u *unstructured.Unstructured) bool {
	g := u.GroupVersionKind().Group
	return g == "argosy.dev" || strings.HasSuffix(g, ".argosy.dev")
}

// Wrap returns objs with every native object replaced by its
// ResourceTemplate (named template.Name(group, kind, namespace, name), in
// the template namespace) and argosy.dev objects passed through, in input
// order. Fields the source cluster set (status, uid, resourceVersion,
// managedFields, ownerReferences, kubectl's last-applied annotation, ...)
// are dropped so that `kubectl get -o yaml | wrap` gives a clean template.
// The output is deterministic, so wrapping the same input twice gives the
// same bytes.
func Wrap(objs []*unstructured.Unstructured, o Options) ([]*unstructured.Unstructured, error) {
	scope := o.Scope
	if scope == nil {
		scope = BuiltinScope
	}
	defined := crdScopes(objs)
	seen := map[string]string{}
	var out, policies []*unstructured.Unstructured
	for _, in := range objs {
		if IsArgosy(in) {
			out = append(out, in)
			continue
		}
		obj := clean(in)
		gvk := obj.GroupVersionKind()
		id := fmt.Sprintf("%s %s", gvk.GroupKind(), obj.GetName())
		if obj.GetName() == "" {
			if obj.GetGenerateName() != "" {
				return nil, fmt.Errorf("%s with generateName %q: metadata.name is required, the template's name is derived from it", gvk.Kind, obj.GetGenerateName())
			}
			return nil, fmt.Errorf("%s: metadata.name is required", gvk.Kind)
		}
		namespaced, known := defined[gvk.GroupKind()]
		if !known {
			var err error
			if namespaced, known, err = scope(gvk.GroupKind()); err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			if !known {
				namespaced = true
			}
		}
		switch {
		case !namespaced:
			obj.SetNamespace("")
		case obj.GetNamespace() == "":
			ns := o.DefaultNamespace
			if ns == "" {
				ns = "default"
			}
			obj.SetNamespace(ns)
		}
		name := template.Name(gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName())
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s %s is given twice (%s); one object has one template", gvk.GroupKind(), qualified(obj), prev)
		}
		seen[name] = qualified(obj)
		rt := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": workv1alpha1.GroupVersion.String(),
			"kind":       workv1alpha1.KindResourceTemplate,
			"metadata":   map[string]any{"name": name, "namespace": o.TemplateNamespace},
			"spec":       map[string]any{"template": obj.Object},
		}}
		out = append(out, rt)
		if o.AllClusters {
			policies = append(policies, AllClustersPolicy(name, obj))
		}
	}
	return append(out, policies...), nil
}

// AllClustersPolicy is the ClusterPropagationPolicy of `--all-clusters`:
// it selects one object by name and places it on every cluster,
// Duplicated. It is cluster-scoped so that it needs no namespace on the
// host, and it is named like the object's template so that re-applying is
// idempotent and one object's policy never drops another's; a
// PropagationPolicy the user writes still wins, as namespaced policies
// come before cluster-wide ones.
func AllClustersPolicy(name string, obj *unstructured.Unstructured) *unstructured.Unstructured {
	sel := map[string]any{"apiVersion": obj.GetAPIVersion(), "kind": obj.GetKind(), "name": obj.GetName()}
	if obj.GetNamespace() != "" {
		sel["namespace"] = obj.GetNamespace()
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": policyv1alpha1.GroupVersion.String(),
		"kind":       "ClusterPropagationPolicy",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"resourceSelectors": []any{sel},
			"placement": map[string]any{
				"replicaScheduling": map[string]any{"replicaSchedulingType": string(policyv1alpha1.ReplicaSchedulingTypeDuplicated)},
			},
		},
	}}
}

// Encode writes objects as a YAML stream, keys sorted.
func Encode(w io.Writer, objs []*unstructured.Unstructured) error {
	for i, u := range objs {
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// clean copies u without what the source cluster set on it.
func clean(u *unstructured.Unstructured) *unstructured.Unstructured {
	obj := u.DeepCopy()
	delete(obj.Object, "status")
	for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "ownerReferences"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	if ann := obj.GetAnnotations(); ann != nil {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		if len(ann) == 0 {
			unstructured.RemoveNestedField(obj.Object, "metadata", "annotations")
		} else {
			obj.SetAnnotations(ann)
		}
	}
	return obj
}

// crdScopes are the scopes of the kinds that CRDs in the input define.
func crdScopes(objs []*unstructured.Unstructured) map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for _, u := range objs {
		if u.GroupVersionKind().GroupKind() != (schema.GroupKind{Group: apiextensionsv1.GroupName, Kind: "CustomResourceDefinition"}) {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		if kind != "" {
			out[schema.GroupKind{Group: group, Kind: kind}] = scope != string(apiextensionsv1.ClusterScoped)
		}
	}
	return out
}

func qualified(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}
