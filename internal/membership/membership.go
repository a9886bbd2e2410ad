// Package membership registers member clusters: the ServiceAccount, RBAC
// and token a push-mode member gives the manager (what `kubectl argosy
// join` creates in the member), and the Cluster with its credentials
// Secret on the host (shared by join and the local installer).
package membership

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/kubeconfig"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

const (
	// SystemNamespace is where the host keeps member credentials (the
	// manager's namespace), and where join puts the ServiceAccount in a
	// member.
	SystemNamespace = "argosy-system"
	// LabelJoinedAs marks the member-side objects of a join with the name
	// of the Cluster they were created for, so that joining one apiserver
	// under two names keeps two sets apart.
	LabelJoinedAs  = "cluster.argosy.dev/joined-as"
	labelManagedBy = "app.kubernetes.io/managed-by"
)

// ValidateName checks a Cluster name: a DNS-1123 label (it becomes part of
// the namespace argosy-es-<name>) of at most MaxClusterNameLength.
func ValidateName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("cluster name %q: %s", name, errs[0])
	}
	if len(name) > clusterv1alpha1.MaxClusterNameLength {
		return fmt.Errorf("cluster name %q: at most %d characters", name, clusterv1alpha1.MaxClusterNameLength)
	}
	return nil
}

// MemberNames are the names of the member-side objects of a join as name.
type MemberNames struct {
	Namespace      string
	ServiceAccount string
	// Secret is the long-lived token Secret of the ServiceAccount.
	Secret string
	// ClusterRole and its ClusterRoleBinding share this name.
	ClusterRole string
}

// NamesFor returns the member-side object names of the Cluster name.
func NamesFor(name string) MemberNames {
	return MemberNames{
		Namespace:      SystemNamespace,
		ServiceAccount: "argosy-" + name,
		Secret:         "argosy-" + name + "-token",
		ClusterRole:    "argosy:member:" + name,
	}
}

// MemberRules are the permissions the manager gets in a member. They are
// cluster-admin's, as karmadactl join gives its ServiceAccount: the
// manager server-side applies and deletes objects of any kind a template
// wraps (CRDs, namespaces, RBAC objects — and RBAC only lets it create a
// Role or binding that grants what it holds itself), watches any kind for
// status, reads nodes and pods for capacity, and uses discovery and the
// health endpoints. A narrower role would turn into apply failures for
// whichever kind it left out. Whoever needs less can edit the ClusterRole
// after joining (a later join restores these rules).
func MemberRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
	}
}

// MemberObjects are the objects join applies in a member, in order: the
// namespace, the ServiceAccount, the ClusterRole and its binding, and the
// long-lived token Secret that the member's token controller fills.
func MemberObjects(name string) []client.Object {
	n := NamesFor(name)
	labels := map[string]string{LabelJoinedAs: name, labelManagedBy: FieldOwner}
	meta := func(ns, obj string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: obj, Labels: labels}
	}
	return []client.Object{
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: n.Namespace}},
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(n.Namespace, n.ServiceAccount)},
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
			ObjectMeta: meta("", n.ClusterRole),
			Rules:      MemberRules(),
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
			ObjectMeta: meta("", n.ClusterRole),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: n.ClusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: n.Namespace, Name: n.ServiceAccount}},
		},
		&corev1.Secret{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{
				Namespace: n.Namespace, Name: n.Secret, Labels: labels,
				Annotations: map[string]string{corev1.ServiceAccountNameKey: n.ServiceAccount},
			},
			Type: corev1.SecretTypeServiceAccountToken,
		},
	}
}

// FieldOwner is the server-side apply field manager of join's writes.
const FieldOwner = "kubectl-argosy"

// PrepareMember applies MemberObjects(name) in the member (re-running
// updates them) and waits up to timeout until the member's token
// controller has filled the token Secret; it returns the token and the
// CA the controller put next to it.
func PrepareMember(ctx context.Context, member client.Client, name string, timeout time.Duration) (token, ca []byte, err error) {
	for _, obj := range MemberObjects(name) {
		if err := apply(ctx, member, obj, FieldOwner); err != nil {
			return nil, nil, fmt.Errorf("in the member: %w", err)
		}
	}
	n := NamesFor(name)
	key := client.ObjectKey{Namespace: n.Namespace, Name: n.Secret}
	var sec corev1.Secret
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := member.Get(ctx, key, &sec); err != nil {
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
		return len(sec.Data[corev1.ServiceAccountTokenKey]) > 0, nil
	})
	if err != nil {
		if ctx.Err() == nil && wait.Interrupted(err) {
			return nil, nil, fmt.Errorf("in the member: the token controller did not fill Secret %s within %s (is kube-controller-manager running there with --service-account-private-key-file?)", key, timeout)
		}
		return nil, nil, fmt.Errorf("in the member: reading Secret %s: %w", key, err)
	}
	return sec.Data[corev1.ServiceAccountTokenKey], sec.Data[corev1.ServiceAccountRootCAKey], nil
}

