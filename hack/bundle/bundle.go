package main

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// Input is what a bundle is made of.
type Input struct {
	// Version is the operator's semantic version, without a leading v.
	Version string
	// Image is the manager image the CSV deploys; empty keeps the image of
	// the manifests.
	Image string
	// Objects are the install manifests: `kustomize build config/default`.
	Objects []*unstructured.Unstructured
	// Samples are candidate examples for alm-examples, in order; the first
	// object of each owned kind is used and the rest are ignored.
	Samples []*unstructured.Unstructured
	// ProjectLayout is the kubebuilder layout of the PROJECT file
	// (go.kubebuilder.io/v4); empty leaves it out.
	ProjectLayout string
	// BundleDir is the bundle directory as bundle.Dockerfile's COPY lines
	// name it, relative to the Dockerfile ("bundle").
	BundleDir string
}

// Bundle is the generated output.
type Bundle struct {
	// Files are the bundle's files, by slash-separated path relative to the
	// bundle directory: manifests/... and metadata/annotations.yaml.
	Files map[string][]byte
	// Dockerfile is bundle.Dockerfile, which lives next to the bundle
	// directory.
	Dockerfile []byte
	// Notes say what of the install manifests OLM cannot carry, for the
	// person running the generator.
	Notes []string
}

// CSVPath is the ClusterServiceVersion's path in Bundle.Files.
const CSVPath = "manifests/" + packageName + ".clusterserviceversion.yaml"

// AnnotationsPath is the path of the bundle annotations in Bundle.Files.
const AnnotationsPath = "metadata/annotations.yaml"

// olmExtraKinds are the kinds, besides CRDs and the CSV, that a registry+v1
// bundle may carry (OLM's supported kinds list).
var olmExtraKinds = []string{
	"ClusterRole", "ClusterRoleBinding", "ConfigMap", "ConsoleCLIDownload", "ConsoleLink",
	"ConsoleQuickStart", "ConsoleYAMLSample", "PodDisruptionBudget", "PriorityClass",
	"PrometheusRule", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount",
	"ServiceMonitor", "VerticalPodAutoscaler",
}

// manifests sorts the install manifests by kind, decoded into API types
// where the generator needs to read them.
type manifests struct {
	crds                []*unstructured.Unstructured
	deployments         []*appsv1.Deployment
	roles               []*rbacv1.Role
	clusterRoles        []*rbacv1.ClusterRole
	roleBindings        []*rbacv1.RoleBinding
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
	services            []*corev1.Service
	validating          []*admissionregistrationv1.ValidatingWebhookConfiguration
	mutating            []*admissionregistrationv1.MutatingWebhookConfiguration
	// others are objects of the remaining kinds, by kind.
	others map[string][]*unstructured.Unstructured
	// source maps every decoded object to the manifest it came from, to
	// write it out as it is.
	source map[runtime.Object]*unstructured.Unstructured
}

func sortManifests(objs []*unstructured.Unstructured) (*manifests, error) {
	m := &manifests{others: map[string][]*unstructured.Unstructured{}, source: map[runtime.Object]*unstructured.Unstructured{}}
	for _, u := range objs {
		var (
			into runtime.Object
			err  error
		)
		switch u.GetKind() {
		case "CustomResourceDefinition":
			m.crds = append(m.crds, u)
			continue
		case "Deployment":
			into, err = decode(u, &appsv1.Deployment{}, &m.deployments)
		case "Role":
			into, err = decode(u, &rbacv1.Role{}, &m.roles)
		case "ClusterRole":
			into, err = decode(u, &rbacv1.ClusterRole{}, &m.clusterRoles)
		case "RoleBinding":
			into, err = decode(u, &rbacv1.RoleBinding{}, &m.roleBindings)
		case "ClusterRoleBinding":
			into, err = decode(u, &rbacv1.ClusterRoleBinding{}, &m.clusterRoleBindings)
		case "Service":
			into, err = decode(u, &corev1.Service{}, &m.services)
		case "ValidatingWebhookConfiguration":
			into, err = decode(u, &admissionregistrationv1.ValidatingWebhookConfiguration{}, &m.validating)
		case "MutatingWebhookConfiguration":
			into, err = decode(u, &admissionregistrationv1.MutatingWebhookConfiguration{}, &m.mutating)
		default:
			m.others[u.GetKind()] = append(m.others[u.GetKind()], u)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		m.source[into] = u
	}
	return m, nil
}

func decode[T runtime.Object](u *unstructured.Unstructured, into T, list *[]T) (runtime.Object, error) {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return nil, err
	}
	*list = append(*list, into)
	return into, nil
}

