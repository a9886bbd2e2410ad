// Package join is `join` and `unjoin`: register a member cluster with the
// host (a ServiceAccount with a token in the member, its credentials and a
// Cluster on the host), and undo it.
package join

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/cli/cmdutil"
	"argosy.dev/argosy/internal/membership"
)

// MemberFlags are --cluster-kubeconfig and --cluster-context: how to reach
// a member with the user's own credentials.
type MemberFlags struct {
	Kubeconfig, Context string
}

// Add registers the flags on cmd.
func (m *MemberFlags) Add(cmd *cobra.Command, usage string) {
	cmd.Flags().StringVar(&m.Kubeconfig, "cluster-kubeconfig", "", usage)
	cmd.Flags().StringVar(&m.Context, "cluster-context", "", "Context of --cluster-kubeconfig to use (default: its current-context)")
}

// Client connects to the member named by the flags.
func (m *MemberFlags) Client(f *cmdutil.Factory) (client.Client, *membership.Target, error) {
	t, err := membership.LoadKubeconfig(m.Kubeconfig, m.Context)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := t.RESTConfig()
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: f.Scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the member %s (context %q): %w", t.Cluster.Server, t.Context, err)
	}
	return c, t, nil
}

type joinOptions struct {
	member                 MemberFlags
	provider, region, zone string
	systemNamespace        string
	timeout                time.Duration
}