// CleanupMember deletes MemberObjects(name) from the member, except the
// namespace (it is shared: other joins, or the host's own argosy-system
// when the host is also a member). It returns what it deleted as
// "kind/name"; missing objects are skipped.
func CleanupMember(ctx context.Context, member client.Client, name string) ([]string, error) {
	objs := MemberObjects(name)[1:]
	var deleted []string
	// Token first, so that the credentials stop working at once.
	for i := len(objs) - 1; i >= 0; i-- {
		obj := objs[i]
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		err := member.Delete(ctx, obj)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return deleted, fmt.Errorf("in the member: deleting %s %s: %w", kind, client.ObjectKeyFromObject(obj), err)
		default:
			deleted = append(deleted, fmt.Sprintf("%s/%s", strings.ToLower(kind), obj.GetName()))
		}
	}
	return deleted, nil
}

// Registration is a Cluster and its credentials on the host.
type Registration struct {
	// Name of the Cluster.
	Name string
	// Namespace of the credentials Secret (SystemNamespace when empty).
	Namespace string
	// Kubeconfig is a standalone kubeconfig (no files, no plugins) the
	// manager uses to reach the member; stored under key "value" of the
	// Secret <name>-kubeconfig, as Cluster API writes it.
	Kubeconfig []byte
	// APIEndpoint, ProxyURL, Provider, Region, Zone go to the Cluster's
	// spec.
	APIEndpoint, ProxyURL  string
	Provider, Region, Zone string
	InsecureSkipTLSVerify  bool
	// FieldOwner is the server-side apply field manager of the writes.
	FieldOwner string
}

// SecretName is the credentials Secret of a Cluster.
func SecretName(cluster string) string { return cluster + "-kubeconfig" }

// Register applies the Cluster (push mode) and then its credentials
// Secret, owned by the Cluster so that deleting the Cluster deletes the
// credentials. Re-registering updates both; fields of the Cluster that
// other writers own (taints, cordon) are kept.
func Register(ctx context.Context, host client.Client, r Registration) (*clusterv1alpha1.Cluster, error) {
	ns := r.Namespace
	if ns == "" {
		ns = SystemNamespace
	}
	cl := &clusterv1alpha1.Cluster{
		TypeMeta:   metav1.TypeMeta{APIVersion: clusterv1alpha1.GroupVersion.String(), Kind: clusterv1alpha1.ResourceKindCluster},
		ObjectMeta: metav1.ObjectMeta{Name: r.Name},
		Spec: clusterv1alpha1.ClusterSpec{
			SyncMode:    clusterv1alpha1.Push,
			APIEndpoint: r.APIEndpoint,
			SecretRef:   &clusterv1alpha1.LocalSecretReference{Namespace: ns, Name: SecretName(r.Name)},
			ProxyURL:    r.ProxyURL,
			Provider:    r.Provider,
			Region:      r.Region,
			Zone:        r.Zone,
		},
	}
	if err := apply(ctx, host, cl, r.FieldOwner); err != nil {
		return nil, fmt.Errorf("registering cluster %s: %w", r.Name, err)
	}
	if err := host.Get(ctx, client.ObjectKey{Name: r.Name}, cl); err != nil {
		return nil, fmt.Errorf("registering cluster %s: %w", r.Name, err)
	}
	owner := metav1.OwnerReference{
		APIVersion: clusterv1alpha1.GroupVersion.String(), Kind: clusterv1alpha1.ResourceKindCluster,
		Name: cl.Name, UID: cl.UID, BlockOwnerDeletion: ptr.To(true),
	}
	secret := kubeconfig.GenerateSecretWithOwner(client.ObjectKey{Namespace: ns, Name: r.Name}, r.Kubeconfig, owner)
	secret.APIVersion, secret.Kind = "v1", "Secret"
	if err := apply(ctx, host, secret, r.FieldOwner); err != nil {
		return nil, fmt.Errorf("writing the credentials of cluster %s: %w", r.Name, err)
	}
	return cl, nil
}

// Unregister deletes the Cluster and its credentials Secret from the
// host; it returns what it deleted as "kind/name" and reports nothing
// when neither exists.
func Unregister(ctx context.Context, host client.Client, name, namespace string) ([]string, error) {
	if namespace == "" {
		namespace = SystemNamespace
	}
	var deleted []string
	secret := client.ObjectKey{Namespace: namespace, Name: SecretName(name)}
	var cl clusterv1alpha1.Cluster
	switch err := host.Get(ctx, client.ObjectKey{Name: name}, &cl); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("reading cluster %s: %w", name, err)
	default:
		if ref := cl.Spec.SecretRef; ref != nil && ref.Name != "" {
			secret = client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
		}
		if err := host.Delete(ctx, &cl); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("deleting cluster %s: %w", name, err)
		}
		deleted = append(deleted, "cluster/"+name)
	}
	err := host.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: secret.Namespace, Name: secret.Name}})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return deleted, fmt.Errorf("deleting the credentials Secret %s of cluster %s: %w", secret, name, err)
	default:
		deleted = append(deleted, "secret/"+secret.String())
	}
	return deleted, nil
}

// apply server-side applies a typed object (TypeMeta set) with
// ownership forced: these objects belong to whoever registers the member.
func apply(ctx context.Context, c client.Client, obj client.Object, owner string) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return errors.New("applying an object without apiVersion and kind")
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(owner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", u.GetKind(), client.ObjectKeyFromObject(u), err)
	}
	return nil
}
