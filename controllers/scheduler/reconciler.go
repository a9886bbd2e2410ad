// Package scheduler is the scheduling controller: it places each
// ResourceBinding's replicas on member clusters (spec.clusters) with the
// pure algorithm of internal/scheduler, and reports the outcome in the
// binding's Scheduled condition and in events on the template.
package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/bindingevent"
	"argosy.dev/argosy/internal/member"
	sched "argosy.dev/argosy/internal/scheduler"
)

// FieldManager owns spec.clusters and the scheduler's status fields.
const FieldManager = "argosy-scheduler"

// DefaultSchedulerName is the schedulerName this controller serves.
const DefaultSchedulerName = "default-scheduler"

// staleCacheRetry is how soon a pass that found the cache behind this
// process's own write looks again.
const staleCacheRetry = 100 * time.Millisecond

// Reconciler schedules ResourceBindings.
type Reconciler struct {
	Client   client.Client
	Recorder record.EventRecorder
	Members  *member.Cache
	// RetryAfter is how long an unschedulable binding waits before the
	// next attempt when nothing it depends on changes.
	RetryAfter time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	ledger *ledger
	nodes  *nodeCache
	// consumed remembers, per binding, the rescheduleTriggeredAt whose
	// fresh schedule this process already wrote: the pass that follows may
	// read a cache that has the new placement but not yet the status that
	// records the request as done, and must not schedule fresh twice.
	consumed sync.Map // types.NamespacedName -> freshDone
}

// freshDone is a fresh schedule this process wrote: for which request, at
// which binding generation, with which outcome.
type freshDone struct {
	trigger time.Time
	gen     int64
	o       outcome
}

// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcebindings,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcebindings/status,verbs=get;patch
// +kubebuilder:rbac:groups=cluster.argosy.dev,resources=clusters,verbs=get;list;watch

