// Package member keeps one client and one set of shared informers per member
// cluster, built from the Cluster's spec and its credentials Secret, and
// rebuilt when those change. The Cluster controller connects members; the
// other controllers only Get them.
package member

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// Defaults of a Cache.
const (
	// DefaultQPS and DefaultBurst are per member: enough for informers,
	// probes and applying Works, small enough that hundreds of members do
	// not add up to a flood.
	DefaultQPS   = 40
	DefaultBurst = 60
	// DefaultTimeout bounds each probe and the first request of a new
	// connection; informers' watches are not bounded by it.
	DefaultTimeout = 5 * time.Second
)

// ErrStopped is returned by Connect once the Cache has been stopped.
var ErrStopped = errors.New("member cache stopped")

// Option configures a Cache.
type Option func(*Cache)

// WithSecretNamespace makes Connect refuse credentials Secrets outside ns.
func WithSecretNamespace(ns string) Option { return func(c *Cache) { c.secretNamespace = ns } }

// WithRateLimits sets the client QPS and burst of every member.
func WithRateLimits(qps float32, burst int) Option {
	return func(c *Cache) { c.settings.QPS, c.settings.Burst = qps, burst }
}

// WithTimeout sets the timeout of probes and of the first request.
func WithTimeout(d time.Duration) Option { return func(c *Cache) { c.timeout = d } }

// Cache holds the connected members by Cluster name. It is safe for
// concurrent use. Add it to the manager (it is a Runnable) so that every
// member's informers stop with the manager.
type Cache struct {
	host            client.Reader
	log             logr.Logger
	secretNamespace string
	settings        clientSettings
	timeout         time.Duration

	mu      sync.Mutex
	members map[string]*Member
	stopped bool
	// managedHandlers and connectHooks: see OnManagedEvent and OnConnect.
	managedHandlers []ManagedHandlerFunc
	connectHooks    []func(cluster string)
}

