// Package manager assembles the Argosy controller-runtime manager: options,
// scheme, probes, metrics, leader election, controllers and webhooks. The
// binary in cmd/manager and the integration tests both run it through Run.
package manager

import (
	"context"
	"flag"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"argosy.dev/argosy/internal/hostwrites"
	"argosy.dev/argosy/internal/scheme"
	"argosy.dev/argosy/internal/workstore"
)

// Options are the manager's settings; every field has a command-line flag.
type Options struct {
	// MetricsAddr is where Prometheus metrics are served; "0" disables them.
	MetricsAddr string
	// MetricsSecure serves metrics over HTTPS with authentication and
	// authorization through the host apiserver (TokenReview and
	// SubjectAccessReview), as kubebuilder's scaffold does.
	MetricsSecure bool
	// ProbeAddr serves /healthz and /readyz.
	ProbeAddr string
	// PprofAddr serves net/http/pprof's /debug/pprof; "" (the default)
	// disables it.
	PprofAddr string

	LeaderElect             bool
	LeaderElectionNamespace string

	// KubeAPIQPS and KubeAPIBurst bound the manager's requests to the host
	// apiserver. controller-runtime's default of 20 QPS would cap Argosy at
	// a few bindings per second; the apiserver's priority and fairness
	// protects itself.
	KubeAPIQPS   float64
	KubeAPIBurst int
	// ConcurrentReconciles is the number of workers of each busy controller
	// (detector, scheduler, binding, execution, status).
	ConcurrentReconciles int
	// MemberAPIQPS and MemberAPIBurst bound the manager's requests to each
	// member apiserver (applies, status reads, informers).
	MemberAPIQPS   float64
	MemberAPIBurst int

	// ClusterStatusUpdateFrequency is how often each member is probed;
	// ClusterFailureThreshold and ClusterSuccessThreshold how long a probe
	// result must persist before Ready turns False or True (Karmada's flags).
	ClusterStatusUpdateFrequency time.Duration
	ClusterFailureThreshold      time.Duration
	ClusterSuccessThreshold      time.Duration

	// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
	// are the tolerationSeconds of the NoExecute tolerations for the
	// not-ready and unreachable taints that a policy gets when it has none
	// for them (Karmada's defaults: 300), so that a short outage moves
	// nothing.
	DefaultNotReadyTolerationSeconds    int64
	DefaultUnreachableTolerationSeconds int64
	// GracefulEvictionTimeout is how long an evicted cluster keeps its copy
	// while the replacement is not yet healthy, when the eviction task sets
	// no gracePeriodSeconds (Karmada's --graceful-eviction-timeout).
	GracefulEvictionTimeout time.Duration

	// WorkObjects says which Works are objects on the host apiserver:
	// "pull-only" (the default) keeps the Works of push-mode clusters in the
	// manager's memory, "always" writes every Work to the host
	// (internal/workstore).
	WorkObjects string

	// TemplateNamespace is the one namespace that holds ResourceTemplates
	// and ResourceBindings.
	TemplateNamespace string
	// SystemNamespace holds member credentials and the manager itself.
	SystemNamespace string

	// EnableWebhooks runs the admission webhook server; off for `make run`
	// and for tests that exercise controllers alone.
	EnableWebhooks bool
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
	// WebhookCertSecret, when set, makes the manager create and rotate its
	// own CA and serving certificate in this Secret (in SystemNamespace) and
	// inject the CA into the webhook configurations, so that no
	// cert-manager is needed. Empty means the certificate in WebhookCertDir
	// is provided by someone else (OLM, cert-manager, a test).
	WebhookCertSecret string
	// WebhookService is the Service in SystemNamespace that fronts the
	// webhook server; its DNS name goes into the serving certificate.
	WebhookService string
	// WebhookConfigPrefix prefixes the names of the webhook configurations
	// that get the CA injected (<prefix>validating-webhook-configuration).
	WebhookConfigPrefix string
}

