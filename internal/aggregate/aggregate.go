// Package aggregate combines the status that member clusters report for one
// wrapped object into the status of its ResourceTemplate (DESIGN §1 and §3,
// Status): an aggregated status shaped like the object's native status, and
// kstatus-compatible Ready / Reconciling / Stalled verdicts. It is pure: no
// clients, no caches, only the members' reports.
//
// The per-cluster readiness rules are those of kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus, used by Flux, kubectl wait and
// Argo CD's kstatus integration), evaluated against each member's object:
// an object is current when its controller has observed the latest
// generation and the kind-specific rollout is complete; it is failed when
// it reports a failure kstatus treats as terminal (a Deployment's
// ProgressDeadlineExceeded, a Job's Failed condition, a Stalled condition)
// or when applying it to the cluster failed. The template is Ready only
// when every target cluster is current, Stalled when any cluster failed,
// and Reconciling otherwise.
package aggregate

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Member is one cluster's view of the wrapped object.
type Member struct {
	// Cluster is the member cluster's name.
	Cluster string
	// Applied is true when the current version of the object has been
	// applied to the cluster.
	Applied bool
	// AppliedMessage explains a failed apply. Applied false with a message
	// is a failure (Stalled) unless Waiting is set; Applied false without
	// one is an apply still pending (Reconciling).
	AppliedMessage string
	// FailureReason is the TemplateReason* of a failed apply (Conflict,
	// OverrideFailed); ApplyFailed when empty.
	FailureReason string
	// Waiting marks an apply that is not done but needs no intervention
	// (the cluster is unreachable, dispatching is suspended): the member
	// is in progress, with AppliedMessage as the explanation, not failed.
	Waiting bool
	// ReportedHealth is the health the status collector reported along
	// with Status; empty when it reported none. The collector sees the
	// member object's metadata.generation, which Status does not carry, so
	// when Generation is 0 (unknown) a reported health other than Healthy
	// keeps a member that looks current in progress and its generation
	// counts as not observed (see evaluate).
	ReportedHealth workv1alpha1.ResourceHealth
	// Status is the member object's .status; nil if not observed yet. Once
	// the object has been observed, pass a non-nil map even when its status
	// is empty.
	Status map[string]any
	// Generation is the member object's metadata.generation.
	Generation int64
	// ObservedGeneration is the member object's status.observedGeneration;
	// when 0 it is read from Status.
	ObservedGeneration int64
	// DesiredReplicas is the member object's spec.replicas (after the
	// member apiserver's defaulting) for Deployment, StatefulSet and
	// ReplicaSet; ignored for other kinds.
	DesiredReplicas int32
}

// ClusterSummary is the state of the object in one member cluster.
type ClusterSummary struct {
	// Name of the member cluster.
	Name string
	// Applied and AppliedMessage are copied from the Member.
	Applied        bool
	AppliedMessage string
	// Health of the object in the cluster: Unknown before it is applied
	// and observed, Healthy when current, Unhealthy otherwise.
	Health workv1alpha1.ResourceHealth
	// Replicas and ReadyReplicas as the cluster reports them (for a
	// DaemonSet: desiredNumberScheduled and numberReady); nil for kinds
	// without replicas or before the first status report.
	Replicas      *int32
	ReadyReplicas *int32
	// Message says why the object is not current in the cluster; empty
	// when it is.
	Message string
}

// Result is the aggregated state of the object over all target clusters.
type Result struct {
	// Status is the aggregated status, shaped like the native kind's
	// status; nil for kinds without an aggregation rule and before any
	// member reports status. It never carries observedGeneration: the
	// caller reports the template's generation there when AllObserved.
	Status map[string]any
	// AllObserved is true when every member has observed its latest
	// generation (or its kind does not record observedGeneration).
	AllObserved bool
	// Ready, Reconciling and Stalled are the kstatus verdicts; exactly one
	// of them is true.
	Ready       bool
	Reconciling bool
	Stalled     bool
	// Reason is one of the workv1alpha1.TemplateReason* constants:
	// Succeeded, Progressing, Unhealthy, or for a failed apply the
	// FailureReason of the first failed member by cluster name (ApplyFailed,
	// Conflict, OverrideFailed).
	Reason string
	// Message explains the verdict and names the clusters concerned.
	Message string
	// PerCluster has one entry per member, sorted by cluster name.
	PerCluster []ClusterSummary
}

// state is the kstatus verdict for one cluster.
type state int

const (
	stateCurrent state = iota
	stateInProgress
	stateFailed
)

// verdict is the evaluation of the object in one cluster.
type verdict struct {
	state    state
	message  string // why not current; empty when current
	observed bool   // latest generation observed
}

// Health returns the health of an object of kind gvk whose member status is
// status and whose metadata.generation is generation: Unknown when status is
// nil for a kind whose health is read from its status, Healthy when the
// object is current by the kstatus rules, Unhealthy otherwise (a workload
// still rolling out is Unhealthy, as in Karmada). The desired replica count
// of a Deployment, StatefulSet or ReplicaSet is taken from status.replicas
// since the spec is not at hand; Aggregate uses Member.DesiredReplicas.
func Health(gvk schema.GroupVersionKind, status map[string]any, generation int64) workv1alpha1.ResourceHealth {
	k := kindOf(gvk)
	if status == nil && k.needsStatus() {
		return workv1alpha1.ResourceUnknown
	}
	desired, _ := nestedInt(status, "replicas")
	v := evaluate(k, Member{Applied: true, Status: status, Generation: generation}, desired)
	return health(v)
}

