package execution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/aggregate"
	"argosy.dev/argosy/internal/apply"
	"argosy.dev/argosy/internal/member"
)

// mode says what a pass may do to the member.
type mode int

const (
	// modeApply applies the manifests.
	modeApply mode = iota
	// modeObserve only collects status (suspended dispatching, or manifests
	// that could not be rendered).
	modeObserve
)

// problem is why one manifest is not applied.
type problem struct {
	reason  string
	message string
	// unknownKind: the member does not serve the manifest's kind (yet).
	unknownKind bool
}

// pass is what one pass over a Work found.
type pass struct {
	work     *workv1alpha1.Work
	key      string
	cluster  string
	m        *member.Member
	statuses []workv1alpha1.ManifestStatus
	problems []problem
	// identified: every manifest was decoded and mapped, so the objects
	// that left the Work can be told apart from those still in it.
	identified bool
}

func (p *pass) fail(reason, format string, args ...any) {
	p.problems = append(p.problems, problem{reason: reason, message: fmt.Sprintf(format, args...)})
}

// sync applies (or only observes) every manifest, deletes what left the
// Work, and writes the status.
func (r *Reconciler) sync(ctx context.Context, req reconcile.Request, work *workv1alpha1.Work, m *member.Member) (reconcile.Result, error) {
	md := modeApply
	var applied *metav1.Condition
	switch {
	case work.Annotations[workv1alpha1.AnnotationRenderError] != "":
		md = modeObserve
		c := appliedFalse(workv1alpha1.WorkReasonOverrideFailed, work.Annotations[workv1alpha1.AnnotationRenderError])
		applied = &c
	case work.Spec.SuspendDispatching != nil && *work.Spec.SuspendDispatching:
		md = modeObserve
		c := appliedFalse(workv1alpha1.WorkReasonDispatchingSuspended,
			fmt.Sprintf("Dispatching to cluster %s is suspended (spec.suspendDispatching); the objects already there are left as they are", m.Name))
		applied = &c
	}

	p := &pass{work: work, key: workKey(work), cluster: m.Name, m: m, identified: true}
	for i := range work.Spec.Workload.Manifests {
		r.manifest(ctx, p, i, md)
	}
	if md == modeApply && p.identified {
		r.removeLeftovers(ctx, p)
	}

	if applied == nil {
		c := appliedCondition(p)
		applied = &c
	}
	later, err := r.writeStatus(ctx, work, *applied, p.statuses, false)
	if err != nil {
		return reconcile.Result{}, err
	}
	if len(p.problems) == 0 {
		r.retries.Forget(req)
		return reconcile.Result{RequeueAfter: later}, nil
	}
	for _, pr := range p.problems {
		if pr.unknownKind {
			r.waiting.add(p.cluster, req.NamespacedName)
			break
		}
	}
	if md == modeObserve {
		// Nothing to retry: a change of the Work or of its objects brings it back.
		return reconcile.Result{RequeueAfter: later}, nil
	}
	res := r.backoff(req)
	if later > 0 && later < res.RequeueAfter {
		res.RequeueAfter = later
	}
	return res, nil
}

// appliedCondition sums up a pass in apply mode.
func appliedCondition(p *pass) metav1.Condition {
	if len(p.problems) == 0 {
		return metav1.Condition{
			Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.WorkReasonAppliedSuccessful,
			Message: fmt.Sprintf("All %d manifests applied to cluster %s", len(p.work.Spec.Workload.Manifests), p.cluster),
		}
	}
	msgs := make([]string, len(p.problems))
	for i, pr := range p.problems {
		msgs[i] = pr.message
	}
	return appliedFalse(p.problems[0].reason, limit(strings.Join(msgs, "; ")))
}

// maxMessage bounds a condition message built from several problems.
const maxMessage = 4096

func limit(s string) string {
	if len(s) > maxMessage {
		return s[:maxMessage] + "..."
	}
	return s
}

func appliedFalse(reason, message string) metav1.Condition {
	return metav1.Condition{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionFalse, Reason: reason, Message: message}
}

