package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/member"
)

// Ready reasons beyond those of the API package, so that a user can tell a
// CA mismatch and rejected credentials from a member that is down.
const (
	// ReasonTLSHandshakeFailed: the TLS handshake with the member failed,
	// most often because its serving certificate is not signed by the CA in
	// the credentials Secret.
	ReasonTLSHandshakeFailed = "TLSHandshakeFailed"
	// ReasonCredentialsRejected: the member answered 401 or 403 to the
	// credentials in the Secret.
	ReasonCredentialsRejected = "CredentialsRejected"
)

// readyMessage is Karmada's message for a healthy cluster.
const readyMessage = "cluster is healthy and ready to accept workloads"

// readyCondition is the Ready condition for a probe result: True when err is
// nil, otherwise False with the reason for the error's kind and its message.
func readyCondition(err error) metav1.Condition {
	if err == nil {
		return metav1.Condition{
			Type: clusterv1alpha1.ClusterConditionReady, Status: metav1.ConditionTrue,
			Reason: clusterv1alpha1.ClusterReasonReady, Message: readyMessage,
		}
	}
	reason := clusterv1alpha1.ClusterReasonNotReachable
	switch member.KindOf(err) {
	case member.KindCredentials:
		reason = clusterv1alpha1.ClusterReasonCredentialsUnavailable
	case member.KindTLS:
		reason = ReasonTLSHandshakeFailed
	case member.KindUnauthorized:
		reason = ReasonCredentialsRejected
	case member.KindUnhealthy:
		reason = clusterv1alpha1.ClusterReasonNotReady
	}
	return metav1.Condition{
		Type: clusterv1alpha1.ClusterConditionReady, Status: metav1.ConditionFalse,
		Reason: reason, Message: err.Error(),
	}
}

// apiEnablements lists what the member serves, per group version, sorted,
// without subresources. A partial discovery failure keeps what was found
// and says which groups failed in the CompleteAPIEnablements condition; a
// total failure returns ok=false so that the previous list stays.
func apiEnablements(d discovery.DiscoveryInterface) (enablements []clusterv1alpha1.APIEnablement, cond metav1.Condition, ok bool) {
	cond = metav1.Condition{Type: clusterv1alpha1.ClusterConditionCompleteAPIEnablements}
	_, lists, err := d.ServerGroupsAndResources()
	var failed *discovery.ErrGroupDiscoveryFailed
	partial := errors.As(err, &failed)
	if err != nil && (!partial || len(lists) == 0) {
		cond.Status, cond.Reason = metav1.ConditionFalse, clusterv1alpha1.APIEnablementsReasonEmpty
		cond.Message = fmt.Sprintf("discovery of the member's APIs failed: %v", err)
		return nil, cond, false
	}
	for _, l := range lists {
		if l == nil {
			continue
		}
		e := clusterv1alpha1.APIEnablement{GroupVersion: l.GroupVersion}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			e.Resources = append(e.Resources, clusterv1alpha1.APIResource{Name: r.Name, Kind: r.Kind})
		}
		if len(e.Resources) == 0 {
			continue
		}
		slices.SortFunc(e.Resources, func(a, b clusterv1alpha1.APIResource) int { return strings.Compare(a.Name, b.Name) })
		enablements = append(enablements, e)
	}
	slices.SortFunc(enablements, func(a, b clusterv1alpha1.APIEnablement) int { return strings.Compare(a.GroupVersion, b.GroupVersion) })
	if partial {
		var gvs []string
		for gv, gerr := range failed.Groups {
			gvs = append(gvs, fmt.Sprintf("%s (%v)", gv, gerr))
		}
		slices.Sort(gvs)
		cond.Status, cond.Reason = metav1.ConditionFalse, clusterv1alpha1.APIEnablementsReasonPartial
		cond.Message = "discovery failed for " + strings.Join(gvs, ", ")
		return enablements, cond, true
	}
	cond.Status, cond.Reason = metav1.ConditionTrue, clusterv1alpha1.APIEnablementsReasonComplete
	cond.Message = fmt.Sprintf("discovery listed %d group versions", len(enablements))
	return enablements, cond, true
}

// nodesAndPods is what summaries read of a member (its informers).
type nodesAndPods interface {
	Nodes() ([]*corev1.Node, error)
	PodsOnNode(string) ([]*corev1.Pod, error)
	UnscheduledPods() ([]*corev1.Pod, error)
}

// summarize counts the member's nodes and sums its resources:
//
//   - allocatable: over Ready nodes (a node that is not Ready takes no pods);
//   - allocated: requests of the active pods bound to those nodes, plus
//     their number as "pods" (pods on nodes that are not Ready are left out
//     with their nodes, so that allocatable-allocated stays what is free);
//   - allocating: requests of pending pods that no node was chosen for yet,
//     plus their number.
func summarize(m nodesAndPods) (*clusterv1alpha1.NodeSummary, *clusterv1alpha1.ResourceSummary, error) {
	nodes, err := m.Nodes()
	if err != nil {
		return nil, nil, err
	}
	ns := &clusterv1alpha1.NodeSummary{TotalNum: int32(len(nodes))}
	allocatable, allocated, allocating := corev1.ResourceList{}, corev1.ResourceList{}, corev1.ResourceList{}
	var boundPods, pendingPods int64
	for _, n := range nodes {
		if !member.NodeReady(n) {
			continue
		}
		ns.ReadyNum++
		member.AddResources(allocatable, n.Status.Allocatable)
		pods, err := m.PodsOnNode(n.Name)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range pods {
			member.AddResources(allocated, member.PodRequests(p))
			boundPods++
		}
	}
	unscheduled, err := m.UnscheduledPods()
	if err != nil {
		return nil, nil, err
	}
	for _, p := range unscheduled {
		if p.Status.Phase != corev1.PodPending || p.DeletionTimestamp != nil {
			continue
		}
		member.AddResources(allocating, member.PodRequests(p))
		pendingPods++
	}
	allocated[corev1.ResourcePods] = *resourceCount(boundPods)
	allocating[corev1.ResourcePods] = *resourceCount(pendingPods)
	rs := &clusterv1alpha1.ResourceSummary{
		Allocatable: nilIfEmpty(allocatable),
		Allocated:   allocated,
		Allocating:  allocating,
	}
	return ns, rs, nil
}

func nilIfEmpty(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return nil
	}
	return l
}
