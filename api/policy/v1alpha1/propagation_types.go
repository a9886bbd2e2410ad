/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the propagation policy kinds, as used in references and events.
const (
	// KindPropagationPolicy is the kind name of PropagationPolicy.
	KindPropagationPolicy = "PropagationPolicy"
	// KindClusterPropagationPolicy is the kind name of ClusterPropagationPolicy.
	KindClusterPropagationPolicy = "ClusterPropagationPolicy"

	// DefaultSchedulerName is the scheduler that handles a policy whose
	// spec.schedulerName is not set.
	DefaultSchedulerName = "default-scheduler"
)

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=propagationpolicies,scope=Namespaced,shortName=pp,categories=argosy
// +kubebuilder:printcolumn:name="Priority",type=integer,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Preemption",type=string,JSONPath=`.spec.preemption`
// +kubebuilder:printcolumn:name="Conflict-Resolution",type=string,JSONPath=`.spec.conflictResolution`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Scheduler",type=string,JSONPath=`.spec.schedulerName`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// PropagationPolicy propagates a group of resource templates to one or more
// member clusters.
//
// A PropagationPolicy in namespace N only selects wrapped objects whose own
// namespace (spec.template.metadata.namespace of a ResourceTemplate) is N,
// whatever namespace the ResourceTemplate itself is stored in. Use a
// ClusterPropagationPolicy for cluster-scoped objects or to select objects in
// several namespaces.
type PropagationPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behavior of the PropagationPolicy.
	// +required
	Spec PropagationSpec `json:"spec"`

	// Status is the most recently observed status of the PropagationPolicy.
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PropagationPolicyList is a list of PropagationPolicy.
type PropagationPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of PropagationPolicy.
	Items []PropagationPolicy `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clusterpropagationpolicies,scope=Cluster,shortName=cpp,categories=argosy
// +kubebuilder:printcolumn:name="Priority",type=integer,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Preemption",type=string,JSONPath=`.spec.preemption`
// +kubebuilder:printcolumn:name="Conflict-Resolution",type=string,JSONPath=`.spec.conflictResolution`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Scheduler",type=string,JSONPath=`.spec.schedulerName`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ClusterPropagationPolicy is the cluster-wide counterpart of
// PropagationPolicy: it can select cluster-scoped objects and namespaced
// objects in any namespace (resourceSelectors[].namespace narrows the
// selection to one namespace). Argosy's own namespaces (argosy-system,
// argosy-es-*) are never selected.
//
// When both a PropagationPolicy and a ClusterPropagationPolicy match an
// object, the PropagationPolicy wins (see spec.priority and spec.preemption).
type ClusterPropagationPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behavior of the ClusterPropagationPolicy.
	// +required
	Spec PropagationSpec `json:"spec"`

	// Status is the most recently observed status of the ClusterPropagationPolicy.
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterPropagationPolicyList is a list of ClusterPropagationPolicy.
type ClusterPropagationPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of ClusterPropagationPolicy.
	Items []ClusterPropagationPolicy `json:"items"`
}

// PropagationSpec is the desired behavior of a PropagationPolicy or a
// ClusterPropagationPolicy.
//
// +kubebuilder:validation:XValidation:rule="!has(self.failover) || !has(self.failover.application) || (has(self.propagateDeps) && self.propagateDeps)",message="spec.propagateDeps must be true when spec.failover.application is set, so that dependencies move with the application",fieldPath=".propagateDeps"
// +kubebuilder:validation:XValidation:rule="!has(self.preemption) || self.preemption != 'Always' || self.resourceSelectors.all(s, has(s.name) && size(s.name) > 0)",message="spec.resourceSelectors[].name must be set on every selector when spec.preemption is Always, an empty name could preempt unrelated resources",fieldPath=".resourceSelectors"
type PropagationSpec struct {
	// ResourceSelectors select the objects this policy propagates. An object
	// is selected when it matches at least one selector. The list must not be
	// empty: there is deliberately no "select everything", so that sensitive
	// objects such as Secrets are never propagated by accident.
	//
	// Selectors are matched against the wrapped object (spec.template of a
	// ResourceTemplate), not against the ResourceTemplate itself.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	ResourceSelectors []ResourceSelector `json:"resourceSelectors"`

	// Association tells whether related resources (for example a ConfigMap
	// referenced by a Deployment) should be selected automatically.
	//
	// Deprecated: use propagateDeps. Accepted for compatibility with Karmada
	// manifests and otherwise ignored.
	// +optional
	Association bool `json:"association,omitempty"`

	// PropagateDeps propagates the objects a selected workload depends on
	// (ConfigMaps, Secrets, ServiceAccounts and PersistentVolumeClaims it
	// references) to the same clusters, without listing them in
	// resourceSelectors. Dependencies also follow the workload when it fails
	// over to other clusters. The dependencies must themselves be wrapped in
	// ResourceTemplates.
	//
	// Defaults to false.
	// +optional
	PropagateDeps bool `json:"propagateDeps,omitempty"`

	// Placement describes which member clusters receive the selected objects
	// and, for objects with replicas, how the replicas are spread.
	// +optional
	Placement Placement `json:"placement,omitempty"`

	// Priority is the importance of this policy relative to other
	// PropagationPolicies and ClusterPropagationPolicies. When several
	// policies match an object that no policy has claimed yet, the one with
	// the highest priority claims it. Once claimed, an object is only taken
	// over by another policy through preemption (see preemption).
	//
	// Between policies of the same priority the more specific selector wins:
	// a selector by name beats a selector by labelSelector, which beats a
	// selector by apiVersion and kind only. If that is still a tie, the
	// policy whose name sorts first wins (policy "bar" before "foo"). A
	// PropagationPolicy is always preferred to a ClusterPropagationPolicy.
	//
	// Higher values mean higher priority; negative values are allowed.
	// Defaults to 0.
	// +optional
	// +kubebuilder:default=0
	Priority *int32 `json:"priority,omitempty"`

	// Preemption controls whether this policy takes over objects already
	// claimed by a lower-priority policy.
	//
	// "Always": a PropagationPolicy preempts any lower-priority policy that
	// claims a matching object and preempts a ClusterPropagationPolicy
	// regardless of priority; a ClusterPropagationPolicy only preempts
	// lower-priority ClusterPropagationPolicies. When set to Always, every
	// resource selector must name its object.
	// "Never": the policy never takes over a claimed object.
	//
	// Defaults to "Never".
	// +optional
	// +kubebuilder:default=Never
	// +kubebuilder:validation:Enum=Always;Never
	Preemption PreemptionBehavior `json:"preemption,omitempty"`

	// DependentOverrides lists OverridePolicies (by name, in the namespace of
	// the selected object) that must exist before this policy takes effect.
	// Use it when a policy, its overrides and the objects are created at the
	// same time and the overrides must be in place before the first
	// propagation. Until they exist the policy reports Ready=False with
	// reason DependentOverridesMissing.
	//
	// OverridePolicies and ClusterOverridePolicies that are not listed here
	// still apply whenever they match.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	DependentOverrides []string `json:"dependentOverrides,omitempty"`

	// SchedulerName is the scheduler that places the selected objects.
	// Defaults to "default-scheduler", the scheduler built into the Argosy
	// manager.
	// +optional
	// +kubebuilder:default=default-scheduler
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SchedulerName string `json:"schedulerName,omitempty"`

	// Failover configures how applications are migrated away from a cluster
	// when the application or the cluster fails. Unset means that
	// application failover is disabled and cluster failover follows the
	// manager's defaults.
	// +optional
	Failover *FailoverBehavior `json:"failover,omitempty"`

	// ConflictResolution decides what happens when an object being
	// propagated already exists in a member cluster and was not created by
	// Argosy.
	//
	// "Abort" (the default) leaves the existing object untouched and reports
	// the conflict, so that nothing is overwritten by surprise.
	// "Overwrite" takes the existing object over and overwrites it with the
	// template; use it to adopt objects that already run in a member, for
	// example when migrating workloads to Argosy.
	// +optional
	// +kubebuilder:default=Abort
	// +kubebuilder:validation:Enum=Abort;Overwrite
	ConflictResolution ConflictResolution `json:"conflictResolution,omitempty"`

	// ActivationPreference controls when changes to this policy reach the
	// objects it already claims.
	//
	// Empty (the default): every change to the policy is applied to all
	// selected objects immediately.
	// "Lazy": a change to the policy only affects an object the next time
	// that object's ResourceTemplate changes. This lets a change to a policy
	// that governs many objects be rolled out gradually, object by object.
	// +optional
	// +kubebuilder:validation:Enum=Lazy
	ActivationPreference ActivationPreference `json:"activationPreference,omitempty"`

	// Suspension pauses parts of the propagation. Unset means nothing is
	// suspended.
	// +optional
	Suspension *Suspension `json:"suspension,omitempty"`

	// PreserveResourcesOnDeletion keeps the propagated objects in the member
	// clusters when the ResourceTemplate is deleted. When false or unset
	// (the default) they are deleted together with the template. The setting
	// applies to all member clusters alike; it is useful to roll back a
	// migration quickly without disturbing running workloads.
	//
	// Deleting the policy itself never deletes templates or propagated
	// objects, whatever this field says.
	// +optional
	PreserveResourcesOnDeletion *bool `json:"preserveResourcesOnDeletion,omitempty"`

	// SchedulePriority gives the selected workloads a scheduling priority
	// taken from a PriorityClass, so that more important workloads are
	// scheduled first when several are pending.
	//
	// Alpha: accepted for compatibility with Karmada; workloads without it
	// have priority 0.
	// +optional
	SchedulePriority *SchedulePriority `json:"schedulePriority,omitempty"`
}

// ResourceSelector selects objects by API version and kind, and optionally by
// namespace, name or labels. Without name and labelSelector it selects every
// object of that kind in scope.
//
// +kubebuilder:validation:XValidation:rule="!has(self.name) || size(self.name) == 0 || !has(self.labelSelector)",message="resourceSelectors[]: name and labelSelector are mutually exclusive; select either one object by name or objects by labels"
type ResourceSelector struct {
	// APIVersion is the API version of the selected objects, for example
	// "apps/v1" or "v1".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	APIVersion string `json:"apiVersion"`

	// Kind is the kind of the selected objects, for example "Deployment".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`

	// Namespace of the selected objects. Empty means the scope of the policy:
	// the policy's own namespace for a PropagationPolicy or OverridePolicy
	// (where a non-empty value must equal that namespace), any namespace for
	// a ClusterPropagationPolicy or ClusterOverridePolicy. Leave it empty for
	// cluster-scoped kinds.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// Name of the selected object. Empty selects all objects of the kind in
	// scope (filtered by labelSelector if set). Cannot be combined with
	// labelSelector.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`

	// LabelSelector selects objects by the labels of the wrapped object
	// (spec.template.metadata.labels). Cannot be combined with name.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// Placement describes the member clusters that receive an object.