// Generate turns the install manifests into an OLM registry+v1 bundle. It
// is a pure function of its input.
func Generate(in Input) (*Bundle, error) {
	if v, err := version.ParseSemantic(in.Version); err != nil || strings.HasPrefix(in.Version, "v") {
		return nil, fmt.Errorf("version %q is not a semantic version without a leading v (like 0.1.0)", in.Version)
	} else if v.String() != in.Version {
		return nil, fmt.Errorf("version %q is not in canonical form %q", in.Version, v.String())
	}
	if in.BundleDir == "" {
		return nil, fmt.Errorf("BundleDir must be set")
	}
	m, err := sortManifests(in.Objects)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Files: map[string][]byte{}}

	if len(m.deployments) != 1 {
		return nil, fmt.Errorf("want exactly one Deployment (the manager) in the manifests, found %d", len(m.deployments))
	}
	dep := m.deployments[0]
	sa := dep.Spec.Template.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}

	perms, clusterPerms, err := permissions(m, dep.Namespace, sa)
	if err != nil {
		return nil, err
	}
	webhooks, err := webhookDefinitions(m, dep)
	if err != nil {
		return nil, err
	}
	spec, certSecrets, err := olmDeploymentSpec(dep, in.Image)
	if err != nil {
		return nil, err
	}
	owned, crdFiles, err := ownedCRDs(m.crds)
	if err != nil {
		return nil, err
	}
	for name, data := range crdFiles {
		b.Files["manifests/"+name] = data
	}
	examples, err := almExamples(in.Samples, owned)
	if err != nil {
		return nil, err
	}
	internal, err := internalObjects(owned)
	if err != nil {
		return nil, err
	}

	// Whatever the CSV does not cover goes into manifests/ as is, if OLM
	// can carry it.
	extras, notes, err := extraManifests(m, dep, sa, certSecrets)
	if err != nil {
		return nil, err
	}
	b.Notes = notes
	for _, u := range extras {
		data, err := marshalObject(u)
		if err != nil {
			return nil, err
		}
		b.Files["manifests/"+extraFileName(u)] = data
	}

	image := spec.Template.Spec.Containers[slices.IndexFunc(spec.Template.Spec.Containers, func(c corev1.Container) bool {
		return c.Name == managerContainer
	})].Image
	annotations := map[string]string{
		"alm-examples":                           examples,
		"capabilities":                           capabilities,
		"categories":                             categories,
		"containerImage":                         image,
		"description":                            shortDescription,
		"repository":                             repository,
		"operators.operatorframework.io/builder": builder,
		"operators.operatorframework.io/internal-objects": internal,
		// The namespace config/default installs into; the console proposes it.
		"operatorframework.io/suggested-namespace": dep.Namespace,
	}
	if in.ProjectLayout != "" {
		annotations["operators.operatorframework.io/project_layout"] = in.ProjectLayout
	}
	csv := ClusterServiceVersion{
		APIVersion: "operators.coreos.com/v1alpha1",
		Kind:       "ClusterServiceVersion",
		Metadata: CSVMetadata{
			Name:        packageName + ".v" + in.Version,
			Annotations: annotations,
		},
		Spec: ClusterServiceVersionSpec{
			DisplayName:    displayName,
			Description:    longDescription,
			Version:        in.Version,
			MinKubeVersion: minKubeVersion,
			Maturity:       maturity,
			Provider:       provider,
			Keywords:       keywords,
			Links:          links,
			Maintainers:    maintainers,
			// Argosy is cluster-wide: its policies select objects in every
			// namespace and its templates live in one namespace of its own.
			InstallModes: []InstallMode{
				{Type: InstallModeOwnNamespace, Supported: false},
				{Type: InstallModeSingleNamespace, Supported: false},
				{Type: InstallModeMultiNamespace, Supported: false},
				{Type: InstallModeAllNamespaces, Supported: true},
			},
			CustomResourceDefinitions: CustomResourceDefinitions{Owned: owned},
			Install: NamedInstallStrategy{
				Strategy: "deployment",
				Spec: StrategyDetailsDeployment{
					ClusterPermissions: clusterPerms,
					Deployments:        []StrategyDeploymentSpec{{Name: dep.Name, Label: dep.Labels, Spec: spec}},
					Permissions:        perms,
				},
			},
			WebhookDefinitions: webhooks,
		},
	}
	data, err := yaml.Marshal(csv)
	if err != nil {
		return nil, err
	}
	b.Files[CSVPath] = data

	core, metrics := bundleAnnotations(in.ProjectLayout)
	b.Files[AnnotationsPath] = annotationsYAML(core, metrics)
	b.Dockerfile = dockerfile(core, metrics, in.BundleDir)
	return b, nil
}