// Reconcile does one scheduling pass, with at most one write: spec.clusters
// when the placement changes, else the status when it changes. A placement
// write triggers the next pass, which then records the outcome, so each
// pass stays a single request.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var rb workv1alpha1.ResourceBinding
	if err := r.Client.Get(ctx, req.NamespacedName, &rb); err != nil {
		if apierrors.IsNotFound(err) {
			r.consumed.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if rb.DeletionTimestamp != nil || !r.serves(&rb) {
		return ctrl.Result{}, nil
	}
	if rb.Spec.Suspension != nil && rb.Spec.Suspension.Scheduling != nil && *rb.Spec.Suspension.Scheduling {
		return ctrl.Result{}, r.writeStatus(ctx, &rb, outcome{
			status: metav1.ConditionFalse, reason: workv1alpha1.BindingReasonSchedulingSuspended,
			message: "scheduling is suspended (spec.suspension.scheduling)",
		})
	}

	switch {
	case rb.Spec.Placement == nil && len(rb.Spec.RequiredBy) == 0:
		// Nothing claims it and nothing needs it: nothing to place.
		return ctrl.Result{}, nil
	case rb.Spec.Placement == nil:
		// Only a dependency (a ConfigMap, Secret, ...): it goes where the
		// workloads that need it go, and nowhere else.
		return ctrl.Result{}, r.follow(ctx, &rb)
	case rb.Labels[workv1alpha1.LabelPolicyName] == "" && len(rb.Spec.Clusters) > 0:
		// Its policy was deleted: like Karmada, keep the placement as it
		// is until another policy claims the template.
		return ctrl.Result{}, nil
	}

	// Read-only: the cache's objects are not copied for every pass.
	var clusters clusterv1alpha1.ClusterList
	if err := r.Client.List(ctx, &clusters, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	if done, ok := r.freshDoneFor(&rb); ok && rb.Generation <= done.gen {
		// The cache shows the request still open although this process
		// served it: it has not caught up with our own writes yet. Do not
		// schedule from that stale view (the steady pass would record the
		// old affinity group); (re)write the fresh outcome once the spec
		// write shows, which also repairs a status write that failed. (A
		// later generation means someone else changed the spec since: it
		// is scheduled afresh as usual.)
		if rb.Generation < done.gen {
			return ctrl.Result{RequeueAfter: staleCacheRetry}, nil
		}
		return ctrl.Result{}, r.writeStatus(ctx, &rb, done.o)
	}
	in := r.input(&rb, clusters.Items)
	res := sched.Schedule(in)
	placement := withRequiredBy(res.Clusters, rb.Spec.RequiredBy)

	if res.Reason == workv1alpha1.BindingReasonSuccess {
		o := outcome{status: metav1.ConditionTrue, reason: workv1alpha1.BindingReasonSuccess,
			message: "Binding has been scheduled successfully. Result: " + formatClusters(placement), affinity: res.AffinityName}
		if !sameClusters(placement, rb.Spec.Clusters) {
			log.FromContext(ctx).V(1).Info("placing", "clusters", formatClusters(placement), "fresh", in.Fresh)
			gen, err := r.writeClusters(ctx, &rb, placement)
			if err != nil || !in.Fresh {
				return ctrl.Result{}, err
			}
			// A fresh schedule records that it consumed the request in the
			// same pass: the next pass must not schedule fresh again from a
			// placement that only exists because of this one.
			o.fresh = true
			r.consumed.Store(req.NamespacedName, freshDone{trigger: rb.Spec.RescheduleTriggeredAt.Time, gen: gen, o: o})
			done := rb.DeepCopy()
			done.Generation, done.Spec.Clusters = gen, placement
			return ctrl.Result{}, r.writeStatus(ctx, done, o)
		}
		if in.Fresh {
			o.fresh = true
			r.consumed.Store(req.NamespacedName, freshDone{trigger: rb.Spec.RescheduleTriggeredAt.Time, gen: rb.Generation, o: o})
		}
		return ctrl.Result{}, r.writeStatus(ctx, &rb, o)
	}
	o := outcome{status: metav1.ConditionFalse, reason: res.Reason, message: res.Message, affinity: rb.Status.SchedulerObservedAffinityName}
	if err := r.writeStatus(ctx, &rb, o); err != nil {
		return ctrl.Result{}, err
	}
	// Capacity and cluster changes also re-enqueue; this is the backstop.
	return ctrl.Result{RequeueAfter: r.RetryAfter}, nil
}

// follow places a dependency-only binding on its parents' clusters.
func (r *Reconciler) follow(ctx context.Context, rb *workv1alpha1.ResourceBinding) error {
	placement := withRequiredBy(nil, rb.Spec.RequiredBy)
	if !sameClusters(placement, rb.Spec.Clusters) {
		_, err := r.writeClusters(ctx, rb, placement)
		return err
	}
	return r.writeStatus(ctx, rb, outcome{status: metav1.ConditionTrue, reason: workv1alpha1.BindingReasonSuccess,
		message: "Binding follows the workloads that require it. Result: " + formatClusters(placement)})
}

func (r *Reconciler) serves(rb *workv1alpha1.ResourceBinding) bool {
	return rb.Spec.SchedulerName == "" || rb.Spec.SchedulerName == DefaultSchedulerName
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// input turns the binding and what is known of the clusters into the
// algorithm's input.
func (r *Reconciler) input(rb *workv1alpha1.ResourceBinding, clusters []clusterv1alpha1.Cluster) sched.Input {
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	in := sched.Input{
		GVK:                 schema.FromAPIVersionAndKind(rb.Spec.Resource.APIVersion, rb.Spec.Resource.Kind),
		Replicas:            rb.Spec.Replicas,
		Requirements:        rb.Spec.ReplicaRequirements,
		Placement:           rb.Spec.Placement,
		Current:             rb.Spec.Clusters,
		Fresh:               fresh(rb),
		Settled:             settled(rb),
		CurrentAffinityName: rb.Status.SchedulerObservedAffinityName,
		// Ties in a division go a different way for each workload.
		Seed: key.String(),
	}
	for _, t := range rb.Spec.GracefulEvictionTasks {
		in.Evicting = append(in.Evicting, t.FromCluster)
	}
	for i := range clusters {
		in.Clusters = append(in.Clusters, r.snapshot(&clusters[i], r.ledger.pendingExcept(clusters[i].Name, key)))
	}
	return in
}

// fresh: a WorkloadRebalancer (or a user) asked for a full reschedule after
// the last one.
func fresh(rb *workv1alpha1.ResourceBinding) bool {
	t := rb.Spec.RescheduleTriggeredAt
	if t == nil {
		return false
	}
	last := rb.Status.LastScheduledTime
	return last == nil || t.After(last.Time)
}

// freshDoneFor returns the fresh schedule this process already wrote for
// the binding's open rescheduleTriggeredAt, if any; it forgets requests the
// status shows as done.
func (r *Reconciler) freshDoneFor(rb *workv1alpha1.ResourceBinding) (freshDone, bool) {
	key := types.NamespacedName{Namespace: rb.Namespace, Name: rb.Name}
	if !fresh(rb) {
		r.consumed.Delete(key)
		return freshDone{}, false
	}
	v, ok := r.consumed.Load(key)
	if !ok {
		return freshDone{}, false
	}
	done := v.(freshDone)
	return done, done.trigger.Equal(rb.Spec.RescheduleTriggeredAt.Time)
}

// settled: the scheduler already placed the binding's current generation.
func settled(rb *workv1alpha1.ResourceBinding) bool {
	c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == rb.Generation &&
		rb.Status.SchedulerObservedGeneration == rb.Generation
}

// withRequiredBy adds the clusters of the bindings that need this one (it
// is their ConfigMap, Secret, ...) to its own placement.
func withRequiredBy(own []workv1alpha1.TargetCluster, requiredBy []workv1alpha1.BindingSnapshot) []workv1alpha1.TargetCluster {
	if len(requiredBy) == 0 {
		return own
	}
	byName := map[string]workv1alpha1.TargetCluster{}
	for _, tc := range own {
		byName[tc.Name] = tc
	}
	for _, parent := range requiredBy {
		for _, tc := range parent.Clusters {
			if _, ok := byName[tc.Name]; !ok {
				byName[tc.Name] = workv1alpha1.TargetCluster{Name: tc.Name}
			}
		}
	}
	out := make([]workv1alpha1.TargetCluster, 0, len(byName))
	for _, tc := range byName {
		out = append(out, tc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sameClusters(a, b []workv1alpha1.TargetCluster) bool {
	if len(a) != len(b) {
		return false
	}
	as, bs := slices.Clone(a), slices.Clone(b)
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	sort.Slice(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
	return slices.Equal(as, bs)
}

// formatClusters renders a placement as Karmada does: {member1:2, member2:1}.
func formatClusters(tcs []workv1alpha1.TargetCluster) string {
	parts := make([]string, 0, len(tcs))
	for _, tc := range tcs {
		parts = append(parts, fmt.Sprintf("%s:%d", tc.Name, tc.Replicas))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// outcome is what the status should say after a pass.
type outcome struct {
	status   metav1.ConditionStatus
	reason   string
	message  string
	affinity string
	// fresh: this pass served rescheduleTriggeredAt, which the status
	// records as done.
	fresh bool
}

// writeClusters replaces spec.clusters with a JSON merge patch and returns
// the binding's generation after the write. A merge patch, not an apply:
// the list is replaced whole, whoever wrote its entries (the detector
// creates bindings already placed, see Place), where an apply would keep
// entries another field manager owns.
func (r *Reconciler) writeClusters(ctx context.Context, rb *workv1alpha1.ResourceBinding, tcs []workv1alpha1.TargetCluster) (int64, error) {
	clusters := make([]map[string]any, 0, len(tcs))
	for _, tc := range tcs {
		clusters = append(clusters, map[string]any{"name": tc.Name, "replicas": tc.Replicas})
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"clusters": clusters}})
	if err != nil {
		return 0, err
	}
	u := applyObject(rb)
	if err := r.Client.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldManager)); err != nil {
		return 0, fmt.Errorf("writing spec.clusters of %s/%s: %w", rb.Namespace, rb.Name, err)
	}
	return u.GetGeneration(), nil
}

// writeStatus applies the scheduler's status fields when they differ from
// what the binding says, and emits the event that goes with a change.
func (r *Reconciler) writeStatus(ctx context.Context, rb *workv1alpha1.ResourceBinding, o outcome) error {
	cur := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
	upToDate := cur != nil && cur.Status == o.status && cur.Reason == o.reason && cur.Message == o.message &&
		cur.ObservedGeneration == rb.Generation && rb.Status.SchedulerObservedGeneration == rb.Generation &&
		rb.Status.SchedulerObservedAffinityName == o.affinity && !o.fresh
	if upToDate {
		return nil
	}
	now := metav1.NewTime(r.now())
	transition := now
	if cur != nil && cur.Status == o.status {
		transition = cur.LastTransitionTime
	}
	last := rb.Status.LastScheduledTime
	if o.status == metav1.ConditionTrue && (last == nil || rb.Status.SchedulerObservedGeneration != rb.Generation || o.fresh) {
		last = &now
		// The request of rescheduleTriggeredAt is consumed: lastScheduledTime
		// must not be before it, even within the same second (RFC 3339
		// timestamps have no fraction).
		if t := rb.Spec.RescheduleTriggeredAt; t != nil && t.After(now.Time) {
			last = t.DeepCopy()
		}
	}
	status := map[string]any{
		"schedulerObservedGeneration": rb.Generation,
		"conditions": []any{map[string]any{
			"type": workv1alpha1.ConditionScheduled, "status": string(o.status), "reason": o.reason,
			"message": o.message, "observedGeneration": rb.Generation,
			"lastTransitionTime": transition.UTC().Format(time.RFC3339),
		}},
	}
	if o.affinity != "" {
		status["schedulerObservingAffinityName"] = o.affinity
	}
	if last != nil {
		status["lastScheduledTime"] = last.UTC().Format(time.RFC3339)
	}
	u := applyObject(rb)
	u.Object["status"] = status
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("writing the status of %s/%s: %w", rb.Namespace, rb.Name, err)
	}
	r.event(ctx, rb, o)
	return nil
}

// event reports the outcome on the template, where users look.
func (r *Reconciler) event(ctx context.Context, rb *workv1alpha1.ResourceBinding, o outcome) {
	tpl := bindingevent.Template(rb)
	if r.Recorder == nil || tpl == nil {
		return
	}
	if o.status == metav1.ConditionTrue {
		// Placements that follow the template (its creation, a scale) are
		// reported once, with the clusters, when the template turns Ready.
		// Replicas moved for another reason (a rebalance, an eviction) get
		// an event of their own.
		if o.fresh || len(rb.Spec.GracefulEvictionTasks) > 0 {
			r.Recorder.Event(tpl, corev1.EventTypeNormal, "ScheduleBindingSucceed", o.message)
		}
		return
	}
	if o.reason == workv1alpha1.BindingReasonSchedulingSuspended {
		return
	}
	r.Recorder.Event(tpl, corev1.EventTypeWarning, "ScheduleBindingFailed", o.reason+": "+o.message)
}
