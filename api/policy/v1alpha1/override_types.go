/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the override policy kinds, as used in references and events.
const (
	// KindOverridePolicy is the kind name of OverridePolicy.
	KindOverridePolicy = "OverridePolicy"
	// KindClusterOverridePolicy is the kind name of ClusterOverridePolicy.
	KindClusterOverridePolicy = "ClusterOverridePolicy"
)

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=overridepolicies,scope=Namespaced,shortName=op,categories=argosy
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.resourceSelectors[0].kind`,description="Kind selected by the first resource selector; empty when the policy selects every kind"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// OverridePolicy changes objects on their way to particular member clusters:
// the ResourceTemplate stays as written and the copy sent to each matching
// cluster is rewritten by the override rules.
//
// An OverridePolicy in namespace N only applies to wrapped objects whose own
// namespace (spec.template.metadata.namespace) is N.
//
// Overrides are applied ClusterOverridePolicies first, then
// OverridePolicies; within each kind the least specific policy first (by
// resource selector: kind only, then labelSelector, then name) and by name
// among equals, so that the most specific policy has the last word.
type OverridePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behavior of the OverridePolicy.
	// +required
	Spec OverrideSpec `json:"spec"`

	// Status is the most recently observed status of the OverridePolicy.
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OverridePolicyList is a list of OverridePolicy.
type OverridePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of OverridePolicy.
	Items []OverridePolicy `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clusteroverridepolicies,scope=Cluster,shortName=cop,categories=argosy
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.resourceSelectors[0].kind`,description="Kind selected by the first resource selector; empty when the policy selects every kind"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ClusterOverridePolicy is the cluster-wide counterpart of OverridePolicy: it
// applies to cluster-scoped objects and to namespaced objects in any
// namespace, and is applied before any OverridePolicy.
type ClusterOverridePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behavior of the ClusterOverridePolicy.
	// +required
	Spec OverrideSpec `json:"spec"`

	// Status is the most recently observed status of the ClusterOverridePolicy.
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterOverridePolicyList is a list of ClusterOverridePolicy.
type ClusterOverridePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of ClusterOverridePolicy.
	Items []ClusterOverridePolicy `json:"items"`
}

// OverrideSpec is the desired behavior of an OverridePolicy or a
// ClusterOverridePolicy.
//
// +kubebuilder:validation:XValidation:rule="!has(self.targetCluster) || !has(self.overrideRules) || size(self.overrideRules) == 0",message="spec.targetCluster (deprecated) cannot be combined with spec.overrideRules; move it into overrideRules[].targetCluster",fieldPath=".targetCluster"
// +kubebuilder:validation:XValidation:rule="!has(self.overriders) || !has(self.overrideRules) || size(self.overrideRules) == 0 || ((!has(self.overriders.plaintext) || size(self.overriders.plaintext) == 0) && (!has(self.overriders.imageOverrider) || size(self.overriders.imageOverrider) == 0) && (!has(self.overriders.commandOverrider) || size(self.overriders.commandOverrider) == 0) && (!has(self.overriders.argsOverrider) || size(self.overriders.argsOverrider) == 0) && (!has(self.overriders.labelsOverrider) || size(self.overriders.labelsOverrider) == 0) && (!has(self.overriders.annotationsOverrider) || size(self.overriders.annotationsOverrider) == 0) && (!has(self.overriders.fieldOverrider) || size(self.overriders.fieldOverrider) == 0))",message="spec.overriders (deprecated) cannot be combined with spec.overrideRules; move it into overrideRules[].overriders",fieldPath=".overriders"
type OverrideSpec struct {
	// ResourceSelectors restrict the objects this policy applies to; an
	// object is selected when it matches at least one selector. Empty or
	// unset selects every object in the policy's scope.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	ResourceSelectors []ResourceSelector `json:"resourceSelectors,omitempty"`

	// OverrideRules are applied in order; each rule applies its overriders
	// to the copies sent to the clusters its targetCluster selects.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	OverrideRules []RuleWithCluster `json:"overrideRules,omitempty"`

	// TargetCluster restricts the deprecated top-level overriders to the
	// clusters it selects; unset means all clusters.
	//
	// Deprecated: use overrideRules[].targetCluster. Cannot be combined with
	// overrideRules.
	// +optional
	TargetCluster *ClusterAffinity `json:"targetCluster,omitempty"`

	// Overriders are applied to the clusters selected by the deprecated
	// top-level targetCluster.
	//
	// Deprecated: use overrideRules[].overriders. Cannot be combined with
	// overrideRules.
	// +optional
	Overriders Overriders `json:"overriders,omitempty"`
}

// RuleWithCluster is a set of overriders for the clusters selected by
// targetCluster.
type RuleWithCluster struct {
	// TargetCluster selects the clusters the overriders apply to; unset
	// means all clusters.
	// +optional
	TargetCluster *ClusterAffinity `json:"targetCluster,omitempty"`

	// Overriders are the changes to make.
	// +required
	Overriders Overriders `json:"overriders"`
}

// Overriders are the changes an override rule makes. When several kinds of
// overrider are set they are applied in this order: imageOverrider,
// commandOverrider, argsOverrider, labelsOverrider, annotationsOverrider,
// fieldOverrider, plaintext; each list in its own order.
type Overriders struct {
	// Plaintext overriders are JSON-patch-like operations on any field of
	// any kind.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	Plaintext []PlaintextOverrider `json:"plaintext,omitempty"`

	// ImageOverrider rewrites parts of container images.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	ImageOverrider []ImageOverrider `json:"imageOverrider,omitempty"`

	// CommandOverrider changes the command of named containers.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	CommandOverrider []CommandArgsOverrider `json:"commandOverrider,omitempty"`

	// ArgsOverrider changes the arguments of named containers.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	ArgsOverrider []CommandArgsOverrider `json:"argsOverrider,omitempty"`

	// LabelsOverrider changes the labels of the object (metadata.labels).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	LabelsOverrider []LabelAnnotationOverrider `json:"labelsOverrider,omitempty"`

	// AnnotationsOverrider changes the annotations of the object
	// (metadata.annotations).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	AnnotationsOverrider []LabelAnnotationOverrider `json:"annotationsOverrider,omitempty"`

	// FieldOverrider edits a JSON or YAML document stored in a string field,
	// such as a configuration file in a ConfigMap's data.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	FieldOverrider []FieldOverrider `json:"fieldOverrider,omitempty"`
}

// OverriderOperator is an operation of an overrider.
type OverriderOperator string

// Values of OverriderOperator.
const (
	// OverriderOpAdd adds a value.
	OverriderOpAdd OverriderOperator = "add"
	// OverriderOpRemove removes a value.
	OverriderOpRemove OverriderOperator = "remove"
	// OverriderOpReplace replaces a value.
	OverriderOpReplace OverriderOperator = "replace"
)

// PlaintextOverrider changes the field at path, with JSON-patch (RFC 6902)
// semantics for the operators.
type PlaintextOverrider struct {
	// Path is the JSON pointer (RFC 6901) of the field to change, for
	// example "/spec/replicas" or "/metadata/annotations".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="plaintext[].path must be a JSON pointer starting with '/'"
	Path string `json:"path"`

	// Operator is "add", "remove" or "replace".
	// +required
	// +kubebuilder:validation:Enum=add;remove;replace
	Operator OverriderOperator `json:"operator"`

	// Value is the JSON value to add or to replace with; any JSON type is
	// allowed. It must be set for add and replace and left empty for
	// remove.
	// +optional
	Value apiextensionsv1.JSON `json:"value,omitempty"`
}

// ImageComponent is a part of a container image reference of the form
// [registry/]repository[:tag|@digest].
type ImageComponent string

// Values of ImageComponent.
const (
	// Registry is the registry part, for example "registry.k8s.io" or
	// "registry.example:10443".
	Registry ImageComponent = "Registry"
	// Repository is the repository part, for example "kube-apiserver" or
	// "library/nginx".
	Repository ImageComponent = "Repository"
	// Tag is the tag or digest part, for example "v1.29.1", "latest" or
	// "@sha256:...".
	Tag ImageComponent = "Tag"
)

// ImageOverrider rewrites one component of container images.
//
// +kubebuilder:validation:XValidation:rule="self.operator == 'remove' || (has(self.value) && size(self.value) > 0)",message="imageOverrider[].value must be set when operator is add or replace"
type ImageOverrider struct {
	// Predicate selects the image field to rewrite. When unset, every
	// container image of a Pod (/spec/containers/N/image) or of the Pod
	// template of a ReplicaSet, Deployment, DaemonSet, StatefulSet or Job
	// (/spec/template/spec/containers/N/image) is rewritten.
	// +optional
	Predicate *ImagePredicate `json:"predicate,omitempty"`

	// Component is the part of the image to change: "Registry",
	// "Repository" or "Tag" (a digest counts as the tag).
	// +required
	// +kubebuilder:validation:Enum=Registry;Repository;Tag
	Component ImageComponent `json:"component"`

	// Operator is "add", "remove" or "replace".
	// +required
	// +kubebuilder:validation:Enum=add;remove;replace
	Operator OverriderOperator `json:"operator"`

	// Value is the new component. Required for add and replace, ignored for
	// remove.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Value string `json:"value,omitempty"`
}

// ImagePredicate selects the image field to rewrite.
type ImagePredicate struct {
	// Path is the JSON pointer (RFC 6901) of the image field, for example
	// "/spec/template/spec/containers/0/image".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="imageOverrider[].predicate.path must be a JSON pointer starting with '/'"
	Path string `json:"path"`
}

// CommandArgsOverrider changes the command or the arguments of a container.
type CommandArgsOverrider struct {
	// ContainerName is the name of the container to change.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	ContainerName string `json:"containerName"`

	// Operator is "add" (append value) or "remove" (delete the items that
	// equal an item of value).
	// +required
	// +kubebuilder:validation:Enum=add;remove
	Operator OverriderOperator `json:"operator"`

	// Value lists the items to append or remove. Empty leaves the command or
	// arguments unchanged.
	// +optional
	// +listType=atomic
	Value []string `json:"value,omitempty"`
}

// LabelAnnotationOverrider changes the labels or the annotations of an
// object.
type LabelAnnotationOverrider struct {
	// Operator is "add" (add the entries, overwriting existing keys),
	// "remove" (delete the listed keys) or "replace" (change the value of
	// the listed keys that exist).
	// +required
	// +kubebuilder:validation:Enum=add;remove;replace
	Operator OverriderOperator `json:"operator"`

	// Value holds the entries to add, remove or replace. Keys and values
	// must be valid label (or annotation) keys and values.
	// +optional
	Value map[string]string `json:"value,omitempty"`
}

// FieldOverrider edits a structured document (JSON or YAML) stored as a
// string in the field at fieldPath, for example a configuration file in a
// ConfigMap. One FieldOverrider edits either JSON or YAML, not both.
//
// +kubebuilder:validation:XValidation:rule="!has(self.json) || size(self.json) == 0 || !has(self.yaml) || size(self.yaml) == 0",message="fieldOverrider[]: json and yaml are mutually exclusive"
type FieldOverrider struct {
	// FieldPath is the JSON pointer (RFC 6901) of the string field holding
	// the document, for example "/data/db-config.yaml" for the key
	// db-config.yaml of a ConfigMap.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="fieldOverrider[].fieldPath must be a JSON pointer starting with '/'"
	FieldPath string `json:"fieldPath"`

	// JSON lists the operations on a JSON document, applied in order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	JSON []JSONPatchOperation `json:"json,omitempty"`

	// YAML lists the operations on a YAML document, applied in order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	YAML []YAMLPatchOperation `json:"yaml,omitempty"`
}

// JSONPatchOperation is one operation on a JSON document.
type JSONPatchOperation struct {
	// SubPath is the JSON pointer (RFC 6901) inside the document; empty
	// means the whole document.
	// +required
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self.startsWith('/')",message="json[].subPath must be empty or a JSON pointer starting with '/'"
	SubPath string `json:"subPath"`

	// Operator is "add", "remove" or "replace".
	// +required
	// +kubebuilder:validation:Enum=add;remove;replace
	Operator OverriderOperator `json:"operator"`

	// Value is the value to add or to replace with. It must be set for add
	// and replace and left empty for remove.
	// +optional
	Value apiextensionsv1.JSON `json:"value,omitempty"`
}

// YAMLPatchOperation is one operation on a YAML document.
type YAMLPatchOperation struct {
	// SubPath is the JSON pointer (RFC 6901) inside the document; empty
	// means the whole document.
	// +required
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self.startsWith('/')",message="yaml[].subPath must be empty or a JSON pointer starting with '/'"
	SubPath string `json:"subPath"`

	// Operator is "add", "remove" or "replace".
	// +required
	// +kubebuilder:validation:Enum=add;remove;replace
	Operator OverriderOperator `json:"operator"`

	// Value is the value to add or to replace with. It must be set for add
	// and replace and left empty for remove.
	// +optional
	Value apiextensionsv1.JSON `json:"value,omitempty"`
}

func init() {
	SchemeBuilder.Register(&OverridePolicy{}, &OverridePolicyList{},
		&ClusterOverridePolicy{}, &ClusterOverridePolicyList{})
}
