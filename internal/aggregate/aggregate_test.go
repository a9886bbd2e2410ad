package aggregate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

var (
	deployment  = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	statefulSet = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
	daemonSet   = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	replicaSet  = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	job         = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}
	cronJob     = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}
	pod         = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	service     = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	ingress     = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
	pvc         = schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}
	pdb         = schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}
	configMap   = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	widget      = schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
)

// st decodes a status written as YAML the way encoding/json decodes it
// (numbers as float64), as a collected member status would be.
func st(t *testing.T, y string) map[string]any {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// canon renders a status as sorted JSON so that int64 and float64 numbers
// compare equal.
func canon(t *testing.T, m map[string]any) string {
	t.Helper()
	if m == nil {
		return "null"
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

const deployDone = `
observedGeneration: 2
replicas: 2
updatedReplicas: 2
readyReplicas: 2
availableReplicas: 2
conditions:
- {type: Available, status: "True", reason: MinimumReplicasAvailable}
- {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
`

const deployRolling = `
observedGeneration: 2
replicas: 3
updatedReplicas: 1
readyReplicas: 2
availableReplicas: 2
unavailableReplicas: 1
conditions:
- {type: Available, status: "True", reason: MinimumReplicasAvailable}
- {type: Progressing, status: "True", reason: ReplicaSetUpdated}
`

type verdictWant int

const (
	wantReady verdictWant = iota
	wantReconciling
	wantStalled
)

type aggCase struct {
	name    string
	gvk     schema.GroupVersionKind
	members []Member
	want    verdictWant
	reason  string
	message string // substring of Result.Message unless exact is set
	exact   bool
	status  string // YAML of the aggregated status; "null" for nil; "" to skip
	observe *bool  // expected AllObserved, when set
}

func boolp(b bool) *bool { return &b }

func runCases(t *testing.T, cases []aggCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Aggregate(tc.gvk, tc.members)
			if err != nil {
				t.Fatal(err)
			}
			got := []bool{res.Ready, res.Reconciling, res.Stalled}
			want := []bool{tc.want == wantReady, tc.want == wantReconciling, tc.want == wantStalled}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Ready/Reconciling/Stalled = %v, want %v (message %q)", got, want, res.Message)
			}
			if tc.reason != "" && res.Reason != tc.reason {
				t.Errorf("Reason = %q, want %q", res.Reason, tc.reason)
			}
			if tc.exact && res.Message != tc.message {
				t.Errorf("Message = %q, want %q", res.Message, tc.message)
			} else if !strings.Contains(res.Message, tc.message) {
				t.Errorf("Message = %q, want it to contain %q", res.Message, tc.message)
			}
			switch tc.status {
			case "":
			case "null":
				if res.Status != nil {
					t.Errorf("Status = %s, want nil", canon(t, res.Status))
				}
			default:
				if g, w := canon(t, res.Status), canon(t, st(t, tc.status)); g != w {
					t.Errorf("Status =\n%s\nwant\n%s", g, w)
				}
			}
			if tc.observe != nil && res.AllObserved != *tc.observe {
				t.Errorf("AllObserved = %v, want %v", res.AllObserved, *tc.observe)
			}
			if len(res.PerCluster) != len(tc.members) {
				t.Errorf("PerCluster has %d entries, want %d", len(res.PerCluster), len(tc.members))
			}
		})
	}
}