// NewJoinCommand is `join NAME --cluster-kubeconfig F [--cluster-context C]`.
func NewJoinCommand(f *cmdutil.Factory) *cobra.Command {
	o := &joinOptions{}
	cmd := &cobra.Command{
		Use:   "join NAME --cluster-kubeconfig FILE [--cluster-context CONTEXT]",
		Short: "Register a member cluster with the host (push mode)",
		Long: `Register a member cluster with the host, in push mode.

In the member, join creates the namespace argosy-system, a ServiceAccount
argosy-NAME, a ClusterRole and ClusterRoleBinding argosy:member:NAME with
cluster-admin's permissions (Argosy applies objects of any kind there,
RBAC objects included, and watches them), and a long-lived token Secret
argosy-NAME-token. On the host it stores a kubeconfig with the member's
server, CA and that token in the Secret argosy-system/NAME-kubeconfig (key
"value") and creates the Cluster NAME. Running join again updates all of
it.

The member is reached with --cluster-kubeconfig and its context; files the
context names (CA, client certificate and key, token file) are read and
embedded. Contexts whose user runs an exec or auth-provider credential
plugin are refused: use a context with a client certificate or a token.`,
		Example: `  # Join the cluster of context member3 of ~/.kube/config as member3
  %[1]s join member3 --cluster-kubeconfig ~/.kube/config --cluster-context member3

  # Then wait until it is Ready
  kubectl wait --for=condition=Ready cluster/member3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), f, args[0])
		},
	}
	o.member.Add(cmd, "Kubeconfig file of the member cluster (required)")
	_ = cmd.MarkFlagRequired("cluster-kubeconfig")
	cmd.Flags().StringVar(&o.provider, "cluster-provider", "", "Provider of the member (the Cluster's spec.provider)")
	cmd.Flags().StringVar(&o.region, "cluster-region", "", "Region of the member (spec.region)")
	cmd.Flags().StringVar(&o.zone, "cluster-zone", "", "Zone of the member (spec.zone)")
	cmd.Flags().StringVar(&o.systemNamespace, "argosy-namespace", membership.SystemNamespace, "Namespace of the manager on the host, where member credentials are kept")
	cmd.Flags().DurationVar(&o.timeout, "token-timeout", time.Minute, "How long to wait for the member's token controller to fill the token Secret")
	return cmd
}

func (o *joinOptions) run(ctx context.Context, f *cmdutil.Factory, name string) error {
	if err := membership.ValidateName(name); err != nil {
		return err
	}
	member, t, err := o.member.Client(f)
	if err != nil {
		return err
	}
	host, err := f.Client()
	if err != nil {
		return err
	}
	// Check the host before writing to the member: an apiserver without
	// Argosy, or without its namespace, would leave a useless token behind.
	if err := checkHost(ctx, host, o.systemNamespace, name); err != nil {
		return err
	}
	token, ca, err := membership.PrepareMember(ctx, member, name, o.timeout)
	if err != nil {
		return fmt.Errorf("joining %s: %w", name, err)
	}
	stored := *t
	stored.Cluster = t.Cluster.DeepCopy()
	if len(stored.Cluster.CertificateAuthorityData) == 0 && !stored.Cluster.InsecureSkipTLSVerify {
		// A kubeconfig that trusts the system roots: the member's own CA
		// bundle, as its token controller publishes it, is what pods there trust.
		stored.Cluster.CertificateAuthorityData = ca
	}
	kubeconfig, err := stored.Kubeconfig(name, token)
	if err != nil {
		return err
	}
	_, err = membership.Register(ctx, host, membership.Registration{
		Name:        name,
		Namespace:   o.systemNamespace,
		Kubeconfig:  kubeconfig,
		APIEndpoint: t.Cluster.Server,
		ProxyURL:    t.Cluster.ProxyURL,
		Provider:    o.provider,
		Region:      o.region,
		Zone:        o.zone,
		FieldOwner:  cmdutil.FieldManager,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.Streams.Out, "cluster/%s joined\n", name)
	return nil
}

func checkHost(ctx context.Context, host client.Client, ns, name string) error {
	var cl clusterv1alpha1.Cluster
	if err := host.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil && !apierrors.IsNotFound(err) {
		if meta.IsNoMatchError(err) {
			return fmt.Errorf("the host serves no Cluster kind: is Argosy installed there (kubectl apply -k config/default)? %w", err)
		}
		return fmt.Errorf("reading cluster %s on the host: %w", name, err)
	}
	if err := host.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("the host has no namespace %s for member credentials: is Argosy installed there, or is --argosy-namespace wrong?", ns)
		}
		return fmt.Errorf("reading namespace %s on the host: %w", ns, err)
	}
	return nil
}

type unjoinOptions struct {
	member          MemberFlags
	systemNamespace string
	ignoreNotFound  bool
}

// NewUnjoinCommand is `unjoin NAME [--cluster-kubeconfig F]`.
func NewUnjoinCommand(f *cmdutil.Factory) *cobra.Command {
	o := &unjoinOptions{}
	cmd := &cobra.Command{
		Use:   "unjoin NAME [--cluster-kubeconfig FILE [--cluster-context CONTEXT]]",
		Short: "Remove a member cluster from the host, and join's objects from the member",
		Long: `Remove a member cluster: delete the Cluster and its credentials Secret on the
host and, with --cluster-kubeconfig, the ServiceAccount, token Secret,
ClusterRole and ClusterRoleBinding that join created in the member (the
namespace argosy-system stays). Objects Argosy propagated to the member
stay there.`,
		Example: `  %[1]s unjoin member3 --cluster-kubeconfig ~/.kube/config --cluster-context member3`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), f, args[0])
		},
	}
	o.member.Add(cmd, "Kubeconfig file of the member cluster, to delete join's objects there too")
	cmd.Flags().StringVar(&o.systemNamespace, "argosy-namespace", membership.SystemNamespace, "Namespace of the manager on the host, where member credentials are kept")
	cmd.Flags().BoolVar(&o.ignoreNotFound, "ignore-not-found", false, "Succeed when there is nothing to remove")
	return cmd
}

func (o *unjoinOptions) run(ctx context.Context, f *cmdutil.Factory, name string) error {
	var member client.Client
	if o.member.Kubeconfig != "" {
		var err error
		// Connect first: a wrong kubeconfig should fail before the host
		// loses the Cluster.
		if member, _, err = o.member.Client(f); err != nil {
			return err
		}
	}
	host, err := f.Client()
	if err != nil {
		return err
	}
	deleted, err := membership.Unregister(ctx, host, name, o.systemNamespace)
	if err != nil {
		return err
	}
	var inMember []string
	if member != nil {
		if inMember, err = membership.CleanupMember(ctx, member, name); err != nil {
			return fmt.Errorf("cluster %s removed from the host, but %w", name, err)
		}
	}
	if len(deleted) == 0 && len(inMember) == 0 {
		if o.ignoreNotFound {
			return nil
		}
		return fmt.Errorf("cluster %q not found: neither the host nor the member has objects of a join as %s", name, name)
	}
	if len(inMember) > 0 {
		fmt.Fprintf(f.Streams.Out, "deleted in the member: %s\n", strings.Join(inMember, ", "))
	} else if member == nil {
		n := membership.NamesFor(name)
		fmt.Fprintf(f.Streams.ErrOut, "Warning: the member keeps ServiceAccount %s/%s, its token Secret and ClusterRole(Binding) %s; run unjoin again with --cluster-kubeconfig to delete them\n",
			n.Namespace, n.ServiceAccount, n.ClusterRole)
	}
	fmt.Fprintf(f.Streams.Out, "cluster/%s unjoined\n", name)
	return nil
}