//
// +kubebuilder:validation:XValidation:rule="!has(self.clusterAffinity) || !has(self.clusterAffinities) || size(self.clusterAffinities) == 0",message="placement: clusterAffinity and clusterAffinities are mutually exclusive"
type Placement struct {
	// ClusterAffinity restricts scheduling to the clusters it selects.
	// Cannot be combined with clusterAffinities. When neither is set, every
	// cluster is a candidate.
	// +optional
	ClusterAffinity *ClusterAffinity `json:"clusterAffinity,omitempty"`

	// ClusterAffinities is an ordered list of cluster groups. The scheduler
	// tries the groups in order and uses the first one in which the object
	// can be scheduled; a cluster may belong to several groups. If no group
	// fits, scheduling fails. The group in use is reported in the binding's
	// status.schedulerObservingAffinityName.
	//
	// Typical uses: prefer on-premises clusters and fall back to a cloud
	// group when they lack capacity, or keep a backup group for disaster
	// recovery. Cannot be combined with clusterAffinity.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y.affinityName == x.affinityName))",message="placement.clusterAffinities: affinityName must be unique"
	ClusterAffinities []ClusterAffinityTerm `json:"clusterAffinities,omitempty"`

	// ClusterTolerations let the object be scheduled to, and stay on,
	// clusters with matching taints. A NoSchedule taint keeps non-tolerating
	// objects off a cluster; a NoExecute taint also evicts them (after
	// tolerationSeconds when the toleration sets it).
	// +optional
	// +listType=atomic
	ClusterTolerations []corev1.Toleration `json:"clusterTolerations,omitempty"`

	// SpreadConstraints spread the object over groups of clusters (by
	// cluster, region, zone, provider or a cluster label) within the given
	// bounds.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(c, !has(c.spreadByField) || self.exists_one(d, has(d.spreadByField) && d.spreadByField == c.spreadByField))",message="placement.spreadConstraints: at most one constraint per spreadByField value is allowed"
	// +kubebuilder:validation:XValidation:rule="!self.exists(c, has(c.spreadByField) && c.spreadByField != 'cluster') || self.exists(c, (has(c.spreadByField) && c.spreadByField == 'cluster') || (!has(c.spreadByField) && (!has(c.spreadByLabel) || size(c.spreadByLabel) == 0)))",message="placement.spreadConstraints: a constraint with spreadByField 'cluster' is required when spreading by region, zone or provider"
	SpreadConstraints []SpreadConstraint `json:"spreadConstraints,omitempty"`

	// ReplicaScheduling decides how the replicas of a workload with a
	// replica count (Deployment, StatefulSet, Job parallelism, custom
	// resources with a replica interpreter, ...) are assigned to the
	// selected clusters. Unset means Duplicated: every cluster runs the full
	// replica count.
	// +optional
	ReplicaScheduling *ReplicaSchedulingStrategy `json:"replicaScheduling,omitempty"`
}