func TestDeployment(t *testing.T) {
	runCases(t, []aggCase{{
		name: "rolled out everywhere",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
			{Cluster: "member2", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
		},
		want:    wantReady,
		reason:  workv1alpha1.TemplateReasonSucceeded,
		message: "ready in all 2 clusters",
		exact:   true,
		status:  "{replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4, unavailableReplicas: 0}",
		observe: boolp(true),
	}, {
		name: "one cluster rolling out",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member2", Applied: true, Status: st(t, deployRolling), Generation: 2, DesiredReplicas: 2},
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
		},
		want:    wantReconciling,
		reason:  workv1alpha1.TemplateReasonProgressing,
		message: "1 of 2 clusters still rolling out: member2 has 1/2 updated replicas",
		exact:   true,
		status:  "{replicas: 5, updatedReplicas: 3, readyReplicas: 4, availableReplicas: 4, unavailableReplicas: 1}",
		observe: boolp(true),
	}, {
		name: "member not observed yet",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
			{Cluster: "member2", Applied: true, Generation: 1, DesiredReplicas: 2},
		},
		want:    wantReconciling,
		message: "member2 has not reported status yet",
		status:  "{replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0}",
		observe: boolp(false),
	}, {
		name: "no member observed yet",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, DesiredReplicas: 2},
		},
		want:   wantReconciling,
		status: "null",
	}, {
		name: "observedGeneration behind, counters look done",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 3, ObservedGeneration: 2, DesiredReplicas: 2},
			{Cluster: "member2", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
		},
		want:    wantReconciling,
		message: "member1 has observed generation 2 of 3",
		observe: boolp(false),
	}, {
		name: "observedGeneration read from the status when the field is unset",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 3, DesiredReplicas: 2},
		},
		want:    wantReconciling,
		message: "member1 has observed generation 2 of 3",
		observe: boolp(false),
	}, {
		name: "observedGeneration ahead of the reported generation is caught up",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 1, ObservedGeneration: 2, DesiredReplicas: 2},
		},
		want:    wantReady,
		observe: boolp(true),
	}, {
		name: "no observedGeneration at all is not caught up",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, "{replicas: 0}"), Generation: 1, DesiredReplicas: 0},
		},
		want:    wantReconciling,
		message: "member1 has not observed generation 1 yet",
	}, {
		name: "spec asks for more replicas than exist",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 5},
		},
		want:    wantReconciling,
		message: "member1 has 2/5 replicas",
	}, {
		name: "scaled down, old replicas terminating",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 1},
		},
		want:    wantReconciling,
		message: "member1 has 1 old replicas pending termination",
	}, {
		name: "counters done but new ReplicaSet not reported available",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 2, DesiredReplicas: 2, Status: st(t, `
observedGeneration: 2
replicas: 2
updatedReplicas: 2
readyReplicas: 2
availableReplicas: 2
conditions:
- {type: Available, status: "True"}
- {type: Progressing, status: "True", reason: ReplicaSetUpdated}
`)},
		},
		want:    wantReconciling,
		message: "member1 has no available new ReplicaSet yet",
	}, {
		name: "progress deadline exceeded",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
			{Cluster: "member2", Applied: true, Generation: 2, DesiredReplicas: 2, Status: st(t, `
observedGeneration: 2
replicas: 2
updatedReplicas: 1
conditions:
- {type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: 'ReplicaSet "web-1" has timed out progressing.'}
`)},
		},
		want:    wantStalled,
		reason:  workv1alpha1.TemplateReasonUnhealthy,
		message: `1 of 2 clusters failed: member2: progress deadline exceeded: ProgressDeadlineExceeded: ReplicaSet "web-1" has timed out progressing.`,
		exact:   true,
	}})
}

func TestApply(t *testing.T) {
	runCases(t, []aggCase{{
		name: "apply failure stalls and names the cluster",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
			{Cluster: "member2", AppliedMessage: "admission webhook denied the request"},
		},
		want:    wantStalled,
		reason:  workv1alpha1.TemplateReasonApplyFailed,
		message: "1 of 2 clusters failed: member2: apply failed: admission webhook denied the request",
		exact:   true,
		observe: boolp(false),
	}, {
		name: "apply failure wins over a rollout in progress",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployRolling), Generation: 2, DesiredReplicas: 2},
			{Cluster: "member2", AppliedMessage: "conflict"},
		},
		want:   wantStalled,
		reason: workv1alpha1.TemplateReasonApplyFailed,
	}, {
		name: "apply pending is progress, not failure",
		gvk:  configMap,
		members: []Member{
			{Cluster: "member1", Applied: true},
			{Cluster: "member2"},
		},
		want:    wantReconciling,
		message: "1 of 2 clusters still rolling out: member2 is not applied yet",
		exact:   true,
	}, {
		name:    "no target clusters",
		gvk:     configMap,
		want:    wantReconciling,
		message: "no target clusters",
	}, {
		name: "the reason of the first failed cluster by name",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member2", AppliedMessage: "webhook denied", FailureReason: workv1alpha1.TemplateReasonApplyFailed},
			{Cluster: "member1", AppliedMessage: "Deployment default/web exists and is not managed by Argosy", FailureReason: workv1alpha1.TemplateReasonConflict},
		},
		want:    wantStalled,
		reason:  workv1alpha1.TemplateReasonConflict,
		message: "2 of 2 clusters failed: member1: apply failed: Deployment default/web exists and is not managed by Argosy; member2: apply failed: webhook denied",
		exact:   true,
	}, {
		name: "an override failure",
		gvk:  configMap,
		members: []Member{
			{Cluster: "member1", AppliedMessage: "OverridePolicy default/op rule 0: /data/missing does not exist", FailureReason: workv1alpha1.TemplateReasonOverrideFailed},
		},
		want:   wantStalled,
		reason: workv1alpha1.TemplateReasonOverrideFailed,
	}, {
		name: "waiting with a message is progress, not failure",
		gvk:  configMap,
		members: []Member{
			{Cluster: "member1", Applied: true},
			{Cluster: "member2", AppliedMessage: "cluster member2 is unreachable", Waiting: true},
		},
		want:    wantReconciling,
		reason:  workv1alpha1.TemplateReasonProgressing,
		message: "1 of 2 clusters still rolling out: member2 is not applied yet: cluster member2 is unreachable",
		exact:   true,
	}})
}

