// Package promote is `promote KIND NAME -C CLUSTER`: take over an object
// that already runs in a member (Karmada's migration, seed 002): wrap it
// into a ResourceTemplate and place it on that cluster with a policy whose
// conflictResolution is Overwrite.
package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/cli/cmdutil"
	"argosy.dev/argosy/internal/cli/join"
	"argosy.dev/argosy/internal/cli/wrap"
	"argosy.dev/argosy/internal/membership"
)

type options struct {
	cluster string
	member  join.MemberFlags
	dryRun  bool
	force   bool
}

// NewCommand is `promote KIND NAME -C CLUSTER`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "promote KIND NAME -C CLUSTER",
		Short: "Take over an object that already runs in a member cluster",
		Long: `Take over an object that already runs in a member cluster, as Karmada's
migration guide does by hand: read it from the member, drop what the member
set (status, uid, resourceVersion, managedFields, a Service's clusterIP, a
Job's generated selector, ...), wrap it into a ResourceTemplate on the host,
and apply a policy of the same name that places it on that cluster with
conflictResolution Overwrite, so that Argosy adopts the existing object
instead of refusing it. A namespaced object gets a PropagationPolicy in its
namespace (created on the host when missing), a cluster-scoped one a
ClusterPropagationPolicy.

The member is read with the credentials the host stores for the Cluster,
or with --cluster-kubeconfig.`,
		Example: `  # Adopt the Deployment nginx-deploy of namespace default that runs in member1
  %[1]s promote deployment nginx-deploy -n default -C member1

  # Show what would be applied
  %[1]s promote service nginx-svc -C member1 --dry-run`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.cluster == "" {
				return fmt.Errorf("-C CLUSTER is required: the member the object runs in")
			}
			return o.run(cmd.Context(), f, args[0], args[1])
		},
	}
	// --cluster (the kubeconfig's cluster) of the root is shadowed here, as
	// karmadactl promote names the member -C/--cluster.
	cmd.Flags().StringVarP(&o.cluster, "cluster", "C", "", "The member cluster the object runs in (required)")
	o.member.Add(cmd, "Kubeconfig file of the member (default: the credentials the host stores for the Cluster)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "Print the template and policy instead of applying them")
	cmd.Flags().BoolVar(&o.force, "force-conflicts", false, "Take over fields of an existing template or policy that another field manager owns")
	return cmd
}

func (o *options) run(ctx context.Context, f *cmdutil.Factory, kindArg, name string) error {
	host, err := f.Client()
	if err != nil {
		return err
	}
	var cl clusterv1alpha1.Cluster
	if err := host.Get(ctx, client.ObjectKey{Name: o.cluster}, &cl); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("cluster %q not found on the host: join it first", o.cluster)
		}
		return err
	}
	var cfg *rest.Config
	if o.member.Kubeconfig != "" {
		t, err := membership.LoadKubeconfig(o.member.Kubeconfig, o.member.Context)
		if err != nil {
			return err
		}
		if cfg, err = t.RESTConfig(); err != nil {
			return err
		}
	} else if cfg, err = membership.StoredConfig(ctx, host, o.cluster); err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("connecting to cluster %s: %w", o.cluster, err)
	}
	mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), dc, nil)
	mapping, err := cmdutil.Mapping(mapper, kindArg)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", o.cluster, err)
	}
	member, err := client.New(cfg, client.Options{Scheme: f.Scheme, Mapper: mapper})
	if err != nil {
		return fmt.Errorf("connecting to cluster %s: %w", o.cluster, err)
	}
	namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
	ns := ""
	if namespaced {
		if ns, _, err = f.Namespace(); err != nil {
			return err
		}
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(mapping.GroupVersionKind)
	if err := member.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %s not found in cluster %s", strings.ToLower(mapping.GroupVersionKind.Kind), qualified(ns, name), o.cluster)
		}
		return fmt.Errorf("reading %s %s from cluster %s: %w", strings.ToLower(mapping.GroupVersionKind.Kind), qualified(ns, name), o.cluster, err)
	}
	if obj.GetLabels()[workv1alpha1.LabelManaged] == "true" {
		return fmt.Errorf("%s %s in cluster %s is already managed by Argosy (Work %s)", strings.ToLower(mapping.GroupVersionKind.Kind), qualified(ns, name), o.cluster, obj.GetAnnotations()[workv1alpha1.AnnotationWork])
	}
	objs, err := Objects(obj, o.cluster, f.TemplateNamespace, func(schema.GroupKind) (bool, bool, error) { return namespaced, true, nil })
	if err != nil {
		return err
	}
	if o.dryRun {
		return wrap.Encode(f.Streams.Out, objs)
	}
	if namespaced {
		if err := ensureNamespace(ctx, f, host, ns); err != nil {
			return err
		}
	}
	opts := []client.ApplyOption{client.FieldOwner(cmdutil.FieldManager)}
	if o.force {
		opts = append(opts, client.ForceOwnership)
	}
	p := &printers.NamePrinter{Operation: "serverside-applied"}
	for _, u := range objs {
		if err := host.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
			return fmt.Errorf("applying %s %s: %w", u.GetKind(), qualified(u.GetNamespace(), u.GetName()), err)
		}
		if err := p.PrintObj(u, f.Streams.Out); err != nil {
			return err
		}
	}
	return nil
}