// ClusterAffinity selects member clusters. A cluster is selected when it
// matches every filter that is set (labelSelector, fieldSelector and
// clusterNames) and is not listed in exclude. An empty ClusterAffinity
// selects every cluster.
type ClusterAffinity struct {
	// LabelSelector selects clusters by the labels of their Cluster object.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`

	// FieldSelector selects clusters by the provider, region and zone
	// recorded in their Cluster object.
	// +optional
	FieldSelector *FieldSelector `json:"fieldSelector,omitempty"`

	// ClusterNames lists the clusters to select by name.
	// +optional
	// +listType=atomic
	ClusterNames []string `json:"clusterNames,omitempty"`

	// ExcludeClusters lists clusters that are never selected, even when
	// another filter matches them.
	// +optional
	// +listType=atomic
	ExcludeClusters []string `json:"exclude,omitempty"`
}

// FieldSelector selects clusters by fields of the Cluster object.
type FieldSelector struct {
	// MatchExpressions are ANDed requirements. The key must be "provider",
	// "region" or "zone" (spec.provider, spec.region and spec.zone of the
	// Cluster) and the operator "In" or "NotIn".
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(r, r.key in ['provider', 'region', 'zone'])",message="fieldSelector.matchExpressions[].key must be one of provider, region, zone"
	// +kubebuilder:validation:XValidation:rule="self.all(r, r.operator in ['In', 'NotIn'])",message="fieldSelector.matchExpressions[].operator must be In or NotIn"
	MatchExpressions []corev1.NodeSelectorRequirement `json:"matchExpressions,omitempty"`
}

