/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the Cluster resource, for code that builds GVRs or messages.
const (
	// ResourceKindCluster is the kind of a member cluster.
	ResourceKindCluster = "Cluster"
	// ResourcePluralCluster is the plural resource name of Cluster.
	ResourcePluralCluster = "clusters"
)

// MaxClusterNameLength is the longest Cluster name accepted. A Cluster's name
// becomes part of its execution namespace (argosy-es-<name>) and of
// generated object names, so it is kept well below the 63 characters of a
// DNS label. The value is Karmada's, so every Karmada cluster name is valid.
const MaxClusterNameLength = 48

// ClusterSyncMode says which side moves resources between the host and a
// member cluster.
// +kubebuilder:validation:Enum=Push;Pull
type ClusterSyncMode string

const (
	// Push: the Argosy manager on the host connects to the member's API
	// server with the credentials in spec.secretRef and applies the member's
	// Works there.
	Push ClusterSyncMode = "Push"

	// Pull: an agent running inside the member cluster connects to the host,
	// reads the Works of its own execution namespace and applies them locally.
	// The host never dials the member.
	Pull ClusterSyncMode = "Pull"
)

// Keys of the credentials Secret referenced by spec.secretRef and
// spec.impersonatorSecretRef.
const (
	// SecretTokenKey holds a bearer token (token Secret format, as Karmada).
	SecretTokenKey = "token"
	// SecretCADataKey holds the PEM CA bundle that signs the member API
	// server's serving certificate (token Secret format, as Karmada).
	SecretCADataKey = "caBundle"
	// SecretKubeconfigKey holds a whole kubeconfig. This is the format Cluster
	// API writes to the <cluster>-kubeconfig Secret of every workload cluster
	// it creates, so such a Secret can be referenced directly.
	SecretKubeconfigKey = "value"
)

// Well-known taint keys that the Cluster controller adds and removes. They
// mirror the node lifecycle taints of Kubernetes and Karmada's cluster
// taints: workloads that do not tolerate them are not scheduled to
// (NoSchedule) or are evicted from (NoExecute) the cluster.
const (
	// TaintClusterNotReady is present, with both effects NoSchedule and
	// NoExecute, while the Ready condition is False, whatever its reason:
	// the member answered but reported itself unhealthy, could not be
	// reached, failed its TLS handshake, or its credentials are missing or
	// rejected. Its timeAdded is when Ready turned False; the taint manager
	// counts a toleration's tolerationSeconds from it. Policies tolerate its
	// NoExecute effect for 300 seconds by default.
	TaintClusterNotReady = "cluster.argosy.dev/not-ready"
	// TaintClusterUnreachable is present, with both effects NoSchedule and
	// NoExecute, while the Ready condition is Unknown: nobody has been able
	// to tell the member's state (for example a Pull-mode agent stopped
	// reporting). Its timeAdded is when Ready turned Unknown. Policies
	// tolerate its NoExecute effect for 300 seconds by default.
	TaintClusterUnreachable = "cluster.argosy.dev/unreachable"
	// TaintClusterUnschedulable (effect NoSchedule only) is present while
	// spec.unschedulable is true, i.e. while the cluster is cordoned. A
	// cordon keeps new replicas away and evicts nothing.
	TaintClusterUnschedulable = "cluster.argosy.dev/unschedulable"
)

// Condition types of a Cluster.
const (
	// ClusterConditionReady is True when the member's API server is reachable
	// and reports healthy, and False otherwise, with a reason that says why
	// (ClusterNotReady, ClusterNotReachable, TLSHandshakeFailed,
	// CredentialsRejected, CredentialsUnavailable), as in Karmada. A change
	// only shows after it persisted for the manager's failure or success
	// threshold, so a blip does not flap it. It is the condition that the
	// taint logic and `kubectl get clusters` read.
	ClusterConditionReady = "Ready"
	// ClusterConditionCompleteAPIEnablements is True when status.apiEnablements
	// lists every API group of the member, and False when discovery was
	// partial or failed (so that the scheduler does not wrongly conclude that
	// an API is missing).
	ClusterConditionCompleteAPIEnablements = "CompleteAPIEnablements"
)

