// Package cli is the kubectl-argosy command line (also installed as
// argosyctl): Karmada's karmadactl commands for Argosy's CRDs on the host.
package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"argosy.dev/argosy/internal/cli/clusters"
	"argosy.dev/argosy/internal/cli/cmdutil"
	"argosy.dev/argosy/internal/cli/describe"
	"argosy.dev/argosy/internal/cli/get"
	"argosy.dev/argosy/internal/cli/join"
	"argosy.dev/argosy/internal/cli/promote"
	"argosy.dev/argosy/internal/cli/rebalance"
	"argosy.dev/argosy/internal/cli/wrap"
)

// DisplayName is how the usage lines name the program: "kubectl argosy"
// when it runs as the kubectl plugin kubectl-argosy, else its file name
// (argosyctl).
func DisplayName(argv0 string) string {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if rest, ok := strings.CutPrefix(base, "kubectl-"); ok && rest != "" {
		// kubectl maps "kubectl foo-bar" to kubectl-foo_bar.
		return "kubectl " + strings.ReplaceAll(rest, "_", "-")
	}
	if base == "" || base == "." {
		return "argosyctl"
	}
	return base
}

// NewCommand builds the command tree; name is DisplayName's result.
func NewCommand(name string, streams genericiooptions.IOStreams) *cobra.Command {
	f := cmdutil.NewFactory(streams)
	root := &cobra.Command{
		Use:   strings.ReplaceAll(name, " ", "-"),
		Short: "Manage an Argosy fleet: member clusters, propagated workloads, templates",
		Long: `Manage an Argosy fleet from the host cluster: join, taint and cordon member
clusters, see where propagated objects run and how they are doing, wrap
native manifests into ResourceTemplates, take over objects already running
in a member, and reschedule workloads.`,
		Annotations:       map[string]string{cobra.CommandDisplayNameAnnotation: name},
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	f.Flags.AddFlags(root.PersistentFlags())
	root.PersistentFlags().StringVar(&f.TemplateNamespace, "template-namespace", f.TemplateNamespace, "Namespace of the ResourceTemplates and ResourceBindings (the manager's --template-namespace)")

	root.AddGroup(
		&cobra.Group{ID: "clusters", Title: "Cluster Management Commands:"},
		&cobra.Group{ID: "workloads", Title: "Workload Commands:"},
	)
	for _, c := range []*cobra.Command{join.NewJoinCommand(f), join.NewUnjoinCommand(f), clusters.NewTaintCommand(f), clusters.NewCordonCommand(f), clusters.NewUncordonCommand(f)} {
		c.GroupID = "clusters"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{get.NewCommand(f), describe.NewCommand(f), wrap.NewWrapCommand(f), wrap.NewApplyCommand(f), promote.NewCommand(f), rebalance.NewCommand(f)} {
		c.GroupID = "workloads"
		root.AddCommand(c)
	}
	for _, c := range root.Commands() {
		c.Example = strings.ReplaceAll(c.Example, "%[1]s", name)
	}
	return root
}

// Main runs the command line and returns the process's exit code; errors
// go to stderr as kubectl prints them.
func Main(ctx context.Context, argv0 string, args []string, streams genericiooptions.IOStreams) int {
	cmd := NewCommand(DisplayName(argv0), streams)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
		return 1
	}
	return 0
}