// Keys a FieldSelector may use.
const (
	// ProviderField selects clusters by spec.provider of the Cluster.
	ProviderField = "provider"
	// RegionField selects clusters by spec.region of the Cluster.
	RegionField = "region"
	// ZoneField selects clusters by spec.zone of the Cluster.
	ZoneField = "zone"
)

// ClusterAffinityTerm is a named group of clusters in
// placement.clusterAffinities.
type ClusterAffinityTerm struct {
	// AffinityName names the group; it must be unique within
	// clusterAffinities and is a qualified name (like a label key).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
	AffinityName string `json:"affinityName"`

	ClusterAffinity `json:",inline"`
}

// SpreadFieldValue is a Cluster field that clusters can be grouped by.
type SpreadFieldValue string

// Values of SpreadConstraint.SpreadByField.
const (
	// SpreadByFieldCluster makes every cluster a group of its own.
	SpreadByFieldCluster SpreadFieldValue = "cluster"
	// SpreadByFieldRegion groups clusters by region.
	SpreadByFieldRegion SpreadFieldValue = "region"
	// SpreadByFieldZone groups clusters by zone.
	SpreadByFieldZone SpreadFieldValue = "zone"
	// SpreadByFieldProvider groups clusters by provider.
	SpreadByFieldProvider SpreadFieldValue = "provider"
)