func health(v verdict) workv1alpha1.ResourceHealth {
	if v.state == stateCurrent {
		return workv1alpha1.ResourceHealthy
	}
	return workv1alpha1.ResourceUnhealthy
}

// Aggregate combines the members' statuses of one wrapped kind into the
// template's aggregated status (same shape as the native status) and says
// whether the rollout is done everywhere. Members are evaluated in cluster
// name order, so the result does not depend on the order of members. It
// fails only on malformed input: an empty or duplicate cluster name.
func Aggregate(gvk schema.GroupVersionKind, members []Member) (Result, error) {
	ms := append([]Member(nil), members...)
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Cluster < ms[j].Cluster })
	for i, m := range ms {
		if m.Cluster == "" {
			return Result{}, fmt.Errorf("member %d has no cluster name", i)
		}
		if i > 0 && ms[i-1].Cluster == m.Cluster {
			return Result{}, fmt.Errorf("cluster %q is listed twice", m.Cluster)
		}
	}

	k := kindOf(gvk)
	res := Result{AllObserved: true, PerCluster: make([]ClusterSummary, 0, len(ms))}
	var failed, pending []string
	applyFailed := false
	failReason := "" // of the first cluster, by name, whose apply failed
	for _, m := range ms {
		sum := ClusterSummary{Name: m.Cluster, Applied: m.Applied, AppliedMessage: m.AppliedMessage, Health: workv1alpha1.ResourceUnknown}
		sum.Replicas, sum.ReadyReplicas = k.replicas(m.Status)
		var v verdict
		switch {
		case !m.Applied && m.Waiting:
			v = verdict{state: stateInProgress, message: "is not applied yet"}
			if m.AppliedMessage != "" {
				v.message += ": " + m.AppliedMessage
			}
		case !m.Applied && m.AppliedMessage != "":
			v = verdict{state: stateFailed, message: "apply failed: " + m.AppliedMessage}
			if !applyFailed {
				failReason = cmp.Or(m.FailureReason, workv1alpha1.TemplateReasonApplyFailed)
			}
			applyFailed = true
		case !m.Applied:
			v = verdict{state: stateInProgress, message: "is not applied yet"}
		case m.Status == nil && k.needsStatus():
			v = verdict{state: stateInProgress, message: "has not reported status yet"}
		default:
			v = evaluate(k, m, int64(m.DesiredReplicas))
			sum.Health = health(v)
		}
		if !v.observed {
			res.AllObserved = false
		}
		sum.Message = v.message
		switch v.state {
		case stateFailed:
			failed = append(failed, m.Cluster+": "+v.message)
		case stateInProgress:
			pending = append(pending, m.Cluster+" "+v.message)
		}
		res.PerCluster = append(res.PerCluster, sum)
	}
	res.Status = k.aggregate(ms)

	switch {
	case len(failed) > 0:
		res.Stalled = true
		res.Reason = workv1alpha1.TemplateReasonUnhealthy
		if applyFailed {
			res.Reason = failReason
		}
		res.Message = fmt.Sprintf("%d of %d clusters failed: %s", len(failed), len(ms), strings.Join(failed, "; "))
	case len(ms) == 0:
		res.Reconciling = true
		res.Reason = workv1alpha1.TemplateReasonProgressing
		res.Message = "no target clusters"
	case len(pending) > 0:
		res.Reconciling = true
		res.Reason = workv1alpha1.TemplateReasonProgressing
		res.Message = fmt.Sprintf("%d of %d clusters still rolling out: %s", len(pending), len(ms), strings.Join(pending, "; "))
	default:
		res.Ready = true
		res.Reason = workv1alpha1.TemplateReasonSucceeded
		res.Message = fmt.Sprintf("ready in all %d clusters", len(ms))
		if len(ms) == 1 {
			res.Message = "ready in 1 cluster"
		}
	}
	return res, nil
}

// evaluate applies the kstatus rules of kind k to one applied member.
// desired is the desired replica count of the replica-based kinds.
func evaluate(k kind, m Member, desired int64) verdict {
	st := m.Status
	observed := m.ObservedGeneration
	if observed == 0 {
		observed, _ = nestedInt(st, "observedGeneration")
	}
	v := verdict{observed: true}
	// A failure reported by the object wins over the generation check: a
	// failed Job or a Stalled custom resource stays failed.
	if msg, ok := k.failure(st); ok {
		v.state, v.message = stateFailed, msg
		v.observed = m.Generation <= 0 || observed >= m.Generation || (observed == 0 && !k.tracksGeneration())
		return v
	}
	if m.Generation > 0 && observed < m.Generation && (observed > 0 || k.tracksGeneration()) {
		v.observed = false
		v.state = stateInProgress
		if observed == 0 {
			v.message = fmt.Sprintf("has not observed generation %d yet", m.Generation)
		} else {
			v.message = fmt.Sprintf("has observed generation %d of %d", observed, m.Generation)
		}
		return v
	}
	if msg := k.progress(st, desired); msg != "" {
		v.state, v.message = stateInProgress, msg
	}
	if m.Generation <= 0 && m.ReportedHealth != "" && m.ReportedHealth != workv1alpha1.ResourceHealthy {
		// The status alone looks fine, but the collector, which knows the
		// member object's generation, does not call it healthy: most
		// likely the member's controller has not observed the latest
		// change yet.
		v.observed = false
		if v.state == stateCurrent {
			v.state, v.message = stateInProgress, "is reported "+string(m.ReportedHealth)+" by the member"
		}
	}
	return v
}
