package interpreter

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// object decodes YAML the way the detector decodes a wrapped object.
func object(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	return u
}

// objectFloat decodes with encoding/json, whose numbers are float64, as
// other callers (the webhook) do.
func objectFloat(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func rl(pairs ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

const podSpec = `
      containers:
      - name: app
        image: nginx
        resources:
          requests: {cpu: 100m, memory: 64Mi}`

func TestReplicas(t *testing.T) {
	cases := []struct {
		desc    string
		y       string
		want    int32
		wantOK  bool
		wantReq bool
	}{
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  replicas: 3\n  template:\n    spec:" + podSpec, 3, true, true},
		{"deployment without replicas defaults to 1", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  template:\n    spec:" + podSpec, 1, true, true},
		{"deployment scaled to zero", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  replicas: 0\n  template:\n    spec:" + podSpec, 0, true, true},
		{"statefulset", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s, namespace: ns}\nspec:\n  replicas: 5\n  template:\n    spec:" + podSpec, 5, true, true},
		{"replicaset", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r, namespace: ns}\nspec:\n  replicas: 2\n  template:\n    spec:" + podSpec, 2, true, true},
		{"job parallelism", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: ns}\nspec:\n  parallelism: 4\n  template:\n    spec:" + podSpec, 4, true, true},
		{"job without parallelism defaults to 1", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: ns}\nspec:\n  completions: 10\n  template:\n    spec:" + podSpec, 1, true, true},
		{"job parallelism capped by completions", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: ns}\nspec:\n  parallelism: 8\n  completions: 3\n  template:\n    spec:" + podSpec, 3, true, true},
		{"job parallelism below completions", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: ns}\nspec:\n  parallelism: 2\n  completions: 30\n  template:\n    spec:" + podSpec, 2, true, true},
		{"pod is one replica", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:" + strings.ReplaceAll(podSpec, "\n    ", "\n"), 1, true, true},
		{"custom kind with spec.replicas and a pod template", "apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w, namespace: ns}\nspec:\n  replicas: 7\n  template:\n    spec:" + podSpec, 7, true, true},
		{"custom kind with spec.replicas only", "apiVersion: example.io/v1\nkind: Cache\nmetadata: {name: c, namespace: ns}\nspec:\n  replicas: 2\n  template: {size: 3}", 2, true, false},
		{"custom kind without replicas", "apiVersion: example.io/v1\nkind: Thing\nmetadata: {name: c, namespace: ns}\nspec: {size: 3}", 0, false, false},
		{"custom kind with non-integer replicas", "apiVersion: example.io/v1\nkind: Thing\nmetadata: {name: c, namespace: ns}\nspec: {replicas: two}", 0, false, false},
		{"daemonset has no replica count", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: ns}\nspec:\n  template:\n    spec:" + podSpec, 0, false, false},
		{"configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {a: b}", 0, false, false},
		{"service", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec: {ports: [{port: 80}]}", 0, false, false},
		{"negative replicas clamp to 0", "apiVersion: example.io/v1\nkind: Thing\nmetadata: {name: c, namespace: ns}\nspec: {replicas: -3}", 0, true, false},
	}
	for _, c := range cases {
		for _, dec := range []struct {
			name string
			f    func(*testing.T, string) *unstructured.Unstructured
		}{{"int64", object}, {"float64", objectFloat}} {
			t.Run(c.desc+"/"+dec.name, func(t *testing.T) {
				n, req, ok := Replicas(dec.f(t, c.y))
				if n != c.want || ok != c.wantOK || (req != nil) != c.wantReq {
					t.Fatalf("Replicas() = %d, req %v, ok %v; want %d, req %v, ok %v", n, req != nil, ok, c.want, c.wantReq, c.wantOK)
				}
				if req != nil && req.Namespace != "ns" {
					t.Errorf("requirements namespace %q, want ns", req.Namespace)
				}
			})
		}
	}
}

func TestReplicaRequirements(t *testing.T) {
	y := `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: prod}
spec:
  replicas: 2
  template:
    spec:
      priorityClassName: high
      nodeSelector: {disk: ssd}
      tolerations:
      - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: zone, operator: In, values: [a, b]}
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            preference:
              matchExpressions:
              - {key: fast, operator: Exists}
      containers:
      - name: app
        resources:
          requests: {cpu: 250m, memory: 128Mi}
`
	_, req, ok := Replicas(object(t, y))
	if !ok || req == nil {
		t.Fatal("no requirements")
	}
	want := &workv1alpha1.ReplicaRequirements{
		Namespace:         "prod",
		PriorityClassName: "high",
		ResourceRequest:   rl("cpu", "250m", "memory", "128Mi"),
		NodeClaim: &workv1alpha1.NodeClaim{
			NodeSelector: map[string]string{"disk": "ssd"},
			Tolerations:  []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			HardNodeAffinity: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}},
			}}},
		},
	}
	if !equality.Semantic.DeepEqual(req, want) {
		t.Errorf("requirements\n got %+v\nwant %+v", req, want)
	}

	// Without constraints there is no NodeClaim, and without requests no
	// ResourceRequest.
	_, req, _ = Replicas(object(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  template:\n    spec:\n      containers: [{name: app}]"))
	if req == nil || req.NodeClaim != nil || req.ResourceRequest != nil {
		t.Errorf("bare pod template: %+v", req)
	}
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	res := func(req, lim corev1.ResourceList) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: req, Limits: lim}
	}
	cases := []struct {
		desc string
		spec corev1.PodSpec
		want corev1.ResourceList
	}{
		{"no requests", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, corev1.ResourceList{}},
		{"containers are summed", corev1.PodSpec{Containers: []corev1.Container{
			{Resources: res(rl("cpu", "100m", "memory", "1Gi"), nil)},
			{Resources: res(rl("cpu", "200m", "nvidia.com/gpu", "1"), nil)},
		}}, rl("cpu", "300m", "memory", "1Gi", "nvidia.com/gpu", "1")},
		{"limits stand in for missing requests", corev1.PodSpec{Containers: []corev1.Container{
			{Resources: res(nil, rl("cpu", "1", "memory", "2Gi"))},
		}}, rl("cpu", "1", "memory", "2Gi")},
		{"requests win over limits, per resource", corev1.PodSpec{Containers: []corev1.Container{
			{Resources: res(rl("cpu", "100m"), rl("cpu", "1", "memory", "2Gi"))},
		}}, rl("cpu", "100m", "memory", "2Gi")},
		{"a bigger init container sets the request", corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: res(rl("cpu", "2", "memory", "64Mi"), nil)}},
			Containers:     []corev1.Container{{Resources: res(rl("cpu", "500m", "memory", "1Gi"), nil)}},
		}, rl("cpu", "2", "memory", "1Gi")},
		{"init containers run one at a time: max, not sum", corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: res(rl("cpu", "1"), nil)}, {Resources: res(rl("cpu", "1500m"), nil)}},
			Containers:     []corev1.Container{{Resources: res(rl("cpu", "100m"), nil)}},
		}, rl("cpu", "1500m")},
		{"init container limits stand in for requests", corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: res(nil, rl("memory", "4Gi"))}},
			Containers:     []corev1.Container{{Resources: res(rl("memory", "1Gi"), nil)}},
		}, rl("memory", "4Gi")},
		{"sidecars add to the containers and to later init steps", corev1.PodSpec{
			InitContainers: []corev1.Container{
				{RestartPolicy: &always, Resources: res(rl("cpu", "100m"), nil)},
				{Resources: res(rl("cpu", "1"), nil)},
			},
			Containers: []corev1.Container{{Resources: res(rl("cpu", "200m"), nil)}},
		}, rl("cpu", "1100m")},
		{"sidecar with the main containers is larger than init steps", corev1.PodSpec{
			InitContainers: []corev1.Container{
				{Resources: res(rl("cpu", "100m"), nil)},
				{RestartPolicy: &always, Resources: res(rl("cpu", "500m"), nil)},
			},
			Containers: []corev1.Container{{Resources: res(rl("cpu", "1"), nil)}},
		}, rl("cpu", "1500m")},
		{"overhead is added", corev1.PodSpec{
			Overhead:   rl("cpu", "250m", "memory", "120Mi"),
			Containers: []corev1.Container{{Resources: res(rl("cpu", "1", "memory", "1Gi"), nil)}},
		}, rl("cpu", "1250m", "memory", "1144Mi")},
		{"overhead is added after the init maximum", corev1.PodSpec{
			Overhead:       rl("cpu", "100m"),
			InitContainers: []corev1.Container{{Resources: res(rl("cpu", "2"), nil)}},
			Containers:     []corev1.Container{{Resources: res(rl("cpu", "1"), nil)}},
		}, rl("cpu", "2100m")},
		{"pod-level resources replace container totals for cpu and memory", corev1.PodSpec{
			Resources:  &corev1.ResourceRequirements{Requests: rl("cpu", "3"), Limits: rl("memory", "8Gi")},
			Containers: []corev1.Container{{Resources: res(rl("cpu", "1", "memory", "1Gi", "ephemeral-storage", "1Gi"), nil)}},
		}, rl("cpu", "3", "memory", "8Gi", "ephemeral-storage", "1Gi")},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got := PodRequests(&c.spec)
			if len(got) != len(c.want) {
				t.Fatalf("PodRequests() = %v, want %v", got, c.want)
			}
			for name, q := range c.want {
				if g, ok := got[name]; !ok || g.Cmp(q) != 0 {
					t.Errorf("%s = %v, want %v (all: %v)", name, got[name], q.String(), got)
				}
			}
		})
	}
}