// SpreadConstraint groups the candidate clusters and bounds how many groups
// are selected.
//
// +kubebuilder:validation:XValidation:rule="!has(self.spreadByField) || !has(self.spreadByLabel) || size(self.spreadByLabel) == 0",message="spreadConstraints[]: spreadByField and spreadByLabel are mutually exclusive"
// +kubebuilder:validation:XValidation:rule="!has(self.maxGroups) || self.maxGroups == 0 || (has(self.minGroups) ? self.minGroups : 1) <= self.maxGroups",message="spreadConstraints[]: minGroups must not be greater than maxGroups"
type SpreadConstraint struct {
	// SpreadByField groups clusters by a field of the Cluster object:
	// "cluster" (each cluster is a group), "region", "zone" or "provider".
	// Cannot be combined with spreadByLabel. When both are empty the
	// constraint spreads by "cluster". Spreading by region, zone or provider
	// also requires a constraint with spreadByField "cluster", which bounds
	// the number of clusters.
	// +optional
	// +kubebuilder:validation:Enum=cluster;region;zone;provider
	SpreadByField SpreadFieldValue `json:"spreadByField,omitempty"`

	// SpreadByLabel groups clusters by the value of this Cluster label key.
	// Cannot be combined with spreadByField.
	// +optional
	// +kubebuilder:validation:MaxLength=317
	SpreadByLabel string `json:"spreadByLabel,omitempty"`

	// MaxGroups is the maximum number of groups to select. 0 or unset means
	// no maximum.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxGroups int32 `json:"maxGroups,omitempty"`

	// MinGroups is the minimum number of groups to select; scheduling fails
	// when fewer groups fit. Defaults to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinGroups int32 `json:"minGroups,omitempty"`
}

// ReplicaSchedulingType is how replicas are assigned to clusters.
type ReplicaSchedulingType string

// Values of ReplicaSchedulingStrategy.ReplicaSchedulingType.
const (
	// ReplicaSchedulingTypeDuplicated gives every selected cluster the full
	// replica count of the template.
	ReplicaSchedulingTypeDuplicated ReplicaSchedulingType = "Duplicated"
	// ReplicaSchedulingTypeDivided divides the replica count of the template
	// among the selected clusters.
	ReplicaSchedulingTypeDivided ReplicaSchedulingType = "Divided"
)

// ReplicaDivisionPreference is how divided replicas are distributed.
type ReplicaDivisionPreference string

// Values of ReplicaSchedulingStrategy.ReplicaDivisionPreference.
const (
	// ReplicaDivisionPreferenceAggregated packs the replicas into as few
	// clusters as their available resources allow.
	ReplicaDivisionPreferenceAggregated ReplicaDivisionPreference = "Aggregated"
	// ReplicaDivisionPreferenceWeighted divides the replicas in proportion
	// to cluster weights (see weightPreference).
	ReplicaDivisionPreferenceWeighted ReplicaDivisionPreference = "Weighted"
)

// ReplicaSchedulingStrategy is how the replicas of a workload are assigned to
// the selected clusters.
//
// +kubebuilder:validation:XValidation:rule="!has(self.replicaDivisionPreference) || (has(self.replicaSchedulingType) && self.replicaSchedulingType == 'Divided')",message="replicaScheduling.replicaDivisionPreference may only be set when replicaSchedulingType is Divided",fieldPath=".replicaDivisionPreference"
// +kubebuilder:validation:XValidation:rule="!has(self.weightPreference) || (has(self.replicaDivisionPreference) && self.replicaDivisionPreference == 'Weighted')",message="replicaScheduling.weightPreference may only be set when replicaDivisionPreference is Weighted",fieldPath=".weightPreference"
type ReplicaSchedulingStrategy struct {
	// ReplicaSchedulingType is "Duplicated" (every selected cluster runs the
	// full replica count) or "Divided" (the replica count is divided among
	// the selected clusters as replicaDivisionPreference says).
	// Defaults to "Divided".
	// +optional
	// +kubebuilder:default=Divided
	// +kubebuilder:validation:Enum=Duplicated;Divided
	ReplicaSchedulingType ReplicaSchedulingType `json:"replicaSchedulingType,omitempty"`

	// ReplicaDivisionPreference says how Divided replicas are distributed:
	// "Aggregated" packs them into as few clusters as available resources
	// allow; "Weighted" divides them by weight (see weightPreference). Only
	// valid with replicaSchedulingType Divided; when it is empty there,
	// Weighted is used.
	// +optional
	// +kubebuilder:validation:Enum=Aggregated;Weighted
	ReplicaDivisionPreference ReplicaDivisionPreference `json:"replicaDivisionPreference,omitempty"`

	// WeightPreference gives the cluster weights for the Weighted division.
	// Only valid with replicaDivisionPreference Weighted; when it is unset
	// there, all selected clusters weigh the same.
	// +optional
	WeightPreference *ClusterPreferences `json:"weightPreference,omitempty"`
}

