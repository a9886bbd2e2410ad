package fleet

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// nodeObject builds the Node for spec n of member m. The node carries no
// taint, so ordinary pods schedule onto it; status.capacity/allocatable are
// set at creation (the Node create strategy keeps status, as kubelet relies
// on) and kwok's node-initialize stage keeps them while adding conditions.
func nodeObject(m *MemberSpec, n NodeSpec) *corev1.Node {
	region, zone := orDefault(n.Region, m.Region), orDefault(n.Zone, m.Zone)
	labels := map[string]string{
		corev1.LabelHostname:   n.Name,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: runtime.GOARCH,
		LabelMember:            m.Name,
		"type":                 "kwok",
	}
	if region != "" {
		labels[LabelRegion] = region
	}
	if zone != "" {
		labels[LabelZone] = zone
	}
	if m.Provider != "" {
		labels[LabelProvider] = m.Provider
	}
	maps.Copy(labels, m.Labels)
	maps.Copy(labels, n.Labels)

	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(n.CPU),
		corev1.ResourceMemory: resource.MustParse(n.Memory),
		corev1.ResourcePods:   resource.MustParse(n.Pods),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        n.Name,
			Labels:      labels,
			Annotations: map[string]string{KwokNodeAnnotation: kwokNodeAnnotationValue},
		},
		Status: corev1.NodeStatus{
			Capacity:    res,
			Allocatable: res.DeepCopy(),
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    runtime.GOARCH,
				OperatingSystem: "linux",
			},
		},
	}
}

// createNodes creates the nodes; existing ones are left alone, so a retried
// AddNodes is harmless.
func createNodes(ctx context.Context, c kubernetes.Interface, m *MemberSpec, nodes []NodeSpec) error {
	for _, n := range nodes {
		_, err := c.CoreV1().Nodes().Create(ctx, nodeObject(m, n), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("fleet: create node %s in %s: %w", n.Name, m.Name, err)
		}
	}
	return nil
}

// deleteNodes deletes the named nodes; missing ones are fine.
func deleteNodes(ctx context.Context, c kubernetes.Interface, names []string) error {
	for _, name := range names {
		err := c.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete node %s: %w", name, err)
		}
	}
	return nil
}

// nodesGone reports whether none of the named nodes exists any more.
func nodesGone(ctx context.Context, c kubernetes.Interface, names []string) (bool, error) {
	for _, name := range names {
		_, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return false, nil
		}
		if !apierrors.IsNotFound(err) {
			return false, err
		}
	}
	return true, nil
}

// deletePodsOn deletes, without a grace period, every Pod bound to one of
// the named nodes.
func deletePodsOn(ctx context.Context, c kubernetes.Interface, nodes []string) error {
	for _, node := range nodes {
		pods, err := c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			return fmt.Errorf("list pods on node %s: %w", node, err)
		}
		for _, p := range pods.Items {
			err := c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete pod %s/%s of node %s: %w", p.Namespace, p.Name, node, err)
			}
		}
	}
	return nil
}

// nodesReady reports whether every named node exists with Ready=True and
// without the not-ready taint, which kube-controller-manager's node
// lifecycle controller removes a moment after the node turns Ready; until
// then no ordinary Pod schedules there.
func nodesReady(ctx context.Context, c kubernetes.Interface, names []string) (bool, error) {
	list, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	ready := map[string]bool{}
	for _, n := range list.Items {
		ready[n.Name] = NodeReady(&n) && !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable
		})
	}
	for _, name := range names {
		if !ready[name] {
			return false, nil
		}
	}
	return true, nil
}

// NodeReady reports whether n's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeNames(nodes []NodeSpec) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names
}
