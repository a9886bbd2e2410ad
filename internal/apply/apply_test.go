package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func obj(t *testing.T, y string) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// val decodes a YAML value the way the API machinery decodes JSON
// (integers as int64, other numbers as float64).
func val(t *testing.T, y string) any {
	t.Helper()
	return obj(t, "v: "+y)["v"]
}

func TestContains(t *testing.T) {
	cases := []struct {
		name          string
		live, desired string
		want          bool
	}{
		{"equal", `{a: 1, b: x}`, `{a: 1, b: x}`, true},
		{"live has more keys", `{a: 1, b: x, c: [1]}`, `{a: 1}`, true},
		{"value differs", `{a: 1, b: x}`, `{b: y}`, false},
		{"missing key", `{a: 1}`, `{b: x}`, false},
		{"nested maps", `{s: {t: {u: 1, v: 2}}}`, `{s: {t: {u: 1}}}`, true},
		{"nested differs", `{s: {t: {u: 1, v: 2}}}`, `{s: {t: {u: 2}}}`, false},
		{"list same", `{l: [{n: a, x: 1}, {n: b}]}`, `{l: [{n: a}, {n: b}]}`, true},
		{"list element differs", `{l: [{n: a}, {n: b}]}`, `{l: [{n: a}, {n: c}]}`, false},
		{"list longer in live", `{l: [a, b, c]}`, `{l: [a, b]}`, false},
		{"list shorter in live", `{l: [a]}`, `{l: [a, b]}`, false},
		{"list order matters", `{l: [b, a]}`, `{l: [a, b]}`, false},
		{"int and float", `{n: 2}`, `{n: 2.0}`, true},
		{"float differs", `{n: 2.5}`, `{n: 2}`, false},
		{"quantity forms", `{cpu: 500m}`, `{cpu: "0.5"}`, true},
		{"quantity number", `{cpu: "1"}`, `{cpu: 1}`, true},
		{"quantity memory", `{m: 1Gi}`, `{m: 1073741824}`, true},
		{"quantity differs", `{cpu: 500m}`, `{cpu: "1"}`, false},
		{"not quantities", `{image: nginx}`, `{image: "nginx:1"}`, false},
		{"null in desired", `{a: 1}`, `{a: null, b: null}`, true},
		{"empty map missing in live", `{a: 1}`, `{labels: {}, s: {t: {}}}`, true},
		{"empty list missing in live", `{a: 1}`, `{l: []}`, true},
		{"zero values missing in live", `{a: 1}`, `{s: "", b: false, n: 0}`, true},
		{"non-zero missing in live", `{a: 1}`, `{b: true}`, false},
		{"bool differs", `{b: true}`, `{b: false}`, false},
		{"type differs", `{a: {x: 1}}`, `{a: [1]}`, false},
		{"string against map", `{a: {x: 1}}`, `{a: x}`, false},
		{"empty desired", `{a: 1}`, `{}`, true},
		{"deployment", `
metadata: {name: d, namespace: default, labels: {app: d, argosy.dev/managed: "true"}, generation: 3, uid: u}
spec:
  replicas: 2
  revisionHistoryLimit: 10
  template:
    metadata: {labels: {app: d}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        imagePullPolicy: IfNotPresent
        resources: {requests: {cpu: 100m, memory: 64Mi}}
      restartPolicy: Always
status: {replicas: 2}`, `
metadata: {name: d, namespace: default, labels: {app: d, argosy.dev/managed: "true"}}
spec:
  replicas: 2
  template:
    metadata: {creationTimestamp: null, labels: {app: d}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        resources: {requests: {cpu: "0.1", memory: 64Mi}}`, true},
		{"deployment image edited in member", `
spec: {template: {spec: {containers: [{name: c, image: "nginx:edited"}]}}}`, `
spec: {template: {spec: {containers: [{name: c, image: "nginx:1.25"}]}}}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Contains(obj(t, c.live), obj(t, c.desired)); got != c.want {
				t.Errorf("Contains(%s, %s) = %v, want %v", c.live, c.desired, got, c.want)
			}
		})
	}
}

func TestContainsScalars(t *testing.T) {
	cases := []struct {
		live, desired any
		want          bool
	}{
		{int64(3), int64(3), true},
		{int64(3), float64(3), true},
		{float64(0.5), "500m", true},
		{"500m", float64(0.5), true},
		{"x", int64(1), false},
		{true, "true", false},
		{nil, "", true},
		{nil, "x", false},
		{nil, int64(0), true},
		{nil, int64(1), false},
		{nil, false, true},
	}
	for _, c := range cases {
		if got := Contains(c.live, c.desired); got != c.want {
			t.Errorf("Contains(%#v, %#v) = %v, want %v", c.live, c.desired, got, c.want)
		}
	}
	if !Contains(val(t, "1e3"), val(t, "1000")) {
		t.Error("1e3 and 1000 should be equal numbers")
	}
}

func TestPrepare(t *testing.T) {
	cases := []struct {
		name       string
		manifest   string
		namespaced bool
		want       string
	}{
		{
			name: "server fields dropped, label and annotation added, namespace defaulted",
			manifest: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  uid: host-uid
  resourceVersion: "12"
  generation: 4
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: x}]
  ownerReferences: [{apiVersion: v1, kind: X, name: y, uid: z}]
  labels: {app: d}
  annotations: {keep: me, kubectl.kubernetes.io/last-applied-configuration: "{}"}
spec: {replicas: 2}
status: {replicas: 9}`,
			namespaced: true,
			want: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  namespace: default
  labels: {app: d, argosy.dev/managed: "true"}
  annotations: {keep: me, argosy.dev/work: argosy-es-m1/w}
spec: {replicas: 2}`,
		},
		{
			name:       "cluster-scoped loses its namespace",
			manifest:   `{apiVersion: v1, kind: Namespace, metadata: {name: n, namespace: stray}}`,
			namespaced: false,
			want:       `{apiVersion: v1, kind: Namespace, metadata: {name: n, labels: {argosy.dev/managed: "true"}, annotations: {argosy.dev/work: argosy-es-m1/w}}}`,
		},
		{
			name:       "explicit namespace kept",
			manifest:   `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: ns1}, data: {k: v}}`,
			namespaced: true,
			want:       `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: ns1, labels: {argosy.dev/managed: "true"}, annotations: {argosy.dev/work: argosy-es-m1/w}}, data: {k: v}}`,
		},
		{
			name:       "service cluster IPs are the member's",
			manifest:   `{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns2}, spec: {clusterIP: 10.0.0.9, clusterIPs: [10.0.0.9], ports: [{port: 80}]}}`,
			namespaced: true,
			want:       `{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns2, labels: {argosy.dev/managed: "true"}, annotations: {argosy.dev/work: argosy-es-m1/w}}, spec: {ports: [{port: 80}]}}`,
		},
		{
			name:       "headless service kept",
			manifest:   `{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns2}, spec: {clusterIP: None}}`,
			namespaced: true,
			want:       `{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns2, labels: {argosy.dev/managed: "true"}, annotations: {argosy.dev/work: argosy-es-m1/w}}, spec: {clusterIP: None}}`,
		},
		{
			name: "job generated selector dropped",
			manifest: `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: ns2},
  spec: {selector: {matchLabels: {controller-uid: x}}, template: {metadata: {labels: {controller-uid: x, batch.kubernetes.io/controller-uid: x, job-name: j, app: a}}}}}`,
			namespaced: true,
			want: `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: ns2, labels: {argosy.dev/managed: "true"}, annotations: {argosy.dev/work: argosy-es-m1/w}},
  spec: {template: {metadata: {labels: {app: a}}}}}`,
		},
		{
			name:       "job manual selector kept",
			manifest:   `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: ns2}, spec: {manualSelector: true, selector: {matchLabels: {a: b}}}}`,
			namespaced: true,
			want:       `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: ns2, labels: {argosy.dev/managed: "true"}, annotations: {argosy.dev/work: argosy-es-m1/w}}, spec: {manualSelector: true, selector: {matchLabels: {a: b}}}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &unstructured.Unstructured{Object: obj(t, c.manifest)}
			before := in.DeepCopy()
			got := Prepare(in, c.namespaced, "argosy-es-m1/w")
			want := obj(t, c.want)
			if !Contains(got.Object, want) || !Contains(want, got.Object) {
				gy, _ := yaml.Marshal(got.Object)
				t.Errorf("Prepare =\n%s\nwant\n%s", gy, c.want)
			}
			if !Contains(in.Object, before.Object) || !Contains(before.Object, in.Object) {
				t.Error("Prepare modified its input")
			}
		})
	}
}

func TestRetain(t *testing.T) {
	deploy := func(replicas int64, retain bool) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: obj(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {replicas: 1}}`)}
		_ = unstructured.SetNestedField(u.Object, replicas, "spec", "replicas")
		if retain {
			u.SetLabels(map[string]string{workv1alpha1.LabelRetainReplicas: "true"})
		}
		return u
	}
	cases := []struct {
		name    string
		desired *unstructured.Unstructured
		live    *unstructured.Unstructured
		want    int64
	}{
		{"retained from the member", deploy(2, true), deploy(7, false), 7},
		{"not asked for", deploy(2, false), deploy(7, false), 2},
		{"not in the member yet", deploy(2, true), nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			Retain(c.desired, c.live)
			got, _, _ := unstructured.NestedInt64(c.desired.Object, "spec", "replicas")
			if got != c.want {
				t.Errorf("replicas = %d, want %d", got, c.want)
			}
		})
	}
}
