package clusters

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/cli/cmdutil"
)

// clusterTypeNames are the spellings of the Cluster resource that the
// taint command accepts as its first argument, as kubectl would.
var clusterTypeNames = map[string]bool{
	"cluster": true, "clusters": true, "clu": true,
	"cluster.cluster.argosy.dev": true, "clusters.cluster.argosy.dev": true,
}

// NewTaintCommand is `taint clusters NAME KEY[=VALUE]:EFFECT ... | KEY[:EFFECT]-`.
func NewTaintCommand(f *cmdutil.Factory) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "taint clusters NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N",
		Short: "Update the taints on a member cluster",
		Long: `Update the taints on a member cluster.

A taint is key=value:effect; the value is optional. The effect is NoSchedule
(no new replicas are placed on the cluster) or NoExecute (replicas already
there are also evicted, after the policy's tolerationSeconds). A trailing '-'
removes a taint: key:effect- removes one, key- removes every effect of key.`,
		Example: `  # Evict workloads that do not tolerate it from member1
  %[1]s taint clusters member1 workload-rebalancer-test:NoExecute

  # Remove that taint again
  %[1]s taint clusters member1 workload-rebalancer-test:NoExecute-

  # Replace the value of an existing taint
  %[1]s taint clusters member1 dedicated=special-user:NoSchedule --overwrite`,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !clusterTypeNames[strings.ToLower(args[0])] {
				return fmt.Errorf("resource type %q: only clusters can be tainted (taint clusters NAME ...)", args[0])
			}
			add, remove, err := ParseTaints(args[2:])
			if err != nil {
				return err
			}
			return Taint(cmd.Context(), f, args[1], add, remove, overwrite)
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "Replace a taint that has the same key and effect instead of failing")
	return cmd
}

// Taint changes the taints of one Cluster with a merge patch under an
// optimistic lock, retried on conflict (the Cluster controller writes the
// same list), and prints "cluster/NAME tainted|untainted|modified".
func Taint(ctx context.Context, f *cmdutil.Factory, name string, add, remove []corev1.Taint, overwrite bool) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	for _, t := range append(append([]corev1.Taint{}, add...), remove...) {
		if isManagedKey(t.Key) {
			fmt.Fprintf(f.Streams.ErrOut, "Warning: taint %s is managed by the cluster controller, which will restore it on its next pass\n", describe(t))
		}
	}
	var op Operation
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cl clusterv1alpha1.Cluster
		if err := getCluster(ctx, c, name, &cl); err != nil {
			return err
		}
		taints, o, err := ApplyTaints(name, cl.Spec.Taints, add, remove, overwrite, metav1.Now())
		if err != nil {
			return err
		}
		op = o
		if equality.Semantic.DeepEqual(taints, cl.Spec.Taints) {
			return nil
		}
		old := cl.DeepCopy()
		cl.Spec.Taints = taints
		return c.Patch(ctx, &cl, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{}), client.FieldOwner(cmdutil.FieldManager))
	})
	if err != nil {
		return wrapErr(err, name, "tainting")
	}
	fmt.Fprintf(f.Streams.Out, "cluster/%s %s\n", name, op)
	return nil
}

// NewCordonCommand is `cordon NAME`.
func NewCordonCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "cordon NAME",
		Short: "Mark a member cluster unschedulable",
		Long: `Mark a member cluster unschedulable (spec.unschedulable): the scheduler places
no new replicas there; replicas already there stay.`,
		Example: "  %[1]s cordon member1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return SetUnschedulable(cmd.Context(), f, args[0], true)
		},
	}
}

// NewUncordonCommand is `uncordon NAME`.
func NewUncordonCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "uncordon NAME",
		Short:   "Mark a member cluster schedulable",
		Example: "  %[1]s uncordon member1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return SetUnschedulable(cmd.Context(), f, args[0], false)
		},
	}
}

// SetUnschedulable cordons or uncordons a Cluster and prints what it did
// ("cluster/NAME cordoned", or "already cordoned" without a write).
func SetUnschedulable(ctx context.Context, f *cmdutil.Factory, name string, unschedulable bool) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	verb := "uncordoned"
	if unschedulable {
		verb = "cordoned"
	}
	already := false
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cl clusterv1alpha1.Cluster
		if err := getCluster(ctx, c, name, &cl); err != nil {
			return err
		}
		if cl.Spec.Unschedulable == unschedulable {
			already = true
			return nil
		}
		old := cl.DeepCopy()
		cl.Spec.Unschedulable = unschedulable
		return c.Patch(ctx, &cl, client.MergeFromWithOptions(old, client.MergeFromWithOptimisticLock{}), client.FieldOwner(cmdutil.FieldManager))
	})
	if err != nil {
		return wrapErr(err, name, strings.TrimSuffix(verb, "ed")+"ing")
	}
	if already {
		fmt.Fprintf(f.Streams.Out, "cluster/%s already %s\n", name, verb)
		return nil
	}
	fmt.Fprintf(f.Streams.Out, "cluster/%s %s\n", name, verb)
	return nil
}

func getCluster(ctx context.Context, c client.Client, name string, cl *clusterv1alpha1.Cluster) error {
	if err := c.Get(ctx, client.ObjectKey{Name: name}, cl); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("cluster %q not found", name)
		}
		return err
	}
	return nil
}

func wrapErr(err error, name, doing string) error {
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%s cluster %s: it kept changing while being written, try again: %w", doing, name, err)
	}
	return err
}