// TestReportedHealth: without the member object's generation, the health
// the collector reported decides whether a status that looks done is.
func TestReportedHealth(t *testing.T) {
	runCases(t, []aggCase{{
		name: "unknown generation, reported healthy",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), DesiredReplicas: 2, ReportedHealth: workv1alpha1.ResourceHealthy},
		},
		want:    wantReady,
		observe: boolp(true),
	}, {
		name: "unknown generation, reported unhealthy although the status looks done",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), DesiredReplicas: 2, ReportedHealth: workv1alpha1.ResourceUnhealthy},
		},
		want:    wantReconciling,
		message: "member1 is reported Unhealthy by the member",
		observe: boolp(false),
	}, {
		name: "unknown generation, still rolling out: the status's own message",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployRolling), DesiredReplicas: 2, ReportedHealth: workv1alpha1.ResourceUnhealthy},
		},
		want:    wantReconciling,
		message: "member1 has 1/2 updated replicas",
		observe: boolp(false),
	}, {
		name: "known generation: the generation check decides, not the reported health",
		gvk:  deployment,
		members: []Member{
			{Cluster: "member1", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2, ReportedHealth: workv1alpha1.ResourceUnhealthy},
		},
		want:    wantReady,
		observe: boolp(true),
	}})
}

func TestOtherKinds(t *testing.T) {
	runCases(t, []aggCase{{
		name: "ConfigMap ready when applied everywhere, no aggregated status",
		gvk:  configMap,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1},
			{Cluster: "member2", Applied: true, Generation: 1},
		},
		want:    wantReady,
		status:  "null",
		observe: boolp(true),
	}, {
		name: "custom resource with a Stalled condition",
		gvk:  widget,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, `conditions: [{type: Stalled, status: "True", reason: BadSpec}]`)},
		},
		want:    wantStalled,
		reason:  workv1alpha1.TemplateReasonUnhealthy,
		message: "member1: stalled: BadSpec",
		status:  "null",
	}, {
		name: "custom resource reconciling",
		gvk:  widget,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, `conditions: [{type: Reconciling, status: "True"}]`)},
		},
		want:    wantReconciling,
		message: "member1 is reconciling",
	}, {
		name: "custom resource with observedGeneration behind",
		gvk:  widget,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 4, Status: st(t, `observedGeneration: 3`)},
		},
		want:    wantReconciling,
		message: "member1 has observed generation 3 of 4",
	}})
}

func TestStatefulSet(t *testing.T) {
	done := `{observedGeneration: 1, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 2, currentRevision: web-1, updateRevision: web-1}`
	runCases(t, []aggCase{{
		name: "ready",
		gvk:  statefulSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, DesiredReplicas: 2, Status: st(t, done)},
			{Cluster: "b", Applied: true, Generation: 1, DesiredReplicas: 2, Status: st(t, done)},
		},
		want:   wantReady,
		status: "{replicas: 4, readyReplicas: 4, currentReplicas: 4, updatedReplicas: 4, availableReplicas: 4}",
	}, {
		name: "revision rolling",
		gvk:  statefulSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 2, DesiredReplicas: 2, Status: st(t, `{observedGeneration: 2, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: web-1, updateRevision: web-2}`)},
		},
		want:    wantReconciling,
		message: "a is waiting for revision web-2",
	}, {
		name: "not enough ready",
		gvk:  statefulSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, DesiredReplicas: 3, Status: st(t, `{observedGeneration: 1, replicas: 3, readyReplicas: 1, currentReplicas: 3}`)},
		},
		want:    wantReconciling,
		message: "a has 1/3 ready replicas",
	}})
}

