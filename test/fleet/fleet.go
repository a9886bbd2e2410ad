// Package fleet runs a local multi-cluster "fleet" from built binaries, with
// no container engine: a host control plane (etcd, kube-apiserver,
// kube-controller-manager) and member clusters (kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok with fake nodes), all on
// 127.0.0.1. One etcd serves every apiserver under its own --etcd-prefix.
//
// It backs `make local-up` (cmd/argosy-fleet), the e2e tests and the
// benchmarks. See DESIGN §5 for why this works without containers.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Fleet is a running fleet. Its methods are safe for concurrent use.
type Fleet struct {
	opts    Options
	log     logr.Logger
	sp      *spawner
	etcdURL string
	etcd    *process
	host    *cluster
	members []*cluster // in Options.Members order
	byName  map[string]*cluster

	mu      sync.Mutex
	extra   []*process // StartProcess, stopped first
	timing  Timing
	stopped bool
}

// Timing is how long the phases of Start took.
type Timing struct {
	// Total is the whole of Start, from options to every cluster ready.
	Total time.Duration
	// Setup covers ports, certificates and kubeconfigs.
	Setup time.Duration
	// Etcd is until etcd answered /health.
	Etcd time.Duration
	// APIServer is, per context, from starting the apiserver until /readyz.
	// The apiservers start together after etcd.
	APIServer map[string]time.Duration
	// Ready is, per context, from starting the apiserver until the
	// controllers run (default ServiceAccount exists) and every node is
	// Ready.
	Ready map[string]time.Duration
}

func (t Timing) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "total %s (setup %s, etcd %s", round(t.Total), round(t.Setup), round(t.Etcd))
	for _, k := range slices.Sorted(maps.Keys(t.Ready)) {
		fmt.Fprintf(&b, ", %s apiserver %s ready %s", k, round(t.APIServer[k]), round(t.Ready[k]))
	}
	b.WriteString(")")
	return b.String()
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

// Start starts a fleet in o.Dir and returns once every cluster is ready:
// apiservers answer /readyz, kube-controller-manager has created the default
// ServiceAccount, and every member node is Ready. ctx bounds only the
// start-up; the processes run until Stop. On error, everything started is
// stopped again.
func Start(ctx context.Context, o Options) (*Fleet, error) {
	begin := time.Now()
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &Fleet{
		opts:   o,
		log:    o.Logger,
		byName: map[string]*cluster{},
		timing: Timing{APIServer: map[string]time.Duration{}, Ready: map[string]time.Duration{}},
	}
	if err := f.prepareDir(); err != nil {
		return nil, err
	}
	if err := f.setup(); err != nil {
		return nil, err
	}
	f.timing.Setup = time.Since(begin)
	f.sp = newSpawner()
	if err := f.start(ctx); err != nil {
		f.log.Info("start failed, stopping what was started", "dir", o.Dir)
		return nil, errors.Join(err, f.Stop())
	}
	f.mu.Lock()
	f.timing.Total = time.Since(begin)
	f.mu.Unlock()
	f.log.Info("fleet up", "members", len(f.members), "duration", round(f.timing.Total),
		"timing", f.Timing().String(), "kubeconfig", f.KubeconfigPath())
	return f, nil
}