// Reasons used with the Cluster conditions.
const (
	// ClusterReasonReady: the health endpoint answered ok.
	ClusterReasonReady = "ClusterReady"
	// ClusterReasonNotReady: the API server answered, but not ok.
	ClusterReasonNotReady = "ClusterNotReady"
	// ClusterReasonNotReachable: the API server could not be reached.
	ClusterReasonNotReachable = "ClusterNotReachable"
	// ClusterReasonCredentialsUnavailable: the Secret named by spec.secretRef
	// is missing or holds neither a kubeconfig nor a token.
	ClusterReasonCredentialsUnavailable = "CredentialsUnavailable"
	// ClusterReasonStatusCollectionFailed: the member is reachable, but
	// collecting its version, nodes or resources failed.
	ClusterReasonStatusCollectionFailed = "StatusCollectionFailed"

	// APIEnablementsReasonComplete: discovery returned every API group.
	APIEnablementsReasonComplete = "Complete"
	// APIEnablementsReasonPartial: discovery returned some groups and failed for others.
	APIEnablementsReasonPartial = "Partial"
	// APIEnablementsReasonEmpty: discovery returned nothing.
	APIEnablementsReasonEmpty = "Empty"
)

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=clu,categories=argosy
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.kubernetesVersion`,description="Kubernetes version of the member cluster"
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.syncMode`,description="Push or Pull"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,description="Whether the member cluster is healthy and accepts workloads"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="APIEndpoint",type=string,JSONPath=`.spec.apiEndpoint`,priority=1,description="API server address of the member cluster"
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`,priority=1
// +kubebuilder:printcolumn:name="Zones",type=string,JSONPath=`.spec.zones`,priority=1
// +kubebuilder:printcolumn:name="Unschedulable",type=boolean,JSONPath=`.spec.unschedulable`,priority=1,description="Whether the cluster is cordoned"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 48 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1123 label (lower-case letters, digits and '-') of at most 48 characters, because it is part of the execution namespace argosy-es-<name>"

// Cluster is a member cluster registered with Argosy: how to reach it, where
// it runs, its taints, and the health, version, API and capacity information
// that the Cluster controller collects from it. Clusters are cluster-scoped.
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is how Argosy connects to the member cluster and how the scheduler
	// should treat it.
	// +required
	Spec ClusterSpec `json:"spec"`

	// status is what the Cluster controller last observed about the member.
	// +optional
	Status ClusterStatus `json:"status,omitempty"`
}

// ClusterSpec is the desired state of a member cluster.
// +kubebuilder:validation:XValidation:rule="self.syncMode != 'Push' || (has(self.apiEndpoint) && size(self.apiEndpoint) > 0)",message="spec.apiEndpoint is required when spec.syncMode is Push",fieldPath=".apiEndpoint",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="self.syncMode != 'Push' || has(self.secretRef)",message="spec.secretRef is required when spec.syncMode is Push: the manager needs credentials to reach the member",fieldPath=".secretRef",reason=FieldValueRequired
type ClusterSpec struct {
	// id uniquely identifies the member cluster across the fleet, independently
	// of this object's name and uid. The Cluster controller fills it in when it
	// is empty: from the member's ClusterProperty `cluster.clusterset.k8s.io`
	// (KEP-2149) if there is one, otherwise from the uid of the member's
	// kube-system namespace. It is used to recognise a cluster that is
	// registered twice and in multi-cluster service names, so change it only
	// on purpose.
	// +kubebuilder:validation:MaxLength=128000
	// +optional
	ID string `json:"id,omitempty"`

	// syncMode says who moves resources to the member: Push (the manager on
	// the host applies them through the member's API server) or Pull (an agent
	// inside the member fetches them from the host).
	// +required
	SyncMode ClusterSyncMode `json:"syncMode"`

	// apiEndpoint is the URL of the member's API server, for example
	// https://10.0.0.12:6443. It is required for Push clusters and is the
	// address the manager dials, even when the credentials Secret is a
	// kubeconfig that names a server of its own. For Pull clusters it is
	// informational.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['https', 'http'] && size(url(self).getHost()) > 0",message="spec.apiEndpoint must be an absolute http(s) URL with a host, for example https://10.0.0.12:6443"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="spec.apiEndpoint must not contain a query or a fragment"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*@')",message="spec.apiEndpoint must not contain user information; put credentials in the Secret named by spec.secretRef"
	// +optional
	APIEndpoint string `json:"apiEndpoint,omitempty"`

	// secretRef names the Secret that holds the credentials for the member's
	// API server. It must live in the operator namespace (argosy-system unless
	// the manager is configured otherwise) and may have either format:
	//
	//   - a kubeconfig under the key `value`, as Cluster API writes it to the
	//     <cluster>-kubeconfig Secret (so Cluster API workload clusters can be
	//     registered by pointing at that Secret);
	//   - a bearer token under `token` and the PEM CA bundle of the member's
	//     API server under `caBundle` (the Karmada format).
	//
	// Required for Push clusters.
	// +optional
	SecretRef *LocalSecretReference `json:"secretRef,omitempty"`

	// impersonatorSecretRef names a Secret, in the operator namespace, whose
	// `token` key holds the token of an identity in the member that is allowed
	// to impersonate users. It is used to proxy requests to the member on
	// behalf of the requesting host user.
	// +optional
	ImpersonatorSecretRef *LocalSecretReference `json:"impersonatorSecretRef,omitempty"`

	// insecureSkipTLSVerification makes the manager accept any serving
	// certificate from the member's API server. The connection is then open to
	// man-in-the-middle attacks; use it only for tests. Defaults to false.
	// +optional
	InsecureSkipTLSVerification bool `json:"insecureSkipTLSVerification,omitempty"`

	// proxyURL is an http, https or socks5 proxy through which the manager
	// reaches the member's API server.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https', 'socks5'] && size(url(self).getHost()) > 0",message="spec.proxyURL must be an absolute URL with scheme http, https or socks5 and a host"
	// +optional
	ProxyURL string `json:"proxyURL,omitempty"`

	// proxyHeader lists HTTP headers sent to the proxy on each request, as
	// header name to value. Several values of one header are written
	// comma-separated, for example 'k1': 'v1,v2,v3'.
	// +optional
	ProxyHeader map[string]string `json:"proxyHeader,omitempty"`

	// provider is the name of the cloud provider that runs the member, for
	// cluster affinity and spreading.
	// +optional
	Provider string `json:"provider,omitempty"`

	// region is the region the member runs in, for cluster affinity and
	// spreading by region.
	// +optional
	Region string `json:"region,omitempty"`

	// zone is the availability zone the member runs in.
	// Deprecated: kept for compatibility with Karmada manifests; use zones.
	// +optional
	Zone string `json:"zone,omitempty"`

	// zones are the availability (failure) zones the member spans, for
	// cluster affinity and spreading by zone. A cluster may span several.
	// +listType=set
	// +optional
	Zones []string `json:"zones,omitempty"`

	// unschedulable cordons the cluster: while true the scheduler places no
	// new replicas on it, as for a cordoned Node. Replicas already there stay
	// (unlike a NoExecute taint, nothing is evicted). The Cluster controller
	// implements it with the NoSchedule taint cluster.argosy.dev/unschedulable,
	// so a workload that tolerates that taint can still be scheduled here.
	// Defaults to false.
	// +optional
	Unschedulable bool `json:"unschedulable,omitempty"`

	// taints repel workloads that do not tolerate them. NoSchedule keeps new
	// replicas away; NoExecute also evicts the workloads already there: at
	// once when the policy does not tolerate the taint, tolerationSeconds
	// after the taint's timeAdded when its toleration sets them, never when
	// it does not. (PreferNoSchedule is not supported.) A taint is
	// identified by its key and effect. The Cluster controller manages the
	// cluster.argosy.dev/not-ready and cluster.argosy.dev/unreachable taints
	// (NoSchedule and NoExecute) and cluster.argosy.dev/unschedulable
	// (NoSchedule), and sets timeAdded on every NoExecute taint that has
	// none; it leaves other taints as they are.
	// +listType=map
	// +listMapKey=key
	// +listMapKey=effect
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(t, t.effect == 'NoSchedule' || t.effect == 'NoExecute')",message="spec.taints[].effect must be NoSchedule or NoExecute"
	// +kubebuilder:validation:XValidation:rule="self.all(t, size(t.key) > 0)",message="spec.taints[].key must not be empty"
	// +optional
	Taints []corev1.Taint `json:"taints,omitempty"`

	// resourceModels divide the member's nodes into grades by allocatable
	// resources, so that the scheduler can estimate how many replicas of a
	// given size would fit (status.resourceSummary.allocatableModelings counts
	// the nodes in each grade). Each model is a grade with one range per
	// resource name; every model must name the same resources, the ranges of
	// one resource should be contiguous from grade to grade, the lowest
	// grade's min is treated as zero and the highest grade's max as infinite.
	// When unset, a default of nine grades (0-8) over cpu and memory is used.
	// +listType=map
	// +listMapKey=grade
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(m, size(m.ranges) == size(self[0].ranges) && m.ranges.all(r, self[0].ranges.exists(q, q.name == r.name)))",message="spec.resourceModels[].ranges must name the same resources in every model"
	// +optional
	ResourceModels []ResourceModel `json:"resourceModels,omitempty"`
}

// LocalSecretReference names a Secret by namespace and name.
type LocalSecretReference struct {
	// namespace of the Secret. Argosy only reads Secrets in its operator
	// namespace (argosy-system by default).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Namespace string `json:"namespace"`

	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// ResourceName names a resource that resource models can grade nodes by.
// +kubebuilder:validation:Enum=cpu;memory;storage;ephemeral-storage
type ResourceName string

// Resource names usable in resource models.
const (
	// ResourceCPU is CPU, in cores (500m = half a core).
	ResourceCPU ResourceName = "cpu"
	// ResourceMemory is memory, in bytes.
	ResourceMemory ResourceName = "memory"
	// ResourceStorage is volume storage, in bytes.
	ResourceStorage ResourceName = "storage"
	// ResourceEphemeralStorage is node-local ephemeral storage, in bytes.
	ResourceEphemeralStorage ResourceName = "ephemeral-storage"
)

// ResourceModel is one grade of the resource modeling: the ranges of
// allocatable resources that a node must fall in to belong to the grade.
type ResourceModel struct {
	// grade is the index of this model; higher grades describe bigger nodes.
	// +kubebuilder:validation:Minimum=0
	// +required
	Grade int32 `json:"grade"`

	// ranges gives, per resource, the half-open interval [min, max) of a
	// node's allocatable amount in this grade. A node belongs to the grade
	// when all of its resources fall in the ranges.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4
	// +required
	Ranges []ResourceModelRange `json:"ranges"`
}

// ResourceModelRange is the half-open interval [min, max) of one resource in
// one grade; max must be greater than min. For the highest grade, any max
// greater than min means "no upper bound".
type ResourceModelRange struct {
	// name of the resource: cpu, memory, storage or ephemeral-storage.
	// +required
	Name ResourceName `json:"name"`

	// min is the inclusive lower bound. The lowest grade's min always acts as zero.
	// +required
	Min resource.Quantity `json:"min"`

	// max is the exclusive upper bound; it must be greater than min.
	// +required
	Max resource.Quantity `json:"max"`
}

// ClusterStatus is what the Cluster controller last observed about a member.
type ClusterStatus struct {
	// observedGeneration is the metadata.generation of the Cluster that this
	// status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// kubernetesVersion is the version the member's API server reports, for
	// example v1.37.2.
	// +optional
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`

	// apiEnablements lists the resources the member serves, per group
	// version. The scheduler only places a resource on clusters that serve
	// its group, version and kind.
	// +optional
	APIEnablements []APIEnablement `json:"apiEnablements,omitempty"`

	// conditions describe the member's state. Ready is the main one (see the
	// ClusterConditionReady constant); CompleteAPIEnablements says whether
	// apiEnablements is complete.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// nodeSummary counts the member's nodes.
	// +optional
	NodeSummary *NodeSummary `json:"nodeSummary,omitempty"`

	// resourceSummary sums the member's resources over its nodes and pods.
	// +optional
	ResourceSummary *ResourceSummary `json:"resourceSummary,omitempty"`

	// remedyActions are actions that remediation asks to be taken for this
	// cluster while it is unhealthy, for example TrafficControl (take it out
	// of multi-cluster traffic).
	// +optional
	RemedyActions []string `json:"remedyActions,omitempty"`
}

