package interpreter

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// testingObject is a decoded object and how its numbers were decoded.
type testingObject struct {
	u   *unstructured.Unstructured
	how string
}

func int64Object(t *testing.T, y string) *testingObject {
	return &testingObject{object(t, y), "int64 numbers"}
}

func floatObject(t *testing.T, y string) *testingObject {
	return &testingObject{objectFloat(t, y), "float64 numbers"}
}

// normalize is u through JSON, so that objects compare equal however their
// numbers were decoded.
func normalize(t *testing.T, u *unstructured.Unstructured) map[string]any {
	t.Helper()
	raw, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReviseReplicas(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		n       int32
		wantOK  bool
		want    string // the object afterwards; "" means unchanged
		wantErr bool
	}{
		{name: "Deployment", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 4}", n: 1, wantOK: true,
			want: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}"},
		{name: "Deployment without replicas", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {paused: true}", n: 3, wantOK: true,
			want: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {paused: true, replicas: 3}"},
		{name: "Deployment without spec", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}", n: 2, wantOK: true,
			want: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 2}"},
		{name: "StatefulSet to zero", in: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: 5}", n: 0, wantOK: true,
			want: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: 0}"},
		{name: "ReplicaSet", in: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec: {replicas: 5}", n: 7, wantOK: true,
			want: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec: {replicas: 7}"},
		{name: "Job sets parallelism, keeps completions", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {parallelism: 4, completions: 8}", n: 1, wantOK: true,
			want: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {parallelism: 1, completions: 8}"},
		{name: "Job without parallelism", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {backoffLimit: 1}", n: 2, wantOK: true,
			want: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {backoffLimit: 1, parallelism: 2}"},
		{name: "Pod is one replica", in: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}", n: 3, wantOK: true},
		{name: "custom kind with replicas", in: "apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w}\nspec: {replicas: 6, size: 2}", n: 2, wantOK: true,
			want: "apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w}\nspec: {replicas: 2, size: 2}"},
		{name: "custom kind without replicas", in: "apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w}\nspec: {size: 2}", n: 2},
		{name: "custom kind with non-integer replicas", in: "apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w}\nspec: {replicas: many}", n: 2},
		{name: "Deployment of another group", in: "apiVersion: example.io/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {size: 1}", n: 2},
		{name: "DaemonSet", in: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds}\nspec: {}", n: 2},
		{name: "ConfigMap", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {replicas: '3'}", n: 2},
		{name: "spec is not an object", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: [1]", n: 2, wantOK: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, decode := range []func(*testing.T, string) *testingObject{int64Object, floatObject} {
				obj := decode(t, tt.in)
				before := obj.u.DeepCopy()
				ok, err := ReviseReplicas(obj.u, tt.n)
				if ok != tt.wantOK || (err != nil) != tt.wantErr {
					t.Fatalf("%s: ReviseReplicas = %v, %v; want ok %v, error %v", obj.how, ok, err, tt.wantOK, tt.wantErr)
				}
				if tt.wantErr {
					return
				}
				want := before
				if tt.want != "" {
					want = object(t, tt.want)
				}
				if !equality.Semantic.DeepEqual(normalize(t, obj.u), normalize(t, want)) {
					t.Errorf("%s: got %v, want %v", obj.how, obj.u.Object, want.Object)
				}
			}
		})
	}
}

// TestReviseReplicasRoundTrip: what ReviseReplicas writes is what Replicas
// reads, for every kind where the count is free.
func TestReviseReplicasRoundTrip(t *testing.T) {
	for _, in := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 4}",
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}",
		"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec: {replicas: 1}",
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {parallelism: 9}",
		"apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w}\nspec: {replicas: 6}",
	} {
		for _, n := range []int32{0, 1, 5, 1 << 30} {
			obj := object(t, in)
			if ok, err := ReviseReplicas(obj, n); !ok || err != nil {
				t.Fatalf("%s: ReviseReplicas(%d) = %v, %v", obj.GetKind(), n, ok, err)
			}
			if got, _, ok := Replicas(obj); !ok || got != n {
				t.Errorf("%s: Replicas after ReviseReplicas(%d) = %d, %v", obj.GetKind(), n, got, ok)
			}
		}
	}
}

func TestReviseJobCompletions(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		n             int32
		wantCompl     int32
		wantHas       bool
		wantChanged   bool
		wantAfterward int64 // spec.completions afterwards when wantHas
	}{
		{name: "Job with completions", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {completions: 10, parallelism: 2}",
			n: 3, wantCompl: 10, wantHas: true, wantChanged: true, wantAfterward: 3},
		{name: "Job with zero completions", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {completions: 0}",
			n: 1, wantCompl: 0, wantHas: true, wantChanged: true, wantAfterward: 1},
		{name: "work-queue Job", in: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {parallelism: 2}", n: 3},
		{name: "not a Job", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {completions: 4}", n: 3},
		{name: "Job of another group", in: "apiVersion: example.io/v1\nkind: Job\nmetadata: {name: j}\nspec: {completions: 4}", n: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := object(t, tt.in)
			c, has := JobCompletions(obj)
			if c != tt.wantCompl || has != tt.wantHas {
				t.Errorf("JobCompletions = %d, %v; want %d, %v", c, has, tt.wantCompl, tt.wantHas)
			}
			before := obj.DeepCopy()
			changed, err := ReviseJobCompletions(obj, tt.n)
			if err != nil || changed != tt.wantChanged {
				t.Fatalf("ReviseJobCompletions = %v, %v; want %v", changed, err, tt.wantChanged)
			}
			if !tt.wantChanged {
				if !equality.Semantic.DeepEqual(obj, before) {
					t.Errorf("changed: %v", obj.Object)
				}
				return
			}
			if got, _ := nestedInt(obj.Object, "spec", "completions"); got != tt.wantAfterward {
				t.Errorf("spec.completions = %d, want %d", got, tt.wantAfterward)
			}
		})
	}
}
