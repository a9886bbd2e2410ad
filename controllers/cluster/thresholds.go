package cluster

import (
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readyThresholds debounces the Ready condition, as Karmada's
// --cluster-failure-threshold and --cluster-success-threshold do: a probe
// result whose status differs from the recorded condition only replaces it
// once results of that status have been seen for the whole threshold (to
// False: failure; to True: success). A blip shorter than the threshold never
// changes the condition, the taints or anything that reads them. When the
// first differing result was seen is kept in memory per Cluster; after a
// restart the count starts again, which only delays a flip.
type readyThresholds struct {
	failure, success time.Duration

	mu    sync.Mutex
	since map[string]pending
}

// pending is a differing status and when it was first observed.
type pending struct {
	status metav1.ConditionStatus
	since  time.Time
}

func newReadyThresholds(failure, success time.Duration) *readyThresholds {
	return &readyThresholds{failure: failure, success: success, since: map[string]pending{}}
}

// adjust returns the Ready condition to record for cluster given the
// recorded one (nil if none) and the observed one, and, while a differing
// observation is held back, how long until it would pass its threshold
// (zero otherwise).
//
//   - No recorded condition: the observation is recorded at once.
//   - Same status: recorded at once (its reason and message may change),
//     and any pending change of status is forgotten.
//   - Different status: recorded once it has been observed, without
//     interruption by the recorded status, for the threshold.
func (t *readyThresholds) adjust(cluster string, recorded *metav1.Condition, observed metav1.Condition, now time.Time) (metav1.Condition, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if recorded == nil || recorded.Status == observed.Status {
		delete(t.since, cluster)
		return observed, 0
	}
	p, ok := t.since[cluster]
	if !ok || p.status != observed.Status {
		p = pending{status: observed.Status, since: now}
		t.since[cluster] = p
	}
	threshold := t.failure
	if observed.Status == metav1.ConditionTrue {
		threshold = t.success
	}
	if elapsed := now.Sub(p.since); elapsed < threshold {
		return *recorded, threshold - elapsed
	}
	delete(t.since, cluster)
	return observed, 0
}

// forget drops what is pending for cluster.
func (t *readyThresholds) forget(cluster string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.since, cluster)
}