// DefaultOptions returns the defaults of an in-cluster installation.
func DefaultOptions() Options {
	return Options{
		MetricsAddr:                         ":8443",
		MetricsSecure:                       true,
		ProbeAddr:                           ":8081",
		KubeAPIQPS:                          500,
		KubeAPIBurst:                        1000,
		ConcurrentReconciles:                8,
		MemberAPIQPS:                        200,
		MemberAPIBurst:                      400,
		ClusterStatusUpdateFrequency:        10 * time.Second,
		ClusterFailureThreshold:             30 * time.Second,
		ClusterSuccessThreshold:             30 * time.Second,
		DefaultNotReadyTolerationSeconds:    300,
		DefaultUnreachableTolerationSeconds: 300,
		GracefulEvictionTimeout:             10 * time.Minute,
		WorkObjects:                         string(workstore.PullOnly),
		TemplateNamespace:                   "argosy-templates",
		SystemNamespace:                     "argosy-system",
		EnableWebhooks:                      true,
		WebhookPort:                         9443,
		WebhookCertDir:                      "/tmp/k8s-webhook-server/serving-certs",
		WebhookCertSecret:                   "argosy-webhook-server-cert",
		WebhookService:                      "argosy-webhook-service",
		WebhookConfigPrefix:                 "argosy-",
	}
}