func TestDaemonSet(t *testing.T) {
	done := `{observedGeneration: 1, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberAvailable: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 3}`
	runCases(t, []aggCase{{
		name: "ready",
		gvk:  daemonSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, Status: st(t, done)},
			{Cluster: "b", Applied: true, Generation: 1, Status: st(t, done)},
		},
		want:   wantReady,
		status: "{currentNumberScheduled: 6, desiredNumberScheduled: 6, numberAvailable: 6, numberMisscheduled: 0, numberReady: 6, updatedNumberScheduled: 6, numberUnavailable: 0}",
	}, {
		name: "rolling",
		gvk:  daemonSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, Status: st(t, done)},
			{Cluster: "b", Applied: true, Generation: 1, Status: st(t, `{observedGeneration: 1, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberAvailable: 2, numberReady: 2, updatedNumberScheduled: 1, numberUnavailable: 1}`)},
		},
		want:    wantReconciling,
		message: "1 of 2 clusters still rolling out: b has 1/3 updated pods",
		exact:   true,
		status:  "{currentNumberScheduled: 6, desiredNumberScheduled: 6, numberAvailable: 5, numberMisscheduled: 0, numberReady: 5, updatedNumberScheduled: 4, numberUnavailable: 1}",
	}})
}

func TestReplicaSet(t *testing.T) {
	runCases(t, []aggCase{{
		name: "ready",
		gvk:  replicaSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, DesiredReplicas: 2, Status: st(t, `{observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2}`)},
			{Cluster: "b", Applied: true, Generation: 1, DesiredReplicas: 1, Status: st(t, `{observedGeneration: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1}`)},
		},
		want:   wantReady,
		status: "{replicas: 3, readyReplicas: 3, availableReplicas: 3, fullyLabeledReplicas: 3}",
	}, {
		name: "replica failure is progress per kstatus",
		gvk:  replicaSet,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, DesiredReplicas: 2, Status: st(t, `{observedGeneration: 1, replicas: 0, conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate}]}`)},
		},
		want:    wantReconciling,
		message: "a reports ReplicaFailure: FailedCreate",
	}})
}

func TestJob(t *testing.T) {
	complete1 := `
startTime: "2026-01-01T10:00:00Z"
completionTime: "2026-01-01T10:05:00Z"
succeeded: 2
conditions:
- {type: Complete, status: "True", lastTransitionTime: "2026-01-01T10:05:00Z"}
`
	complete2 := `
startTime: "2026-01-01T09:59:00Z"
completionTime: "2026-01-01T10:07:00Z"
succeeded: 1
failed: 1
conditions:
- {type: Complete, status: "True", lastTransitionTime: "2026-01-01T10:07:00Z"}
`
	running := `{startTime: "2026-01-01T09:58:00Z", active: 1, succeeded: 1}`
	failed := `
startTime: "2026-01-01T10:00:00Z"
failed: 4
conditions:
- {type: Failed, status: "True", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit, lastTransitionTime: "2026-01-01T10:03:00Z"}
`
	runCases(t, []aggCase{{
		name: "complete everywhere",
		gvk:  job,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, complete1)},
			{Cluster: "member2", Applied: true, Generation: 1, Status: st(t, complete2)},
		},
		want: wantReady,
		status: `
active: 0
succeeded: 3
failed: 1
startTime: "2026-01-01T09:59:00Z"
completionTime: "2026-01-01T10:07:00Z"
conditions:
- {type: Complete, status: "True", message: Job completed in all 2 clusters, lastTransitionTime: "2026-01-01T10:07:00Z"}
`,
	}, {
		name: "complete in one cluster only: no completion, still current per kstatus",
		gvk:  job,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, complete1)},
			{Cluster: "member2", Applied: true, Generation: 1, Status: st(t, running)},
		},
		want:   wantReady,
		status: `{active: 1, succeeded: 3, failed: 0, startTime: "2026-01-01T09:58:00Z"}`,
	}, {
		name: "complete in one cluster, other not observed",
		gvk:  job,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, complete1)},
			{Cluster: "member2", Applied: true, Generation: 1},
		},
		want:    wantReconciling,
		message: "member2 has not reported status yet",
		status:  `{active: 0, succeeded: 2, failed: 0, startTime: "2026-01-01T10:00:00Z"}`,
	}, {
		name: "not started",
		gvk:  job,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, `{}`)},
		},
		want:    wantReconciling,
		message: "member1 has not started the Job yet",
	}, {
		name: "failed in one cluster",
		gvk:  job,
		members: []Member{
			{Cluster: "member1", Applied: true, Generation: 1, Status: st(t, complete1)},
			{Cluster: "member2", Applied: true, Generation: 1, Status: st(t, failed)},
		},
		want:    wantStalled,
		reason:  workv1alpha1.TemplateReasonUnhealthy,
		message: "1 of 2 clusters failed: member2: Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit",
		exact:   true,
		status: `
active: 0
succeeded: 2
failed: 4
startTime: "2026-01-01T10:00:00Z"
conditions:
- {type: Failed, status: "True", reason: BackoffLimitExceeded, message: "member2: failed: BackoffLimitExceeded: Job has reached the specified backoff limit", lastTransitionTime: "2026-01-01T10:03:00Z"}
`,
	}})
}

