package wrap

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/internal/cli/cmdutil"
)

// NewWrapCommand is `wrap [-f FILE|DIR|-]`: native manifests in,
// ResourceTemplates out; no cluster is contacted.
func NewWrapCommand(f *cmdutil.Factory) *cobra.Command {
	var files []string
	var recursive, allClusters bool
	cmd := &cobra.Command{
		Use:   "wrap [-f FILE|DIR|-]",
		Short: "Wrap native manifests into ResourceTemplates (stdin to stdout)",
		Long: `Wrap native manifests into ResourceTemplates, without contacting any cluster.

Every object is replaced by the ResourceTemplate that wraps it, named as the
template webhook names it (from the object's group, kind, namespace and
name) in the template namespace, so the output is stable and can be
committed or used in a kustomize or GitOps pipeline. Objects of the
argosy.dev groups (policies, templates, ...) pass through unchanged.
Namespaced objects without a namespace get -n, or "default"; the built-in
cluster-scoped kinds and kinds of CRDs in the input keep none. Fields set by
a cluster (status, uid, resourceVersion, managedFields, ...) are dropped.`,
		Example: `  %[1]s wrap < deployment.yaml > deployment.rt.yaml
  kustomize build overlays/prod | %[1]s wrap --all-clusters | kubectl apply --server-side -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ns := "default"
			if f.Flags.Namespace != nil && *f.Flags.Namespace != "" {
				ns = *f.Flags.Namespace
			}
			objs, err := Read(files, recursive, f.Streams.In)
			if err != nil {
				return err
			}
			out, err := Wrap(objs, Options{TemplateNamespace: f.TemplateNamespace, DefaultNamespace: ns, AllClusters: allClusters})
			if err != nil {
				return err
			}
			return Encode(f.Streams.Out, out)
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "Files or directories to wrap, or - for stdin (the default)")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "Read directories given with -f recursively")
	cmd.Flags().BoolVar(&allClusters, "all-clusters", false, "Also write a ClusterPropagationPolicy per object that propagates it to every cluster, Duplicated")
	return cmd
}

// NewApplyCommand is `apply -f FILE|DIR|-`: wrap, then server-side apply.
func NewApplyCommand(f *cmdutil.Factory) *cobra.Command {
	var files []string
	var recursive, allClusters, force, dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Wrap native manifests into ResourceTemplates and apply them to the host",
		Long: `Wrap native manifests into ResourceTemplates (as "wrap" does) and apply them to
the host with server-side apply (field manager kubectl-argosy). Objects of the
argosy.dev groups (policies, ...) are applied as they are. With --all-clusters
each wrapped object also gets a ClusterPropagationPolicy of the same name
that propagates it to every member cluster, Duplicated.`,
		Example: `  # Propagate a plain Deployment to every member cluster
  %[1]s apply -f deployment.yaml --all-clusters

  # Apply a directory of manifests and their PropagationPolicies
  %[1]s apply -f ./manifests -n prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(files) == 0 {
				return fmt.Errorf("-f FILE|DIR|- is required")
			}
			ns, _, err := f.Namespace()
			if err != nil {
				return err
			}
			objs, err := Read(files, recursive, f.Streams.In)
			if err != nil {
				return err
			}
			m, err := f.Mapper()
			if err != nil {
				return err
			}
			out, err := Wrap(objs, Options{TemplateNamespace: f.TemplateNamespace, DefaultNamespace: ns, AllClusters: allClusters, Scope: MapperScope(m)})
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			opts := []client.ApplyOption{client.FieldOwner(cmdutil.FieldManager)}
			if force {
				opts = append(opts, client.ForceOwnership)
			}
			op := "serverside-applied"
			if dryRun {
				opts = append(opts, client.DryRunAll)
				op += " (server dry run)"
			}
			p := &printers.NamePrinter{Operation: op}
			for _, u := range out {
				if err := defaultNamespace(m, u, ns); err != nil {
					return err
				}
				if err := c.Apply(cmd.Context(), client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
					return fmt.Errorf("applying %s %s: %w", u.GroupVersionKind().GroupKind(), qualified(u), err)
				}
				if err := p.PrintObj(u, f.Streams.Out); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "Files or directories to apply, or - for stdin")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "Read directories given with -f recursively")
	cmd.Flags().BoolVar(&allClusters, "all-clusters", false, "Also apply a ClusterPropagationPolicy per object that propagates it to every cluster, Duplicated")
	cmd.Flags().BoolVar(&force, "force-conflicts", false, "Take over fields that another field manager owns")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Send the requests as a server-side dry run; nothing is persisted")
	return cmd
}

// MapperScope answers scopes from the host's discovery, falling back to
// BuiltinScope for kinds the host does not serve.
func MapperScope(m meta.RESTMapper) ScopeFunc {
	return func(gk schema.GroupKind) (bool, bool, error) {
		mapping, err := m.RESTMapping(gk)
		if err != nil {
			if meta.IsNoMatchError(err) {
				return BuiltinScope(gk)
			}
			return false, false, fmt.Errorf("looking up the scope of %s on the host: %w", gk, err)
		}
		return mapping.Scope.Name() == meta.RESTScopeNameNamespace, true, nil
	}
}

// defaultNamespace gives a namespaced host object (a PropagationPolicy
// without a namespace, say) the namespace kubectl would give it.
func defaultNamespace(m meta.RESTMapper, u *unstructured.Unstructured, ns string) error {
	if u.GetNamespace() != "" {
		return nil
	}
	mapping, err := m.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", u.GroupVersionKind().GroupKind(), u.GetName(), err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		u.SetNamespace(ns)
	}
	return nil
}

// Read decodes -f arguments: files, directories (*.yaml, *.yml, *.json,
// sorted; subdirectories with recursive) and "-" for stdin (also the
// default when no file is given).
func Read(files []string, recursive bool, stdin io.Reader) ([]*unstructured.Unstructured, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		srcs, err := sources(f, recursive, stdin)
		if err != nil {
			return nil, err
		}
		for _, s := range srcs {
			objs, err := Decode(s)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func sources(path string, recursive bool, stdin io.Reader) ([]Source, error) {
	if path == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return []Source{{Name: "stdin", Data: data}}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("-f %s: %w", path, err)
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", path, err)
		}
		return []Source{{Name: path, Data: data}}, nil
	}
	var names []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("-f %s: %w", path, err)
	}
	sort.Strings(names)
	var out []Source
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", n, err)
		}
		out = append(out, Source{Name: n, Data: data})
	}
	return out, nil
}
