// Package integration runs Argosy's CRDs, webhooks and manager against a
// real kube-apiserver and etcd started by controller-runtime's envtest from
// the binaries in bin/. The apiserver calls the manager's webhook server on
// loopback, exactly as it would in a cluster.
package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"argosy.dev/argosy/internal/manager"
	"argosy.dev/argosy/internal/scheme"
	"argosy.dev/argosy/test/fleet"
	"argosy.dev/argosy/test/install"
	"argosy.dev/argosy/test/paths"
)

// One apiserver and one manager for the whole package: starting them costs
// seconds.
var (
	cfg        *rest.Config
	k8sClient  client.Client
	mgrOptions manager.Options
	// managerDone closes when the manager has stopped.
	managerDone = make(chan struct{})
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	env, err := start(ctx)
	defer func() {
		// The manager first, then the apiserver it talks to.
		cancel()
		select { // the manager may never have started
		case <-managerDone:
		case <-time.After(30 * time.Second):
		}
		if env != nil {
			if err := env.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stopping envtest:", err)
			}
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// start runs the apiserver and the manager; the returned environment is
// non-nil once the apiserver runs, so that it is stopped even on failure.
func start(ctx context.Context) (*envtest.Environment, error) {
	bin, err := fleet.BinDir()
	if err != nil {
		return nil, err
	}
	crds, err := paths.Join("config", "crd", "bases")
	if err != nil {
		return nil, err
	}
	webhooks, err := paths.Join("config", "webhook", "manifests.yaml")
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{crds},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: bin,
		Scheme:                scheme.New(),
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: []string{webhooks}},
	}
	if cfg, err = env.Start(); err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		return env, err
	}
	// argosy-templates is left to the manager, which creates it at start.
	if err := ensureNamespace(ctx, "argosy-system"); err != nil {
		return env, err
	}

	wh := env.WebhookInstallOptions
	mgrOptions = manager.DefaultOptions()
	mgrOptions.MetricsAddr = "0"
	if mgrOptions.ProbeAddr, err = install.FreeLoopbackAddr(); err != nil {
		return env, err
	}
	mgrOptions.LeaderElect = true
	mgrOptions.LeaderElectionNamespace = "argosy-system"
	mgrOptions.WebhookHost, mgrOptions.WebhookPort, mgrOptions.WebhookCertDir = wh.LocalServingHost, wh.LocalServingPort, wh.LocalServingCertDir
	mgrOptions.WebhookCertSecret = "" // envtest provides the certificate
	// The integration tests read the Works the binding controller renders,
	// so they keep every Work on the host (there are no members here to
	// apply them to); the e2e tests run the default, Works in memory.
	mgrOptions.WorkObjects = "always"
	mgr, err := manager.New(ctx, cfg, mgrOptions)
	if err != nil {
		return env, err
	}
	go func() {
		defer close(managerDone)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	// Ready means the webhook server serves: admission works from here on.
	if err := install.WaitHTTP200(ctx, "http://"+mgrOptions.ProbeAddr+"/readyz"); err != nil {
		return env, err
	}
	return env, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return k8sClient.Get(ctx, client.ObjectKey{Name: mgrOptions.TemplateNamespace}, &corev1.Namespace{}) == nil, nil
	})
}

func ensureNamespace(ctx context.Context, names ...string) error {
	for _, n := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}
		if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}