// permissions collects the rules of every Role and ClusterRole bound to the
// service account: rules bound by RoleBindings are granted in the operator's
// namespace (permissions), rules bound by ClusterRoleBindings cluster-wide
// (clusterPermissions). Rules are concatenated in the order of the role
// names.
func permissions(m *manifests, namespace, sa string) (perms, clusterPerms []StrategyDeploymentPermissions, err error) {
	type ref struct{ kind, name string }
	var nsRefs, clusterRefs []ref
	for _, rb := range m.roleBindings {
		if rb.Namespace != namespace {
			continue // OLM grants namespaced permissions in its own namespace only; see extraManifests
		}
		if ok, err := bindsOnly(rb.Name, rb.Subjects, namespace, sa); err != nil {
			return nil, nil, err
		} else if ok {
			nsRefs = append(nsRefs, ref{rb.RoleRef.Kind, rb.RoleRef.Name})
		}
	}
	for _, crb := range m.clusterRoleBindings {
		if ok, err := bindsOnly(crb.Name, crb.Subjects, namespace, sa); err != nil {
			return nil, nil, err
		} else if ok {
			clusterRefs = append(clusterRefs, ref{crb.RoleRef.Kind, crb.RoleRef.Name})
		}
	}
	byName := func(a, b ref) int { return strings.Compare(a.kind+"/"+a.name, b.kind+"/"+b.name) }
	slices.SortFunc(nsRefs, byName)
	slices.SortFunc(clusterRefs, byName)

	rulesOf := func(r ref) ([]rbacv1.PolicyRule, error) {
		switch r.kind {
		case "Role":
			for _, role := range m.roles {
				if role.Name == r.name && role.Namespace == namespace {
					return role.Rules, nil
				}
			}
		case "ClusterRole":
			for _, role := range m.clusterRoles {
				if role.Name == r.name {
					if role.AggregationRule != nil {
						return nil, fmt.Errorf("ClusterRole %s is bound to the manager but aggregated; OLM cannot grant aggregated rules", role.Name)
					}
					return role.Rules, nil
				}
			}
		}
		return nil, fmt.Errorf("%s %s is bound to service account %s but not in the manifests", r.kind, r.name, sa)
	}
	var rules, clusterRules []rbacv1.PolicyRule
	for _, r := range nsRefs {
		rs, err := rulesOf(r)
		if err != nil {
			return nil, nil, err
		}
		rules = append(rules, rs...)
	}
	for _, r := range clusterRefs {
		rs, err := rulesOf(r)
		if err != nil {
			return nil, nil, err
		}
		clusterRules = append(clusterRules, rs...)
	}
	if len(rules) > 0 {
		perms = []StrategyDeploymentPermissions{{ServiceAccountName: sa, Rules: rules}}
	}
	if len(clusterRules) > 0 {
		clusterPerms = []StrategyDeploymentPermissions{{ServiceAccountName: sa, Rules: clusterRules}}
	}
	return perms, clusterPerms, nil
}

// bindsOnly reports whether a binding's subjects are the service account
// and nothing else. A binding that mixes it with other subjects cannot be
// expressed in a CSV and is an error.
func bindsOnly(binding string, subjects []rbacv1.Subject, namespace, sa string) (bool, error) {
	found, other := false, false
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace == namespace {
			found = true
		} else {
			other = true
		}
	}
	if found && other {
		return false, fmt.Errorf("binding %s binds service account %s together with other subjects; split it", binding, sa)
	}
	return found, nil
}