// NewCache returns an empty cache that reads credentials Secrets through host.
func NewCache(host client.Reader, log logr.Logger, opts ...Option) *Cache {
	c := &Cache{
		host:     host,
		log:      log,
		settings: clientSettings{QPS: DefaultQPS, Burst: DefaultBurst},
		timeout:  DefaultTimeout,
		members:  map[string]*Member{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Member is one connected member cluster.
type Member struct {
	Name string
	// Config is the connection's config, for clients of other kinds. Its
	// rate limiter is shared with Client and Dynamic.
	Config  *rest.Config
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Informers is the member's one shared informer factory. Nodes and Pods
	// run from Connect on; other kinds start when first asked for
	// (Informers.Start after Informers.X().Informer()). Pods are stored
	// trimmed to what scheduling and summaries need (see TrimPod), and only
	// those not yet Succeeded or Failed.
	Informers informers.SharedInformerFactory
	// Endpoint and Secret say where the member is and which credentials
	// reach it, for messages.
	Endpoint, Secret string

	hash       string
	probe      kubernetes.Interface // requests bounded by the Cache's timeout
	httpClient *http.Client
	syncs      []func() bool
	cancel     context.CancelFunc
	done       chan struct{}
	syncErr    syncErrors
	log        logr.Logger
	// managed holds the informers of the objects Argosy applies, the
	// RESTMapper and the namespaces known to exist (managed.go).
	managed         managed
	managedHandlers []ManagedHandlerFunc
}

// Discovery is a discovery client whose requests time out like probes.
func (m *Member) Discovery() discovery.DiscoveryInterface { return m.probe.Discovery() }

// Synced reports whether the nodes and pods informers have listed once.
func (m *Member) Synced() bool {
	for _, s := range m.syncs {
		if !s() {
			return false
		}
	}
	return true
}

// Stopped closes when the member has been removed from the cache and its
// informers have stopped; what its listers return is stale from then on.
func (m *Member) Stopped() <-chan struct{} { return m.done }

// LastSyncError is the latest list or watch error of the nodes or pods
// informer, nil once they list and watch fine again.
func (m *Member) LastSyncError() error { return m.syncErr.get() }

// Get returns the connected member, or nil.
func (c *Cache) Get(name string) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[name]
}

// Connect returns the member for cl, connecting it if needed: the config is
// built from cl and its credentials Secret; when its hash equals the
// connected member's, that member is returned without a request; otherwise
// a new connection is made, checked with one request (listing one node, which
// the informers need anyway), its informers started, and any old connection
// of that cluster removed. Errors are *Error, classified by kind. A member
// whose new credentials fail is removed rather than kept with stale ones.
func (c *Cache) Connect(ctx context.Context, cl *clusterv1alpha1.Cluster) (*Member, error) {
	cfg, hash, err := buildConfig(ctx, c.host, cl, c.secretNamespace, c.settings)
	if err != nil {
		c.Remove(cl.Name)
		return nil, err
	}
	if m := c.Get(cl.Name); m != nil && m.hash == hash {
		return m, nil
	}
	log := c.log.WithValues("cluster", cl.Name)
	secret := cl.Spec.SecretRef.Namespace + "/" + cl.Spec.SecretRef.Name
	m, err := c.newMember(cl.Name, cfg, hash, secret)
	if err != nil {
		c.Remove(cl.Name)
		return nil, Classify(err, cfg.Host, secret)
	}
	vctx, cancel := context.WithTimeout(ctx, c.timeout)
	_, err = m.probe.CoreV1().Nodes().List(vctx, metav1.ListOptions{Limit: 1})
	cancel()
	if err != nil {
		m.httpClient.CloseIdleConnections()
		c.Remove(cl.Name)
		return nil, Classify(err, cfg.Host, secret)
	}

	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		m.httpClient.CloseIdleConnections()
		return nil, ErrStopped
	}
	old := c.members[cl.Name]
	if old != nil && old.hash == hash { // connected meanwhile
		c.mu.Unlock()
		m.httpClient.CloseIdleConnections()
		return old, nil
	}
	c.members[cl.Name] = m
	m.log, m.managedHandlers = log, c.managedHandlers
	m.start(log)
	c.mu.Unlock()
	if old != nil {
		old.stop()
		log.Info("reconnected member with changed settings", "endpoint", cfg.Host)
	} else {
		log.Info("connected member", "endpoint", cfg.Host)
	}
	c.connected(cl.Name)
	return m, nil
}

// Remove stops the member's informers, closes its connections and forgets
// it. It returns once the informers' goroutines have ended.
func (c *Cache) Remove(name string) {
	c.mu.Lock()
	m := c.members[name]
	delete(c.members, name)
	c.mu.Unlock()
	if m != nil {
		m.stop()
		c.log.Info("disconnected member", "cluster", name)
	}
}

// Start implements manager.Runnable: it blocks until ctx ends, then removes
// every member and refuses further connections.
func (c *Cache) Start(ctx context.Context) error {
	<-ctx.Done()
	c.mu.Lock()
	c.stopped = true
	ms := c.members
	c.members = map[string]*Member{}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(m.stop)
	}
	wg.Wait()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: the cache
// must stop on every replica, after the controllers that use it.
func (c *Cache) NeedLeaderElection() bool { return false }

func (c *Cache) newMember(name string, cfg *rest.Config, hash, secret string) (*Member, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	// One rate limiter for every client of the member.
	if cfg.RateLimiter == nil && cfg.QPS > 0 {
		cfg.RateLimiter = newRateLimiter(cfg.QPS, cfg.Burst)
	}
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	// The same connections, with every request bounded.
	probe, err := kubernetes.NewForConfigAndClient(cfg, &http.Client{Transport: hc.Transport, Timeout: c.timeout})
	if err != nil {
		return nil, err
	}
	return &Member{
		Name: name, Config: cfg, Client: cs, Dynamic: dyn,
		Informers:  informers.NewSharedInformerFactory(cs, 0),
		Endpoint:   cfg.Host,
		Secret:     secret,
		hash:       hash,
		probe:      probe,
		httpClient: hc,
		done:       make(chan struct{}),
	}, nil
}

// start registers and starts the nodes and pods informers.
func (m *Member) start(log logr.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	for _, inf := range m.coreInformers(log) {
		m.syncs = append(m.syncs, inf.HasSynced)
	}
	m.Informers.Start(ctx.Done())
}

func (m *Member) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.Informers.Shutdown()
	m.stopManaged()
	m.httpClient.CloseIdleConnections()
	close(m.done)
}

func (m *Member) String() string { return fmt.Sprintf("member %s at %s", m.Name, m.Endpoint) }
