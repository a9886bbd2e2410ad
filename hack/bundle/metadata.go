package main

// What the bundle says about Argosy that the manifests in config/ do not:
// the OLM package, the console texts and the key fields of each kind.

const (
	// packageName is the OLM package (operators.operatorframework.io.bundle.package.v1)
	// and the CSV's name prefix (argosy.v<version>).
	packageName = "argosy"
	// channel is the only channel, and the default one, while the APIs are v1alpha1.
	channel = "alpha"

	// builder is recorded as operators.operatorframework.io/builder: the
	// bundle is written by this program, not by operator-sdk.
	builder = "argosy.dev/argosy/hack/bundle"

	displayName = "Argosy"
	repository  = "https://github.com/argosy-dev/argosy"
	// Basic Install: OLM installs and upgrades the operator; Argosy itself
	// manages no operand that would need the higher capability levels.
	capabilities = "Basic Install"
	categories   = "Integration & Delivery"
	maturity     = "alpha"
	// minKubeVersion: the CRDs' CEL validation rules use fieldPath and
	// reason, which the apiserver supports by default since 1.28 and as GA
	// since 1.30.
	minKubeVersion = "1.30.0"

	shortDescription = "Karmada-style multi-cluster orchestration as one ordinary operator: " +
		"propagation with replica division, per-cluster overrides, aggregated status, " +
		"failover, rebalancing and federated autoscaling across member clusters."

	// olmCertDir is where OLM mounts the webhook serving certificate
	// (tls.crt, tls.key) into the pods of a Deployment named by a webhook
	// definition; it is also the manager's default --webhook-cert-dir.
	olmCertDir = "/tmp/k8s-webhook-server/serving-certs"
	// managerContainer is the manager's container in the Deployment.
	managerContainer = "manager"
)

// longDescription is the CSV's spec.description (Markdown, shown by the OLM
// console and OperatorHub).
const longDescription = `Argosy is multi-cluster orchestration in the style of [Karmada](https://karmada.io),
delivered as one ordinary Kubernetes operator: CRDs on the host cluster's own
apiserver and controller-runtime controllers in one manager. There is no
second apiserver, etcd or aggregated API to run, back up or upgrade.

Register member clusters with ` + "`Cluster`" + `, wrap the objects to propagate in
` + "`ResourceTemplate`" + `s and say where they go with ` + "`PropagationPolicy`" + ` or
` + "`ClusterPropagationPolicy`" + `:

* propagation to many clusters, duplicated or with the replicas divided
  (static weights, or dynamic weights by available replicas), with cluster
  affinity, ordered affinity groups, spread constraints and tolerations;
* per-cluster changes with ` + "`OverridePolicy`" + ` and ` + "`ClusterOverridePolicy`" + `;
* the status of every member aggregated back into the template, with
  conditions that ` + "`kubectl wait`" + `, Argo CD and Flux understand;
* taint-driven failover with graceful eviction, and a fresh schedule on
  request with ` + "`WorkloadRebalancer`" + `;
* autoscaling across members with ` + "`FederatedHPA`" + ` and ` + "`CronFederatedHPA`" + `;
* adoption of workloads that already run in a member, with policy priority
  and preemption.

Templates are wrapped instead of being stored as native objects, so the host
cluster's own controllers never start their Pods, claim their ports or bind
their volumes. Field names follow Karmada's v1alpha1 APIs: a Karmada user
migrates by changing the API groups from ` + "`*.karmada.io`" + ` to ` + "`*.argosy.dev`" + `.

### Installation

* Argosy is cluster-wide: it installs in AllNamespaces mode only. The
  suggested namespace is ` + "`argosy-system`" + `. Member credentials (kubeconfig or
  token Secrets) go into the namespace the operator runs in.
* ResourceTemplates live in the namespace ` + "`argosy-templates`" + `, which the
  manager creates at start-up when it is missing.
`

var (
	keywords = []string{
		"multi-cluster", "multicluster", "karmada", "federation", "propagation",
		"scheduling", "failover", "autoscaling",
	}
	links       = []AppLink{{Name: "Source Code", URL: repository}}
	maintainers = []Maintainer{{Name: "Argosy maintainers"}}
	provider    = AppLink{Name: "Argosy", URL: "https://argosy.dev"}

	// internalKinds are written by Argosy's controllers, not by users; OLM's
	// console hides them (operators.operatorframework.io/internal-objects).
	internalKinds = []string{"ResourceBinding", "Work"}

	// keyFields are the fields the console shows for each kind, as paths
	// below spec and status. Descriptions and x-descriptors come from the
	// CRD's schema; a path the schema lacks is an error, so that this list
	// follows API changes. Every kind also gets status.conditions when its
	// status has conditions.
	keyFields = map[string]struct{ spec, status []string }{
		"Cluster":                  {spec: []string{"syncMode", "apiEndpoint", "region", "taints"}, status: []string{"kubernetesVersion"}},
		"PropagationPolicy":        {spec: []string{"resourceSelectors", "placement", "priority", "preemption", "conflictResolution"}},
		"ClusterPropagationPolicy": {spec: []string{"resourceSelectors", "placement", "priority", "preemption", "conflictResolution"}},
		"OverridePolicy":           {spec: []string{"resourceSelectors", "overrideRules"}},
		"ClusterOverridePolicy":    {spec: []string{"resourceSelectors", "overrideRules"}},
		"ResourceTemplate":         {spec: []string{"template"}, status: []string{"policy"}},
		"ResourceBinding":          {spec: []string{"resource", "replicas", "clusters"}},
		"Work":                     {spec: []string{"workload"}},
		"WorkloadRebalancer":       {spec: []string{"workloads", "ttlSecondsAfterFinished"}, status: []string{"observedWorkloads", "finishTime"}},
		"FederatedHPA":             {spec: []string{"scaleTargetRef", "minReplicas", "maxReplicas"}, status: []string{"currentReplicas", "desiredReplicas"}},
		"CronFederatedHPA":         {spec: []string{"scaleTargetRef", "rules"}, status: []string{"executionHistories"}},
	}
)

// bundleAnnotation is one line of metadata/annotations.yaml and the LABEL of
// bundle.Dockerfile with the same key and value.
type bundleAnnotation struct{ key, value string }

// bundleAnnotations returns the bundle's annotations in operator-sdk's order,
// in two groups: the core bundle annotations and the metrics ones.
func bundleAnnotations(projectLayout string) (core, metrics []bundleAnnotation) {
	core = []bundleAnnotation{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", packageName},
		{"operators.operatorframework.io.bundle.channels.v1", channel},
		{"operators.operatorframework.io.bundle.channel.default.v1", channel},
	}
	metrics = []bundleAnnotation{
		{"operators.operatorframework.io.metrics.builder", builder},
		{"operators.operatorframework.io.metrics.mediatype.v1", "metrics+v1"},
	}
	if projectLayout != "" {
		metrics = append(metrics, bundleAnnotation{"operators.operatorframework.io.metrics.project_layout", projectLayout})
	}
	return core, metrics
}