// manifest applies (or observes) manifest i and records its status.
func (r *Reconciler) manifest(ctx context.Context, p *pass, i int, md mode) {
	st := workv1alpha1.ManifestStatus{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: int32(i)}, Health: workv1alpha1.ResourceUnknown}
	defer func() { p.statuses = append(p.statuses, st) }()

	u, err := decodeManifest(p.work.Spec.Workload.Manifests[i].Raw)
	if err != nil {
		p.identified = false
		p.fail(workv1alpha1.WorkReasonAppliedFailed, "manifest %d of Work %s is not an object: %v", i, p.key, err)
		return
	}
	gvk := u.GroupVersionKind()
	mapping, err := p.m.RESTMapping(gvk)
	if err != nil {
		p.identified = false
		if meta.IsNoMatchError(err) {
			p.problems = append(p.problems, problem{
				reason:      workv1alpha1.WorkReasonAppliedFailed,
				unknownKind: true,
				message: fmt.Sprintf("cluster %s does not serve kind %s of %s (manifest %d, %s): its CustomResourceDefinition or API is not installed there; retrying",
					p.cluster, gvk.Kind, gvk.GroupVersion(), i, u.GetName()),
			})
			return
		}
		p.fail(workv1alpha1.WorkReasonAppliedFailed, "reading the API discovery of cluster %s for %s: %v", p.cluster, gvk, err)
		return
	}
	namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
	desired := apply.Prepare(u, namespaced, p.key)
	st.Identifier = identifier(i, gvk, mapping.Resource.Resource, desired.GetNamespace(), desired.GetName())
	obj := describe(gvk.Kind, desired.GetNamespace(), desired.GetName())
	if desired.GetName() == "" {
		p.fail(workv1alpha1.WorkReasonAppliedFailed, "manifest %d (%s) of Work %s has no metadata.name", i, gvk.Kind, p.key)
		return
	}

	inf, err := p.m.ManagedInformer(mapping.Resource)
	if err != nil {
		p.fail(workv1alpha1.WorkReasonClusterUnreachable, "watching %s in cluster %s: %v", mapping.Resource.Resource, p.cluster, err)
		return
	}
	syncCtx, cancel := context.WithTimeout(ctx, r.SyncTimeout)
	synced := p.m.ManagedSynced(syncCtx, inf)
	cancel()
	var live *unstructured.Unstructured
	if synced {
		live = member.GetManaged(inf, desired.GetNamespace(), desired.GetName())
	}
	ours := live != nil && live.GetAnnotations()[workv1alpha1.AnnotationWork] == p.key

	if md == modeObserve {
		if ours {
			setObserved(&st, gvk, live)
		}
		return
	}

	res := p.m.Dynamic.Resource(mapping.Resource)
	var ri dynamic.ResourceInterface = res
	if namespaced {
		ri = res.Namespace(desired.GetNamespace())
	}
	if !ours {
		got, err := ri.Get(ctx, desired.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			p.failRequest(err, "reading "+obj)
			return
		default:
			live = got
			if owner, blocked := r.blocked(ctx, p, live); blocked {
				p.problems = append(p.problems, problem{reason: workv1alpha1.WorkReasonConflict, message: conflictMessage(obj, p.cluster, owner)})
				return
			}
		}
	}
	if live != nil {
		apply.Retain(desired, live)
		if live.GetAnnotations()[workv1alpha1.AnnotationWork] == p.key && apply.Contains(live.Object, desired.Object) {
			setObserved(&st, gvk, live)
			return
		}
	} else if namespaced {
		if err := r.ensureNamespace(ctx, p.m, desired.GetNamespace()); err != nil {
			p.failRequest(err, fmt.Sprintf("creating namespace %s for %s", desired.GetNamespace(), obj))
			return
		}
	}

	out, err := ri.Apply(ctx, desired.GetName(), desired, metav1.ApplyOptions{FieldManager: workv1alpha1.FieldManagerExecution, Force: true})
	if err != nil {
		switch {
		case isNamespaceMissing(err, desired.GetNamespace()):
			p.m.ForgetNamespace(desired.GetNamespace())
		case apierrors.IsNotFound(err):
			// An apply creates a missing object: NotFound means the
			// resource went away (its CRD deleted) and discovery is stale.
			p.m.ResetRESTMapper()
			p.problems = append(p.problems, problem{reason: workv1alpha1.WorkReasonAppliedFailed, unknownKind: true,
				message: fmt.Sprintf("applying %s in cluster %s: %s (is its CustomResourceDefinition installed?)", obj, p.cluster, memberMessage(asStatus(err)))})
			return
		}
		p.failRequest(err, "applying "+obj)
		return
	}
	if gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition" {
		p.m.ResetRESTMapper()
	}
	log.FromContext(ctx).V(1).Info("applied", "object", obj, "created", live == nil, "adopted", live != nil && !isManagedBy(live, p.key))
	setObserved(&st, gvk, out)
}

