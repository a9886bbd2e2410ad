// Package cmdutil holds what every kubectl-argosy command shares: the
// kubectl connection flags, the client and REST mapper built from them, and
// the resolution of KIND and KIND/NAME arguments.
package cmdutil

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/scheme"
)

// FieldManager is the server-side apply field manager of every write the
// CLI makes, so that `kubectl get --show-managed-fields` tells them apart
// from the controllers' writes.
const FieldManager = "kubectl-argosy"

// Factory builds clients from the kubectl flags (--kubeconfig, --context,
// -n, ...). It is created once per command line; the client and mapper are
// built lazily so that `--help` and pure commands (wrap) need no cluster.
type Factory struct {
	Flags   *genericclioptions.ConfigFlags
	Streams genericiooptions.IOStreams
	Scheme  *runtime.Scheme
	// TemplateNamespace is where ResourceTemplates and ResourceBindings
	// live (the manager's --template-namespace).
	TemplateNamespace string

	client client.Client
	mapper meta.RESTMapper
}

// NewFactory returns a factory with kubectl's connection flags.
func NewFactory(streams genericiooptions.IOStreams) *Factory {
	return &Factory{
		Flags:   genericclioptions.NewConfigFlags(true).WithWarningPrinter(streams),
		Streams: streams,
		Scheme:  scheme.New(),

		TemplateNamespace: workv1alpha1.DefaultTemplateNamespace,
	}
}

// Mapper is the host's discovery-backed REST mapper, with kubectl's short
// names (deploy, svc, ...) and categories.
func (f *Factory) Mapper() (meta.RESTMapper, error) {
	if f.mapper != nil {
		return f.mapper, nil
	}
	m, err := f.Flags.ToRESTMapper()
	if err != nil {
		return nil, fmt.Errorf("building the REST mapper of the host: %w", err)
	}
	f.mapper = m
	return m, nil
}

// Client is a controller-runtime client of the host cluster that knows the
// built-in and argosy.dev types.
func (f *Factory) Client() (client.Client, error) {
	if f.client != nil {
		return f.client, nil
	}
	cfg, err := f.Flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	m, err := f.Mapper()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: f.Scheme, Mapper: m})
	if err != nil {
		return nil, fmt.Errorf("connecting to the host cluster %s: %w", cfg.Host, err)
	}
	f.client = c
	return c, nil
}

// Namespace is -n, or the namespace of the kubeconfig context, or
// "default"; explicit tells whether -n (or the context) set it.
func (f *Factory) Namespace() (ns string, explicit bool, err error) {
	return f.Flags.ToRawKubeConfigLoader().Namespace()
}
