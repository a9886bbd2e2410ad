// Package cluster is the Cluster controller (push mode): it connects each
// member through the member cache, probes its health, records its version,
// API enablements and node and resource summaries, debounces the Ready
// condition with failure and success thresholds, and keeps the
// not-ready, unreachable and unschedulable taints in line with them.
package cluster

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/member"
)

// FieldOwner is the field manager of the controller's writes.
const FieldOwner = "argosy-cluster-controller"

// Defaults, Karmada's.
const (
	DefaultStatusUpdateFrequency = 10 * time.Second
	DefaultFailureThreshold      = 30 * time.Second
	DefaultSuccessThreshold      = 30 * time.Second
)

// conflictRetry is how soon a pass whose write lost a race runs again.
const conflictRetry = 200 * time.Millisecond

// Reconciler reconciles Clusters.
type Reconciler struct {
	Client  client.Client
	Members *member.Cache
	// Recorder receives Events a user can act on; nil records none.
	Recorder events.EventRecorder
	// SystemNamespace holds the credentials Secrets that are watched.
	SystemNamespace string
	// StatusUpdateFrequency is how often each member is probed.
	StatusUpdateFrequency time.Duration
	// FailureThreshold and SuccessThreshold are how long a probe result
	// must persist before Ready turns False or True.
	FailureThreshold, SuccessThreshold time.Duration
	// Workers is the number of Clusters probed at a time (default 5).
	Workers int
	// Now returns the time; time.Now when nil (tests set it).
	Now func() time.Time

	initOnce   sync.Once
	thresholds *readyThresholds
}

// init fills in defaults and the threshold store, once.
func (r *Reconciler) init() {
	r.initOnce.Do(func() {
		if r.StatusUpdateFrequency <= 0 {
			r.StatusUpdateFrequency = DefaultStatusUpdateFrequency
		}
		if r.Workers <= 0 {
			r.Workers = 5
		}
		r.thresholds = newReadyThresholds(r.FailureThreshold, r.SuccessThreshold)
	})
}

// probeResult is what one probe learnt about a member.
type probeResult struct {
	ready metav1.Condition
	// healthy: the rest was collected (version, APIs, summaries may still
	// be missing individually).
	healthy      bool
	version      string
	apis         []clusterv1alpha1.APIEnablement
	apisCond     *metav1.Condition
	nodes        *clusterv1alpha1.NodeSummary
	resources    *clusterv1alpha1.ResourceSummary
	collectError error
}

// Reconcile probes one Cluster and records what it found.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.init()
	log := ctrl.LoggerFrom(ctx)
	var cl clusterv1alpha1.Cluster
	if err := r.Client.Get(ctx, req.NamespacedName, &cl); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !cl.DeletionTimestamp.IsZero() {
		r.forget(cl.Name)
		return ctrl.Result{}, nil
	}
	now := r.now()
	recorded := meta.FindStatusCondition(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
	if recorded != nil {
		recorded = recorded.DeepCopy()
	}

	push := cl.Spec.SyncMode != clusterv1alpha1.Pull
	var (
		res   probeResult
		ready *metav1.Condition
		wait  time.Duration
	)
	if push {
		res = r.probe(ctx, &cl)
		var c metav1.Condition
		c, wait = r.thresholds.adjust(cl.Name, recorded, res.ready, now)
		ready = &c
		if wait > 0 {
			log.V(1).Info("probe result held back by threshold", "observed", res.ready.Status, "reason", res.ready.Reason, "recorded", recorded.Status, "remaining", wait)
		}
	} else {
		// A pull-mode member is reported by its agent; only the taints
		// follow what it reports.
		r.Members.Remove(cl.Name)
		ready = recorded
	}

	// Spec first: the patch bumps metadata.generation, which the status
	// then reports as observed.
	taints, changed := reconcileTaints(cl.Spec.Taints, wantedTaints(ready, cl.Spec.Unschedulable), metav1.NewTime(now))
	if changed {
		before := cl.DeepCopy()
		cl.Spec.Taints = taints
		if err := r.Client.Patch(ctx, &cl, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, err
		}
		log.Info("updated taints", "taints", taintKeys(cl.Spec.Taints))
	}

	if push {
		status := cl.Status.DeepCopy()
		r.fillStatus(status, &res, *ready, cl.Generation)
		if !equality.Semantic.DeepEqual(*status, cl.Status) {
			before := cl.DeepCopy()
			cl.Status = *status
			if err := r.Client.Status().Patch(ctx, &cl, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
				if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
					return ctrl.Result{RequeueAfter: conflictRetry}, nil
				}
				return ctrl.Result{}, err
			}
		}
		r.recordTransition(ctx, &cl, recorded, ready)
	}

	if !push {
		return ctrl.Result{}, nil
	}
	after := r.StatusUpdateFrequency
	if wait > 0 && wait < after {
		after = wait
	}
	return ctrl.Result{RequeueAfter: after}, nil
}