// blocked says whether the existing object (not managed by this Work) must
// be left alone, and which Work holds it ("" for none).
func (r *Reconciler) blocked(ctx context.Context, p *pass, live *unstructured.Unstructured) (string, bool) {
	workExists := func(ns, name string) bool {
		w := &workv1alpha1.Work{}
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, w)
		return err == nil && w.DeletionTimestamp.IsZero()
	}
	overwrite := p.work.Annotations[workv1alpha1.AnnotationConflictResolution] == "Overwrite"
	return ownership(live.GetLabels(), live.GetAnnotations(), p.key, overwrite, workExists)
}

// ownership decides whether the Work key may apply over an existing object
// with these labels and annotations:
//
//   - annotated with this Work: yes (its label may have been removed in the
//     member; it is put back);
//   - labelled as Argosy's and annotated with another Work that exists: no,
//     whatever the conflict resolution (two Works would take it from each
//     other forever); the other Work is returned;
//   - labelled as Argosy's otherwise (a namespace Argosy created, an object
//     whose Work is gone): yes;
//   - not labelled: only with conflict resolution Overwrite.
func ownership(labels, annotations map[string]string, key string, overwrite bool, workExists func(ns, name string) bool) (string, bool) {
	holder := annotations[workv1alpha1.AnnotationWork]
	if holder == key {
		return "", false
	}
	if labels[workv1alpha1.LabelManaged] == "true" {
		if ns, name, ok := strings.Cut(holder, "/"); ok && workExists(ns, name) {
			return holder, true
		}
		return "", false
	}
	return "", !overwrite
}

func isManagedBy(u *unstructured.Unstructured, key string) bool {
	return u.GetLabels()[workv1alpha1.LabelManaged] == "true" && u.GetAnnotations()[workv1alpha1.AnnotationWork] == key
}

func conflictMessage(obj, cluster, owner string) string {
	if owner != "" {
		return fmt.Sprintf("%s in cluster %s is managed by Work %s; it was left untouched (one object cannot be managed by two Works)", obj, cluster, owner)
	}
	return fmt.Sprintf("%s already exists in cluster %s and is not managed by Argosy; it was left untouched. To adopt it, set conflictResolution: Overwrite in the propagation policy", obj, cluster)
}

// failRequest records a failed request to the member: transport failures
// as ClusterUnreachable, answers of the member (invalid object, admission
// denial, forbidden) as AppliedFailed with the member's own message.
func (p *pass) failRequest(err error, what string) {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		p.fail(workv1alpha1.WorkReasonAppliedFailed, "%s in cluster %s: %s", what, p.cluster, memberMessage(status))
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, member.ErrMemberStopped) {
		p.fail(workv1alpha1.WorkReasonClusterUnreachable, "%s in cluster %s: %v", what, p.cluster, err)
		return
	}
	ce := member.Classify(err, p.m.Endpoint, p.m.Secret)
	p.fail(workv1alpha1.WorkReasonClusterUnreachable, "%s in cluster %s: %s", what, p.cluster, ce.Message)
}

func asStatus(err error) apierrors.APIStatus {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{Message: err.Error()}}
}

func memberMessage(s apierrors.APIStatus) string {
	st := s.Status()
	if st.Message != "" {
		return st.Message
	}
	return fmt.Sprintf("%d %s", st.Code, st.Reason)
}

// isNamespaceMissing: the member refused an object because its namespace
// does not exist (deleted since it was remembered).
func isNamespaceMissing(err error, ns string) bool {
	if !apierrors.IsNotFound(err) || ns == "" {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces" && d.Name == ns
}

// ensureNamespace creates namespace ns in the member when it does not
// exist, once per connection.
func (r *Reconciler) ensureNamespace(ctx context.Context, m *member.Member, ns string) error {
	if ns == "" || m.NamespaceKnown(ns) {
		return nil
	}
	_, err := m.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// Labelled as Argosy's, so that a Work of the Namespace itself
		// (propagated later) adopts it rather than conflicting with it.
		_, err = m.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{workv1alpha1.LabelManaged: "true"},
		}}, metav1.CreateOptions{FieldManager: workv1alpha1.FieldManagerExecution})
		if err == nil {
			log.FromContext(ctx).Info("created namespace in member", "namespace", ns)
		}
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	m.RememberNamespace(ns)
	return nil
}

// decodeManifest reads a manifest into an object with apiVersion, kind and
// name.
func decodeManifest(raw []byte) (*unstructured.Unstructured, error) {
	if len(raw) == 0 {
		return nil, errors.New("empty")
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return nil, errors.New("apiVersion and kind are required")
	}
	return u, nil
}

