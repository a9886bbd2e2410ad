package resourcetemplate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// DefaultDryRunTimeout bounds the server-side dry run of a wrapped object,
// well within the webhook's own timeout (10 s), so that a slow apiserver
// degrades the check to a warning instead of failing the request.
const DefaultDryRunTimeout = 3 * time.Second

var templatePath = field.NewPath("spec", "template")

// checkSchema validates the wrapped object against its kind's schema.
//
// Namespaced kinds the host serves: a server-side dry-run create through
// the manager's client, in the template namespace with the object's
// namespace rewritten (as Clusternet does), so that the result depends
// neither on which namespaces the host happens to have nor on their
// policies. Only the apiserver's own validation errors (422 Invalid) reject
// the template, with their fields moved under spec.template; anything else
// (Forbidden from quota, Pod Security or RBAC, another admission webhook,
// a timeout) says nothing about the object's validity in a member and only
// adds a warning: the template is admitted.
//
// Cluster-scoped kinds and kinds the host does not serve: the shape only
// (apiVersion, kind, well-formed metadata, a name the kind accepts).
// Creating cluster-scoped objects, even in a dry run, would need
// cluster-wide create rights on every kind.
func (w *Webhook) checkSchema(ctx context.Context, obj *unstructured.Unstructured) (field.ErrorList, []string) {
	gvk := obj.GroupVersionKind()
	if _, err := schema.ParseGroupVersion(obj.GetAPIVersion()); err != nil || gvk.Version == "" {
		return field.ErrorList{field.Invalid(templatePath.Child("apiVersion"), obj.GetAPIVersion(), "must be <version> or <group>/<version>, for example v1 or apps/v1")}, nil
	}
	m, err := w.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case meta.IsNoMatchError(err):
		// Custom resources, which most kinds the host lacks are, need a
		// DNS subdomain name.
		return shape(obj, apivalidation.NameIsDNSSubdomain), nil
	case err != nil:
		return nil, []string{fmt.Sprintf("spec.template was not checked against the schema of %s: %v", gvk.GroupKind(), err)}
	case m.Scope.Name() != meta.RESTScopeNameNamespace:
		return shape(obj, path.ValidatePathSegmentName), nil
	}
	if errs := shape(obj, path.ValidatePathSegmentName); len(errs) > 0 || w.DryRun == nil {
		return errs, nil
	}
	return w.dryRun(ctx, obj)
}

// shape checks what every Kubernetes object needs: metadata that decodes
// as ObjectMeta and a name, namespace, labels and annotations the API
// accepts.
func shape(obj *unstructured.Unstructured, name apivalidation.ValidateNameFunc) field.ErrorList {
	mp := templatePath.Child("metadata")
	raw, ok := obj.Object["metadata"].(map[string]any)
	if !ok {
		return field.ErrorList{field.Invalid(mp, obj.Object["metadata"], "must be an object")}
	}
	var om metav1.ObjectMeta
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &om); err != nil {
		return field.ErrorList{field.Invalid(mp, "", fmt.Sprintf("is not well-formed object metadata: %v", err))}
	}
	// Fields a server sets are ignored, as on create.
	om.ResourceVersion, om.UID, om.CreationTimestamp, om.Generation, om.ManagedFields = "", "", metav1.Time{}, 0, nil
	return apivalidation.ValidateObjectMeta(&om, om.Namespace != "", name, mp)
}

