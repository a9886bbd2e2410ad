// Package apply is the pure part of applying a Work's manifest to a member
// cluster: the object sent with server-side apply (Prepare), the fields left
// to the member (Retain), and whether the member's object already holds
// everything that would be sent (Contains), so that a steady state costs no
// writes to members.
package apply

import (
	"encoding/json"
	"math"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/jsonint"
)

// LastAppliedAnnotation is kubectl's client-side apply annotation. It is
// never sent to members: it would describe the host's copy, not the
// member's.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// serverMetadata are the metadata fields the member's API server sets, and
// ownerReferences, whose UIDs name host objects that do not exist in the
// member (its garbage collector would delete the object).
var serverMetadata = []string{
	"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
	"managedFields", "resourceVersion", "selfLink", "uid", "ownerReferences",
}

// Prepare returns the object to apply for manifest: a copy without status
// and server-set metadata, in namespace "default" when the kind is
// namespaced and none is given (in no namespace when it is cluster-scoped),
// labelled workv1alpha1.LabelManaged and annotated with workv1alpha1.AnnotationWork
// = workKey, and with the fields removed that a member allocates itself
// (a Service's cluster IPs, a Job's generated selector). manifest is not
// modified.
func Prepare(manifest *unstructured.Unstructured, namespaced bool, workKey string) *unstructured.Unstructured {
	u := manifest.DeepCopy()
	delete(u.Object, "status")
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		md = map[string]any{}
		u.Object["metadata"] = md
	}
	for _, f := range serverMetadata {
		delete(md, f)
	}
	switch {
	case !namespaced:
		delete(md, "namespace")
	case u.GetNamespace() == "":
		md["namespace"] = "default"
	}
	labels := stringMap(md, "labels")
	labels[workv1alpha1.LabelManaged] = "true"
	annotations := stringMap(md, "annotations")
	annotations[workv1alpha1.AnnotationWork] = workKey
	delete(annotations, LastAppliedAnnotation)
	pruneAllocated(u)
	return u
}

// stringMap returns md[key] as a map, creating it when missing.
func stringMap(md map[string]any, key string) map[string]any {
	m, ok := md[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		md[key] = m
	}
	return m
}

// pruneAllocated removes what the member allocates, so that a template
// copied from a live object (as when migrating, seed 002) applies to any
// member: a Service's clusterIP and clusterIPs (except "None", a headless
// Service) and a Job's generated selector and the labels it matches
// (unless spec.manualSelector). Karmada prunes the same fields.
func pruneAllocated(u *unstructured.Unstructured) {
	gvk := u.GroupVersionKind()
	switch {
	case gvk.Group == "" && gvk.Kind == "Service":
		if ip, _, _ := unstructured.NestedString(u.Object, "spec", "clusterIP"); ip != "None" {
			unstructured.RemoveNestedField(u.Object, "spec", "clusterIP")
			unstructured.RemoveNestedField(u.Object, "spec", "clusterIPs")
		}
	case gvk.Group == "batch" && gvk.Kind == "Job":
		if manual, _, _ := unstructured.NestedBool(u.Object, "spec", "manualSelector"); manual {
			return
		}
		unstructured.RemoveNestedField(u.Object, "spec", "selector")
		for _, l := range []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"} {
			unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "labels", l)
		}
	}
}

// RetainsReplicas reports whether the wrapped object asks for its
// spec.replicas to be left to the member (workv1alpha1.LabelRetainReplicas).
func RetainsReplicas(manifest *unstructured.Unstructured) bool {
	return manifest.GetLabels()[workv1alpha1.LabelRetainReplicas] == "true"
}

// Retain keeps in desired what the member owns, given the member's live
// object (nil when it does not exist yet): with LabelRetainReplicas, the
// live spec.replicas. The live value is sent rather than the field left out:
// leaving out a field Argosy applied before would release it, and when no
// other manager owns it yet (an HPA that has not scaled), the API server
// would reset it to its default. desired is modified in place.
func Retain(desired, live *unstructured.Unstructured) {
	if live == nil || !RetainsReplicas(desired) {
		return
	}
	if r, found, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "replicas"); found {
		if n, ok := jsonint.Int64(r); ok {
			_ = unstructured.SetNestedField(desired.Object, n, "spec", "replicas")
		}
	}
}

// Contains reports whether live holds every field of desired with an equal
// value: maps are compared key by key (keys live has in addition are the
// member's or other managers'), lists element by element and of the same
// length, numbers numerically, and strings that both parse as quantities
// (a resource request "0.5" and "500m") semantically. A null in desired
// matches anything, and a field live lacks matches an empty or zero desired
// value, since the API server drops those from what it returns.
func Contains(live, desired any) bool {
	switch d := desired.(type) {
	case nil:
		return true
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live == nil && isEmpty(d)
		}
		for k, dv := range d {
			lv, found := l[k]
			if !found {
				if !isEmpty(dv) {
					return false
				}
				continue
			}
			if !Contains(lv, dv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return live == nil && len(d) == 0
		}
		if len(l) != len(d) {
			return false
		}
		for i := range d {
			if !Contains(l[i], d[i]) {
				return false
			}
		}
		return true
	case string:
		switch l := live.(type) {
		case string:
			return l == d || quantitiesEqual(l, d)
		case nil:
			return d == ""
		default:
			if s, ok := numberString(l); ok {
				return quantitiesEqual(s, d)
			}
		}
		return false
	case bool:
		l, ok := live.(bool)
		return ok && l == d || live == nil && !d
	default:
		if live == nil {
			return isEmpty(d)
		}
		if s, ok := live.(string); ok {
			if ds, ok := numberString(d); ok {
				return quantitiesEqual(s, ds)
			}
			return false
		}
		return numbersEqual(live, d)
	}
}

// isEmpty: null, "", false, 0, and maps and lists of nothing but those.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case map[string]any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	default:
		f, ok := toFloat(x)
		return ok && f == 0
	}
}

func numbersEqual(a, b any) bool {
	if ai, ok := jsonint.Int64(a); ok {
		if bi, ok := jsonint.Int64(b); ok {
			return ai == bi
		}
	}
	af, aok := toFloat(a)
	bf, bok := toFloat(b)
	return aok && bok && af == bf
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func numberString(v any) (string, bool) {
	if i, ok := jsonint.Int64(v); ok {
		return strconv.FormatInt(i, 10), true
	}
	if f, ok := toFloat(v); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// quantitiesEqual compares two strings as resource quantities; strings that
// are not quantities are not equal.
func quantitiesEqual(a, b string) bool {
	qa, err := resource.ParseQuantity(a)
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(b)
	if err != nil {
		return false
	}
	return qa.Cmp(qb) == 0
}