func TestCronJob(t *testing.T) {
	runCases(t, []aggCase{{
		name: "active concatenated, latest times",
		gvk:  cronJob,
		members: []Member{
			{Cluster: "b", Applied: true, Status: st(t, `{active: [{kind: Job, name: hello-2}], lastScheduleTime: "2026-01-01T10:02:00Z", lastSuccessfulTime: "2026-01-01T10:00:30Z"}`)},
			{Cluster: "a", Applied: true, Status: st(t, `{active: [{kind: Job, name: hello-1}], lastScheduleTime: "2026-01-01T10:01:00Z", lastSuccessfulTime: "2026-01-01T10:01:30Z"}`)},
			{Cluster: "c", Applied: true},
		},
		want:   wantReady,
		status: `{active: [{kind: Job, name: hello-1}, {kind: Job, name: hello-2}], lastScheduleTime: "2026-01-01T10:02:00Z", lastSuccessfulTime: "2026-01-01T10:01:30Z"}`,
	}})
}

func TestPod(t *testing.T) {
	running := `{phase: Running, conditions: [{type: Ready, status: "True"}]}`
	runCases(t, []aggCase{{
		name:    "all running",
		gvk:     pod,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, running)}, {Cluster: "b", Applied: true, Status: st(t, running)}},
		want:    wantReady,
		status:  `{phase: Running}`,
	}, {
		name:    "one pending",
		gvk:     pod,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, running)}, {Cluster: "b", Applied: true, Status: st(t, `{phase: Pending}`)}},
		want:    wantReconciling,
		message: "b has a Pod in phase Pending",
		status:  `{phase: Pending}`,
	}, {
		name:    "running but not ready",
		gvk:     pod,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, `{phase: Running}`)}},
		want:    wantReconciling,
		message: "a has a Pod running but not ready",
		status:  `{phase: Running}`,
	}, {
		name:    "one failed",
		gvk:     pod,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, `{phase: Succeeded}`)}, {Cluster: "b", Applied: true, Status: st(t, `{phase: Failed, reason: Evicted}`)}},
		want:    wantStalled,
		message: "b: Pod failed: Evicted",
		status:  `{phase: Failed}`,
	}, {
		name:    "all succeeded",
		gvk:     pod,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, `{phase: Succeeded}`)}, {Cluster: "b", Applied: true, Status: st(t, `{phase: Succeeded}`)}},
		want:    wantReady,
		status:  `{phase: Succeeded}`,
	}})
}

