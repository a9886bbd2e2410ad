// Package rebalance is the `rebalance` command: it creates a
// WorkloadRebalancer that asks the scheduler to place the named workloads
// afresh.
package rebalance

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
	"argosy.dev/argosy/internal/cli/cmdutil"
)

// NewCommand is `rebalance KIND/NAME... [-n NS] [--ttl DURATION]`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	var ttl time.Duration
	printFlags := genericclioptions.NewPrintFlags("created").WithTypeSetter(f.Scheme)
	cmd := &cobra.Command{
		Use:   "rebalance KIND/NAME [KIND/NAME...]",
		Short: "Reschedule workloads from scratch (creates a WorkloadRebalancer)",
		Long: `Reschedule workloads from scratch.

Argosy keeps an existing placement stable and only moves the difference when
clusters change. rebalance creates a WorkloadRebalancer that makes the
scheduler ignore the current placement of each named workload once and
compute a fresh one, for example to spread replicas back over a cluster that
recovered. Workloads are named as in their own manifests, in the namespace of
-n (or the kubeconfig context).`,
		Example: `  # Spread deployment foo over every eligible cluster again
  %[1]s rebalance deployment/foo -n default

  # Several workloads; delete the WorkloadRebalancer 5 minutes after it finished
  %[1]s rebalance deploy/foo statefulset/db --ttl 5m`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, _, err := f.Namespace()
			if err != nil {
				return err
			}
			m, err := f.Mapper()
			if err != nil {
				return err
			}
			refs, err := Workloads(m, args, ns)
			if err != nil {
				return err
			}
			var ttlSeconds *int32
			if cmd.Flags().Changed("ttl") {
				if ttlSeconds, err = TTLSeconds(ttl); err != nil {
					return err
				}
			}
			printer, err := printFlags.ToPrinter()
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			wr := New(refs, ttlSeconds)
			if err := c.Create(cmd.Context(), wr, client.FieldOwner(cmdutil.FieldManager)); err != nil {
				return fmt.Errorf("creating the WorkloadRebalancer for %v: %w", args, err)
			}
			return printer.PrintObj(wr, f.Streams.Out)
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "Delete the WorkloadRebalancer this long after every workload got its result (spec.ttlSecondsAfterFinished); kept until deleted when unset")
	printFlags.AddFlags(cmd)
	return cmd
}

// Workloads resolves KIND/NAME arguments to the references of a
// WorkloadRebalancer, with apiVersion and scope from the host's REST
// mapper; namespaced kinds get ns. Repeated workloads are listed once.
func Workloads(m meta.RESTMapper, args []string, ns string) ([]appsv1alpha1.ObjectReference, error) {
	var refs []appsv1alpha1.ObjectReference
	seen := map[appsv1alpha1.ObjectReference]bool{}
	for _, arg := range args {
		kind, name, err := cmdutil.SplitKindName(arg)
		if err != nil {
			return nil, err
		}
		mapping, err := cmdutil.Mapping(m, kind)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", arg, err)
		}
		ref := appsv1alpha1.ObjectReference{
			APIVersion: mapping.GroupVersionKind.GroupVersion().String(),
			Kind:       mapping.GroupVersionKind.Kind,
			Name:       name,
		}
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ref.Namespace = ns
		}
		if seen[ref] {
			continue
		}
		seen[ref] = true
		refs = append(refs, ref)
	}
	if len(refs) > appsv1alpha1.MaxRebalancerWorkloads {
		return nil, fmt.Errorf("%d workloads given; a WorkloadRebalancer takes at most %d, run rebalance several times", len(refs), appsv1alpha1.MaxRebalancerWorkloads)
	}
	return refs, nil
}

// TTLSeconds converts --ttl to whole seconds (rounded up, so that a
// sub-second TTL does not become "delete at once").
func TTLSeconds(d time.Duration) (*int32, error) {
	if d < 0 {
		return nil, fmt.Errorf("--ttl %s: must not be negative", d)
	}
	s := (d + time.Second - 1) / time.Second
	if s > time.Duration(1<<31-1) {
		return nil, fmt.Errorf("--ttl %s: too long", d)
	}
	return ptr.To(int32(s)), nil
}

// New builds the WorkloadRebalancer, named by the apiserver
// (generateName rebalance-).
func New(refs []appsv1alpha1.ObjectReference, ttlSeconds *int32) *appsv1alpha1.WorkloadRebalancer {
	return &appsv1alpha1.WorkloadRebalancer{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: appsv1alpha1.ResourceKindWorkloadRebalancer},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "rebalance-"},
		Spec: appsv1alpha1.WorkloadRebalancerSpec{
			Workloads:               refs,
			TTLSecondsAfterFinished: ttlSeconds,
		},
	}
}