// isBound reports whether the service account's bindings reference the role.
func isBound(m *manifests, namespace, sa, kind, name string) bool {
	for _, rb := range m.roleBindings {
		if ok, _ := bindsOnly(rb.Name, rb.Subjects, namespace, sa); ok && rb.RoleRef.Kind == kind && rb.RoleRef.Name == name {
			return true
		}
	}
	for _, crb := range m.clusterRoleBindings {
		if ok, _ := bindsOnly(crb.Name, crb.Subjects, namespace, sa); ok && crb.RoleRef.Kind == kind && crb.RoleRef.Name == name {
			return true
		}
	}
	return false
}

// webhookService finds the Service a webhook's client config points at, and
// checks that it fronts the manager Deployment. It returns the Service port
// (OLM's containerPort) and target port.
func webhookService(m *manifests, dep *appsv1.Deployment, webhook string, cc admissionregistrationv1.WebhookClientConfig) (*corev1.Service, int32, intstr.IntOrString, error) {
	if cc.Service == nil {
		return nil, 0, intstr.IntOrString{}, fmt.Errorf("webhook %s calls a URL; OLM webhook definitions need a Service of the operator's Deployment", webhook)
	}
	port := int32(443)
	if cc.Service.Port != nil {
		port = *cc.Service.Port
	}
	for _, svc := range m.services {
		if svc.Name != cc.Service.Name || svc.Namespace != cc.Service.Namespace {
			continue
		}
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels)) {
			return nil, 0, intstr.IntOrString{}, fmt.Errorf("webhook %s: Service %s does not select the pods of Deployment %s", webhook, svc.Name, dep.Name)
		}
		for _, p := range svc.Spec.Ports {
			if p.Port != port {
				continue
			}
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(port)
			}
			return svc, port, target, nil
		}
		return nil, 0, intstr.IntOrString{}, fmt.Errorf("webhook %s: Service %s has no port %d", webhook, svc.Name, port)
	}
	return nil, 0, intstr.IntOrString{}, fmt.Errorf("webhook %s: Service %s/%s is not in the manifests", webhook, cc.Service.Namespace, cc.Service.Name)
}