// ClusterPreferences gives the weight of each cluster for a Weighted replica
// division: either a static list or a dynamic factor, not both.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.dynamicWeight) && has(self.staticWeightList) && size(self.staticWeightList) > 0)",message="weightPreference: staticWeightList and dynamicWeight are mutually exclusive"
// +kubebuilder:validation:XValidation:rule="has(self.dynamicWeight) || (has(self.staticWeightList) && size(self.staticWeightList) > 0)",message="weightPreference: one of staticWeightList or dynamicWeight must be set"
type ClusterPreferences struct {
	// StaticWeightList assigns fixed weights to clusters. A cluster that
	// matches several entries gets the highest of their weights; a selected
	// cluster that matches no entry gets no replicas (if no selected cluster
	// matches any entry, all selected clusters weigh the same).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	StaticWeightList []StaticClusterWeight `json:"staticWeightList,omitempty"`

	// DynamicWeight computes the weights from the clusters' state instead of
	// a static list. "AvailableReplicas" weighs each cluster by how many
	// replicas of the workload it can still run: with 12 replicas and
	// clusters A, B, C able to run 6, 12 and 18 more, the weights are
	// 1:2:3 and the division is A=2, B=4, C=6.
	// +optional
	// +kubebuilder:validation:Enum=AvailableReplicas
	DynamicWeight DynamicWeightFactor `json:"dynamicWeight,omitempty"`
}

// StaticClusterWeight is the weight of the clusters selected by
// targetCluster.
type StaticClusterWeight struct {
	// TargetCluster selects the clusters this weight applies to.
	// +required
	TargetCluster ClusterAffinity `json:"targetCluster"`

	// Weight is the relative share of replicas for the selected clusters; at
	// least 1.
	// +required
	// +kubebuilder:validation:Minimum=1
	Weight int64 `json:"weight"`
}

// DynamicWeightFactor is the factor dynamic weights are computed from.
type DynamicWeightFactor string

// DynamicWeightByAvailableReplicas weighs clusters by the number of
// additional replicas of the workload they can run.
const DynamicWeightByAvailableReplicas DynamicWeightFactor = "AvailableReplicas"

// PreemptionBehavior says whether a policy takes over objects claimed by
// other policies.
type PreemptionBehavior string

// Values of PropagationSpec.Preemption.
const (
	// PreemptAlways lets the policy take over objects claimed by
	// lower-priority policies (and, for a PropagationPolicy, objects claimed
	// by any ClusterPropagationPolicy).
	PreemptAlways PreemptionBehavior = "Always"
	// PreemptNever never takes over a claimed object.
	PreemptNever PreemptionBehavior = "Never"
)

// ConflictResolution is what happens when a propagated object already exists
// in a member cluster and was not created by Argosy.
type ConflictResolution string

// Values of PropagationSpec.ConflictResolution.
const (
	// ConflictOverwrite takes the existing object over and overwrites it.
	ConflictOverwrite ConflictResolution = "Overwrite"
	// ConflictAbort leaves the existing object alone and reports a conflict.
	ConflictAbort ConflictResolution = "Abort"
)

// ActivationPreference is when policy changes reach the objects a policy
// already claims.
type ActivationPreference string

