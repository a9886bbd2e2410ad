package aggregate

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"argosy.dev/argosy/internal/jsonint"
)

// aggregate combines the observed statuses of ms (sorted by cluster) into
// the native status shape of kind k; nil for kindOther or when no member
// has reported status. Integers are int64, as in unstructured objects.
func (k kind) aggregate(ms []Member) map[string]any {
	var sts []map[string]any
	for _, m := range ms {
		if m.Status != nil {
			sts = append(sts, m.Status)
		}
	}
	if len(sts) == 0 || k == kindOther {
		return nil
	}
	out := map[string]any{}
	switch k {
	case kindDeployment:
		sumInto(out, sts, "replicas", "readyReplicas", "updatedReplicas", "availableReplicas", "unavailableReplicas")
	case kindStatefulSet:
		sumInto(out, sts, "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas")
	case kindDaemonSet:
		sumInto(out, sts, "currentNumberScheduled", "desiredNumberScheduled", "numberAvailable",
			"numberMisscheduled", "numberReady", "updatedNumberScheduled", "numberUnavailable")
	case kindReplicaSet:
		sumInto(out, sts, "replicas", "readyReplicas", "availableReplicas", "fullyLabeledReplicas")
	case kindPDB:
		sumInto(out, sts, "currentHealthy", "desiredHealthy", "disruptionsAllowed", "expectedPods")
	case kindJob:
		aggregateJob(out, ms)
	case kindCronJob:
		var active []any
		for _, st := range sts {
			if l, ok := st["active"].([]any); ok {
				active = append(active, l...)
			}
		}
		if len(active) > 0 {
			out["active"] = active
		}
		setTime(out, "lastScheduleTime", sts, false)
		setTime(out, "lastSuccessfulTime", sts, false)
	case kindPod:
		out["phase"] = podPhase(ms)
	case kindService, kindIngress:
		lb := map[string]any{}
		seen := map[string]bool{}
		var ingress []any
		for _, st := range sts {
			l, _ := nested(st, "loadBalancer", "ingress").([]any)
			for _, e := range l {
				key, err := json.Marshal(e)
				if err != nil || seen[string(key)] {
					continue
				}
				seen[string(key)] = true
				ingress = append(ingress, e)
			}
		}
		if len(ingress) > 0 {
			lb["ingress"] = ingress
		}
		out["loadBalancer"] = lb
	case kindPVC:
		out["phase"] = pvcPhase(ms)
		// The claim's capacity and access modes are the same shape in every
		// cluster; the first cluster that reports them stands for all.
		for _, f := range []string{"accessModes", "capacity"} {
			for _, st := range sts {
				if v, ok := st[f]; ok {
					out[f] = v
					break
				}
			}
		}
	}
	return out
}

func sumInto(out map[string]any, sts []map[string]any, fields ...string) {
	for _, f := range fields {
		var sum int64
		for _, st := range sts {
			v, _ := nestedInt(st, f)
			sum += v
		}
		out[f] = sum
	}
}

// aggregateJob sums the counters, keeps the earliest startTime, and
// reports completion (completionTime, Complete) only when every member has
// completed, and failure (Failed) when any member failed.
func aggregateJob(out map[string]any, ms []Member) {
	var sts []map[string]any
	for _, m := range ms {
		if m.Status != nil {
			sts = append(sts, m.Status)
		}
	}
	sumInto(out, sts, "active", "succeeded", "failed")
	setTime(out, "startTime", sts, true)

	var complete, failed []map[string]any
	var failedClusters []string
	for _, m := range ms {
		if c := condition(m.Status, "Complete"); c != nil && str(c, "status") == "True" {
			complete = append(complete, c)
		}
		if c := condition(m.Status, "Failed"); c != nil && str(c, "status") == "True" {
			failed = append(failed, c)
			failedClusters = append(failedClusters, m.Cluster+": "+withMessage("failed", c))
		}
	}
	var conds []any
	if len(complete) == len(ms) && len(ms) > 0 {
		setTime(out, "completionTime", sts, false)
		c := map[string]any{"type": "Complete", "status": "True",
			"message": fmt.Sprintf("Job completed in all %d clusters", len(ms))}
		if t := pickTime(complete, "lastTransitionTime", false); t != "" {
			c["lastTransitionTime"] = t
		}
		conds = append(conds, c)
	}
	if len(failed) > 0 {
		c := map[string]any{"type": "Failed", "status": "True", "reason": "MemberFailed",
			"message": strings.Join(failedClusters, "; ")}
		if len(failed) == 1 {
			if r := str(failed[0], "reason"); r != "" {
				c["reason"] = r
			}
		}
		if t := pickTime(failed, "lastTransitionTime", true); t != "" {
			c["lastTransitionTime"] = t
		}
		conds = append(conds, c)
	}
	if len(conds) > 0 {
		out["conditions"] = conds
	}
}

// podPhase: Succeeded if all Succeeded, Running if all Running, Failed if
// any Failed, Pending otherwise (including a member not observed yet).
func podPhase(ms []Member) string {
	all := func(p string) bool {
		for _, m := range ms {
			if str(m.Status, "phase") != p {
				return false
			}
		}
		return true
	}
	for _, m := range ms {
		if str(m.Status, "phase") == "Failed" {
			return "Failed"
		}
	}
	switch {
	case all("Succeeded"):
		return "Succeeded"
	case all("Running"):
		return "Running"
	}
	return "Pending"
}

// pvcPhase: Bound only when all Bound, Lost if any Lost, Pending otherwise.
func pvcPhase(ms []Member) string {
	bound := true
	for _, m := range ms {
		switch str(m.Status, "phase") {
		case "Lost":
			return "Lost"
		case "Bound":
		default:
			bound = false
		}
	}
	if bound {
		return "Bound"
	}
	return "Pending"
}

// setTime sets out[f] to the earliest (or latest) RFC 3339 time among sts.
func setTime(out map[string]any, f string, sts []map[string]any, earliest bool) {
	if t := pickTime(sts, f, earliest); t != "" {
		out[f] = t
	}
}

func pickTime(sts []map[string]any, f string, earliest bool) string {
	var best time.Time
	var bestS string
	for _, st := range sts {
		s := str(st, f)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			continue
		}
		if bestS == "" || (earliest && t.Before(best)) || (!earliest && t.After(best)) {
			best, bestS = t, s
		}
	}
	return bestS
}

// condition returns the condition of type t in st's conditions, or nil.
func condition(st map[string]any, t string) map[string]any {
	l, _ := st["conditions"].([]any)
	for _, c := range l {
		if m, ok := c.(map[string]any); ok && str(m, "type") == t {
			return m
		}
	}
	return nil
}

func nested(m map[string]any, fields ...string) any {
	var v any = m
	for _, f := range fields {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[f]
	}
	return v
}

func str(m map[string]any, f string) string {
	s, _ := m[f].(string)
	return s
}

// nestedInt reads an integer field, whichever way the JSON was decoded.
func nestedInt(m map[string]any, f string) (int64, bool) { return jsonint.Int64(m[f]) }

func clamp(n int64) int32 { return jsonint.ClampInt32(n) }