func TestServiceAndIngress(t *testing.T) {
	for _, gvk := range []schema.GroupVersionKind{service, ingress} {
		runCases(t, []aggCase{{
			name: gvk.Kind + " ingress concatenated and deduplicated",
			gvk:  gvk,
			members: []Member{
				{Cluster: "b", Applied: true, Status: st(t, `{loadBalancer: {ingress: [{ip: 10.0.0.2}, {hostname: lb.example.com}]}}`)},
				{Cluster: "a", Applied: true, Status: st(t, `{loadBalancer: {ingress: [{ip: 10.0.0.1}, {hostname: lb.example.com}]}}`)},
				{Cluster: "c", Applied: true, Status: st(t, `{loadBalancer: {}}`)},
			},
			want:   wantReady,
			status: `{loadBalancer: {ingress: [{ip: 10.0.0.1}, {hostname: lb.example.com}, {ip: 10.0.0.2}]}}`,
		}, {
			name:    gvk.Kind + " without status is ready once applied",
			gvk:     gvk,
			members: []Member{{Cluster: "a", Applied: true}},
			want:    wantReady,
			status:  "null",
		}, {
			name:    gvk.Kind + " empty load balancer keeps the native shape",
			gvk:     gvk,
			members: []Member{{Cluster: "a", Applied: true, Status: map[string]any{}}},
			want:    wantReady,
			status:  `{loadBalancer: {}}`,
		}})
	}
}

func TestPersistentVolumeClaim(t *testing.T) {
	bound := `{phase: Bound, accessModes: [ReadWriteOnce], capacity: {storage: 1Gi}}`
	runCases(t, []aggCase{{
		name:    "bound everywhere",
		gvk:     pvc,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, bound)}, {Cluster: "b", Applied: true, Status: st(t, bound)}},
		want:    wantReady,
		status:  `{phase: Bound, accessModes: [ReadWriteOnce], capacity: {storage: 1Gi}}`,
	}, {
		name:    "pending in one",
		gvk:     pvc,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, bound)}, {Cluster: "b", Applied: true, Status: st(t, `{phase: Pending}`)}},
		want:    wantReconciling,
		message: "b has a PersistentVolumeClaim in phase Pending",
		status:  `{phase: Pending, accessModes: [ReadWriteOnce], capacity: {storage: 1Gi}}`,
	}, {
		name:    "not observed in one",
		gvk:     pvc,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, bound)}, {Cluster: "b", Applied: true}},
		want:    wantReconciling,
		status:  `{phase: Pending, accessModes: [ReadWriteOnce], capacity: {storage: 1Gi}}`,
	}, {
		name:    "lost",
		gvk:     pvc,
		members: []Member{{Cluster: "a", Applied: true, Status: st(t, `{phase: Lost}`)}},
		want:    wantStalled,
		message: "a: PersistentVolumeClaim lost its volume",
	}})
}

func TestPodDisruptionBudget(t *testing.T) {
	runCases(t, []aggCase{{
		name: "budget met",
		gvk:  pdb,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, Status: st(t, `{observedGeneration: 1, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3}`)},
			{Cluster: "b", Applied: true, Generation: 1, Status: st(t, `{observedGeneration: 1, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2}`)},
		},
		want:   wantReady,
		status: `{currentHealthy: 5, desiredHealthy: 4, disruptionsAllowed: 1, expectedPods: 5}`,
	}, {
		name: "budget not met",
		gvk:  pdb,
		members: []Member{
			{Cluster: "a", Applied: true, Generation: 1, Status: st(t, `{observedGeneration: 1, currentHealthy: 1, desiredHealthy: 2, expectedPods: 3}`)},
		},
		want:    wantReconciling,
		message: "a has 1/2 healthy pods for its budget",
	}})
}

