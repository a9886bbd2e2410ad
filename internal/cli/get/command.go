package get

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/cli/cmdutil"
	"argosy.dev/argosy/internal/template"
)

// options of one `get` invocation.
type options struct {
	f             *cmdutil.Factory
	printFlags    *genericclioptions.PrintFlags
	allNamespaces bool
	noHeaders     bool
}

// NewCommand is `get clusters [NAME...]` and `get KIND [NAME...]`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	o := &options{f: f, printFlags: genericclioptions.NewPrintFlags("").WithTypeSetter(f.Scheme)}
	cmd := &cobra.Command{
		Use:   "get clusters|KIND [NAME...]",
		Short: "Show member clusters, or propagated objects per cluster",
		Long: `Show member clusters, or propagated objects with one row per object and cluster.

"get clusters" lists the member Clusters. "get KIND" lists the objects of KIND
that Argosy propagates, one row per member cluster, read from the host only
(the ResourceBindings and Works): no member is contacted. ADOPTION is Y when
the object in that cluster is managed by Argosy, N when it is not applied
(yet), for example because an object Argosy does not manage is in the way and
the policy's conflictResolution is Abort. With -o yaml|json|name the
ResourceBindings the rows are read from are printed.`,
		Example: `  %[1]s get clusters -o wide
  %[1]s get deployment foo -n default
  %[1]s get deploy -A`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isClusters(args[0]) {
				return o.clusters(cmd.Context(), args[1:])
			}
			return o.workloads(cmd.Context(), args[0], args[1:])
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "List the objects of every namespace")
	cmd.Flags().BoolVar(&o.noHeaders, "no-headers", false, "Do not print the column headers")
	o.printFlags.AddFlags(cmd)
	cmd.Flags().Lookup("output").Usage = "Output format: wide, or one of (" + strings.Join(o.printFlags.AllowedFormats(), ", ") + ")."
	return cmd
}

func isClusters(arg string) bool {
	switch strings.ToLower(arg) {
	case "cluster", "clusters", "clu", "cluster.cluster.argosy.dev", "clusters.cluster.argosy.dev":
		return true
	}
	return false
}

func (o *options) clusters(ctx context.Context, names []string) error {
	c, err := o.f.Client()
	if err != nil {
		return err
	}
	var items []clusterv1alpha1.Cluster
	if len(names) == 0 {
		var list clusterv1alpha1.ClusterList
		if err := c.List(ctx, &list); err != nil {
			return fmt.Errorf("listing clusters: %w", err)
		}
		items = list.Items
	} else {
		for _, n := range names {
			var cl clusterv1alpha1.Cluster
			if err := c.Get(ctx, client.ObjectKey{Name: n}, &cl); err != nil {
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("cluster %q not found", n)
				}
				return err
			}
			items = append(items, cl)
		}
	}
	objs := make([]runtime.Object, len(items))
	for i := range items {
		objs[i] = &items[i]
	}
	return o.print(objs, len(names) == 1, func() *metav1.Table { return ClusterTable(items, time.Now()) }, "")
}

func (o *options) workloads(ctx context.Context, kindArg string, names []string) error {
	c, err := o.f.Client()
	if err != nil {
		return err
	}
	m, err := o.f.Mapper()
	if err != nil {
		return err
	}
	ns, _, err := o.f.Namespace()
	if err != nil {
		return err
	}
	if o.allNamespaces {
		ns = ""
	}
	match, gk, namespaced, err := matcher(m, kindArg)
	if err != nil {
		return err
	}
	if !namespaced {
		ns = ""
	}

	var bindings []workv1alpha1.ResourceBinding
	if len(names) > 0 && gk.Kind != "" && !o.allNamespaces {
		// The binding's name is derived from the object's identity: Get
		// instead of List.
		for _, n := range names {
			var b workv1alpha1.ResourceBinding
			key := client.ObjectKey{Namespace: o.f.TemplateNamespace, Name: template.Name(gk.Group, gk.Kind, ns, n)}
			if err := c.Get(ctx, key, &b); err != nil {
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("%s %q not found: no ResourceBinding %s (is it wrapped in a ResourceTemplate and selected by a propagation policy?)", strings.ToLower(gk.Kind), qualified(ns, n), key)
				}
				return err
			}
			bindings = append(bindings, b)
		}
	} else {
		var list workv1alpha1.ResourceBindingList
		if err := c.List(ctx, &list, client.InNamespace(o.f.TemplateNamespace)); err != nil {
			return fmt.Errorf("listing ResourceBindings in %s: %w", o.f.TemplateNamespace, err)
		}
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		for _, b := range list.Items {
			r := b.Spec.Resource
			if !match(r) || (ns != "" && r.Namespace != "" && r.Namespace != ns) || (len(want) > 0 && !want[r.Name]) {
				continue
			}
			bindings = append(bindings, b)
		}
	}

	workTimes, err := o.workTimes(ctx, c, bindings, len(names) > 0)
	if err != nil {
		return err
	}
	placements := make([]Placement, len(bindings))
	objs := make([]runtime.Object, len(bindings))
	for i := range bindings {
		placements[i] = Placement{Binding: &bindings[i], WorkTimes: workTimes[bindings[i].Name]}
		objs[i] = &bindings[i]
	}
	empty := ""
	if ns != "" {
		empty = fmt.Sprintf(" in %s namespace", ns)
	}
	return o.print(objs, len(names) == 1, func() *metav1.Table {
		return WorkloadTable(gk, Rows(placements, time.Now()), o.allNamespaces)
	}, empty)
}