// webhookDefinitions turns every webhook of the Validating- and
// MutatingWebhookConfigurations into an OLM webhook definition, sorted by
// type and name.
func webhookDefinitions(m *manifests, dep *appsv1.Deployment) ([]WebhookDescription, error) {
	var defs []WebhookDescription
	add := func(typ, name string, cc admissionregistrationv1.WebhookClientConfig, d WebhookDescription) error {
		_, port, target, err := webhookService(m, dep, name, cc)
		if err != nil {
			return err
		}
		if len(cc.CABundle) > 0 {
			return fmt.Errorf("webhook %s has a caBundle; OLM injects its own", name)
		}
		d.GenerateName, d.Type, d.DeploymentName = name, typ, dep.Name
		d.ContainerPort, d.TargetPort, d.WebhookPath = port, &target, cc.Service.Path
		defs = append(defs, d)
		return nil
	}
	for _, c := range m.validating {
		for _, w := range c.Webhooks {
			if w.NamespaceSelector != nil {
				return nil, fmt.Errorf("webhook %s has a namespaceSelector; OLM sets it from the OperatorGroup", w.Name)
			}
			err := add(ValidatingAdmissionWebhook, w.Name, w.ClientConfig, WebhookDescription{
				Rules: w.Rules, FailurePolicy: w.FailurePolicy, MatchPolicy: w.MatchPolicy,
				ObjectSelector: w.ObjectSelector, SideEffects: w.SideEffects, TimeoutSeconds: w.TimeoutSeconds,
				AdmissionReviewVersions: w.AdmissionReviewVersions,
			})
			if err != nil {
				return nil, err
			}
		}
	}
	for _, c := range m.mutating {
		for _, w := range c.Webhooks {
			if w.NamespaceSelector != nil {
				return nil, fmt.Errorf("webhook %s has a namespaceSelector; OLM sets it from the OperatorGroup", w.Name)
			}
			err := add(MutatingAdmissionWebhook, w.Name, w.ClientConfig, WebhookDescription{
				Rules: w.Rules, FailurePolicy: w.FailurePolicy, MatchPolicy: w.MatchPolicy,
				ObjectSelector: w.ObjectSelector, SideEffects: w.SideEffects, TimeoutSeconds: w.TimeoutSeconds,
				AdmissionReviewVersions: w.AdmissionReviewVersions, ReinvocationPolicy: w.ReinvocationPolicy,
			})
			if err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(defs, func(a, b WebhookDescription) int {
		return strings.Compare(a.Type+"/"+a.GenerateName, b.Type+"/"+b.GenerateName)
	})
	return defs, nil
}

// olmDeploymentSpec adapts the manager Deployment to OLM: OLM provides the
// webhook serving certificate (mounted at olmCertDir), so the manager must
// not manage its own (--webhook-cert-secret=) and the Secret volume that
// held it goes. The manager's system namespace becomes the namespace OLM
// installs it in, where OLM grants the namespaced permissions. It returns
// the names of the Secrets the removed volumes referred to.
func olmDeploymentSpec(dep *appsv1.Deployment, image string) (appsv1.DeploymentSpec, []string, error) {
	spec := *dep.Spec.DeepCopy()
	pod := &spec.Template.Spec
	i := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == managerContainer })
	if i < 0 {
		return spec, nil, fmt.Errorf("Deployment %s has no container %q", dep.Name, managerContainer)
	}
	c := &pod.Containers[i]
	if image != "" {
		c.Image = image
	}
	if dir, ok := argValue(c.Args, "webhook-cert-dir"); ok && path.Clean(dir) != olmCertDir {
		return spec, nil, fmt.Errorf("manager has --webhook-cert-dir=%s; OLM mounts the certificate at %s", dir, olmCertDir)
	}
	c.Args = setArg(c.Args, "webhook-cert-secret", "")
	c.Args = setArg(c.Args, "system-namespace", "$(POD_NAMESPACE)")
	c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "POD_NAMESPACE" })
	c.Env = append(c.Env, corev1.EnvVar{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
	}})

	// Drop every mount at the certificate directory, then the volumes no
	// container mounts any more.
	removed := map[string]bool{}
	for j := range pod.Containers {
		c := &pod.Containers[j]
		c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool {
			if path.Clean(vm.MountPath) == olmCertDir {
				removed[vm.Name] = true
				return true
			}
			return false
		})
	}
	for _, cs := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
		for _, c := range cs {
			for _, vm := range c.VolumeMounts {
				delete(removed, vm.Name)
			}
		}
	}
	var secrets []string
	pod.Volumes = slices.DeleteFunc(pod.Volumes, func(v corev1.Volume) bool {
		if !removed[v.Name] {
			return false
		}
		if v.Secret != nil {
			secrets = append(secrets, v.Secret.SecretName)
		}
		return true
	})
	if len(pod.Volumes) == 0 {
		pod.Volumes = nil
	}
	return spec, secrets, nil
}

// argValue returns the value of --name=value or "--name value" in args.
func argValue(args []string, name string) (string, bool) {
	for i, a := range args {
		for _, p := range []string{"--" + name, "-" + name} {
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v, true
			}
			if a == p && i+1 < len(args) {
				return args[i+1], true
			}
		}
	}
	return "", false
}

// setArg sets --name=value: in place of the first existing occurrence
// (either form), removing any others, or appended.
func setArg(args []string, name, value string) []string {
	var out []string
	set := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		match := false
		for _, p := range []string{"--" + name, "-" + name} {
			if strings.HasPrefix(a, p+"=") {
				match = true
			} else if a == p {
				match = true
				i++ // the value is the next argument
			}
		}
		if !match {
			out = append(out, a)
			continue
		}
		if !set {
			out = append(out, "--"+name+"="+value)
			set = true
		}
	}
	if !set {
		out = append(out, "--"+name+"="+value)
	}
	return out
}