// ensureNamespace creates the host namespace the PropagationPolicy lives
// in when the object's namespace exists only in the member.
func ensureNamespace(ctx context.Context, f *cmdutil.Factory, host client.Client, ns string) error {
	err := host.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	switch {
	case err == nil:
		fmt.Fprintf(f.Streams.Out, "namespace/%s created\n", ns)
	case apierrors.IsAlreadyExists(err):
	default:
		return fmt.Errorf("creating namespace %s on the host for the PropagationPolicy: %w", ns, err)
	}
	return nil
}

// Objects are what promote applies, in order: the policy first (so that
// no broader policy claims the template before it), then the template.
// obj is the member's object as read.
func Objects(obj *unstructured.Unstructured, cluster, templateNamespace string, scope wrap.ScopeFunc) ([]*unstructured.Unstructured, error) {
	clean := obj.DeepCopy()
	StripMemberFields(clean)
	out, err := wrap.Wrap([]*unstructured.Unstructured{clean}, wrap.Options{
		TemplateNamespace: templateNamespace, DefaultNamespace: clean.GetNamespace(), Scope: scope,
	})
	if err != nil {
		return nil, err
	}
	rt := out[0]
	return []*unstructured.Unstructured{Policy(rt.GetName(), clean, cluster), rt}, nil
}

// Policy places one object on one cluster and adopts what is there:
// conflictResolution Overwrite. A namespaced object gets a
// PropagationPolicy in its namespace, a cluster-scoped one a
// ClusterPropagationPolicy; both are named like the template.
func Policy(name string, obj *unstructured.Unstructured, cluster string) *unstructured.Unstructured {
	p := wrap.AllClustersPolicy(name, obj)
	spec := p.Object["spec"].(map[string]any)
	spec["conflictResolution"] = string(policyv1alpha1.ConflictOverwrite)
	spec["placement"] = map[string]any{"clusterAffinity": map[string]any{"clusterNames": []any{cluster}}}
	if obj.GetNamespace() != "" {
		p.SetKind("PropagationPolicy")
		p.SetNamespace(obj.GetNamespace())
	}
	return p
}

// StripMemberFields drops what a member cluster set on an object beyond
// what wrap drops (status, uid, resourceVersion, managedFields, ...):
// values that belong to that one cluster and would be wrong, or refused,
// in another: a Service's allocated cluster IPs, a Job's generated
// selector and controller-uid labels, a PersistentVolumeClaim's bound
// volume, a ServiceAccount's token Secrets, and the annotations
// controllers keep.
func StripMemberFields(u *unstructured.Unstructured) {
	gk := u.GroupVersionKind().GroupKind()
	switch gk {
	case schema.GroupKind{Kind: "Service"}:
		if ip, _, _ := unstructured.NestedString(u.Object, "spec", "clusterIP"); ip != corev1.ClusterIPNone {
			unstructured.RemoveNestedField(u.Object, "spec", "clusterIP")
			unstructured.RemoveNestedField(u.Object, "spec", "clusterIPs")
		}
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		if manual, _, _ := unstructured.NestedBool(u.Object, "spec", "manualSelector"); !manual {
			unstructured.RemoveNestedField(u.Object, "spec", "selector")
			for _, l := range []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"} {
				unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "labels", l)
			}
		}
	case schema.GroupKind{Kind: "PersistentVolumeClaim"}:
		unstructured.RemoveNestedField(u.Object, "spec", "volumeName")
	case schema.GroupKind{Kind: "ServiceAccount"}:
		unstructured.RemoveNestedField(u.Object, "secrets")
	}
	if ann := u.GetAnnotations(); len(ann) > 0 {
		for k := range ann {
			if k == "deployment.kubernetes.io/revision" || strings.HasPrefix(k, "pv.kubernetes.io/") ||
				strings.HasPrefix(k, "volume.kubernetes.io/") || k == "volume.beta.kubernetes.io/storage-provisioner" {
				delete(ann, k)
			}
		}
		if len(ann) == 0 {
			unstructured.RemoveNestedField(u.Object, "metadata", "annotations")
		} else {
			u.SetAnnotations(ann)
		}
	}
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