// BindFlags registers a flag for every option, with o's values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, `Address of the metrics endpoint; "0" disables it.`)
	fs.BoolVar(&o.MetricsSecure, "metrics-secure", o.MetricsSecure, "Serve metrics over HTTPS with authentication and authorization.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address of the /healthz and /readyz endpoints.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr, `Address of the /debug/pprof endpoints; "" disables them.`)
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader election Lease (default: the manager's own namespace).")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Queries per second to the host apiserver.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst of requests to the host apiserver.")
	fs.IntVar(&o.ConcurrentReconciles, "concurrent-reconciles", o.ConcurrentReconciles, "Workers of each busy controller (detector, scheduler, binding, execution, status).")
	fs.Float64Var(&o.MemberAPIQPS, "member-api-qps", o.MemberAPIQPS, "Queries per second to each member apiserver.")
	fs.IntVar(&o.MemberAPIBurst, "member-api-burst", o.MemberAPIBurst, "Burst of requests to each member apiserver.")
	fs.DurationVar(&o.ClusterStatusUpdateFrequency, "cluster-status-update-frequency", o.ClusterStatusUpdateFrequency, "How often each member cluster is probed.")
	fs.DurationVar(&o.ClusterFailureThreshold, "cluster-failure-threshold", o.ClusterFailureThreshold, "How long a member must fail its probes before it is NotReady.")
	fs.Int64Var(&o.DefaultNotReadyTolerationSeconds, "default-not-ready-toleration-seconds", o.DefaultNotReadyTolerationSeconds, "tolerationSeconds of the NoExecute toleration for the not-ready taint added to policies that have none.")
	fs.Int64Var(&o.DefaultUnreachableTolerationSeconds, "default-unreachable-toleration-seconds", o.DefaultUnreachableTolerationSeconds, "tolerationSeconds of the NoExecute toleration for the unreachable taint added to policies that have none.")
	fs.DurationVar(&o.GracefulEvictionTimeout, "graceful-eviction-timeout", o.GracefulEvictionTimeout, "How long an evicted cluster keeps its copy while the replacement is not healthy yet, unless the eviction task says otherwise.")
	fs.DurationVar(&o.ClusterSuccessThreshold, "cluster-success-threshold", o.ClusterSuccessThreshold, "How long a member must pass its probes before it is Ready again.")
	fs.StringVar(&o.WorkObjects, "work-objects", o.WorkObjects, `Which Works are objects on the host apiserver: "pull-only" (those of pull-mode clusters; push-mode Works stay in the manager's memory) or "always".`)
	fs.StringVar(&o.TemplateNamespace, "template-namespace", o.TemplateNamespace, "The namespace that holds ResourceTemplates and ResourceBindings.")
	fs.StringVar(&o.SystemNamespace, "system-namespace", o.SystemNamespace, "The namespace that holds member credentials.")
	fs.BoolVar(&o.EnableWebhooks, "enable-webhooks", o.EnableWebhooks, "Run the admission webhook server.")
	fs.StringVar(&o.WebhookHost, "webhook-host", o.WebhookHost, "Address the webhook server listens on (default: all).")
	fs.IntVar(&o.WebhookPort, "webhook-port", o.WebhookPort, "Port of the webhook server.")
	fs.StringVar(&o.WebhookCertDir, "webhook-cert-dir", o.WebhookCertDir, "Directory with the webhook serving certificate (tls.crt, tls.key).")
	fs.StringVar(&o.WebhookCertSecret, "webhook-cert-secret", o.WebhookCertSecret, `Secret in which the manager creates and rotates its own webhook certificates; "" when they are provided (OLM, cert-manager).`)
	fs.StringVar(&o.WebhookService, "webhook-service", o.WebhookService, "Service in front of the webhook server (the certificate's DNS name).")
	fs.StringVar(&o.WebhookConfigPrefix, "webhook-config-prefix", o.WebhookConfigPrefix, "Name prefix of the webhook configurations that get the CA injected.")
}

// Validate reports options that cannot work, naming the flag.
func (o Options) Validate() error {
	if _, err := workstore.ParseMode(o.WorkObjects); err != nil {
		return err
	}
	switch {
	case o.TemplateNamespace == "":
		return fmt.Errorf("--template-namespace must not be empty")
	case o.SystemNamespace == "":
		return fmt.Errorf("--system-namespace must not be empty")
	case o.KubeAPIQPS <= 0 || o.KubeAPIBurst <= 0:
		return fmt.Errorf("--kube-api-qps and --kube-api-burst must be positive")
	case o.MemberAPIQPS <= 0 || o.MemberAPIBurst <= 0:
		return fmt.Errorf("--member-api-qps and --member-api-burst must be positive")
	case o.ClusterStatusUpdateFrequency <= 0:
		return fmt.Errorf("--cluster-status-update-frequency must be positive")
	case o.ClusterFailureThreshold < 0 || o.ClusterSuccessThreshold < 0:
		return fmt.Errorf("--cluster-failure-threshold and --cluster-success-threshold must not be negative")
	case o.DefaultNotReadyTolerationSeconds < 0 || o.DefaultUnreachableTolerationSeconds < 0:
		return fmt.Errorf("--default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds must not be negative")
	case o.GracefulEvictionTimeout <= 0:
		return fmt.Errorf("--graceful-eviction-timeout must be positive")
	case o.ConcurrentReconciles <= 0:
		return fmt.Errorf("--concurrent-reconciles must be positive")
	case o.EnableWebhooks && (o.WebhookPort <= 0 || o.WebhookPort > 65535):
		return fmt.Errorf("--webhook-port %d is not a valid port", o.WebhookPort)
	}
	return nil
}

// New builds the manager with every controller and, when enabled, the
// webhook server registered, but does not start it.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	metrics := metricsserver.Options{BindAddress: o.MetricsAddr, SecureServing: o.MetricsSecure}
	if o.MetricsSecure {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mo := ctrl.Options{
		Scheme: scheme.New(),
		// Member credentials are Secrets in the system namespace; the
		// manager may read Secrets nowhere else.
		Cache: cache.Options{
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Secret{}: {Namespaces: map[string]cache.Config{o.SystemNamespace: {}}},
			},
			// No reconciler reads managedFields, and with several field
			// managers per binding and Work they are a large share of
			// every cached object.
			DefaultTransform: cache.TransformStripManagedFields(),
		},
		Metrics:                       metrics,
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "argosy-manager.argosy.dev",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	}
	var certsReady chan struct{}
	if o.EnableWebhooks {
		var server webhook.Server = webhook.NewServer(webhook.Options{Host: o.WebhookHost, Port: o.WebhookPort, CertDir: o.WebhookCertDir})
		if o.WebhookCertSecret != "" {
			certsReady = make(chan struct{})
			server = &waitingServer{Server: server, ready: certsReady}
		}
		mo.WebhookServer = server
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(o.KubeAPIQPS), o.KubeAPIBurst
	// The busy controllers get clients of their own, from base, so that
	// their host writes are counted by name (argosy_host_writes_total);
	// everything else (events, leader election, the other controllers) is
	// counted as the manager's.
	base := cfg
	cfg = hostwrites.Config(base, "manager")
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	ready := healthz.Ping
	if o.EnableWebhooks {
		ready = mgr.GetWebhookServer().StartedChecker()
	}
	if err := mgr.AddReadyzCheck("ready", ready); err != nil {
		return nil, err
	}
	if err := addTemplateNamespace(mgr, o.TemplateNamespace); err != nil {
		return nil, err
	}
	if err := setupControllers(ctx, mgr, base, o); err != nil {
		return nil, err
	}
	if o.EnableWebhooks {
		if certsReady != nil {
			if err := addCertRotator(mgr, o, certsReady); err != nil {
				return nil, err
			}
		}
		if err := setupWebhooks(ctx, mgr, o); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

// Run builds the manager and blocks until ctx is done.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	mgr, err := New(ctx, cfg, o)
	if err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("starting manager", "templateNamespace", o.TemplateNamespace, "webhooks", o.EnableWebhooks, "leaderElection", o.LeaderElect)
	return mgr.Start(ctx)
}
