package clusters

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseTaints(t *testing.T) {
	cases := []struct {
		desc        string
		specs       []string
		add, remove []corev1.Taint
		wantErr     string // substring; the bad argument must be named
	}{
		{desc: "key and effect", specs: []string{"workload-rebalancer-test:NoExecute"},
			add: []corev1.Taint{{Key: "workload-rebalancer-test", Effect: corev1.TaintEffectNoExecute}}},
		{desc: "key, value and effect", specs: []string{"dedicated=special-user:NoSchedule"},
			add: []corev1.Taint{{Key: "dedicated", Value: "special-user", Effect: corev1.TaintEffectNoSchedule}}},
		{desc: "prefixed key", specs: []string{"example.com/gpu=true:NoSchedule"},
			add: []corev1.Taint{{Key: "example.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}}},
		{desc: "remove one effect", specs: []string{"workload-rebalancer-test:NoExecute-"},
			remove: []corev1.Taint{{Key: "workload-rebalancer-test", Effect: corev1.TaintEffectNoExecute}}},
		{desc: "remove every effect of a key", specs: []string{"dedicated-"},
			remove: []corev1.Taint{{Key: "dedicated"}}},
		{desc: "remove ignores the value", specs: []string{"dedicated=x:NoSchedule-"},
			remove: []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}}},
		{desc: "add and remove different taints", specs: []string{"a:NoSchedule", "b-"},
			add: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}}, remove: []corev1.Taint{{Key: "b"}}},
		{desc: "missing effect", specs: []string{"dedicated=x"}, wantErr: `"dedicated=x"`},
		{desc: "bad effect", specs: []string{"a:Sometimes"}, wantErr: `"a:Sometimes": effect "Sometimes"`},
		{desc: "PreferNoSchedule is refused with the reason", specs: []string{"a:PreferNoSchedule"}, wantErr: "PreferNoSchedule is not supported"},
		{desc: "bad effect in a removal", specs: []string{"a:Never-"}, wantErr: `"a:Never-"`},
		{desc: "bad key", specs: []string{"bad key:NoSchedule"}, wantErr: `key "bad key"`},
		{desc: "empty key", specs: []string{":NoSchedule"}, wantErr: `":NoSchedule"`},
		{desc: "bad value", specs: []string{"a=not ok:NoSchedule"}, wantErr: `value "not ok"`},
		{desc: "same key and effect twice", specs: []string{"a=1:NoSchedule", "a=2:NoSchedule"}, wantErr: `"a=1:NoSchedule" and "a=2:NoSchedule"`},
		{desc: "added and removed", specs: []string{"a:NoSchedule", "a-"}, wantErr: "both added and removed"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			add, remove, err := ParseTaints(c.specs)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(add, c.add) || !equality.Semantic.DeepEqual(remove, c.remove) {
				t.Errorf("add %v remove %v, want add %v remove %v", add, remove, c.add, c.remove)
			}
		})
	}
}

func TestApplyTaints(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	earlier := metav1.NewTime(now.Add(-time.Hour))
	noSched := func(k, v string) corev1.Taint {
		return corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffectNoSchedule}
	}
	noExec := func(k, v string, at *metav1.Time) corev1.Taint {
		return corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffectNoExecute, TimeAdded: at}
	}
	cases := []struct {
		desc        string
		current     []corev1.Taint
		add, remove []corev1.Taint
		overwrite   bool
		want        []corev1.Taint
		op          Operation
		wantErr     string
	}{
		{desc: "add to none; NoExecute gets timeAdded", add: []corev1.Taint{noExec("x", "", nil)},
			want: []corev1.Taint{noExec("x", "", &now)}, op: Tainted},
		{desc: "add keeps the others in order", current: []corev1.Taint{noSched("a", ""), noSched("b", "")}, add: []corev1.Taint{noSched("c", "1")},
			want: []corev1.Taint{noSched("a", ""), noSched("b", ""), noSched("c", "1")}, op: Tainted},
		{desc: "same key, other effect is another taint", current: []corev1.Taint{noSched("a", "")}, add: []corev1.Taint{noExec("a", "", nil)},
			want: []corev1.Taint{noSched("a", ""), noExec("a", "", &now)}, op: Tainted},
		{desc: "existing key and effect without overwrite", current: []corev1.Taint{noSched("a", "1")}, add: []corev1.Taint{noSched("a", "2")},
			wantErr: "cluster m1 already has taint(s) a=1:NoSchedule"},
		{desc: "overwrite replaces in place", current: []corev1.Taint{noSched("a", "1"), noSched("b", "")}, add: []corev1.Taint{noSched("a", "2")}, overwrite: true,
			want: []corev1.Taint{noSched("a", "2"), noSched("b", "")}, op: Modified},
		{desc: "overwrite with the same taint keeps timeAdded", current: []corev1.Taint{noExec("a", "1", &earlier)}, add: []corev1.Taint{noExec("a", "1", nil)}, overwrite: true,
			want: []corev1.Taint{noExec("a", "1", &earlier)}, op: Modified},
		{desc: "overwrite with a new value restarts timeAdded", current: []corev1.Taint{noExec("a", "1", &earlier)}, add: []corev1.Taint{noExec("a", "2", nil)}, overwrite: true,
			want: []corev1.Taint{noExec("a", "2", &now)}, op: Modified},
		{desc: "remove one effect", current: []corev1.Taint{noSched("a", ""), noExec("a", "", &earlier)}, remove: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoExecute}},
			want: []corev1.Taint{noSched("a", "")}, op: Untainted},
		{desc: "remove every effect of a key", current: []corev1.Taint{noSched("a", ""), noSched("b", ""), noExec("a", "", &earlier)}, remove: []corev1.Taint{{Key: "a"}},
			want: []corev1.Taint{noSched("b", "")}, op: Untainted},
		{desc: "remove the last taint leaves none", current: []corev1.Taint{noSched("a", "")}, remove: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}},
			want: nil, op: Untainted},
		{desc: "remove a missing taint names it", current: []corev1.Taint{noSched("a", "")}, remove: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoExecute}},
			wantErr: "cluster m1 has no taint a:NoExecute"},
		{desc: "add and remove is a modification", current: []corev1.Taint{noSched("a", "")}, add: []corev1.Taint{noSched("b", "")}, remove: []corev1.Taint{{Key: "a"}},
			want: []corev1.Taint{noSched("b", "")}, op: Modified},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			before := append([]corev1.Taint(nil), c.current...)
			got, op, err := ApplyTaints("m1", c.current, c.add, c.remove, c.overwrite, now)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(got, c.want) || op != c.op {
				t.Errorf("got %v %s, want %v %s", got, op, c.want, c.op)
			}
			if !equality.Semantic.DeepEqual(before, c.current) {
				t.Errorf("the current taints were modified: %v, was %v", c.current, before)
			}
		})
	}
}