func TestPerCluster(t *testing.T) {
	res, err := Aggregate(deployment, []Member{
		{Cluster: "member3", AppliedMessage: "forbidden"},
		{Cluster: "member2", Applied: true, Generation: 2},
		{Cluster: "member1", Applied: true, Status: st(t, deployRolling), Generation: 2, DesiredReplicas: 2},
		{Cluster: "member0", Applied: true, Status: st(t, deployDone), Generation: 2, DesiredReplicas: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	i32 := func(n int32) *int32 { return &n }
	want := []ClusterSummary{
		{Name: "member0", Applied: true, Health: workv1alpha1.ResourceHealthy, Replicas: i32(2), ReadyReplicas: i32(2)},
		{Name: "member1", Applied: true, Health: workv1alpha1.ResourceUnhealthy, Replicas: i32(3), ReadyReplicas: i32(2), Message: "has 1/2 updated replicas"},
		{Name: "member2", Applied: true, Health: workv1alpha1.ResourceUnknown, Message: "has not reported status yet"},
		{Name: "member3", AppliedMessage: "forbidden", Health: workv1alpha1.ResourceUnknown, Message: "apply failed: forbidden"},
	}
	if !reflect.DeepEqual(res.PerCluster, want) {
		gotJSON, _ := json.Marshal(res.PerCluster)
		wantJSON, _ := json.Marshal(want)
		t.Errorf("PerCluster =\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	if !res.Stalled || res.Reason != workv1alpha1.TemplateReasonApplyFailed {
		t.Errorf("want Stalled/ApplyFailed, got %+v", res)
	}
}

func TestDeterministic(t *testing.T) {
	members := func() []Member {
		return []Member{
			{Cluster: "c", Applied: true, Status: st(t, `{loadBalancer: {ingress: [{ip: 10.0.0.3}]}}`)},
			{Cluster: "a", Applied: true, Status: st(t, `{loadBalancer: {ingress: [{ip: 10.0.0.1}]}}`)},
			{Cluster: "b", Applied: true, Status: st(t, `{loadBalancer: {ingress: [{ip: 10.0.0.2}]}}`)},
			{Cluster: "d"},
			{Cluster: "e", AppliedMessage: "x"},
			{Cluster: "f", AppliedMessage: "y"},
		}
	}
	first, err := Aggregate(service, members())
	if err != nil {
		t.Fatal(err)
	}
	if first.Message != "2 of 6 clusters failed: e: apply failed: x; f: apply failed: y" {
		t.Errorf("Message = %q", first.Message)
	}
	orders := [][]int{{5, 4, 3, 2, 1, 0}, {3, 0, 5, 1, 4, 2}, {1, 2, 0, 4, 3, 5}}
	for _, order := range orders {
		ms := members()
		shuffled := make([]Member, len(ms))
		for i, j := range order {
			shuffled[i] = ms[j]
		}
		in := append([]Member(nil), shuffled...)
		got, err := Aggregate(service, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, first) {
			t.Errorf("order %v: result differs:\n%+v\nwant\n%+v", order, got, first)
		}
		if !reflect.DeepEqual(in, shuffled) {
			t.Errorf("order %v: Aggregate reordered its input", order)
		}
	}
	for i, c := range first.PerCluster {
		if want := string(rune('a' + i)); c.Name != want {
			t.Errorf("PerCluster[%d] = %s, want %s", i, c.Name, want)
		}
	}
}

func TestInvalidMembers(t *testing.T) {
	if _, err := Aggregate(deployment, []Member{{Cluster: "a"}, {Cluster: "a"}}); err == nil {
		t.Error("duplicate cluster: want an error")
	}
	if _, err := Aggregate(deployment, []Member{{Cluster: ""}}); err == nil {
		t.Error("empty cluster name: want an error")
	}
}

func TestHealth(t *testing.T) {
	cases := []struct {
		name       string
		gvk        schema.GroupVersionKind
		status     string // "" for nil
		generation int64
		want       workv1alpha1.ResourceHealth
	}{
		{"deployment done", deployment, deployDone, 2, workv1alpha1.ResourceHealthy},
		{"deployment rolling", deployment, deployRolling, 2, workv1alpha1.ResourceUnhealthy},
		{"deployment generation behind", deployment, deployDone, 3, workv1alpha1.ResourceUnhealthy},
		{"deployment no status", deployment, "", 1, workv1alpha1.ResourceUnknown},
		{"job failed", job, `{startTime: "2026-01-01T10:00:00Z", conditions: [{type: Failed, status: "True"}]}`, 1, workv1alpha1.ResourceUnhealthy},
		{"job running", job, `{startTime: "2026-01-01T10:00:00Z", active: 1}`, 1, workv1alpha1.ResourceHealthy},
		{"pod pending", pod, `{phase: Pending}`, 0, workv1alpha1.ResourceUnhealthy},
		{"pvc bound", pvc, `{phase: Bound}`, 0, workv1alpha1.ResourceHealthy},
		{"service without status", service, "", 0, workv1alpha1.ResourceHealthy},
		{"configmap", configMap, "", 1, workv1alpha1.ResourceHealthy},
		{"custom resource stalled", widget, `{conditions: [{type: Stalled, status: "True"}]}`, 1, workv1alpha1.ResourceUnhealthy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s map[string]any
			if tc.status != "" {
				s = st(t, tc.status)
			}
			if got := Health(tc.gvk, s, tc.generation); got != tc.want {
				t.Errorf("Health = %s, want %s", got, tc.want)
			}
		})
	}
}