// ownedCRDs describes every served version of every CRD for the CSV and
// returns the CRD files by name (<group>_<plural>.yaml, as operator-sdk
// names them).
func ownedCRDs(crds []*unstructured.Unstructured) ([]CRDDescription, map[string][]byte, error) {
	var owned []CRDDescription
	files := map[string][]byte{}
	for _, u := range crds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			return nil, nil, fmt.Errorf("CustomResourceDefinition %s: %w", u.GetName(), err)
		}
		name := crd.Spec.Group + "_" + crd.Spec.Names.Plural + ".yaml"
		data, err := marshalObject(u)
		if err != nil {
			return nil, nil, err
		}
		files[name] = data
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			d := CRDDescription{
				Name:        crd.Name,
				Version:     v.Name,
				Kind:        crd.Spec.Names.Kind,
				DisplayName: humanize(crd.Spec.Names.Kind),
			}
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				return nil, nil, fmt.Errorf("CRD %s version %s has no schema", crd.Name, v.Name)
			}
			schema := v.Schema.OpenAPIV3Schema
			d.Description = firstParagraph(schema.Description)
			if d.SpecDescriptors, d.StatusDescriptors, err = descriptors(crd.Spec.Names.Kind, schema); err != nil {
				return nil, nil, fmt.Errorf("CRD %s version %s: %w", crd.Name, v.Name, err)
			}
			owned = append(owned, d)
		}
	}
	slices.SortFunc(owned, func(a, b CRDDescription) int {
		return strings.Compare(a.Name+"/"+a.Version, b.Name+"/"+b.Version)
	})
	return owned, files, nil
}

// descriptors builds the spec and status descriptors of a kind's key
// fields (keyFields) from its schema.
func descriptors(kind string, schema *apiextensionsv1.JSONSchemaProps) (spec, status []Descriptor, err error) {
	fields := keyFields[kind]
	build := func(root string, paths []string) ([]Descriptor, error) {
		var out []Descriptor
		for _, p := range paths {
			prop, ok := lookup(schema, root+"."+p)
			if !ok {
				return nil, fmt.Errorf("key field %s.%s of %s is not in the schema; update keyFields in hack/bundle", root, p, kind)
			}
			out = append(out, Descriptor{
				Path:         p,
				DisplayName:  humanize(p[strings.LastIndex(p, ".")+1:]),
				Description:  firstParagraph(prop.Description),
				XDescriptors: xDescriptors(root, p, prop),
			})
		}
		return out, nil
	}
	if spec, err = build("spec", fields.spec); err != nil {
		return nil, nil, err
	}
	statusPaths := fields.status
	if _, ok := lookup(schema, "status.conditions"); ok && !slices.Contains(statusPaths, "conditions") {
		statusPaths = append(slices.Clone(statusPaths), "conditions")
	}
	if status, err = build("status", statusPaths); err != nil {
		return nil, nil, err
	}
	return spec, status, nil
}

// lookup follows a dotted path of properties in a schema.
func lookup(schema *apiextensionsv1.JSONSchemaProps, dotted string) (*apiextensionsv1.JSONSchemaProps, bool) {
	cur := schema
	for _, name := range strings.Split(dotted, ".") {
		next, ok := cur.Properties[name]
		if !ok {
			return nil, false
		}
		cur = &next
	}
	return cur, true
}

// xDescriptors picks the console widget for a field from its schema.
func xDescriptors(root, p string, prop *apiextensionsv1.JSONSchemaProps) []string {
	if root == "status" {
		if p == "conditions" {
			return []string{"urn:alm:descriptor:io.kubernetes.conditions"}
		}
		if prop.Type == "string" || prop.Type == "integer" {
			return []string{"urn:alm:descriptor:text"}
		}
		return nil
	}
	switch prop.Type {
	case "integer", "number":
		return []string{"urn:alm:descriptor:com.tectonic.ui:number"}
	case "boolean":
		return []string{"urn:alm:descriptor:com.tectonic.ui:booleanSwitch"}
	case "string":
		var out []string
		for _, e := range prop.Enum {
			var s string
			if json.Unmarshal(e.Raw, &s) == nil {
				out = append(out, "urn:alm:descriptor:com.tectonic.ui:select:"+s)
			}
		}
		if len(out) == 0 {
			out = []string{"urn:alm:descriptor:com.tectonic.ui:text"}
		}
		return out
	}
	return nil
}

