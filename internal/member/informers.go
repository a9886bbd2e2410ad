package member

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
)

// NodeNameIndex indexes the member's pods by spec.nodeName; pods not yet
// scheduled are under "".
const NodeNameIndex = "spec.nodeName"

// activePods is the kube-scheduler's own pod selector: Succeeded and Failed
// pods hold no resources, and on busy members they are most of the pods.
var activePods = fields.ParseSelectorOrDie("status.phase!=" + string(corev1.PodSucceeded) + ",status.phase!=" + string(corev1.PodFailed))

// coreInformers registers the nodes and pods informers of the factory with
// their transforms, index and error handlers, and returns them.
func (m *Member) coreInformers(log logr.Logger) []cache.SharedIndexInformer {
	nodes := m.Informers.InformerFor(&corev1.Node{}, func(cs kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		inf := coreinformers.NewNodeInformer(cs, resync, cache.Indexers{})
		_ = inf.SetTransform(TrimNode) // only fails once started
		return inf
	})
	pods := m.Informers.InformerFor(&corev1.Pod{}, func(cs kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		inf := coreinformers.NewFilteredPodInformer(cs, metav1.NamespaceAll, resync,
			cache.Indexers{NodeNameIndex: podNodeName},
			func(o *metav1.ListOptions) { o.FieldSelector = activePods.String() })
		_ = inf.SetTransform(TrimPod)
		return inf
	})
	for kind, inf := range map[string]cache.SharedIndexInformer{"nodes": nodes, "pods": pods} {
		_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			m.syncErr.set(kind, err)
			// The reflector retries with backoff; this only says why.
			log.V(1).Info("listing or watching the member failed", "resource", kind, "error", err.Error())
		})
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { m.syncErr.clear(kind) },
			UpdateFunc: func(any, any) { m.syncErr.clear(kind) },
		})
	}
	return []cache.SharedIndexInformer{nodes, pods}
}

func podNodeName(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	return []string{p.Spec.NodeName}, nil
}

// Nodes lists the member's nodes from the informer (trimmed by TrimNode).
// The objects are shared with the cache: do not modify them.
func (m *Member) Nodes() ([]*corev1.Node, error) {
	return m.Informers.Core().V1().Nodes().Lister().List(labels.Everything())
}

// PodsOnNode lists the member's active pods scheduled to node, through an
// index (trimmed by TrimPod; shared with the cache: do not modify them).
func (m *Member) PodsOnNode(node string) ([]*corev1.Pod, error) {
	if node == "" {
		return nil, fmt.Errorf("PodsOnNode needs a node name; use UnscheduledPods for pods without one")
	}
	return m.podsByNode(node)
}

// UnscheduledPods lists the member's pods that no node has been chosen for.
func (m *Member) UnscheduledPods() ([]*corev1.Pod, error) { return m.podsByNode("") }

func (m *Member) podsByNode(node string) ([]*corev1.Pod, error) {
	objs, err := m.Informers.Core().V1().Pods().Informer().GetIndexer().ByIndex(NodeNameIndex, node)
	if err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// TrimPod is the pods informer's transform: it keeps only what scheduling
// and resource summaries read (identity, labels, owners, node, requests of
// containers, init containers and the pod, overhead, priority, phase) and
// drops the rest (env, volumes, probes, managed fields, statuses), which is
// most of a pod's memory. Objects it does not know pass unchanged.
func TrimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              p.Name,
			Namespace:         p.Namespace,
			UID:               p.UID,
			ResourceVersion:   p.ResourceVersion,
			Labels:            p.Labels,
			OwnerReferences:   p.OwnerReferences,
			DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{
			NodeName:       p.Spec.NodeName,
			SchedulerName:  p.Spec.SchedulerName,
			Priority:       p.Spec.Priority,
			Overhead:       p.Spec.Overhead,
			Containers:     trimContainers(p.Spec.Containers),
			InitContainers: trimContainers(p.Spec.InitContainers),
		},
		Status: corev1.PodStatus{Phase: p.Status.Phase},
	}
	if p.Spec.Resources != nil {
		out.Spec.Resources = &corev1.ResourceRequirements{Requests: p.Spec.Resources.Requests}
	}
	return out, nil
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{
			Name:          c.Name,
			RestartPolicy: c.RestartPolicy,
			Resources:     corev1.ResourceRequirements{Requests: c.Resources.Requests},
		}
	}
	return out
}

// TrimNode is the nodes informer's transform: it drops managed fields and
// the node's image list and volume lists, which can be most of its size.
func TrimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	n.ManagedFields = nil
	n.Status.Images = nil
	n.Status.VolumesInUse = nil
	n.Status.VolumesAttached = nil
	return n, nil
}

// PodRequests is what the kube-scheduler reserves for a pod: the sum of its
// containers' requests and of its sidecars (restartable init containers),
// or the largest need of the init phase when greater; pod-level requests
// where they are set; plus the runtime overhead.
func PodRequests(p *corev1.Pod) corev1.ResourceList {
	reqs := corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		AddResources(reqs, c.Resources.Requests)
	}
	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for _, c := range p.Spec.InitContainers {
		var need corev1.ResourceList
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			AddResources(reqs, c.Resources.Requests)
			AddResources(sidecars, c.Resources.Requests)
			need = sidecars.DeepCopy()
		} else {
			need = c.Resources.Requests.DeepCopy()
			if need == nil {
				need = corev1.ResourceList{}
			}
			AddResources(need, sidecars)
		}
		maxTo(initMax, need)
	}
	maxTo(reqs, initMax)
	if p.Spec.Resources != nil {
		for name, q := range p.Spec.Resources.Requests {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				reqs[name] = q.DeepCopy()
			}
		}
	}
	AddResources(reqs, p.Spec.Overhead)
	return reqs
}

// AddResources adds src to dst in place.
func AddResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		cur := dst[name]
		cur.Add(q)
		dst[name] = cur
	}
}

func maxTo(dst, src corev1.ResourceList) {
	for name, q := range src {
		if cur, ok := dst[name]; !ok || q.Cmp(cur) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}

// syncErrors keeps the latest list/watch error per informer.
type syncErrors struct {
	mu   sync.Mutex
	errs map[string]error
}

func (s *syncErrors) set(kind string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errs == nil {
		s.errs = map[string]error{}
	}
	s.errs[kind] = err
}

func (s *syncErrors) clear(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.errs, kind)
}

func (s *syncErrors) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for kind, err := range s.errs {
		return fmt.Errorf("%s: %w", kind, err)
	}
	return nil
}

func newRateLimiter(qps float32, burst int) flowcontrol.RateLimiter {
	return flowcontrol.NewTokenBucketRateLimiter(qps, burst)
}

// NodeReady reports whether the node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
