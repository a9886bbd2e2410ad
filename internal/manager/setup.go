package manager

import (
	"context"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/controllers/binding"
	"argosy.dev/argosy/controllers/cluster"
	"argosy.dev/argosy/controllers/detector"
	"argosy.dev/argosy/controllers/execution"
	"argosy.dev/argosy/controllers/gracefuleviction"
	"argosy.dev/argosy/controllers/rebalancer"
	"argosy.dev/argosy/controllers/scheduler"
	"argosy.dev/argosy/controllers/status"
	"argosy.dev/argosy/controllers/taintmanager"
	"argosy.dev/argosy/internal/hostwrites"
	"argosy.dev/argosy/internal/member"
	"argosy.dev/argosy/internal/webhooks/autoscaling"
	clusterwebhook "argosy.dev/argosy/internal/webhooks/cluster"
	"argosy.dev/argosy/internal/webhooks/overrides"
	"argosy.dev/argosy/internal/webhooks/policy"
	rebalancerwebhook "argosy.dev/argosy/internal/webhooks/rebalancer"
	"argosy.dev/argosy/internal/webhooks/resourcetemplate"
	"argosy.dev/argosy/internal/workindex"
	"argosy.dev/argosy/internal/workstore"
)

// setupControllers registers every reconciler with the manager. Each
// controller lives in its own folder under controllers/ and exposes
// SetupWithManager. The member cache (one client and one set of informers
// per member cluster) is shared by the controllers that talk to members.
func setupControllers(ctx context.Context, mgr ctrl.Manager, base *rest.Config, o Options) error {
	clients := map[string]client.Client{}
	for _, name := range []string{"detector", "scheduler", "binding", "execution", "status", "works"} {
		c, err := client.New(hostwrites.Config(base, name), client.Options{
			Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), Cache: &client.CacheOptions{Reader: mgr.GetCache()},
		})
		if err != nil {
			return err
		}
		clients[name] = c
	}
	members := member.NewCache(mgr.GetClient(), ctrl.Log.WithName("members"),
		member.WithSecretNamespace(o.SystemNamespace), member.WithRateLimits(float32(o.MemberAPIQPS), o.MemberAPIBurst))
	if err := mgr.Add(members); err != nil {
		return err
	}
	cl := &cluster.Reconciler{
		Client:                mgr.GetClient(),
		Members:               members,
		Recorder:              mgr.GetEventRecorder("cluster-controller"),
		SystemNamespace:       o.SystemNamespace,
		StatusUpdateFrequency: o.ClusterStatusUpdateFrequency,
		FailureThreshold:      o.ClusterFailureThreshold,
		SuccessThreshold:      o.ClusterSuccessThreshold,
	}
	if err := cl.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	sch := &scheduler.Reconciler{
		Client:   clients["scheduler"],
		Recorder: mgr.GetEventRecorderFor(scheduler.DefaultSchedulerName), //nolint:staticcheck // Karmada's event source name
		Members:  members,
	}
	if err := sch.SetupWithManager(ctx, mgr, o.ConcurrentReconciles); err != nil {
		return err
	}
	if err := workindex.Register(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	det := &detector.Reconciler{Client: clients["detector"], Placer: sch, TemplateNamespace: o.TemplateNamespace, SystemNamespace: o.SystemNamespace, MaxConcurrentReconciles: o.ConcurrentReconciles,
		DefaultNotReadyTolerationSeconds: o.DefaultNotReadyTolerationSeconds, DefaultUnreachableTolerationSeconds: o.DefaultUnreachableTolerationSeconds}
	if err := det.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	mode, err := workstore.ParseMode(o.WorkObjects)
	if err != nil {
		return err
	}
	works := workstore.New(mode, clients["works"])
	bc := &binding.Reconciler{Client: clients["binding"], TemplateNamespace: o.TemplateNamespace, MaxConcurrentReconciles: o.ConcurrentReconciles, Works: works}
	if err := bc.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	ex := &execution.Reconciler{Client: clients["execution"], Members: members, MaxConcurrentReconciles: o.ConcurrentReconciles, Works: works}
	if err := ex.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	st := &status.Reconciler{Client: clients["status"], TemplateNamespace: o.TemplateNamespace, SystemNamespace: o.SystemNamespace, MaxConcurrentReconciles: o.ConcurrentReconciles, Works: works}
	if err := st.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	tm := &taintmanager.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder(taintmanager.ControllerName)}
	if err := tm.SetupWithManager(ctx, mgr, o.ConcurrentReconciles); err != nil {
		return err
	}
	ge := &gracefuleviction.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder(gracefuleviction.ControllerName), Timeout: o.GracefulEvictionTimeout}
	if err := ge.SetupWithManager(ctx, mgr, o.ConcurrentReconciles); err != nil {
		return err
	}
	wr := &rebalancer.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder(rebalancer.ControllerName), TemplateNamespace: o.TemplateNamespace}
	return wr.SetupWithManager(ctx, mgr)
}

// setupWebhooks registers the admission webhooks, one per Argosy kind that
// users write (the ResourceBindings and Works the controllers write have
// none: their CEL rules suffice, and the pipeline's own writes never wait
// on a webhook). Every webhook's rules list only Argosy's groups, so a
// webhook outage (failurePolicy Fail) blocks writes of Argosy's kinds and
// never the host's own workloads.
func setupWebhooks(ctx context.Context, mgr ctrl.Manager, o Options) error {
	rt := &resourcetemplate.Webhook{
		TemplateNamespace: o.TemplateNamespace,
		Mapper:            mgr.GetRESTMapper(),
		Reader:            mgr.GetClient(),
		DryRun:            mgr.GetClient(),
	}
	if err := rt.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	pd := &policy.Defaulter{NotReadySeconds: o.DefaultNotReadyTolerationSeconds, UnreachableSeconds: o.DefaultUnreachableTolerationSeconds, Mapper: mgr.GetRESTMapper()}
	if err := pd.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	if err := (&overrides.Validator{Mapper: mgr.GetRESTMapper()}).SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	if err := (&autoscaling.Webhook{}).SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	if err := (&rebalancerwebhook.Validator{Mapper: mgr.GetRESTMapper()}).SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	return (&clusterwebhook.Validator{}).SetupWithManager(ctx, mgr)
}