// almExamples returns the alm-examples annotation: the first sample of each
// owned kind, in sample order, as an indented JSON array.
func almExamples(samples []*unstructured.Unstructured, owned []CRDDescription) (string, error) {
	ownedGVK := map[string]bool{}
	for _, d := range owned {
		group := d.Name[strings.Index(d.Name, ".")+1:]
		ownedGVK[group+"/"+d.Version+"/"+d.Kind] = true
	}
	seen := map[string]bool{}
	examples := []map[string]any{}
	for _, s := range samples {
		gvk := s.GroupVersionKind()
		key := gvk.Group + "/" + gvk.Version + "/" + gvk.Kind
		if !ownedGVK[key] || seen[gvk.Kind] {
			continue
		}
		seen[gvk.Kind] = true
		ex := s.DeepCopy()
		delete(ex.Object, "status")
		examples = append(examples, ex.Object)
	}
	if len(examples) == 0 {
		return "", fmt.Errorf("no sample of an owned kind for alm-examples")
	}
	data, err := json.MarshalIndent(examples, "", "  ")
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// internalObjects returns the internal-objects annotation: the CRDs of
// internalKinds, as a JSON array.
func internalObjects(owned []CRDDescription) (string, error) {
	var names []string
	for _, kind := range internalKinds {
		i := slices.IndexFunc(owned, func(d CRDDescription) bool { return d.Kind == kind })
		if i < 0 {
			return "", fmt.Errorf("internal kind %s has no CRD", kind)
		}
		names = append(names, owned[i].Name)
	}
	sort.Strings(names)
	data, err := json.Marshal(names)
	return string(data), err
}

// extraManifests returns the objects besides CRDs that go into manifests/
// unchanged (but without a namespace: OLM puts them into the operator's),
// and notes about what is left out. What the CSV already expresses is left
// out: the manager Deployment, its service account and the roles bound to
// it with their bindings, the webhook configurations with their Service and
// certificate Secret.
func extraManifests(m *manifests, dep *appsv1.Deployment, sa string, certSecrets []string) ([]*unstructured.Unstructured, []string, error) {
	var extras []*unstructured.Unstructured
	var notes []string
	webhookServices := map[string]bool{}
	addService := func(cc admissionregistrationv1.WebhookClientConfig) {
		if cc.Service != nil {
			webhookServices[cc.Service.Namespace+"/"+cc.Service.Name] = true
		}
	}
	for _, c := range m.validating {
		for _, w := range c.Webhooks {
			addService(w.ClientConfig)
		}
	}
	for _, c := range m.mutating {
		for _, w := range c.Webhooks {
			addService(w.ClientConfig)
		}
	}
	for _, svc := range m.services {
		if !webhookServices[svc.Namespace+"/"+svc.Name] {
			extras = append(extras, m.source[svc])
		}
	}
	for _, r := range m.roles {
		if r.Namespace != dep.Namespace {
			// OLM would move it into the operator's namespace, where it
			// means nothing; whoever installs through OLM grants it by hand.
			notes = append(notes, fmt.Sprintf("Role %s in namespace %s left out: OLM grants permissions only in the operator's namespace", r.Name, r.Namespace))
			continue
		}
		if !isBound(m, dep.Namespace, sa, "Role", r.Name) {
			extras = append(extras, m.source[r])
		}
	}
	for _, r := range m.clusterRoles {
		if !isBound(m, dep.Namespace, sa, "ClusterRole", r.Name) {
			extras = append(extras, m.source[r])
		}
	}
	for _, rb := range m.roleBindings {
		if rb.Namespace != dep.Namespace {
			notes = append(notes, fmt.Sprintf("RoleBinding %s in namespace %s left out: OLM grants permissions only in the operator's namespace", rb.Name, rb.Namespace))
			continue
		}
		if ok, _ := bindsOnly(rb.Name, rb.Subjects, dep.Namespace, sa); !ok {
			extras = append(extras, m.source[rb])
		}
	}
	for _, crb := range m.clusterRoleBindings {
		if ok, _ := bindsOnly(crb.Name, crb.Subjects, dep.Namespace, sa); !ok {
			extras = append(extras, m.source[crb])
		}
	}
	kinds := make([]string, 0, len(m.others))
	for k := range m.others {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		for _, u := range m.others[kind] {
			switch {
			case kind == "Namespace":
				if u.GetName() != dep.Namespace {
					notes = append(notes, fmt.Sprintf("Namespace %s is left out: a bundle cannot create Namespaces (the manager creates it at start-up)", u.GetName()))
				}
			case kind == "ServiceAccount" && u.GetName() == sa && u.GetNamespace() == dep.Namespace:
				// OLM creates the Deployment's service account.
			case kind == "Secret" && slices.Contains(certSecrets, u.GetName()) && u.GetNamespace() == dep.Namespace:
				// The webhook certificate is OLM's.
			case slices.Contains(olmExtraKinds, kind):
				extras = append(extras, u)
			default:
				return nil, nil, fmt.Errorf("%s %s cannot be part of a registry+v1 bundle", kind, u.GetName())
			}
		}
	}
	out := make([]*unstructured.Unstructured, 0, len(extras))
	for _, u := range extras {
		u = u.DeepCopy()
		u.SetNamespace("")
		out = append(out, u)
	}
	return out, notes, nil
}

// extraFileName names a manifest as operator-sdk does:
// <name>_<group>_<version>_<kind>.yaml, the group left out for the core group.
func extraFileName(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	parts := []string{u.GetName()}
	if gvk.Group != "" {
		parts = append(parts, gvk.Group)
	}
	parts = append(parts, gvk.Version, strings.ToLower(gvk.Kind))
	return strings.Join(parts, "_") + ".yaml"
}

func marshalObject(u *unstructured.Unstructured) ([]byte, error) {
	data, err := yaml.Marshal(u.Object)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return data, nil
}

// annotationsYAML writes metadata/annotations.yaml in operator-sdk's layout.
func annotationsYAML(core, metrics []bundleAnnotation) []byte {
	var b strings.Builder
	b.WriteString("annotations:\n  # Core bundle annotations.\n")
	for _, a := range core {
		fmt.Fprintf(&b, "  %s: %s\n", a.key, a.value)
	}
	b.WriteString("\n  # Annotations about the tool that wrote the bundle.\n")
	for _, a := range metrics {
		fmt.Fprintf(&b, "  %s: %s\n", a.key, a.value)
	}
	return []byte(b.String())
}

// dockerfile writes bundle.Dockerfile in operator-sdk's layout, with the
// same labels as annotations.yaml.
func dockerfile(core, metrics []bundleAnnotation, bundleDir string) []byte {
	var b strings.Builder
	b.WriteString("FROM scratch\n\n# Core bundle labels.\n")
	for _, a := range core {
		fmt.Fprintf(&b, "LABEL %s=%s\n", a.key, a.value)
	}
	b.WriteString("\n# Labels about the tool that wrote the bundle.\n")
	for _, a := range metrics {
		fmt.Fprintf(&b, "LABEL %s=%s\n", a.key, a.value)
	}
	dir := strings.TrimSuffix(bundleDir, "/")
	fmt.Fprintf(&b, "\n# Copy files to locations specified by labels.\nCOPY %s/manifests /manifests/\nCOPY %s/metadata /metadata/\n", dir, dir)
	return []byte(b.String())
}

// firstParagraph returns the first paragraph of a description on one line.
func firstParagraph(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(s), " ")
}

// initialisms are written in capitals in display names.
var initialisms = map[string]string{"api": "API", "hpa": "HPA", "id": "ID", "ttl": "TTL", "url": "URL"}

// humanize turns a Go or JSON name into words: CronFederatedHPA is
// "Cron Federated HPA", ttlSecondsAfterFinished "TTL Seconds After Finished".
func humanize(s string) string {
	var words []string
	rs := []rune(s)
	start := 0
	for i := 1; i < len(rs); i++ {
		lowerToUpper := unicode.IsLower(rs[i-1]) && unicode.IsUpper(rs[i])
		acronymEnd := unicode.IsUpper(rs[i-1]) && unicode.IsUpper(rs[i]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
		if lowerToUpper || acronymEnd {
			words = append(words, string(rs[start:i]))
			start = i
		}
	}
	words = append(words, string(rs[start:]))
	for i, w := range words {
		if up, ok := initialisms[strings.ToLower(w)]; ok {
			words[i] = up
		} else {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