// identifier names manifest i and the object it became.
func identifier(i int, gvk schema.GroupVersionKind, resource, namespace, name string) workv1alpha1.ResourceIdentifier {
	return workv1alpha1.ResourceIdentifier{
		Ordinal: int32(i), Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Resource: resource, Namespace: namespace, Name: name,
	}
}

// describe names an object in messages: "Deployment default/nginx".
func describe(kind, namespace, name string) string {
	if namespace == "" {
		return kind + " " + name
	}
	return kind + " " + namespace + "/" + name
}

// setObserved fills a manifest status from the member's object: its
// .status as it is, and its health.
func setObserved(st *workv1alpha1.ManifestStatus, gvk schema.GroupVersionKind, live *unstructured.Unstructured) {
	status, _ := live.Object["status"].(map[string]any)
	st.Health = aggregate.Health(gvk, status, live.GetGeneration())
	if status == nil {
		return
	}
	raw, err := json.Marshal(status)
	if err != nil {
		return
	}
	st.Status = &runtime.RawExtension{Raw: raw}
}

// objectKey identifies an object across versions of its kind.
type objectKey struct{ group, kind, namespace, name string }

func keyOf(id workv1alpha1.ResourceIdentifier) objectKey {
	return objectKey{group: id.Group, kind: id.Kind, namespace: id.Namespace, name: id.Name}
}

// leftovers returns the objects recorded in previous, but no longer among
// the manifests (current), in the order of previous.
func leftovers(previous, current []workv1alpha1.ManifestStatus) []workv1alpha1.ResourceIdentifier {
	keep := make(map[objectKey]bool, len(current))
	for _, s := range current {
		keep[keyOf(s.Identifier)] = true
	}
	var out []workv1alpha1.ResourceIdentifier
	seen := map[objectKey]bool{}
	for _, s := range previous {
		k := keyOf(s.Identifier)
		if s.Identifier.Name == "" || s.Identifier.Resource == "" || keep[k] || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s.Identifier)
	}
	return out
}

// removeLeftovers deletes from the member the objects that left the Work,
// when they are still this Work's. One that cannot be deleted stays in the
// status, after the manifests' entries (its ordinal past the last manifest),
// so that the next pass tries again.
func (r *Reconciler) removeLeftovers(ctx context.Context, p *pass) {
	for _, id := range leftovers(p.work.Status.ManifestStatuses, p.statuses) {
		if err := r.release(ctx, p.m, id, p.key, false); err != nil {
			p.failRequest(err, "deleting "+describe(id.Kind, id.Namespace, id.Name)+", which left the Work,")
			id.Ordinal = int32(len(p.statuses))
			p.statuses = append(p.statuses, workv1alpha1.ManifestStatus{Identifier: id, Health: workv1alpha1.ResourceUnknown})
		}
	}
}

// release deletes the object id from the member, or with preserve removes
// Argosy's label and annotation from it, when it is managed by the Work
// key; an object that is absent or not this Work's is left alone.
func (r *Reconciler) release(ctx context.Context, m *member.Member, id workv1alpha1.ResourceIdentifier, key string, preserve bool) error {
	gvr := schema.GroupVersionResource{Group: id.Group, Version: id.Version, Resource: id.Resource}
	var ri dynamic.ResourceInterface = m.Dynamic.Resource(gvr)
	if id.Namespace != "" {
		ri = m.Dynamic.Resource(gvr).Namespace(id.Namespace)
	}
	live, err := ri.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !isManagedBy(live, key) || live.GetDeletionTimestamp() != nil {
		return nil
	}
	obj := describe(id.Kind, id.Namespace, id.Name)
	uid := live.GetUID()
	if preserve {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
			"uid":         uid, // a precondition: an object recreated meanwhile is not touched
			"labels":      map[string]any{workv1alpha1.LabelManaged: nil},
			"annotations": map[string]any{workv1alpha1.AnnotationWork: nil},
		}})
		_, err = ri.Patch(ctx, id.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: workv1alpha1.FieldManagerExecution})
		if err == nil {
			log.FromContext(ctx).Info("released object in member (preserveResourcesOnDeletion)", "object", obj)
		}
		return client.IgnoreNotFound(err)
	}
	background := metav1.DeletePropagationBackground
	err = ri.Delete(ctx, id.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &background})
	if err == nil {
		log.FromContext(ctx).Info("deleted object from member", "object", obj)
	}
	return client.IgnoreNotFound(err)
}
