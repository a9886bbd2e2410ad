package policydefaults

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
)

const (
	notReady    = clusterv1alpha1.TaintClusterNotReady
	unreachable = clusterv1alpha1.TaintClusterUnreachable
)

func defaultFor(key string, seconds int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)}
}

func TestTolerations(t *testing.T) {
	custom := corev1.Toleration{Key: "workload-rebalancer-test", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
	own := corev1.Toleration{Key: notReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](10)}
	cases := []struct {
		desc string
		in   []corev1.Toleration
		want []corev1.Toleration
	}{
		{"nil gets both", nil,
			[]corev1.Toleration{defaultFor(notReady, 300), defaultFor(unreachable, 200)}},
		{"unrelated tolerations are kept, defaults appended after them", []corev1.Toleration{custom},
			[]corev1.Toleration{custom, defaultFor(notReady, 300), defaultFor(unreachable, 200)}},
		{"own not-ready toleration is kept, only unreachable added", []corev1.Toleration{own},
			[]corev1.Toleration{own, defaultFor(unreachable, 200)}},
		{"both present: unchanged", []corev1.Toleration{defaultFor(unreachable, 5), own},
			[]corev1.Toleration{defaultFor(unreachable, 5), own}},
		{"toleration without seconds (forever) counts", []corev1.Toleration{{Key: unreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
			[]corev1.Toleration{{Key: unreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}, defaultFor(notReady, 300)}},
		{"empty key with Exists tolerates everything", []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			[]corev1.Toleration{{Operator: corev1.TolerationOpExists}}},
		{"empty key with Exists for NoExecute tolerates both", []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
			[]corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}},
		{"empty effect matches NoExecute", []corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpExists}},
			[]corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpExists}, defaultFor(unreachable, 200)}},
		{"Equal with the taint's empty value matches", []corev1.Toleration{{Key: unreachable, Operator: corev1.TolerationOpEqual, Effect: corev1.TaintEffectNoExecute}},
			[]corev1.Toleration{{Key: unreachable, Operator: corev1.TolerationOpEqual, Effect: corev1.TaintEffectNoExecute}, defaultFor(notReady, 300)}},
		{"empty operator means Equal", []corev1.Toleration{{Key: unreachable, Effect: corev1.TaintEffectNoExecute}},
			[]corev1.Toleration{{Key: unreachable, Effect: corev1.TaintEffectNoExecute}, defaultFor(notReady, 300)}},
		{"Equal with another value does not match", []corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpEqual, Value: "x", Effect: corev1.TaintEffectNoExecute}},
			[]corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpEqual, Value: "x", Effect: corev1.TaintEffectNoExecute}, defaultFor(notReady, 300), defaultFor(unreachable, 200)}},
		{"NoSchedule only does not count", []corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			[]corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, defaultFor(notReady, 300), defaultFor(unreachable, 200)}},
		{"Gt cannot match a taint without value", []corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpGt, Value: "1", Effect: corev1.TaintEffectNoExecute}},
			[]corev1.Toleration{{Key: notReady, Operator: corev1.TolerationOpGt, Value: "1", Effect: corev1.TaintEffectNoExecute}, defaultFor(notReady, 300), defaultFor(unreachable, 200)}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			before := make([]corev1.Toleration, len(c.in))
			for i := range c.in {
				c.in[i].DeepCopyInto(&before[i])
			}
			got := Tolerations(c.in, 300, 200)
			if !equality.Semantic.DeepEqual(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
			if !equality.Semantic.DeepEqual(c.in, before) {
				t.Errorf("input changed: %+v, was %+v", c.in, before)
			}
			// Applying the defaults again changes nothing: no write loops.
			if again := Tolerations(got, 300, 200); !equality.Semantic.DeepEqual(again, got) {
				t.Errorf("not idempotent: %+v then %+v", got, again)
			}
		})
	}
}

// TestTolerationsCopies: changing the result, its elements or the seconds
// they point to leaves the input alone, even when nothing was added.
func TestTolerationsCopies(t *testing.T) {
	in := []corev1.Toleration{defaultFor(notReady, 10), defaultFor(unreachable, 20)}
	got := Tolerations(in, 300, 300)
	if len(got) != 2 {
		t.Fatalf("got %+v, want the input unchanged", got)
	}
	*got[0].TolerationSeconds = 99
	got[1].Key = "other"
	if *in[0].TolerationSeconds != 10 || in[1].Key != unreachable || len(in) != 2 {
		t.Errorf("input changed through the result: %+v", in)
	}

	// Appending to the result never writes into the input's backing array.
	backing := make([]corev1.Toleration, 1, 4)
	backing[0] = corev1.Toleration{Key: "a", Operator: corev1.TolerationOpExists}
	_ = Tolerations(backing, 300, 300)
	if full := backing[:4]; full[1].Key != "" || full[2].Key != "" {
		t.Errorf("the input's spare capacity was written: %+v", full)
	}
}
