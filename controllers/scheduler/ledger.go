package scheduler

import (
	"encoding/json"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// ledger remembers, per cluster, what every binding has been assigned but
// the member does not show yet: assigned replicas minus the replicas the
// binding's aggregated status reports for that cluster, times the
// per-replica request. The scheduler subtracts the other bindings' share
// from a cluster's free capacity, so that workloads scheduled at the same
// time do not all count the same free room (Karmada's overcommit).
//
// It is fed by the binding informer's events, so each scheduling pass reads
// a running total instead of walking every binding.
type ledger struct {
	mu sync.RWMutex
	// byBinding[binding][cluster] is that binding's reservation.
	byBinding map[types.NamespacedName]map[string]reservation
	// total[cluster] is the sum over bindings.
	total map[string]reservation
}

// reservation is requested resources plus a pod count.
type reservation struct {
	Resources corev1.ResourceList
	Pods      int64
}

func newLedger() *ledger {
	return &ledger{byBinding: map[types.NamespacedName]map[string]reservation{}, total: map[string]reservation{}}
}

// set replaces the binding's reservations with those derived from rb.
func (l *ledger) set(rb *workv1alpha1.ResourceBinding) {
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	next := reservations(rb)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, r := range l.byBinding[key] {
		l.total[c] = sub(l.total[c], r)
	}
	for c, r := range next {
		l.total[c] = add(l.total[c], r)
	}
	if len(next) == 0 {
		delete(l.byBinding, key)
		return
	}
	l.byBinding[key] = next
}

func (l *ledger) remove(key types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, r := range l.byBinding[key] {
		l.total[c] = sub(l.total[c], r)
	}
	delete(l.byBinding, key)
}

// pendingExcept is what cluster holds for bindings other than key.
func (l *ledger) pendingExcept(cluster string, key types.NamespacedName) reservation {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return sub(l.total[cluster], l.byBinding[key][cluster])
}

func reservations(rb *workv1alpha1.ResourceBinding) map[string]reservation {
	if len(rb.Spec.Clusters) == 0 || rb.DeletionTimestamp != nil {
		return nil
	}
	var per corev1.ResourceList
	if rb.Spec.ReplicaRequirements != nil {
		per = rb.Spec.ReplicaRequirements.ResourceRequest
	}
	seen := visibleReplicas(rb)
	out := map[string]reservation{}
	for _, tc := range rb.Spec.Clusters {
		n := int64(tc.Replicas) - seen[tc.Name]
		if n <= 0 {
			continue
		}
		r := reservation{Pods: n, Resources: corev1.ResourceList{}}
		for name, q := range per {
			total := q.DeepCopy()
			total.Mul(n)
			r.Resources[name] = total
		}
		out[tc.Name] = r
	}
	return out
}

// visibleReplicas reads, per cluster, how many replicas the member already
// runs for this binding, from the aggregated status the status controller
// writes (a Deployment-like `replicas` field).
func visibleReplicas(rb *workv1alpha1.ResourceBinding) map[string]int64 {
	out := map[string]int64{}
	for _, item := range rb.Status.AggregatedStatus {
		if item.Status == nil || len(item.Status.Raw) == 0 {
			continue
		}
		var s struct {
			Replicas int64 `json:"replicas"`
		}
		if json.Unmarshal(item.Status.Raw, &s) == nil {
			out[item.ClusterName] = s.Replicas
		}
	}
	return out
}

func add(a, b reservation) reservation {
	out := reservation{Pods: a.Pods + b.Pods, Resources: corev1.ResourceList{}}
	for n, q := range a.Resources {
		out.Resources[n] = q.DeepCopy()
	}
	for n, q := range b.Resources {
		cur := out.Resources[n]
		cur.Add(q)
		out.Resources[n] = cur
	}
	return out
}

func sub(a, b reservation) reservation {
	out := reservation{Pods: a.Pods - b.Pods, Resources: corev1.ResourceList{}}
	for n, q := range a.Resources {
		out.Resources[n] = q.DeepCopy()
	}
	for n, q := range b.Resources {
		cur, ok := out.Resources[n]
		if !ok {
			cur = *resource.NewQuantity(0, q.Format)
		}
		cur.Sub(q)
		out.Resources[n] = cur
	}
	return out
}