func TestDependencies(t *testing.T) {
	const pod = `
      serviceAccountName: app-sa
      imagePullSecrets: [{name: registry}]
      initContainers:
      - name: init
        envFrom: [{configMapRef: {name: init-env}}]
      containers:
      - name: app
        env:
        - {name: A, valueFrom: {configMapKeyRef: {name: env-cm, key: a}}}
        - {name: B, valueFrom: {secretKeyRef: {name: env-secret, key: b}}}
        - {name: C, value: plain}
        - {name: D, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        envFrom:
        - {secretRef: {name: envfrom-secret}}
        - {configMapRef: {name: env-cm}}
      volumes:
      - {name: v1, configMap: {name: vol-cm}}
      - {name: v2, secret: {secretName: vol-secret}}
      - {name: v3, persistentVolumeClaim: {claimName: data}}
      - name: v4
        projected:
          sources:
          - {configMap: {name: proj-cm}}
          - {secret: {name: proj-secret}}
          - {serviceAccountToken: {path: token}}
      - {name: v5, csi: {driver: x, nodePublishSecretRef: {name: csi-secret}}}
      - {name: v6, emptyDir: {}}`
	want := []Dependency{
		{"v1", "ConfigMap", "ns", "env-cm"},
		{"v1", "ConfigMap", "ns", "init-env"},
		{"v1", "ConfigMap", "ns", "proj-cm"},
		{"v1", "ConfigMap", "ns", "vol-cm"},
		{"v1", "PersistentVolumeClaim", "ns", "data"},
		{"v1", "Secret", "ns", "csi-secret"},
		{"v1", "Secret", "ns", "env-secret"},
		{"v1", "Secret", "ns", "envfrom-secret"},
		{"v1", "Secret", "ns", "proj-secret"},
		{"v1", "Secret", "ns", "registry"},
		{"v1", "Secret", "ns", "vol-secret"},
		{"v1", "ServiceAccount", "ns", "app-sa"},
	}
	workload := func(apiVersion, kind, templatePath string) string {
		y := "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: w, namespace: ns}\nspec:\n"
		switch templatePath {
		case "template":
			return y + "  template:\n    spec:" + pod
		case "jobTemplate":
			return y + "  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:" + strings.ReplaceAll(pod, "\n", "\n    ")
		}
		return y + strings.ReplaceAll(pod, "\n    ", "\n") // a Pod: the spec itself
	}
	for _, c := range []struct{ apiVersion, kind, path string }{
		{"apps/v1", "Deployment", "template"},
		{"apps/v1", "StatefulSet", "template"},
		{"apps/v1", "ReplicaSet", "template"},
		{"apps/v1", "DaemonSet", "template"},
		{"batch/v1", "Job", "template"},
		{"batch/v1", "CronJob", "jobTemplate"},
		{"v1", "Pod", ""},
	} {
		t.Run(c.kind, func(t *testing.T) {
			got := Dependencies(object(t, workload(c.apiVersion, c.kind, c.path)))
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("Dependencies()\n got %v\nwant %v", got, want)
			}
		})
	}

	other := []struct {
		desc string
		y    string
		want []Dependency
	}{
		{"default service account is not a dependency",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  template:\n    spec:\n      serviceAccountName: default\n      containers: [{name: a}]", nil},
		{"ingress tls secrets",
			"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: ns}\nspec:\n  tls: [{secretName: cert}, {hosts: [a]}]", []Dependency{{"v1", "Secret", "ns", "cert"}}},
		{"configmap has none", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}", nil},
		{"custom kind has none", "apiVersion: example.io/v1\nkind: Workload\nmetadata: {name: w, namespace: ns}\nspec:\n  template:\n    spec:\n      volumes: [{name: v, configMap: {name: cm}}]", nil},
		{"duplicates collapse", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  template:\n    spec:\n      containers: [{name: a, envFrom: [{configMapRef: {name: x}}]}, {name: b, envFrom: [{configMapRef: {name: x}}]}]", []Dependency{{"v1", "ConfigMap", "ns", "x"}}},
	}
	for _, c := range other {
		t.Run(c.desc, func(t *testing.T) {
			if got := Dependencies(object(t, c.y)); !equality.Semantic.DeepEqual(got, c.want) {
				t.Errorf("Dependencies() = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDependencyGroup(t *testing.T) {
	for in, want := range map[string]string{"v1": "", "apps/v1": "apps", "networking.k8s.io/v1": "networking.k8s.io"} {
		if got := (Dependency{APIVersion: in}).Group(); got != want {
			t.Errorf("Group(%q) = %q, want %q", in, got, want)
		}
	}
}