// probe connects to the member and asks it for its health, then, when it is
// healthy, for its version, APIs and summaries.
func (r *Reconciler) probe(ctx context.Context, cl *clusterv1alpha1.Cluster) probeResult {
	log := ctrl.LoggerFrom(ctx)
	m, err := r.Members.Connect(ctx, cl)
	if err == nil {
		err = m.CheckHealth(ctx)
	}
	if err != nil {
		log.V(1).Info("member not ready", "kind", member.KindOf(err), "error", err.Error())
		return probeResult{ready: readyCondition(err)}
	}
	res := probeResult{ready: readyCondition(nil), healthy: true}
	if v, err := m.Discovery().ServerVersion(); err == nil {
		res.version = v.GitVersion
	} else {
		res.collectError = err
		log.Info("reading the member's version failed", "error", err.Error())
	}
	apis, cond, ok := apiEnablements(m.Discovery())
	res.apisCond = &cond
	if ok {
		res.apis = apis
	}
	if m.Synced() {
		if res.nodes, res.resources, err = summarize(m); err != nil {
			res.collectError = err
			log.Info("summarizing the member's nodes and pods failed", "error", err.Error())
		}
	} else if err := m.LastSyncError(); err != nil {
		log.Info("the member's node and pod informers have not synced", "error", err.Error())
	}
	return res
}

// fillStatus writes a probe's findings into status. What could not be
// collected keeps its previous value.
func (r *Reconciler) fillStatus(status *clusterv1alpha1.ClusterStatus, res *probeResult, ready metav1.Condition, generation int64) {
	ready.ObservedGeneration = generation
	meta.SetStatusCondition(&status.Conditions, ready)
	if res.healthy {
		if res.version != "" {
			status.KubernetesVersion = res.version
		}
		if res.apisCond != nil {
			c := *res.apisCond
			c.ObservedGeneration = generation
			meta.SetStatusCondition(&status.Conditions, c)
		}
		if res.apis != nil {
			status.APIEnablements = res.apis
		}
		if res.nodes != nil {
			status.NodeSummary = res.nodes
			status.ResourceSummary = mergeModelings(res.resources, status.ResourceSummary)
		}
	}
	status.ObservedGeneration = generation
}

// mergeModelings keeps allocatableModelings, which this controller does not
// compute yet.
func mergeModelings(next, prev *clusterv1alpha1.ResourceSummary) *clusterv1alpha1.ResourceSummary {
	if next != nil && prev != nil {
		next.AllocatableModelings = prev.AllocatableModelings
	}
	return next
}

// recordTransition emits an Event when the recorded Ready condition changes
// status or reason: the moment a user may need to act, not every probe.
func (r *Reconciler) recordTransition(ctx context.Context, cl *clusterv1alpha1.Cluster, before, after *metav1.Condition) {
	if after == nil || (before != nil && before.Status == after.Status && before.Reason == after.Reason) {
		return
	}
	ctrl.LoggerFrom(ctx).Info("Ready changed", "status", after.Status, "reason", after.Reason, "message", after.Message)
	if r.Recorder == nil {
		return
	}
	typ := corev1.EventTypeNormal
	if after.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(cl, nil, typ, after.Reason, "Probe", "%s", after.Message)
}

func (r *Reconciler) forget(name string) {
	r.thresholds.forget(name)
	r.Members.Remove(name)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func taintKeys(ts []corev1.Taint) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Key + ":" + string(t.Effect)
	}
	return out
}

func resourceCount(n int64) *resource.Quantity { return resource.NewQuantity(n, resource.DecimalSI) }