// LazyActivation applies a policy change to an object only when the object's
// template changes next.
const LazyActivation ActivationPreference = "Lazy"

// Suspension pauses parts of the propagation.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.dispatching) && self.dispatching && has(self.dispatchingOnClusters) && has(self.dispatchingOnClusters.clusterNames) && size(self.dispatchingOnClusters.clusterNames) > 0)",message="suspension: dispatching and dispatchingOnClusters.clusterNames are mutually exclusive"
type Suspension struct {
	// Dispatching, when true, stops sending changes to all member clusters;
	// the objects already there keep running and their status is still
	// collected. Unset or false means not suspended. Cannot be combined with
	// dispatchingOnClusters.
	// +optional
	Dispatching *bool `json:"dispatching,omitempty"`

	// DispatchingOnClusters stops sending changes to the listed clusters
	// only. Cannot be combined with dispatching.
	// +optional
	DispatchingOnClusters *SuspendClusters `json:"dispatchingOnClusters,omitempty"`
}

// SuspendClusters lists the clusters whose dispatching is suspended. Only
// explicit names are supported, so that the set cannot change behind the
// user's back as cluster labels change.
type SuspendClusters struct {
	// ClusterNames lists the clusters to suspend.
	// +optional
	// +listType=set
	ClusterNames []string `json:"clusterNames,omitempty"`
}

// PurgeMode is how the copy of an application left behind on the cluster it
// migrates away from is removed.
type PurgeMode string

// Values of PurgeMode.
const (
	// PurgeModeDirectly removes the old copy as soon as the migration
	// starts. Use it for applications that must never run twice at the same
	// time (for example exactly-once stream processors).
	PurgeModeDirectly PurgeMode = "Directly"
	// PurgeModeGracefully keeps the old copy until the application is
	// healthy on its new cluster, or until gracePeriodSeconds have passed.
	PurgeModeGracefully PurgeMode = "Gracefully"
	// PurgeModeNever never removes the old copy; the user cleans it up.
	PurgeModeNever PurgeMode = "Never"

	// PurgeModeImmediately is the former name of PurgeModeDirectly.
	//
	// Deprecated: use PurgeModeDirectly.
	PurgeModeImmediately PurgeMode = "Immediately"
	// PurgeModeGraciously is the former name of PurgeModeGracefully.
	//
	// Deprecated: use PurgeModeGracefully.
	PurgeModeGraciously PurgeMode = "Graciously"
)

// Normalize maps the deprecated purge modes to their current names and
// returns other values unchanged.
func (p PurgeMode) Normalize() PurgeMode {
	switch p {
	case PurgeModeImmediately:
		return PurgeModeDirectly
	case PurgeModeGraciously:
		return PurgeModeGracefully
	}
	return p
}

// FailoverBehavior configures failover for application failures and for
// cluster failures.
type FailoverBehavior struct {
	// Application enables failover when the application stays unhealthy on
	// a cluster (as judged by its health interpretation, for example Pods
	// that can no longer be scheduled there) for
	// decisionConditions.tolerationSeconds. Unset disables application
	// failover. Requires spec.propagateDeps to be true so that dependencies
	// move with the application.
	// +optional
	Application *ApplicationFailoverBehavior `json:"application,omitempty"`

	// Cluster configures how applications are evicted from a cluster that
	// carries a NoExecute taint they do not tolerate. Unset uses the
	// manager's default purge mode.
	// +optional
	Cluster *ClusterFailoverBehavior `json:"cluster,omitempty"`
}

