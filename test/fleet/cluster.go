package fleet

import (
	"path/filepath"
	"strconv"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// cluster is the host or one member: an apiserver on its own port and etcd
// prefix, plus its controllers.
type cluster struct {
	name    string      // "host" or the member name; prefixes files
	context string      // kubeconfig context
	member  *MemberSpec // nil for the host
	port    int
	pki     *clusterPKI
	// profiling serves the apiserver's /debug/pprof (Options.HostProfiling).
	profiling bool
	// bare: a member that is only an apiserver (AddBareMember).
	bare bool

	kubeconfig     []byte // standalone, current context set
	kubeconfigPath string
	config         *rest.Config
	client         kubernetes.Interface

	mu        sync.Mutex // guards apiserver, which restarts replace
	apiserver *process
	// kcm, scheduler and kwok keep running across apiserver restarts.
	kcm, scheduler, kwok *process
}

func (c *cluster) endpoint() string { return "https://127.0.0.1:" + strconv.Itoa(c.port) }

func (c *cluster) currentAPIServer() *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apiserver
}

// etcdPrefix keeps each apiserver's keys apart in the one shared etcd.
func (c *cluster) etcdPrefix() string { return "/argosy/" + c.name }

func (c *cluster) apiserverArgs(etcdURL string, extra []string) []string {
	p := c.pki.path
	return append([]string{
		"--etcd-servers=" + etcdURL,
		"--etcd-prefix=" + c.etcdPrefix(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.port),
		// Unused with the files below, but keeps the default
		// /var/run/kubernetes out of the picture.
		"--cert-dir=" + c.pki.dir,
		"--tls-cert-file=" + p("apiserver.crt"),
		"--tls-private-key-file=" + p("apiserver.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--service-account-issuer=" + c.endpoint(),
		"--service-account-key-file=" + p("sa.pub"),
		"--service-account-signing-key-file=" + p("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// Endpoints reject 127.0.0.0/8 (DESIGN §5): without this the
		// apiserver keeps failing to publish itself in the kubernetes
		// Service.
		"--endpoint-reconciler-type=none",
		// Aggregated APIs served by local processes authenticate the
		// aggregator by this cert and trust the identity headers it sets.
		"--proxy-client-cert-file=" + p("front-proxy-client.crt"),
		"--proxy-client-key-file=" + p("front-proxy-client.key"),
		"--requestheader-client-ca-file=" + p("ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--profiling=" + strconv.FormatBool(c.profiling),
		// With clients still watching, a SIGTERM would otherwise wait out
		// the 60s request timeout before exiting; this mode drains
		// ordinary requests and then gives watches 2s.
		"--shutdown-send-retry-after=true",
	}, extra...)
}

func (c *cluster) kcmArgs(extra []string) []string {
	p := c.pki.path
	return append([]string{
		"--kubeconfig=" + c.kubeconfigPath,
		"--leader-elect=false",
		"--secure-port=0", // no health/metrics port: nothing scrapes it
		"--cluster-name=" + c.name,
		"--service-account-private-key-file=" + p("sa.key"),
		"--root-ca-file=" + p("ca.crt"),
		"--cluster-signing-cert-file=" + p("ca.crt"),
		"--cluster-signing-key-file=" + p("ca.key"),
		// Each controller acts as its own service account, so the RBAC
		// of a member behaves like a real cluster's.
		"--use-service-account-credentials=true",
		"--profiling=false",
	}, extra...)
}

func (c *cluster) schedulerArgs(extra []string) []string {
	return append([]string{
		"--kubeconfig=" + c.kubeconfigPath,
		"--leader-elect=false",
		"--secure-port=0",
		"--profiling=false",
	}, extra...)
}

func (c *cluster) kwokArgs(stagesDir string, extra []string) []string {
	args := []string{
		"--kubeconfig=" + c.kubeconfigPath,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=" + kwokNodeAnnotationValue,
		// Leases are what kube-controller-manager's node lifecycle
		// controller watches; the heartbeat-with-lease stage relies on them.
		"--node-lease-duration-seconds=40",
		// Pod IPs; the default /24 runs out at 254 pods per member.
		"--cidr=10.244.0.0/16",
		// No --server-address and no --node-port: kwok then serves no
		// port at all (no kubelet API, logs or exec are needed).
	}
	for _, s := range kwokStages {
		args = append(args, "--config="+filepath.Join(stagesDir, s))
	}
	return append(args, extra...)
}

// procName names a component's log and pid record: <cluster>-<component>.
func (c *cluster) procName(comp Component) string { return c.name + "-" + string(comp) }
