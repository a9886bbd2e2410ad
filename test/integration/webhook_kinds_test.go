package integration

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// admissionCase is one object sent to the host apiserver, which calls the
// manager's webhooks: rejected when wantErr names substrings of the
// error, else accepted (and then checked by accepted, when set).
type admissionCase struct {
	desc     string
	yaml     string
	wantErr  []string
	accepted func(t *testing.T, u *unstructured.Unstructured)
}

func runAdmissionCases(t *testing.T, cases []admissionCase) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(c.yaml), &u.Object); err != nil {
				t.Fatal(err)
			}
			err := k8sClient.Create(ctx, u)
			if err == nil {
				t.Cleanup(func() { _ = k8sClient.Delete(ctx, u) })
			}
			if len(c.wantErr) == 0 {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.accepted != nil {
					c.accepted(t, u)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			t.Logf("rejected: %v", err)
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestTemplateSchemaValidation: the wrapped object of a kind the host
// serves is dry-run in the template namespace and rejected with the
// apiserver's own field errors under spec.template; kinds the host does not
// serve are checked for shape only.
func TestTemplateSchemaValidation(t *testing.T) {
	runAdmissionCases(t, []admissionCase{
		{desc: "Deployment with replicas -1", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: negative, namespace: schema-a}
    spec:
      replicas: -1
      selector: {matchLabels: {app: negative}}
      template:
        metadata: {labels: {app: negative}}
        spec: {containers: [{name: web, image: nginx}]}
`, wantErr: []string{"spec.template.spec.replicas", "Invalid value: -1"}},
		{desc: "Deployment with a container without image", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: no-image, namespace: schema-a}
    spec:
      selector: {matchLabels: {app: no-image}}
      template:
        metadata: {labels: {app: no-image}}
        spec: {containers: [{name: Web_1}]}
`, wantErr: []string{"spec.template.spec.template.spec.containers[0].image", "spec.template.spec.template.spec.containers[0].name"}},
		{desc: "valid Deployment in a namespace the host lacks", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: fine, namespace: schema-a}
    spec:
      replicas: 2
      selector: {matchLabels: {app: fine}}
      template:
        metadata: {labels: {app: fine}}
        spec: {containers: [{name: web, image: nginx}]}
`, accepted: func(t *testing.T, u *unstructured.Unstructured) {
			if ns, _, _ := unstructured.NestedString(u.Object, "spec", "template", "metadata", "namespace"); ns != "schema-a" {
				t.Errorf("wrapped namespace %q, want schema-a (the dry run must not rewrite the stored object)", ns)
			}
		}},
		{desc: "ServiceAccount named like one the template namespace has", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template: {apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt, namespace: schema-a}, data: {a: b}}
`},
		{desc: "Service with a member's cluster IP and node port", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: v1
    kind: Service
    metadata: {name: member-ip, namespace: schema-a}
    spec: {type: NodePort, clusterIP: 172.31.255.10, ports: [{port: 80, nodePort: 30999}]}
`},
		{desc: "Service with a bad port", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template:
    apiVersion: v1
    kind: Service
    metadata: {name: bad-port, namespace: schema-a}
    spec: {ports: [{port: 70000}]}
`, wantErr: []string{"spec.template.spec.ports[0].port"}},
		{desc: "kind the host does not serve, malformed name", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template: {apiVersion: unserved.example.com/v1, kind: Widget, metadata: {name: Bad_Name, namespace: schema-a}}
`, wantErr: []string{"spec.template.metadata.name"}},
		{desc: "kind the host does not serve, malformed labels", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template: {apiVersion: unserved.example.com/v1, kind: Widget, metadata: {name: labelled, namespace: schema-a, labels: {"bad key": x}}}
`, wantErr: []string{"spec.template.metadata.labels"}},
		{desc: "kind the host does not serve, valid", yaml: `
apiVersion: work.argosy.dev/v1alpha1
kind: ResourceTemplate
metadata: {namespace: argosy-templates}
spec:
  template: {apiVersion: unserved.example.com/v1, kind: Widget, metadata: {name: fine, namespace: schema-a}, spec: {anything: [1, 2]}}
`},
	})
}