// ApplicationFailoverBehavior configures application failover.
//
// +kubebuilder:validation:XValidation:rule="!has(self.gracePeriodSeconds) || (has(self.purgeMode) ? self.purgeMode : 'Gracefully') in ['Gracefully', 'Graciously']",message="failover.application.gracePeriodSeconds may only be set when purgeMode is Gracefully",fieldPath=".gracePeriodSeconds"
type ApplicationFailoverBehavior struct {
	// DecisionConditions must all hold before the application is failed
	// over.
	// +required
	DecisionConditions DecisionConditions `json:"decisionConditions"`

	// PurgeMode is how the copy on the cluster the application leaves is
	// removed: "Directly", "Gracefully" (the default) or "Never".
	// "Immediately" and "Graciously" are accepted as deprecated aliases of
	// Directly and Gracefully.
	// +optional
	// +kubebuilder:default=Gracefully
	// +kubebuilder:validation:Enum=Directly;Gracefully;Never;Immediately;Graciously
	PurgeMode PurgeMode `json:"purgeMode,omitempty"`

	// GracePeriodSeconds is how long, with purgeMode Gracefully, the old copy
	// is kept at most while the application becomes healthy on its new
	// cluster. Only valid with purgeMode Gracefully; defaults to 600 there.
	// +optional
	// +kubebuilder:validation:Minimum=1
	GracePeriodSeconds *int32 `json:"gracePeriodSeconds,omitempty"`

	// StatePreservation carries state (for example a checkpoint location)
	// from the failed copy to the new one. Unset preserves nothing.
	// +optional
	StatePreservation *StatePreservation `json:"statePreservation,omitempty"`
}

// DecisionConditions are the conditions for an application failover.
type DecisionConditions struct {
	// TolerationSeconds is how long the application must stay unhealthy on
	// a cluster before it is failed over. Defaults to 300.
	// +optional
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	TolerationSeconds *int32 `json:"tolerationSeconds,omitempty"`
}

// ClusterFailoverBehavior configures failover when a cluster fails.
type ClusterFailoverBehavior struct {
	// PurgeMode is how the copy on the evicted cluster is removed once the
	// replicas are placed on other clusters: "Directly" removes it at once;
	// "Gracefully" (the default) keeps it until the new placement is
	// applied and healthy, or until the graceful eviction timeout of the
	// manager (--graceful-eviction-timeout) has passed; "Never" keeps it
	// until a user deletes the eviction task from the ResourceBinding's
	// spec.gracefulEvictionTasks. Whatever the mode, the copy stays while
	// the replicas cannot be placed anywhere else.
	// +optional
	// +kubebuilder:default=Gracefully
	// +kubebuilder:validation:Enum=Directly;Gracefully;Never
	PurgeMode PurgeMode `json:"purgeMode,omitempty"`

	// StatePreservation carries state from the copy on the failed cluster to
	// the new one. Unset preserves nothing.
	// +optional
	StatePreservation *StatePreservation `json:"statePreservation,omitempty"`
}

// StatePreservation lists the pieces of state carried over on failover.
type StatePreservation struct {
	// Rules each extract one value from the status of the old copy and pass
	// it to the new copy as a label.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y.aliasLabelName == x.aliasLabelName))",message="statePreservation.rules: aliasLabelName must be unique"
	Rules []StatePreservationRule `json:"rules"`
}

// StatePreservationRule extracts one value from the old copy of an
// application.
type StatePreservationRule struct {
	// AliasLabelName is the label key under which the extracted value is
	// given to the new copy. It must be a valid label key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
	AliasLabelName string `json:"aliasLabelName"`

	// JSONPath is a kubectl-style JSONPath evaluated against the status of
	// the old copy; for the available replicas of a Deployment write
	// "{.availableReplicas}", not "{.status.availableReplicas}".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	JSONPath string `json:"jsonPath"`
}

// PriorityClassSource is where the PriorityClass of a workload is found.
type PriorityClassSource string

// KubePriorityClass reads a scheduling.k8s.io/v1 PriorityClass of the host
// cluster.
const KubePriorityClass PriorityClassSource = "KubePriorityClass"

// SchedulePriority names the PriorityClass that gives workloads their
// scheduling priority.
type SchedulePriority struct {
	// PriorityClassSource is where the PriorityClass is found; only
	// "KubePriorityClass" (a scheduling.k8s.io/v1 PriorityClass on the host
	// cluster) is supported.
	// +required
	// +kubebuilder:validation:Enum=KubePriorityClass
	PriorityClassSource PriorityClassSource `json:"priorityClassSource"`

	// PriorityClassName is the name of the PriorityClass.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName string `json:"priorityClassName"`
}

func init() {
	SchemeBuilder.Register(&PropagationPolicy{}, &PropagationPolicyList{},
		&ClusterPropagationPolicy{}, &ClusterPropagationPolicyList{})
}
