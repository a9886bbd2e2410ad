package integration

import (
	"testing"
)

// TestInvalidObjectsRejected: invariants that need no cluster state are CEL
// rules and schema constraints in the CRDs, so the host apiserver itself
// rejects these, with a message naming the field, even with no webhook.
func TestInvalidObjectsRejected(t *testing.T) {
	cases := []struct {
		desc    string
		yaml    string
		wantMsg string
	}{
		{"clusterAffinity and clusterAffinities together", `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: both-affinities, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    clusterAffinity: {clusterNames: [member1]}
    clusterAffinities: [{affinityName: a, clusterNames: [member2]}]
`, "clusterAffinity and clusterAffinities are mutually exclusive"},
		{"duplicate affinity names", `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: dup-affinities, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    clusterAffinities: [{affinityName: a, clusterNames: [member1]}, {affinityName: a, clusterNames: [member2]}]
`, "affinityName must be unique"},
		{"static weight below 1", `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: zero-weight, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    replicaScheduling:
      replicaSchedulingType: Divided
      replicaDivisionPreference: Weighted
      weightPreference:
        staticWeightList: [{targetCluster: {clusterNames: [member1]}, weight: 0}]
`, "weight"},
		{"division preference with Duplicated", `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: dup-with-division, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    replicaScheduling: {replicaSchedulingType: Duplicated, replicaDivisionPreference: Aggregated}
`, "replicaDivisionPreference may only be set when replicaSchedulingType is Divided"},
		{"no resource selectors", `
apiVersion: policy.argosy.dev/v1alpha1
kind: ClusterPropagationPolicy
metadata: {name: no-selectors}
spec:
  resourceSelectors: []
  placement: {}
`, "resourceSelectors"},
		{"unknown conflict resolution", `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: bad-conflict, namespace: default}
spec:
  conflictResolution: Merge
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
`, "conflictResolution"},
		{"spread minGroups above maxGroups", `
apiVersion: policy.argosy.dev/v1alpha1
kind: PropagationPolicy
metadata: {name: bad-spread, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    spreadConstraints: [{spreadByField: cluster, minGroups: 3, maxGroups: 2}]
`, "minGroups must not be greater than maxGroups"},
		{"plaintext path not a JSON pointer", `
apiVersion: policy.argosy.dev/v1alpha1
kind: OverridePolicy
metadata: {name: bad-path, namespace: default}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  overrideRules:
  - overriders:
      plaintext: [{path: spec/replicas, operator: replace, value: 2}]
`, "must be a JSON pointer starting with '/'"},
		{"image overrider with unknown component", `
apiVersion: policy.argosy.dev/v1alpha1
kind: ClusterOverridePolicy
metadata: {name: bad-component}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  overrideRules:
  - overriders:
      imageOverrider: [{component: Digest, operator: replace, value: x}]
`, "component"},
		{"FederatedHPA minReplicas above maxReplicas", `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: FederatedHPA
metadata: {name: bad-bounds, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: nginx}
  minReplicas: 5
  maxReplicas: 2
`, "spec.minReplicas must be less than or equal to spec.maxReplicas"},
		{"CronFederatedHPA rule with TZ prefix", `
apiVersion: autoscaling.argosy.dev/v1alpha1
kind: CronFederatedHPA
metadata: {name: bad-cron, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: nginx}
  rules: [{name: up, schedule: "CRON_TZ=UTC */1 * * * *", targetReplicas: 5}]
`, "timeZone"},
		{"push cluster without endpoint", `
apiVersion: cluster.argosy.dev/v1alpha1
kind: Cluster
metadata: {name: no-endpoint}
spec:
  syncMode: Push
  secretRef: {namespace: argosy-system, name: no-endpoint-kubeconfig}
`, "spec.apiEndpoint is required when spec.syncMode is Push"},
		{"cluster taint with PreferNoSchedule", `
apiVersion: cluster.argosy.dev/v1alpha1
kind: Cluster
metadata: {name: bad-taint}
spec:
  syncMode: Push
  apiEndpoint: https://127.0.0.1:6443
  secretRef: {namespace: argosy-system, name: bad-taint-kubeconfig}
  taints: [{key: k, effect: PreferNoSchedule}]
`, "effect must be NoSchedule or NoExecute"},
		{"rebalancer with no workloads", `
apiVersion: apps.argosy.dev/v1alpha1
kind: WorkloadRebalancer
metadata: {name: empty}
spec:
  workloads: []
`, "workloads"},
	}
	admission := make([]admissionCase, len(cases))
	for i, c := range cases {
		admission[i] = admissionCase{desc: c.desc, yaml: c.yaml, wantErr: []string{c.wantMsg}}
	}
	runAdmissionCases(t, admission)
}