// prepareDir refuses a Dir whose fleet still runs, then clears what an
// earlier fleet left: its etcd data and certificates are of no use to a new
// one, whose CA differs.
func (f *Fleet) prepareDir() error {
	dir := f.opts.Dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := CheckDir(dir); err != nil {
		return err
	}
	recs, err := Records(dir)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Alive() {
			return fmt.Errorf("fleet: a fleet still runs in %s (pid %d, %s): stop it first (argosy-fleet down --dir %s)",
				dir, r.PID, filepath.Base(r.Path), dir)
		}
	}
	for _, sub := range []string{"etcd", "pki", "pids", "kubeconfigs", "kubeconfig", "kwok"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	for _, sub := range []string{"pids", "logs", "kubeconfigs", "kwok"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// CheckDir accepts a missing or empty dir, or one a fleet used before (it
// has pids/ or logs/). Start deletes etcd/, pki/, kubeconfig, ... in Dir, so
// it must never run in, say, a home directory given by mistake.
func CheckDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 && !isDir(filepath.Join(dir, "pids")) && !isDir(filepath.Join(dir, "logs")) {
		return fmt.Errorf("fleet: %s is neither empty nor a fleet's directory (no pids/ or logs/)", dir)
	}
	return nil
}

// setup picks ports and writes certificates and kubeconfigs.
func (f *Fleet) setup() error {
	o := f.opts
	ports, err := freePorts(3 + len(o.Members)) // etcd client+peer, apiservers
	if err != nil {
		return err
	}
	f.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	f.etcd = f.newProcess(hostName+"-"+string(Etcd), Etcd, []string{
		"--name=argosy-fleet",
		"--data-dir=" + filepath.Join(o.Dir, "etcd"),
		"--listen-client-urls=" + f.etcdURL,
		"--advertise-client-urls=" + f.etcdURL,
		"--listen-peer-urls=http://127.0.0.1:" + strconv.Itoa(ports[1]),
		"--initial-advertise-peer-urls=http://127.0.0.1:" + strconv.Itoa(ports[1]),
		"--initial-cluster=argosy-fleet=http://127.0.0.1:" + strconv.Itoa(ports[1]),
		// Throw-away data: durability is not worth the fsync latency,
		// which dominates apiserver start-up on slow disks.
		"--unsafe-no-fsync=true",
	}...)

	f.host = &cluster{name: hostName, context: HostContext, port: ports[2], profiling: o.HostProfiling}
	all := []*cluster{f.host}
	for i := range o.Members {
		m := &o.Members[i]
		c := &cluster{name: m.Name, context: m.Name, member: m, port: ports[3+i]}
		f.members = append(f.members, c)
		f.byName[m.Name] = c
		all = append(all, c)
	}
	for _, c := range all {
		if err := f.prepareCluster(c); err != nil {
			return err
		}
	}
	merged, err := kubeconfig(HostContext, all...)
	if err != nil {
		return err
	}
	return os.WriteFile(f.KubeconfigPath(), merged, 0o600)
}

// prepareCluster writes a cluster's certificates and kubeconfig and makes
// its admin client.
func (f *Fleet) prepareCluster(c *cluster) error {
	var err error
	if c.pki, err = newClusterPKI(filepath.Join(f.opts.Dir, "pki", c.name), c.name); err != nil {
		return err
	}
	if c.kubeconfig, err = kubeconfig(c.context, c); err != nil {
		return err
	}
	c.kubeconfigPath = filepath.Join(f.opts.Dir, "kubeconfigs", c.name+".kubeconfig")
	if err := os.WriteFile(c.kubeconfigPath, c.kubeconfig, 0o600); err != nil {
		return err
	}
	if c.config, err = restConfig(c.kubeconfig); err != nil {
		return err
	}
	c.client, err = kubernetes.NewForConfig(c.config)
	return err
}

func (f *Fleet) newProcess(name string, comp Component, args ...string) *process {
	return &process{
		name:    name,
		path:    filepath.Join(f.opts.BinDir, string(comp)),
		args:    append(args, f.opts.ExtraArgs[comp]...),
		logPath: filepath.Join(f.opts.Dir, "logs", name+".log"),
		recPath: filepath.Join(f.opts.Dir, "pids", name+".json"),
	}
}

// start runs etcd, then every cluster concurrently: each cluster only waits
// for its own apiserver, so the slowest apiserver bounds the start-up.
func (f *Fleet) start(ctx context.Context) error {
	t0 := time.Now()
	if err := f.etcd.start(f.sp, f.log); err != nil {
		return err
	}
	err := f.poll(ctx, "etcd /health", []*process{f.etcd}, func(ctx context.Context) (bool, error) {
		return etcdHealthy(ctx, f.etcdURL)
	})
	if err != nil {
		return err
	}
	f.timing.Etcd = time.Since(t0)
	f.log.V(1).Info("etcd ready", "url", f.etcdURL, "duration", round(f.timing.Etcd))

	g, gctx := errgroup.WithContext(ctx)
	for _, c := range f.clusters() {
		g.Go(func() error { return f.startCluster(gctx, c) })
	}
	return g.Wait()
}

func (f *Fleet) clusters() []*cluster { return append([]*cluster{f.host}, f.members...) }

func (f *Fleet) startCluster(ctx context.Context, c *cluster) error {
	t0 := time.Now()
	o := f.opts
	c.apiserver = f.newProcess(c.procName(KubeAPIServer), KubeAPIServer, c.apiserverArgs(f.etcdURL, nil)...)
	if err := c.apiserver.start(f.sp, f.log); err != nil {
		return err
	}
	if err := f.waitReadyz(ctx, c, c.apiserver); err != nil {
		return err
	}
	f.mu.Lock()
	f.timing.APIServer[c.context] = time.Since(t0)
	f.mu.Unlock()

	c.kcm = f.newProcess(c.procName(KubeControllerManager), KubeControllerManager, c.kcmArgs(nil)...)
	procs := []*process{c.apiserver, c.kcm}
	if c.member != nil {
		c.scheduler = f.newProcess(c.procName(KubeScheduler), KubeScheduler, c.schedulerArgs(nil)...)
		c.kwok = f.newProcess(c.procName(Kwok), Kwok, c.kwokArgs(filepath.Join(o.BinDir, "kwok-stages"), nil)...)
		// kwok reads ~/.kwok/kwok.yaml unless its work dir points elsewhere.
		c.kwok.env = []string{"KWOK_WORKDIR=" + filepath.Join(o.Dir, "kwok", c.name)}
		procs = append(procs, c.scheduler, c.kwok)
	}
	for _, p := range procs[1:] {
		if err := p.start(f.sp, f.log); err != nil {
			return err
		}
	}
	if c.member != nil {
		if err := createNodes(ctx, c.client, c.member, c.member.Nodes); err != nil {
			return err
		}
	}
	// The default ServiceAccount shows kube-controller-manager runs; pods
	// cannot be admitted before it exists.
	err := f.poll(ctx, c.name+" default ServiceAccount", procs, func(ctx context.Context) (bool, error) {
		_, err := c.client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
	if err != nil {
		return err
	}
	if c.member != nil {
		names := nodeNames(c.member.Nodes)
		err := f.poll(ctx, c.name+" nodes Ready", procs, func(ctx context.Context) (bool, error) {
			return nodesReady(ctx, c.client, names)
		})
		if err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.timing.Ready[c.context] = time.Since(t0)
	f.mu.Unlock()
	f.log.Info("cluster ready", "cluster", c.context, "endpoint", c.endpoint(), "duration", round(time.Since(t0)))
	return nil
}

// waitReadyz polls the apiserver's /readyz as the admin.
func (f *Fleet) waitReadyz(ctx context.Context, c *cluster, p *process) error {
	return f.poll(ctx, c.name+" kube-apiserver /readyz", []*process{p}, func(ctx context.Context) (bool, error) {
		return Readyz(ctx, c.client) == nil, nil
	})
}

// Readyz returns nil if the apiserver behind client answers /readyz with ok.
func Readyz(ctx context.Context, client kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err
}

// poll calls cond every 200ms until it is true. It fails early, with the log
// tail, if one of procs exits, and after Options.Timeout with cond's last
// error.
func (f *Fleet) poll(ctx context.Context, what string, procs []*process, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		for _, p := range procs {
			if p.exited() {
				return fmt.Errorf("fleet: waiting for %s: %s exited (%v); log %s ends:\n%s",
					what, p.name, p.err, p.logPath, p.logTail(30))
			}
		}
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fleet: waiting for %s: %w (last error: %v)", what, context.Cause(ctx), lastErr)
		case <-tick.C:
		}
	}
}

func etcdHealthy(ctx context.Context, url string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`), nil
}

// Stop stops every process, newest layer first (extra processes, then
// controllers and kwok, then apiservers, then etcd), each with SIGTERM and
// SIGKILL after a timeout, and waits for all of them. It is idempotent. The
// error names any recorded process still alive afterwards.
func (f *Fleet) Stop() error {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return nil
	}
	f.stopped = true
	extra := f.extra
	f.mu.Unlock()

	t0 := time.Now()
	stopAll := func(ps []*process) {
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Go(func() { p.stop(f.log) })
		}
		wg.Wait()
	}
	stopAll(extra)
	var ctrl, apis []*process
	for _, c := range f.clusters() {
		ctrl = append(ctrl, c.kwok, c.scheduler, c.kcm)
		apis = append(apis, c.currentAPIServer())
	}
	stopAll(ctrl)
	stopAll(apis)
	f.etcd.stop(f.log)
	// Ends the spawner's thread; Pdeathsig then takes down anything a
	// racing StartMemberAPIServer may have started meanwhile.
	f.sp.close()

	recs, err := Records(f.opts.Dir)
	for _, r := range recs {
		if r.Alive() {
			err = errors.Join(err, fmt.Errorf("fleet: %s (pid %d) still runs after Stop", r.File, r.PID))
		}
	}
	f.log.Info("fleet stopped", "dir", f.opts.Dir, "duration", round(time.Since(t0)))
	return err
}

func (f *Fleet) member(name string) (*cluster, error) {
	c, ok := f.lookup(name)
	if !ok {
		return nil, fmt.Errorf("fleet: no member %q", name)
	}
	if c.bare {
		return nil, fmt.Errorf("fleet: %q is a bare member (an apiserver only)", name)
	}
	return c, nil
}

// lookup finds a member, bare members included.
func (f *Fleet) lookup(name string) (*cluster, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byName[name]
	return c, ok
}

// StopMemberAPIServer stops one member's kube-apiserver, leaving its
// controllers, kwok and data in place (they reconnect after a restart).
func (f *Fleet) StopMemberAPIServer(name string) error {
	c, err := f.member(name)
	if err != nil {
		return err
	}
	c.currentAPIServer().stop(f.log)
	f.log.Info("stopped member apiserver", "member", name)
	return nil
}

// StartMemberAPIServer starts a member's kube-apiserver stopped by
// StopMemberAPIServer again, on the same port with the same certificates and
// etcd prefix, and waits for /readyz.
func (f *Fleet) StartMemberAPIServer(ctx context.Context, name string) error {
	c, err := f.member(name)
	if err != nil {
		return err
	}
	t0 := time.Now()
	// Held while starting, so Stop and Usage never see a half-started
	// process and two restarts cannot race.
	c.mu.Lock()
	old := c.apiserver
	if !old.exited() {
		c.mu.Unlock()
		return fmt.Errorf("fleet: the apiserver of %s still runs", name)
	}
	p := &process{name: old.name, path: old.path, args: old.args, env: old.env,
		logPath: old.logPath, recPath: old.recPath, appendLog: true}
	err = p.start(f.sp, f.log)
	if err == nil {
		c.apiserver = p
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.waitReadyz(ctx, c, p); err != nil {
		return err
	}
	f.log.Info("started member apiserver", "member", name, "duration", round(time.Since(t0)))
	return nil
}

// AddNodes creates more fake nodes in a member and waits until they are
// Ready. Unset node fields take the same defaults as in Options.
func (f *Fleet) AddNodes(ctx context.Context, member string, nodes ...NodeSpec) error {
	c, err := f.member(member)
	if err != nil {
		return err
	}
	nodes, err = nodesWithDefaults(nodes)
	if err != nil {
		return err
	}
	if err := createNodes(ctx, c.client, c.member, nodes); err != nil {
		return err
	}
	return f.poll(ctx, member+" new nodes Ready", []*process{c.kwok}, func(ctx context.Context) (bool, error) {
		return nodesReady(ctx, c.client, nodeNames(nodes))
	})
}

// DeleteNodes deletes fake nodes from a member and waits until they are
// gone, then force-deletes the Pods still bound to them: nothing runs them
// any more, and Pods that only disappear when the pod garbage collector
// gets to them would keep counting against the member's capacity.
func (f *Fleet) DeleteNodes(ctx context.Context, member string, names ...string) error {
	c, err := f.member(member)
	if err != nil {
		return err
	}
	if err := deleteNodes(ctx, c.client, names); err != nil {
		return fmt.Errorf("fleet: %s: %w", member, err)
	}
	err = f.poll(ctx, member+" nodes deleted", []*process{c.kwok}, func(ctx context.Context) (bool, error) {
		return nodesGone(ctx, c.client, names)
	})
	if err != nil {
		return err
	}
	if err := deletePodsOn(ctx, c.client, names); err != nil {
		return fmt.Errorf("fleet: %s: %w", member, err)
	}
	return nil
}

// ProcessSpec describes an extra process run next to the fleet, such as the
// Argosy manager in `make local-up`.
type ProcessSpec struct {
	// Name names the log (Dir/logs/<Name>.log) and pid record.
	Name string
	Path string
	Args []string
	// Env is added to the inherited environment.
	Env []string
}

// StartProcess starts an extra process that Stop (and `argosy-fleet down`)
// stops before the clusters. It does not wait for the process to be ready.
func (f *Fleet) StartProcess(spec ProcessSpec) error {
	if spec.Name == "" || strings.ContainsAny(spec.Name, `/\`) {
		return fmt.Errorf("fleet: invalid process name %q", spec.Name)
	}
	p := &process{
		name: spec.Name, path: spec.Path, args: spec.Args, env: spec.Env,
		logPath: filepath.Join(f.opts.Dir, "logs", spec.Name+".log"),
		recPath: filepath.Join(f.opts.Dir, "pids", spec.Name+".json"),
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return errStopped
	}
	for _, q := range f.extra {
		if q.name == spec.Name {
			return fmt.Errorf("fleet: process %q already started", spec.Name)
		}
	}
	if err := p.start(f.sp, f.log); err != nil {
		return err
	}
	f.extra = append(f.extra, p)
	return nil
}

// Dir is the fleet's working directory.
func (f *Fleet) Dir() string { return f.opts.Dir }

// LogDir holds one log per process: <cluster>-<component>.log.
func (f *Fleet) LogDir() string { return filepath.Join(f.opts.Dir, "logs") }

// KubeconfigPath is Dir/kubeconfig: contexts argosy-host (current) and one
// per member.
func (f *Fleet) KubeconfigPath() string { return filepath.Join(f.opts.Dir, "kubeconfig") }

// HostConfig is an admin client config for the host (a copy to modify).
func (f *Fleet) HostConfig() *rest.Config { return rest.CopyConfig(f.host.config) }

// HostKubeconfig is a standalone admin kubeconfig for the host.
func (f *Fleet) HostKubeconfig() []byte { return slices.Clone(f.host.kubeconfig) }

// MemberNames are the members in Options order.
func (f *Fleet) MemberNames() []string {
	names := make([]string, len(f.members))
	for i, c := range f.members {
		names[i] = c.name
	}
	return names
}

// Member returns the spec a member was started with (nodes added later by
// AddNodes not included), and false for an unknown name.
func (f *Fleet) Member(name string) (MemberSpec, bool) {
	c, ok := f.lookup(name)
	if !ok {
		return MemberSpec{}, false
	}
	m := *c.member
	m.Labels = maps.Clone(m.Labels)
	m.Nodes = slices.Clone(m.Nodes)
	for i := range m.Nodes {
		m.Nodes[i].Labels = maps.Clone(m.Nodes[i].Labels)
	}
	return m, true
}

// MemberConfig is an admin client config for a member (a copy to modify), or
// nil for an unknown name.
func (f *Fleet) MemberConfig(name string) *rest.Config {
	if c, ok := f.lookup(name); ok {
		return rest.CopyConfig(c.config)
	}
	return nil
}

// MemberKubeconfig is a standalone admin kubeconfig (certs embedded,
// context = member name) for one member, as stored in a Secret to register
// the member; nil for an unknown name.
func (f *Fleet) MemberKubeconfig(name string) []byte {
	if c, ok := f.lookup(name); ok {
		return slices.Clone(c.kubeconfig)
	}
	return nil
}

// MemberKubeconfigPath is the file with MemberKubeconfig, or "".
func (f *Fleet) MemberKubeconfigPath(name string) string {
	if c, ok := f.lookup(name); ok {
		return c.kubeconfigPath
	}
	return ""
}

// MemberEndpoint is a member's apiserver URL (https://127.0.0.1:<port>), or "".
func (f *Fleet) MemberEndpoint(name string) string {
	if c, ok := f.lookup(name); ok {
		return c.endpoint()
	}
	return ""
}

// Timing reports how long Start took.
func (f *Fleet) Timing() Timing {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.timing
	t.APIServer, t.Ready = maps.Clone(t.APIServer), maps.Clone(t.Ready)
	return t
}

// ProcessUsage is one running process of the fleet.
type ProcessUsage struct {
	Name string
	PID  int
	RSS  int64 // bytes
}

// Usage lists the fleet's running processes with their resident memory.
func (f *Fleet) Usage() []ProcessUsage {
	var ps []*process
	f.mu.Lock()
	ps = append(ps, f.extra...)
	f.mu.Unlock()
	ps = append(ps, f.etcd)
	for _, c := range f.clusters() {
		ps = append(ps, c.currentAPIServer(), c.kcm, c.scheduler, c.kwok)
	}
	var out []ProcessUsage
	for _, p := range ps {
		if p == nil || p.cmd == nil || p.exited() {
			continue
		}
		pid := p.cmd.Process.Pid
		out = append(out, ProcessUsage{Name: p.name, PID: pid, RSS: rss(pid)})
	}
	return out
}

// TotalRSS sums Usage.
func TotalRSS(us []ProcessUsage) int64 {
	var n int64
	for _, u := range us {
		n += u.RSS
	}
	return n
}

// extraProcess returns the extra process called name.
func (f *Fleet) extraProcess(name string) (*process, error) {
	for _, p := range f.extra {
		if p.name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("fleet: no process %q", name)
}

// StopProcess stops the extra process called name (SIGTERM, then SIGKILL)
// and returns once it exited. ResumeProcess starts it again.
func (f *Fleet) StopProcess(name string) error {
	f.mu.Lock()
	p, err := f.extraProcess(name)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	p.stop(f.log)
	return nil
}

// KillProcess kills the extra process called name with SIGKILL, as a crash
// would (no graceful shutdown, unlike StopProcess), and returns once it
// exited. ResumeProcess starts it again.
func (f *Fleet) KillProcess(name string) error {
	f.mu.Lock()
	p, err := f.extraProcess(name)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	p.kill(f.log)
	return nil
}

// ResumeProcess starts the stopped extra process called name again with
// the same command line, appending to its log.
func (f *Fleet) ResumeProcess(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return errStopped
	}
	p, err := f.extraProcess(name)
	if err != nil {
		return err
	}
	if p.cmd != nil && !p.exited() {
		return fmt.Errorf("fleet: process %q is running", name)
	}
	p.appendLog = true
	return p.start(f.sp, f.log)
}

// ProcessArgs returns the command-line arguments of the extra process
// called name.
func (f *Fleet) ProcessArgs(name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.extraProcess(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(p.args), nil
}

// ProcessPeakRSS returns the peak resident set size (VmHWM) in bytes of
// the running extra process called name.
func (f *Fleet) ProcessPeakRSS(name string) (int64, error) {
	f.mu.Lock()
	p, err := f.extraProcess(name)
	f.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if p.cmd == nil || p.exited() {
		return 0, fmt.Errorf("fleet: process %q is not running", name)
	}
	return procStatusBytes(p.cmd.Process.Pid, "VmHWM:"), nil
}
