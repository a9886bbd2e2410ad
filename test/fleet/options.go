package fleet

import (
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// HostContext is the kubeconfig context (and cluster name) of the host control
// plane. Members use their own name as context.
const HostContext = "argosy-host"

// hostName names the host in file names (logs, pki, pid records).
const hostName = "host"

// Component names a binary of the fleet; ExtraArgs is keyed by it.
type Component string

const (
	Etcd                  Component = "etcd"
	KubeAPIServer         Component = "kube-apiserver"
	KubeControllerManager Component = "kube-controller-manager"
	KubeScheduler         Component = "kube-scheduler"
	Kwok                  Component = "kwok"
)

// Options configure a fleet.
type Options struct {
	// BinDir holds kube-apiserver, kube-controller-manager, kube-scheduler,
	// etcd, kwok and kwok-stages/ (see BinDir).
	BinDir string
	// Dir is the working directory: kubeconfig, kubeconfigs/, pki/, etcd/,
	// logs/ and pids/. It is created if missing. State from an earlier,
	// stopped fleet in Dir is wiped; Start refuses a Dir whose fleet still runs.
	Dir string
	// Members are the member clusters, started next to the host.
	Members []MemberSpec
	// Logger receives progress; the zero value discards it.
	Logger logr.Logger
	// Timeout bounds how long Start waits for a cluster to become ready;
	// default 3 minutes (2 cores shared by every process of the fleet).
	Timeout time.Duration
	// ExtraArgs are appended to the command line of every process of a
	// component, e.g. {KubeAPIServer: {"--feature-gates=..."}}.
	ExtraArgs map[Component][]string
	// HostProfiling serves /debug/pprof on the host kube-apiserver (for the
	// admin); every other process of the fleet runs with --profiling=false.
	HostProfiling bool
}

// MemberSpec describes one member cluster.
type MemberSpec struct {
	// Name is the member's kubeconfig context and a DNS label.
	Name string
	// Region and Zone are the default topology labels of the member's nodes.
	Region, Zone string
	// Provider is informational (e.g. for a Cluster object); nodes get it as
	// the argosy.dev/provider label when set.
	Provider string
	// Labels are put on every node of the member.
	Labels map[string]string
	// Nodes are created fake nodes managed by kwok.
	Nodes []NodeSpec
}

// NodeSpec describes one fake node.
type NodeSpec struct {
	Name string
	// CPU, Memory and Pods are quantities for capacity and allocatable;
	// defaults 8, 32Gi and 110.
	CPU, Memory, Pods string
	// Labels are added to the node, after the member's labels.
	Labels map[string]string
	// Region and Zone override the member's.
	Region, Zone string
}

// Node label and annotation keys the fleet sets.
const (
	LabelRegion   = "topology.kubernetes.io/region"
	LabelZone     = "topology.kubernetes.io/zone"
	LabelProvider = "argosy.dev/provider"
	LabelMember   = "argosy.dev/member"
	// kwok only manages nodes with this annotation, so a fleet never
	// fights kwok over nodes it did not create.
	KwokNodeAnnotation      = "kwok.x-k8s.io/node"
	kwokNodeAnnotationValue = "fake"
)

var defaultRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-1"}

// DefaultMembers returns member1..memberN, each with two nodes of 8 CPU,
// 32Gi and 110 pods, in a region cycling through us-east-1, eu-west-1 and
// ap-southeast-1 (zone "<region>a"), provider "kwok".
func DefaultMembers(n int) []MemberSpec {
	members := make([]MemberSpec, 0, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("member%d", i)
		region := defaultRegions[(i-1)%len(defaultRegions)]
		m := MemberSpec{Name: name, Region: region, Zone: region + "a", Provider: "kwok"}
		for j := 1; j <= 2; j++ {
			m.Nodes = append(m.Nodes, NodeSpec{Name: fmt.Sprintf("%s-node-%d", name, j)})
		}
		members = append(members, m)
	}
	return members
}

// withDefaults validates o and returns a copy with defaults filled in, so
// later code never mutates the caller's slices or maps.
func (o Options) withDefaults() (Options, error) {
	if o.BinDir == "" {
		return o, fmt.Errorf("fleet: Options.BinDir is empty (see fleet.BinDir)")
	}
	if o.Dir == "" {
		return o, fmt.Errorf("fleet: Options.Dir is empty")
	}
	var err error
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return o, err
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return o, err
	}
	if err := CheckBinDir(o.BinDir); err != nil {
		return o, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Minute
	}
	seen := map[string]bool{hostName: true, HostContext: true}
	members := make([]MemberSpec, len(o.Members))
	for i, m := range o.Members {
		if errs := validation.IsDNS1123Label(m.Name); len(errs) > 0 {
			return o, fmt.Errorf("fleet: member name %q: %v", m.Name, errs)
		}
		if seen[m.Name] {
			return o, fmt.Errorf("fleet: member name %q is reserved or used twice", m.Name)
		}
		seen[m.Name] = true
		m.Labels = maps.Clone(m.Labels)
		nodes, err := nodesWithDefaults(m.Nodes)
		if err != nil {
			return o, fmt.Errorf("fleet: member %s: %w", m.Name, err)
		}
		m.Nodes = nodes
		members[i] = m
	}
	o.Members = members
	return o, nil
}

func nodesWithDefaults(in []NodeSpec) ([]NodeSpec, error) {
	seen := map[string]bool{}
	out := make([]NodeSpec, len(in))
	for i, n := range in {
		if errs := validation.IsDNS1123Subdomain(n.Name); len(errs) > 0 {
			return nil, fmt.Errorf("node name %q: %v", n.Name, errs)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("node name %q used twice", n.Name)
		}
		seen[n.Name] = true
		n.CPU = orDefault(n.CPU, "8")
		n.Memory = orDefault(n.Memory, "32Gi")
		n.Pods = orDefault(n.Pods, "110")
		for _, q := range []string{n.CPU, n.Memory, n.Pods} {
			if _, err := resource.ParseQuantity(q); err != nil {
				return nil, fmt.Errorf("node %s: %q: %w", n.Name, q, err)
			}
		}
		n.Labels = maps.Clone(n.Labels)
		out[i] = n
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