// dryRun creates a copy of obj in the template namespace with dryRun=All.
func (w *Webhook) dryRun(ctx context.Context, obj *unstructured.Unstructured) (field.ErrorList, []string) {
	probe := dryRunCopy(obj, w.TemplateNamespace)
	timeout := w.DryRunTimeout
	if timeout <= 0 {
		timeout = DefaultDryRunTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := w.DryRun.Create(ctx, probe, client.DryRunAll)
	if apierrors.IsAlreadyExists(err) {
		// Something of that name already lives in the template namespace
		// (a ServiceAccount "default", a ConfigMap "kube-root-ca.crt"): try
		// under a generated name, which is validated by the same rules.
		probe = dryRunCopy(obj, w.TemplateNamespace)
		probe.SetGenerateName(probe.GetName())
		probe.SetName("")
		err = w.DryRun.Create(ctx, probe, client.DryRunAll)
	}
	if err == nil {
		return nil, nil
	}
	if errs := fieldErrors(err); len(errs) > 0 {
		return errs, nil
	}
	gk := obj.GroupVersionKind().GroupKind()
	logf.FromContext(ctx).V(1).Info("dry run of the wrapped object failed; admitting the template", "kind", gk, "name", obj.GetName(), "error", err.Error())
	if apierrors.IsForbidden(err) {
		// RBAC (the manager needs create on the kind in the template
		// namespace), quota, Pod Security or another webhook: the host's
		// rules, not the object's validity in a member.
		return nil, []string{fmt.Sprintf("spec.template was not validated against the host's schema of %s: the dry run in namespace %q was forbidden: %v", gk, w.TemplateNamespace, err)}
	}
	return nil, []string{fmt.Sprintf("spec.template was not validated against the host's schema of %s: %v", gk, err)}
}

// dryRunCopy returns obj moved to namespace, without what a server sets and
// without values a cluster allocates itself (a Service's cluster IPs and
// node ports), which belong to the members' ranges, not to the host's.
func dryRunCopy(obj *unstructured.Unstructured, namespace string) *unstructured.Unstructured {
	c := obj.DeepCopy()
	c.SetNamespace(namespace)
	c.SetResourceVersion("")
	c.SetUID("")
	c.SetCreationTimestamp(metav1.Time{})
	c.SetManagedFields(nil)
	c.SetGeneration(0)
	c.SetDeletionTimestamp(nil)
	delete(c.Object, "status")
	if c.GroupVersionKind().GroupKind() == (schema.GroupKind{Kind: "Service"}) {
		if ip, _, _ := unstructured.NestedString(c.Object, "spec", "clusterIP"); ip != "None" {
			unstructured.RemoveNestedField(c.Object, "spec", "clusterIP")
			unstructured.RemoveNestedField(c.Object, "spec", "clusterIPs")
		}
		unstructured.RemoveNestedField(c.Object, "spec", "healthCheckNodePort")
		if ports, ok, _ := unstructured.NestedSlice(c.Object, "spec", "ports"); ok {
			for _, p := range ports {
				if pm, ok := p.(map[string]any); ok {
					delete(pm, "nodePort")
				}
			}
			_ = unstructured.SetNestedSlice(c.Object, ports, "spec", "ports")
		}
	}
	return c
}

// fieldErrors turns the apiserver's own 422 Invalid into field errors under
// spec.template; nil for any other error, including a 422 that another
// admission plugin or webhook returned, since those judge the host's
// policies, not the object.
func fieldErrors(err error) field.ErrorList {
	var se *apierrors.StatusError
	if !errors.As(err, &se) || !apierrors.IsInvalid(err) {
		return nil
	}
	st := se.Status()
	if strings.Contains(st.Message, "admission webhook") || strings.Contains(st.Message, "ValidatingAdmissionPolicy") {
		return nil
	}
	var errs field.ErrorList
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			p := templatePath
			if c.Field != "" {
				p = field.NewPath("spec", "template."+c.Field)
			}
			errs = append(errs, &field.Error{Type: field.ErrorType(c.Type), Field: p.String(), BadValue: field.OmitValueType{}, Detail: causeDetail(c)})
		}
	}
	if len(errs) == 0 {
		errs = append(errs, field.Invalid(templatePath, "", st.Message))
	}
	return errs
}

// causeDetail strips the type ("Invalid value") the apiserver puts before
// the rest of a cause's message, since field.Error prints it again; the bad
// value and the detail stay as the apiserver wrote them.
func causeDetail(c metav1.StatusCause) string {
	t := field.ErrorType(c.Type).String()
	return strings.TrimPrefix(strings.TrimPrefix(c.Message, t), ": ")
}

// templateChanged tells whether an update changes the wrapped object; the
// schema check is skipped otherwise, so that metadata and finalizer writes
// by the controllers never depend on a dry run.
func templateChanged(old, rt *workv1alpha1.ResourceTemplate) bool {
	if old == nil {
		return true
	}
	a, errA := wrapped(old)
	b, errB := wrapped(rt)
	if errA != nil || errB != nil {
		return true
	}
	return !equality.Semantic.DeepEqual(a.Object, b.Object)
}