// workTimes returns, per binding name and cluster, when its Work was
// created. Few bindings: one Get per Work; otherwise one metadata-only
// List of every Work.
func (o *options) workTimes(ctx context.Context, c client.Client, bindings []workv1alpha1.ResourceBinding, few bool) (map[string]map[string]metav1.Time, error) {
	out := map[string]map[string]metav1.Time{}
	add := func(binding, cluster string, t metav1.Time) {
		if out[binding] == nil {
			out[binding] = map[string]metav1.Time{}
		}
		out[binding][cluster] = t
	}
	gvk := workv1alpha1.GroupVersion.WithKind("Work")
	if few {
		for _, b := range bindings {
			for _, cl := range clustersOf(&b) {
				w := &metav1.PartialObjectMetadata{}
				w.SetGroupVersionKind(gvk)
				if err := c.Get(ctx, client.ObjectKey{Namespace: ExecutionNamespace(cl), Name: b.Name}, w); err == nil {
					add(b.Name, cl, w.CreationTimestamp)
				} else if !apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("reading Work %s/%s: %w", ExecutionNamespace(cl), b.Name, err)
				}
			}
		}
		return out, nil
	}
	if len(bindings) == 0 {
		return out, nil
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(workv1alpha1.GroupVersion.WithKind("WorkList"))
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing Works: %w", err)
	}
	for _, w := range list.Items {
		if cl, ok := strings.CutPrefix(w.Namespace, executionPrefix); ok {
			add(w.Name, cl, w.CreationTimestamp)
		}
	}
	return out, nil
}

const executionPrefix = "argosy-es-"

// ExecutionNamespace is the namespace of a cluster's Works.
func ExecutionNamespace(cluster string) string { return executionPrefix + cluster }

func clustersOf(b *workv1alpha1.ResourceBinding) []string {
	var out []string
	for _, c := range b.Spec.Clusters {
		out = append(out, c.Name)
	}
	for _, t := range b.Spec.GracefulEvictionTasks {
		out = append(out, t.FromCluster)
	}
	return out
}

// matcher resolves KIND through the host's REST mapper. A kind the host
// does not serve (a custom resource whose CRD is only propagated, not
// installed on the host) is matched by name against the bindings' kinds.
func matcher(m meta.RESTMapper, arg string) (match func(workv1alpha1.ObjectReference) bool, gk schema.GroupKind, namespaced bool, err error) {
	mapping, err := cmdutil.Mapping(m, arg)
	if err == nil {
		gk = mapping.GroupVersionKind.GroupKind()
		return func(r workv1alpha1.ObjectReference) bool {
			return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind).GroupKind() == gk
		}, gk, mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
	}
	if !meta.IsNoMatchError(err) {
		return nil, gk, false, err
	}
	return func(r workv1alpha1.ObjectReference) bool { return KindMatches(arg, r) }, gk, true, nil
}

// KindMatches tells whether arg names the kind of r without the help of
// discovery: the kind or its plural, optionally followed by ".group",
// case-insensitively.
func KindMatches(arg string, r workv1alpha1.ObjectReference) bool {
	gvk := schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
	kind := strings.ToLower(gvk.Kind)
	for _, k := range []string{kind, kind + "s", kind + "es"} {
		if strings.EqualFold(arg, k) || (gvk.Group != "" && strings.EqualFold(arg, k+"."+gvk.Group)) {
			return true
		}
	}
	return false
}

// print writes a table (default and -o wide) or hands the objects to the
// kubectl printers (-o yaml|json|name|jsonpath|go-template).
func (o *options) print(objs []runtime.Object, single bool, table func() *metav1.Table, where string) error {
	out := o.f.Streams.Out
	format := *o.printFlags.OutputFormat
	if format == "" || format == "wide" {
		t := table()
		if len(t.Rows) == 0 {
			fmt.Fprintf(o.f.Streams.ErrOut, "No resources found%s.\n", where)
			return nil
		}
		p := printers.NewTablePrinter(printers.PrintOptions{Wide: format == "wide", NoHeaders: o.noHeaders})
		return p.PrintObj(t, out)
	}
	p, err := o.printFlags.ToPrinter()
	if err != nil {
		return err
	}
	if single && len(objs) == 1 {
		return p.PrintObj(objs[0], out)
	}
	if format == "name" {
		for _, obj := range objs {
			if err := p.PrintObj(obj, out); err != nil {
				return err
			}
		}
		return nil
	}
	list := &metav1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, obj := range objs {
		if err := setKind(o.f.Scheme, obj); err != nil {
			return err
		}
		list.Items = append(list.Items, runtime.RawExtension{Object: obj})
	}
	return p.PrintObj(list, out)
}

func setKind(s *runtime.Scheme, obj runtime.Object) error {
	gvks, _, err := s.ObjectKinds(obj)
	if err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	return nil
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