// TestTemplateSchemaValidationOnUpdate: an update that breaks the wrapped
// object is rejected like a create; one that leaves it alone is not dry-run.
func TestTemplateSchemaValidationOnUpdate(t *testing.T) {
	ctx := context.Background()
	rt := wrap(t, "", "argosy-templates", map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "upd", "namespace": "schema-b"}, "spec": map[string]any{"ports": []any{map[string]any{"port": 80}}}})
	if err := k8sClient.Create(ctx, rt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, rt) })
	bad := rt.DeepCopy()
	bad.Spec.Template = wrap(t, "", "", map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "upd", "namespace": "schema-b"}, "spec": map[string]any{"ports": []any{map[string]any{"port": -3}}}}).Spec.Template
	err := k8sClient.Patch(ctx, bad, client.MergeFrom(rt))
	if err == nil || !strings.Contains(err.Error(), "spec.template.spec.ports[0].port") {
		t.Fatalf("update to port -3: %v, want an error naming spec.template.spec.ports[0].port", err)
	}
}

// TestPolicyWebhooks: propagation and override policies are defaulted as
// in Karmada and rejected with the field named when they cannot work.
func TestPolicyWebhooks(t *testing.T) {
	runAdmissionCases(t, []admissionCase{
		{desc: "PropagationPolicy defaults", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: wh-defaults, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    replicaScheduling: {replicaSchedulingType: Divided}
    spreadConstraints: [{maxGroups: 2}]
`, accepted: func(t *testing.T, u *unstructured.Unstructured) {
			if p, _, _ := unstructured.NestedString(u.Object, "spec", "placement", "replicaScheduling", "replicaDivisionPreference"); p != "Weighted" {
				t.Errorf("replicaDivisionPreference %q, want Weighted", p)
			}
			sc, _, _ := unstructured.NestedSlice(u.Object, "spec", "placement", "spreadConstraints")
			if c := sc[0].(map[string]any); c["spreadByField"] != "cluster" || c["minGroups"] != int64(1) {
				t.Errorf("spread constraint %v, want spreadByField cluster and minGroups 1", c)
			}
			if tols, _, _ := unstructured.NestedSlice(u.Object, "spec", "placement", "clusterTolerations"); len(tols) != 2 {
				t.Errorf("clusterTolerations %v, want the two defaults", tols)
			}
		}},
		{desc: "PropagationPolicy selecting another namespace", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: wh-other-ns, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment, namespace: kube-system}]
`, wantErr: []string{"spec.resourceSelectors[0].namespace", "only selects objects in"}},
		{desc: "PropagationPolicy selecting a cluster-scoped kind", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: wh-cluster-kind, namespace: default}
spec:
  resourceSelectors: [{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole}]
`, wantErr: []string{"spec.resourceSelectors[0].kind", "cluster-scoped"}},
		{desc: "ClusterPropagationPolicy with a namespace on a cluster-scoped kind", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: ClusterPropagationPolicy
metadata: {name: wh-ns-on-cluster-kind}
spec:
  resourceSelectors: [{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, namespace: default}]
`, wantErr: []string{"spec.resourceSelectors[0].namespace", "never matches"}},
		{desc: "ClusterPropagationPolicy with an invalid label selector", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: ClusterPropagationPolicy
metadata: {name: wh-bad-selector}
spec:
  resourceSelectors: [{apiVersion: v1, kind: ConfigMap, labelSelector: {matchExpressions: [{key: app, operator: In}]}}]
`, wantErr: []string{"spec.resourceSelectors[0].labelSelector.matchExpressions[0].values"}},
		{desc: "ClusterPropagationPolicy with a bad toleration", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: ClusterPropagationPolicy
metadata: {name: wh-bad-toleration}
spec:
  resourceSelectors: [{apiVersion: v1, kind: ConfigMap}]
  placement: {clusterTolerations: [{key: k, operator: Exists, value: v, effect: NoExecute}]}
`, wantErr: []string{"spec.placement.clusterTolerations[0].value"}},
		{desc: "OverridePolicy with a malformed path", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: OverridePolicy
metadata: {name: wh-bad-path, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  overrideRules:
  - overriders:
      plaintext: [{path: "/metadata/annotations/a~2b", operator: add, value: x}]
`, wantErr: []string{"spec.overrideRules[0].overriders.plaintext[0].path", "bad escape"}},
		{desc: "OverridePolicy replace without value", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: OverridePolicy
metadata: {name: wh-no-value, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  overrideRules:
  - overriders:
      plaintext: [{path: "/spec/replicas", operator: replace}]
`, wantErr: []string{"spec.overrideRules[0].overriders.plaintext[0].value"}},
		{desc: "ClusterOverridePolicy removing the image repository", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: ClusterOverridePolicy
metadata: {name: wh-remove-repo}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  overrideRules:
  - overriders:
      imageOverrider: [{component: Repository, operator: remove}]
`, wantErr: []string{"spec.overrideRules[0].overriders.imageOverrider[0]", "cannot remove the repository"}},
		{desc: "valid OverridePolicy", yaml: `
apiVersion: policy.argosy.dev/v1alpha1
kind: OverridePolicy
metadata: {name: wh-valid, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment, name: web}]
  overrideRules:
  - targetCluster: {clusterNames: [member1]}
    overriders:
      imageOverrider: [{component: Registry, operator: replace, value: mirror.example.com}]
      plaintext: [{path: "/spec/replicas", operator: replace, value: 3}]
`},
	})
}

// TestWebhookAutoscalingRebalancerCluster: the other kinds' webhooks.
func TestWebhookAutoscalingRebalancerCluster(t *testing.T) {
	runAdmissionCases(t, []admissionCase{
		{desc: "CronFederatedHPA with an unparseable schedule", yaml: `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: CronFederatedHPA
metadata: {name: wh-bad-cron, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  rules: [{name: up, schedule: "61 * * * *", targetReplicas: 3}]
`, wantErr: []string{"spec.rules[0].schedule"}},
		{desc: "CronFederatedHPA with an unknown time zone", yaml: `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: CronFederatedHPA
metadata: {name: wh-bad-tz, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  rules: [{name: up, schedule: "0 8 * * *", timeZone: Mars/Olympus, targetReplicas: 3}]
`, wantErr: []string{"spec.rules[0].timeZone"}},
		{desc: "valid CronFederatedHPA", yaml: `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: CronFederatedHPA
metadata: {name: wh-cron, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  rules: [{name: up, schedule: "0 8 * * 1-5", timeZone: Europe/Berlin, targetReplicas: 3}]
`},
		{desc: "FederatedHPA with an empty metrics list", yaml: `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: FederatedHPA
metadata: {name: wh-no-metrics, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics: []
`, wantErr: []string{"spec.metrics"}},
		{desc: "FederatedHPA defaults", yaml: `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: FederatedHPA
metadata: {name: wh-defaults, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}
`, accepted: func(t *testing.T, u *unstructured.Unstructured) {
			if m, _, _ := unstructured.NestedInt64(u.Object, "spec", "minReplicas"); m != 1 {
				t.Errorf("minReplicas %d, want 1", m)
			}
			if ms, _, _ := unstructured.NestedSlice(u.Object, "spec", "metrics"); len(ms) != 1 {
				t.Errorf("metrics %v, want the CPU default", ms)
			}
			if w, _, _ := unstructured.NestedInt64(u.Object, "spec", "behavior", "scaleDown", "stabilizationWindowSeconds"); w != 60 {
				t.Errorf("scaleDown window %d, want 60 (kept)", w)
			}
			if ps, _, _ := unstructured.NestedSlice(u.Object, "spec", "behavior", "scaleUp", "policies"); len(ps) != 2 {
				t.Errorf("scaleUp policies %v, want the two Kubernetes defaults", ps)
			}
		}},
		{desc: "WorkloadRebalancer naming a Deployment without namespace", yaml: `
apiVersion: apps.argosy.dev/v1alpha1
kind: WorkloadRebalancer
metadata: {name: wh-no-namespace}
spec:
  workloads: [{apiVersion: apps/v1, kind: Deployment, name: web}]
`, wantErr: []string{"spec.workloads[0].namespace", "namespaced"}},
		{desc: "WorkloadRebalancer naming a ClusterRole with a namespace", yaml: `
apiVersion: apps.argosy.dev/v1alpha1
kind: WorkloadRebalancer
metadata: {name: wh-ns-on-cluster-kind}
spec:
  workloads: [{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, name: r, namespace: default}]
`, wantErr: []string{"spec.workloads[0].namespace", "cluster-scoped"}},
		{desc: "Cluster with an invalid taint key", yaml: `
apiVersion: cluster.argosy.dev/v1alpha1
kind: Cluster
metadata: {name: wh-bad-taint}
spec:
  syncMode: Pull
  taints: [{key: "bad key", effect: NoSchedule}]
`, wantErr: []string{"spec.taints[0].key"}},
	})
}
