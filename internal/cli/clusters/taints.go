// Package clusters holds the commands that change member Clusters: taint,
// cordon and uncordon.
package clusters

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

// Operation is what a taint command did, as kubectl prints it.
type Operation string

// Operations of the taint command.
const (
	Tainted   Operation = "tainted"
	Untainted Operation = "untainted"
	Modified  Operation = "modified"
)

// ParseTaints splits taint arguments into taints to add ("key=value:Effect",
// "key:Effect") and taints to remove ("key=value:Effect-", "key:Effect-",
// "key-"). Errors name the argument. The effects are the two that Cluster
// spec.taints accepts; kubectl's PreferNoSchedule is refused here, with the
// reason, rather than by the apiserver.
func ParseTaints(specs []string) (add, remove []corev1.Taint, err error) {
	seenAdd := map[corev1.Taint]string{}
	for _, spec := range specs {
		if strings.HasSuffix(spec, "-") {
			t, err := parseTaint(spec, strings.TrimSuffix(spec, "-"), true)
			if err != nil {
				return nil, nil, err
			}
			remove = append(remove, t)
			continue
		}
		t, err := parseTaint(spec, spec, false)
		if err != nil {
			return nil, nil, err
		}
		k := corev1.Taint{Key: t.Key, Effect: t.Effect}
		if prev, dup := seenAdd[k]; dup {
			return nil, nil, fmt.Errorf("taints %q and %q have the same key and effect; give each key:effect once", prev, spec)
		}
		seenAdd[k] = spec
		add = append(add, t)
	}
	for _, r := range remove {
		for _, a := range add {
			if a.Key == r.Key && (r.Effect == "" || r.Effect == a.Effect) {
				return nil, nil, fmt.Errorf("taint %s is both added and removed in the same command", describe(a))
			}
		}
	}
	return add, remove, nil
}

// parseTaint parses one spec; body is spec without a trailing "-". A
// removal may leave out the effect (then every effect of the key goes) and
// may carry a value, which is ignored as kubectl ignores it.
func parseTaint(spec, body string, removal bool) (corev1.Taint, error) {
	var t corev1.Taint
	keyValue, effect, hasEffect := strings.Cut(body, ":")
	if !hasEffect && !removal {
		return t, fmt.Errorf("invalid taint %q: want key[=value]:Effect with Effect NoSchedule or NoExecute", spec)
	}
	key, value, hasValue := strings.Cut(keyValue, "=")
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return t, fmt.Errorf("invalid taint %q: key %q: %s", spec, key, strings.Join(errs, "; "))
	}
	if hasValue && !removal {
		if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
			return t, fmt.Errorf("invalid taint %q: value %q: %s", spec, value, strings.Join(errs, "; "))
		}
	}
	if hasEffect {
		switch corev1.TaintEffect(effect) {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute:
		case corev1.TaintEffectPreferNoSchedule:
			return t, fmt.Errorf("invalid taint %q: effect PreferNoSchedule is not supported for clusters; use NoSchedule or NoExecute", spec)
		default:
			return t, fmt.Errorf("invalid taint %q: effect %q must be NoSchedule or NoExecute", spec, effect)
		}
	}
	t.Key, t.Effect = key, corev1.TaintEffect(effect)
	if !removal {
		t.Value = value
	}
	return t, nil
}

// ApplyTaints returns current with add and remove applied, with kubectl
// taint's rules: a taint with the key and effect of an existing one
// replaces it only with overwrite; removing a taint that is not there is an
// error; other taints keep their order. New NoExecute taints get timeAdded
// now, since the taint manager counts tolerationSeconds from it.
func ApplyTaints(cluster string, current, add, remove []corev1.Taint, overwrite bool, now metav1.Time) ([]corev1.Taint, Operation, error) {
	out := make([]corev1.Taint, 0, len(current)+len(add))
	out = append(out, current...)

	op := Untainted
	if len(add) > 0 {
		op = Tainted
	}
	var clashes []string
	replaced := 0
	for _, a := range add {
		if a.Effect == corev1.TaintEffectNoExecute {
			a.TimeAdded = &now
		}
		i := indexOf(out, a)
		if i < 0 {
			out = append(out, a)
			continue
		}
		if !overwrite {
			clashes = append(clashes, describe(out[i]))
			continue
		}
		if out[i].Value == a.Value && out[i].TimeAdded != nil {
			// Same taint again: keep the original timeAdded, so that
			// re-running a script does not restart eviction countdowns.
			a.TimeAdded = out[i].TimeAdded
		}
		out[i] = a
		replaced++
	}
	if len(clashes) > 0 {
		return nil, "", fmt.Errorf("cluster %s already has taint(s) %s with the same key and effect, and --overwrite is false", cluster, strings.Join(clashes, ", "))
	}
	if (replaced == len(add) && replaced > 0) || (len(add) > 0 && len(remove) > 0) {
		op = Modified
	}

	var missing []string
	for _, r := range remove {
		kept := out[:0]
		removed := false
		for _, t := range out {
			if t.Key == r.Key && (r.Effect == "" || t.Effect == r.Effect) {
				removed = true
				continue
			}
			kept = append(kept, t)
		}
		out = kept
		if !removed {
			missing = append(missing, describe(r))
		}
	}
	if len(missing) > 0 {
		return nil, "", fmt.Errorf("cluster %s has no taint %s", cluster, strings.Join(missing, ", "))
	}
	if len(out) == 0 {
		out = nil
	}
	return out, op, nil
}

// isManagedKey tells the keys the Cluster controller adds and removes by
// itself; changing them by hand is undone on the controller's next pass.
func isManagedKey(key string) bool {
	switch key {
	case clusterv1alpha1.TaintClusterNotReady, clusterv1alpha1.TaintClusterUnreachable, clusterv1alpha1.TaintClusterUnschedulable:
		return true
	}
	return false
}

func indexOf(ts []corev1.Taint, t corev1.Taint) int {
	for i := range ts {
		if ts[i].Key == t.Key && ts[i].Effect == t.Effect {
			return i
		}
	}
	return -1
}

// describe prints a taint as the command line spells it.
func describe(t corev1.Taint) string {
	s := t.Key
	if t.Value != "" {
		s += "=" + t.Value
	}
	if t.Effect != "" {
		s += ":" + string(t.Effect)
	}
	return s
}
