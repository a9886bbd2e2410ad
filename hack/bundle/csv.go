package main

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The subset of OLM's ClusterServiceVersion (operators.coreos.com/v1alpha1)
// that the bundle uses. The field names and JSON names are those of
// github.com/operator-framework/api/pkg/operators/v1alpha1, which is not
// served by the module proxy here.

// ClusterServiceVersion describes one version of an operator to OLM.
type ClusterServiceVersion struct {
	APIVersion string                    `json:"apiVersion"`
	Kind       string                    `json:"kind"`
	Metadata   CSVMetadata               `json:"metadata"`
	Spec       ClusterServiceVersionSpec `json:"spec"`
}

// CSVMetadata is the part of ObjectMeta a CSV in a bundle carries; a full
// metav1.ObjectMeta would add fields OLM fills in itself.
type CSVMetadata struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ClusterServiceVersionSpec is the CSV's spec.
type ClusterServiceVersionSpec struct {
	DisplayName               string                    `json:"displayName"`
	Description               string                    `json:"description,omitempty"`
	Version                   string                    `json:"version"`
	MinKubeVersion            string                    `json:"minKubeVersion,omitempty"`
	Maturity                  string                    `json:"maturity,omitempty"`
	Provider                  AppLink                   `json:"provider"`
	Keywords                  []string                  `json:"keywords,omitempty"`
	Links                     []AppLink                 `json:"links,omitempty"`
	Maintainers               []Maintainer              `json:"maintainers,omitempty"`
	InstallModes              []InstallMode             `json:"installModes"`
	CustomResourceDefinitions CustomResourceDefinitions `json:"customresourcedefinitions"`
	Install                   NamedInstallStrategy      `json:"install"`
	WebhookDefinitions        []WebhookDescription      `json:"webhookdefinitions,omitempty"`
}

// AppLink is a named URL.
type AppLink struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Maintainer is a person or team to contact.
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// InstallMode says whether the operator supports one kind of OperatorGroup.
type InstallMode struct {
	Type      string `json:"type"`
	Supported bool   `json:"supported"`
}

// The four install modes OLM knows.
const (
	InstallModeOwnNamespace    = "OwnNamespace"
	InstallModeSingleNamespace = "SingleNamespace"
	InstallModeMultiNamespace  = "MultiNamespace"
	InstallModeAllNamespaces   = "AllNamespaces"
)

// CustomResourceDefinitions lists the CRDs the operator owns.
type CustomResourceDefinitions struct {
	Owned []CRDDescription `json:"owned,omitempty"`
}

// CRDDescription describes one served version of an owned CRD for the OLM
// console.
type CRDDescription struct {
	Name              string       `json:"name"`
	Version           string       `json:"version"`
	Kind              string       `json:"kind"`
	DisplayName       string       `json:"displayName,omitempty"`
	Description       string       `json:"description,omitempty"`
	SpecDescriptors   []Descriptor `json:"specDescriptors,omitempty"`
	StatusDescriptors []Descriptor `json:"statusDescriptors,omitempty"`
}

// Descriptor points the console at one field (a dotted path below spec or
// status) and says how to show it.
type Descriptor struct {
	Path         string   `json:"path"`
	DisplayName  string   `json:"displayName,omitempty"`
	Description  string   `json:"description,omitempty"`
	XDescriptors []string `json:"x-descriptors,omitempty"`
}

// NamedInstallStrategy is spec.install; Argosy uses the deployment strategy.
type NamedInstallStrategy struct {
	Strategy string                    `json:"strategy"`
	Spec     StrategyDetailsDeployment `json:"spec"`
}

// StrategyDetailsDeployment is what OLM creates: Deployments, with RBAC for
// their service accounts.
type StrategyDetailsDeployment struct {
	ClusterPermissions []StrategyDeploymentPermissions `json:"clusterPermissions,omitempty"`
	Deployments        []StrategyDeploymentSpec        `json:"deployments"`
	Permissions        []StrategyDeploymentPermissions `json:"permissions,omitempty"`
}

// StrategyDeploymentPermissions are the rules OLM grants to one service
// account: cluster-wide (clusterPermissions) or in the operator's namespace
// (permissions).
type StrategyDeploymentPermissions struct {
	ServiceAccountName string              `json:"serviceAccountName"`
	Rules              []rbacv1.PolicyRule `json:"rules"`
}

// StrategyDeploymentSpec is one Deployment OLM creates in the operator's
// namespace.
type StrategyDeploymentSpec struct {
	Name  string                `json:"name"`
	Label map[string]string     `json:"label,omitempty"`
	Spec  appsv1.DeploymentSpec `json:"spec"`
}

// WebhookDescription is one admission webhook. OLM creates the webhook
// configuration, a Service named after the Deployment and a serving
// certificate mounted into the Deployment's pods.
type WebhookDescription struct {
	GenerateName            string                                          `json:"generateName"`
	Type                    string                                          `json:"type"`
	DeploymentName          string                                          `json:"deploymentName"`
	ContainerPort           int32                                           `json:"containerPort,omitempty"`
	TargetPort              *intstr.IntOrString                             `json:"targetPort,omitempty"`
	WebhookPath             *string                                         `json:"webhookPath,omitempty"`
	Rules                   []admissionregistrationv1.RuleWithOperations    `json:"rules,omitempty"`
	FailurePolicy           *admissionregistrationv1.FailurePolicyType      `json:"failurePolicy,omitempty"`
	MatchPolicy             *admissionregistrationv1.MatchPolicyType        `json:"matchPolicy,omitempty"`
	ObjectSelector          *metav1.LabelSelector                           `json:"objectSelector,omitempty"`
	SideEffects             *admissionregistrationv1.SideEffectClass        `json:"sideEffects"`
	TimeoutSeconds          *int32                                          `json:"timeoutSeconds,omitempty"`
	AdmissionReviewVersions []string                                        `json:"admissionReviewVersions"`
	ReinvocationPolicy      *admissionregistrationv1.ReinvocationPolicyType `json:"reinvocationPolicy,omitempty"`
}

// The webhook types of WebhookDescription.Type.
const (
	ValidatingAdmissionWebhook = "ValidatingAdmissionWebhook"
	MutatingAdmissionWebhook   = "MutatingAdmissionWebhook"
)