// APIEnablement lists the resources that a member serves in one group version.
type APIEnablement struct {
	// groupVersion is the group and version, for example apps/v1 or v1.
	// +required
	GroupVersion string `json:"groupVersion"`

	// resources served in this group version.
	// +optional
	Resources []APIResource `json:"resources,omitempty"`
}

// APIResource is one resource served by a member.
type APIResource struct {
	// name is the plural resource name, for example deployments.
	// +required
	Name string `json:"name"`

	// kind is the resource's kind, for example Deployment.
	// +required
	Kind string `json:"kind"`
}

// NodeSummary counts the nodes of a member.
type NodeSummary struct {
	// totalNum is the number of nodes.
	// +optional
	TotalNum int32 `json:"totalNum,omitempty"`

	// readyNum is the number of nodes whose Ready condition is True.
	// +optional
	ReadyNum int32 `json:"readyNum,omitempty"`
}

// ResourceSummary sums the resources of a member.
type ResourceSummary struct {
	// allocatable is the sum of allocatable resources over the Ready nodes:
	// what the member can give to pods at most right now.
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`

	// allocating is the sum of resource requests of pods that are waiting to
	// be scheduled in the member.
	// +optional
	Allocating corev1.ResourceList `json:"allocating,omitempty"`

	// allocated is the sum of resource requests of pods already scheduled to
	// nodes.
	// +optional
	Allocated corev1.ResourceList `json:"allocated,omitempty"`

	// allocatableModelings counts the nodes in each grade of the resource
	// models (spec.resourceModels, or the default models).
	// +optional
	AllocatableModelings []AllocatableModeling `json:"allocatableModelings,omitempty"`
}

// AllocatableModeling is the number of nodes in one resource-model grade.
// For example {grade: 2, count: 10} means ten nodes fall in grade 2.
type AllocatableModeling struct {
	// grade is the index of the resource model.
	// +kubebuilder:validation:Minimum=0
	// +required
	Grade int32 `json:"grade"`

	// count is the number of nodes whose allocatable resources fall in the grade.
	// +kubebuilder:validation:Minimum=0
	// +required
	Count int32 `json:"count"`
}

// +kubebuilder:object:root=true

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the Clusters.
	Items []Cluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Cluster{}, &ClusterList{})
}
