package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// The tests run the real install manifests (kustomize build config/default)
// through Generate and check the bundle against the sources it must agree
// with: config/crd/bases, config/webhook, config/rbac, config/samples.

const testImage = "registry.example.com/argosy/manager:v0.1.0-test"

// repoRoot is the directory of go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// kustomizeBin is $KUSTOMIZE, else the pinned bin/kustomize-* next to go.mod.
func kustomizeBin(t *testing.T) string {
	t.Helper()
	if k := os.Getenv("KUSTOMIZE"); k != "" {
		if _, err := os.Stat(k); err != nil {
			t.Fatalf("KUSTOMIZE=%s: %v: run make tools", k, err)
		}
		return k
	}
	matches, _ := filepath.Glob(filepath.Join(repoRoot(t), "bin", "kustomize-*"))
	sort.Strings(matches)
	for i := len(matches) - 1; i >= 0; i-- {
		if fi, err := os.Stat(matches[i]); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return matches[i]
		}
	}
	t.Fatal("kustomize not found (no $KUSTOMIZE, no bin/kustomize-*): run make tools")
	return ""
}

func testOptions(t *testing.T, out string) options {
	root := repoRoot(t)
	return options{
		version:   "0.1.0",
		image:     testImage,
		kustomize: kustomizeBin(t),
		config:    filepath.Join(root, "config", "default"),
		samples:   filepath.Join(root, "config", "samples", "seeds"),
		project:   filepath.Join(root, "PROJECT"),
		out:       out,
	}
}

var generated struct {
	sync.Mutex
	done   bool
	input  Input
	bundle *Bundle
}

// generate builds the bundle of the repository's manifests once per test
// binary.
func generate(t *testing.T) (Input, *Bundle) {
	t.Helper()
	generated.Lock()
	defer generated.Unlock()
	if !generated.done {
		in, err := loadInput(testOptions(t, "bundle"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(in)
		if err != nil {
			t.Fatal(err)
		}
		generated.input, generated.bundle, generated.done = in, b, true
	}
	return generated.input, generated.bundle
}

func csvOf(t *testing.T, b *Bundle) ClusterServiceVersion {
	t.Helper()
	data, ok := b.Files[CSVPath]
	if !ok {
		t.Fatalf("bundle has no %s", CSVPath)
	}
	var csv ClusterServiceVersion
	if err := yaml.UnmarshalStrict(data, &csv); err != nil {
		t.Fatalf("%s: %v", CSVPath, err)
	}
	return csv
}

// build runs kustomize on a directory of config/ and decodes the result.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	o := testOptions(t, "bundle")
	o.config, o.project = filepath.Join(repoRoot(t), "config", dir), ""
	in, err := loadInput(o)
	if err != nil {
		t.Fatal(err)
	}
	return in.Objects
}

func readObjects(t *testing.T, pattern string) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, err := decodeObjects(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		objs = append(objs, o...)
	}
	return objs
}

func into[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return out
}

func TestEveryCRDIsOwnedAndShipped(t *testing.T) {
	_, b := generate(t)
	csv := csvOf(t, b)
	bases := readObjects(t, "config/crd/bases/*.yaml")
	wantOwned := 0
	for _, u := range bases {
		crd := into[apiextensionsv1.CustomResourceDefinition](t, u)
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			wantOwned++
			i := slices.IndexFunc(csv.Spec.CustomResourceDefinitions.Owned, func(d CRDDescription) bool {
				return d.Name == crd.Name && d.Version == v.Name
			})
			if i < 0 {
				t.Errorf("CRD %s version %s is not owned by the CSV", crd.Name, v.Name)
				continue
			}
			d := csv.Spec.CustomResourceDefinitions.Owned[i]
			if d.Kind != crd.Spec.Names.Kind {
				t.Errorf("owned %s: kind %q, want %q", d.Name, d.Kind, crd.Spec.Names.Kind)
			}
			if want := firstParagraph(v.Schema.OpenAPIV3Schema.Description); d.Description == "" || d.Description != want {
				t.Errorf("owned %s: description %q, want the schema's %q", d.Name, d.Description, want)
			}
			if d.DisplayName == "" {
				t.Errorf("owned %s has no displayName", d.Name)
			}
			if _, ok := lookup(v.Schema.OpenAPIV3Schema, "status.conditions"); ok &&
				!slices.ContainsFunc(d.StatusDescriptors, func(s Descriptor) bool { return s.Path == "conditions" }) {
				t.Errorf("owned %s has no status descriptor for conditions", d.Name)
			}
			for _, ds := range []struct {
				root string
				list []Descriptor
			}{{"spec", d.SpecDescriptors}, {"status", d.StatusDescriptors}} {
				for _, s := range ds.list {
					if _, ok := lookup(v.Schema.OpenAPIV3Schema, ds.root+"."+s.Path); !ok {
						t.Errorf("owned %s: descriptor %s.%s is not in the schema", d.Name, ds.root, s.Path)
					}
				}
			}
		}

		file := "manifests/" + crd.Spec.Group + "_" + crd.Spec.Names.Plural + ".yaml"
		data, ok := b.Files[file]
		if !ok {
			t.Errorf("CRD %s: bundle has no %s", crd.Name, file)
			continue
		}
		var shipped apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &shipped); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if shipped.Name != crd.Name || !reflect.DeepEqual(shipped.Spec, crd.Spec) {
			t.Errorf("%s differs from config/crd/bases", file)
		}
	}
	if got := len(csv.Spec.CustomResourceDefinitions.Owned); got != wantOwned {
		t.Errorf("CSV owns %d CRD versions, config/crd/bases has %d", got, wantOwned)
	}
	crdFiles := 0
	for name, data := range b.Files {
		if strings.HasPrefix(name, "manifests/") && bytes.Contains(data, []byte("\nkind: CustomResourceDefinition\n")) {
			crdFiles++
		}
	}
	if crdFiles != len(bases) {
		t.Errorf("bundle has %d CRD files, config/crd/bases has %d CRDs", crdFiles, len(bases))
	}
}

func TestWebhookDefinitionsMatchWebhookConfigurations(t *testing.T) {
	_, b := generate(t)
	csv := csvOf(t, b)
	defs := csv.Spec.WebhookDefinitions
	type want struct {
		typ, name, path string
		rules           []admissionregistrationv1.RuleWithOperations
		failurePolicy   *admissionregistrationv1.FailurePolicyType
		sideEffects     *admissionregistrationv1.SideEffectClass
		timeout         *int32
		reviewVersions  []string
	}
	var wants []want
	for _, u := range readObjects(t, "config/webhook/manifests.yaml") {
		switch u.GetKind() {
		case "ValidatingWebhookConfiguration":
			for _, w := range into[admissionregistrationv1.ValidatingWebhookConfiguration](t, u).Webhooks {
				wants = append(wants, want{ValidatingAdmissionWebhook, w.Name, *w.ClientConfig.Service.Path, w.Rules, w.FailurePolicy, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions})
			}
		case "MutatingWebhookConfiguration":
			for _, w := range into[admissionregistrationv1.MutatingWebhookConfiguration](t, u).Webhooks {
				wants = append(wants, want{MutatingAdmissionWebhook, w.Name, *w.ClientConfig.Service.Path, w.Rules, w.FailurePolicy, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions})
			}
		}
	}
	if len(wants) == 0 {
		t.Fatal("config/webhook/manifests.yaml has no webhooks")
	}
	if len(defs) != len(wants) {
		t.Errorf("CSV has %d webhook definitions, config/webhook has %d webhooks", len(defs), len(wants))
	}
	deployment := csv.Spec.Install.Spec.Deployments[0].Name
	for _, w := range wants {
		i := slices.IndexFunc(defs, func(d WebhookDescription) bool { return d.GenerateName == w.name })
		if i < 0 {
			t.Errorf("webhook %s has no definition", w.name)
			continue
		}
		d := defs[i]
		if d.Type != w.typ {
			t.Errorf("%s: type %s, want %s", w.name, d.Type, w.typ)
		}
		if d.WebhookPath == nil || *d.WebhookPath != w.path {
			t.Errorf("%s: webhookPath %v, want %s", w.name, d.WebhookPath, w.path)
		}
		if !reflect.DeepEqual(d.Rules, w.rules) {
			t.Errorf("%s: rules %+v, want %+v", w.name, d.Rules, w.rules)
		}
		if !reflect.DeepEqual(d.FailurePolicy, w.failurePolicy) || !reflect.DeepEqual(d.SideEffects, w.sideEffects) ||
			!reflect.DeepEqual(d.TimeoutSeconds, w.timeout) || !reflect.DeepEqual(d.AdmissionReviewVersions, w.reviewVersions) {
			t.Errorf("%s: failurePolicy/sideEffects/timeoutSeconds/admissionReviewVersions differ from config/webhook", w.name)
		}
		if d.DeploymentName != deployment {
			t.Errorf("%s: deploymentName %s, want %s", w.name, d.DeploymentName, deployment)
		}
		if d.ContainerPort != 443 || d.TargetPort == nil || d.TargetPort.IntValue() != 9443 {
			t.Errorf("%s: containerPort %d targetPort %v, want 443 and 9443", w.name, d.ContainerPort, d.TargetPort)
		}
	}
}

// rulesKey turns rules into sorted strings, to compare them as multisets.
func rulesKey(t *testing.T, rules []rbacv1.PolicyRule) []string {
	var keys []string
	for _, r := range rules {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, string(data))
	}
	sort.Strings(keys)
	return keys
}

func TestPermissionsAreTheBoundRolesOfConfigRBAC(t *testing.T) {
	_, b := generate(t)
	csv := csvOf(t, b)
	objs := build(t, "rbac")

	var sa *corev1.ServiceAccount
	roles := map[string]*rbacv1.Role{}
	clusterRoles := map[string]*rbacv1.ClusterRole{}
	for _, u := range objs {
		switch u.GetKind() {
		case "ServiceAccount":
			if sa != nil {
				t.Fatal("config/rbac has more than one ServiceAccount")
			}
			sa = into[corev1.ServiceAccount](t, u)
		case "Role":
			roles[u.GetName()] = into[rbacv1.Role](t, u)
		case "ClusterRole":
			clusterRoles[u.GetName()] = into[rbacv1.ClusterRole](t, u)
		}
	}
	if sa == nil {
		t.Fatal("config/rbac has no ServiceAccount")
	}
	boundTo := func(subjects []rbacv1.Subject) bool {
		return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == sa.Name && s.Namespace == sa.Namespace
		})
	}
	var wantNS, wantCluster []rbacv1.PolicyRule
	var boundClusterRoles []string
	for _, u := range objs {
		switch u.GetKind() {
		case "RoleBinding":
			rb := into[rbacv1.RoleBinding](t, u)
			// Only the manager's own namespace can be expressed in a CSV;
			// bindings elsewhere (the template dry-run Role) are left out
			// with a note.
			if boundTo(rb.Subjects) && rb.Namespace == sa.Namespace {
				if rb.RoleRef.Kind != "Role" {
					t.Fatalf("RoleBinding %s binds a %s", rb.Name, rb.RoleRef.Kind)
				}
				wantNS = append(wantNS, roles[rb.RoleRef.Name].Rules...)
			}
		case "ClusterRoleBinding":
			crb := into[rbacv1.ClusterRoleBinding](t, u)
			if boundTo(crb.Subjects) {
				wantCluster = append(wantCluster, clusterRoles[crb.RoleRef.Name].Rules...)
				boundClusterRoles = append(boundClusterRoles, crb.RoleRef.Name)
			}
		}
	}
	sort.Strings(boundClusterRoles)
	if want := []string{"manager-role", "metrics-auth-role"}; !reflect.DeepEqual(boundClusterRoles, want) {
		t.Errorf("ClusterRoles bound to the manager in config/rbac: %v, want %v", boundClusterRoles, want)
	}

	saName := csv.Spec.Install.Spec.Deployments[0].Spec.Template.Spec.ServiceAccountName
	check := func(what string, got []StrategyDeploymentPermissions, want []rbacv1.PolicyRule) {
		if len(got) != 1 {
			t.Errorf("%s: %d entries, want 1 (the manager's service account)", what, len(got))
			return
		}
		if got[0].ServiceAccountName != saName {
			t.Errorf("%s: service account %s, want the Deployment's %s", what, got[0].ServiceAccountName, saName)
		}
		if g, w := rulesKey(t, got[0].Rules), rulesKey(t, want); !reflect.DeepEqual(g, w) {
			t.Errorf("%s differ from the roles bound in config/rbac:\n got %v\nwant %v", what, g, w)
		}
	}
	check("clusterPermissions", csv.Spec.Install.Spec.ClusterPermissions, wantCluster)
	check("permissions", csv.Spec.Install.Spec.Permissions, wantNS)
}

func TestDeploymentUsesOLMCertificates(t *testing.T) {
	in, b := generate(t)
	csv := csvOf(t, b)
	deps := csv.Spec.Install.Spec.Deployments
	if csv.Spec.Install.Strategy != "deployment" || len(deps) != 1 {
		t.Fatalf("install strategy %q with %d deployments, want deployment with 1", csv.Spec.Install.Strategy, len(deps))
	}
	var source *appsv1.Deployment
	for _, u := range in.Objects {
		if u.GetKind() == "Deployment" {
			source = into[appsv1.Deployment](t, u)
		}
	}
	if deps[0].Name != source.Name {
		t.Errorf("deployment name %s, want %s", deps[0].Name, source.Name)
	}
	pod := deps[0].Spec.Template.Spec
	i := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == "manager" })
	if i < 0 {
		t.Fatal("no manager container")
	}
	c := pod.Containers[i]
	if c.Image != testImage {
		t.Errorf("image %s, want %s", c.Image, testImage)
	}
	certArgs := 0
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--webhook-cert-secret") {
			certArgs++
			if a != "--webhook-cert-secret=" {
				t.Errorf("arg %q, want --webhook-cert-secret=", a)
			}
		}
	}
	if certArgs != 1 {
		t.Errorf("%d --webhook-cert-secret args, want 1: %v", certArgs, c.Args)
	}
	if v, _ := argValue(c.Args, "system-namespace"); v != "$(POD_NAMESPACE)" {
		t.Errorf("--system-namespace=%s, want $(POD_NAMESPACE)", v)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Error("no POD_NAMESPACE from metadata.namespace")
	}
	// Every other argument is kept, in order.
	var want, got []string
	for _, a := range source.Spec.Template.Spec.Containers[0].Args {
		if !strings.HasPrefix(a, "--system-namespace") {
			want = append(want, a)
		}
	}
	for _, a := range c.Args {
		if !strings.HasPrefix(a, "--system-namespace") && !strings.HasPrefix(a, "--webhook-cert-secret") {
			got = append(got, a)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args %v, want %v", got, want)
	}
	for _, v := range pod.Volumes {
		if v.Name == "webhook-certs" || v.Secret != nil {
			t.Errorf("volume %s is still there", v.Name)
		}
	}
	for _, c := range pod.Containers {
		for _, vm := range c.VolumeMounts {
			if vm.Name == "webhook-certs" || filepath.Clean(vm.MountPath) == olmCertDir {
				t.Errorf("container %s still mounts %s at %s", c.Name, vm.Name, vm.MountPath)
			}
		}
	}
	if pod.ServiceAccountName != source.Spec.Template.Spec.ServiceAccountName {
		t.Errorf("serviceAccountName %s, want %s", pod.ServiceAccountName, source.Spec.Template.Spec.ServiceAccountName)
	}
}

func TestInstallModesAllNamespacesOnly(t *testing.T) {
	_, b := generate(t)
	got := map[string]bool{}
	for _, m := range csvOf(t, b).Spec.InstallModes {
		got[m.Type] = m.Supported
	}
	want := map[string]bool{"OwnNamespace": false, "SingleNamespace": false, "MultiNamespace": false, "AllNamespaces": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("installModes %v, want %v", got, want)
	}
}

func TestCSVMetadata(t *testing.T) {
	in, b := generate(t)
	csv := csvOf(t, b)
	if csv.APIVersion != "operators.coreos.com/v1alpha1" || csv.Kind != "ClusterServiceVersion" {
		t.Errorf("apiVersion/kind %s/%s", csv.APIVersion, csv.Kind)
	}
	if csv.Metadata.Name != "argosy.v"+in.Version || csv.Spec.Version != in.Version {
		t.Errorf("name %s version %s, want argosy.v%s and %s", csv.Metadata.Name, csv.Spec.Version, in.Version, in.Version)
	}
	a := csv.Metadata.Annotations
	for _, k := range []string{"alm-examples", "capabilities", "categories", "containerImage", "description", "repository", "operators.operatorframework.io/builder"} {
		if a[k] == "" {
			t.Errorf("annotation %s is missing", k)
		}
	}
	if a["containerImage"] != testImage {
		t.Errorf("containerImage %s, want %s", a["containerImage"], testImage)
	}
	if _, ok := a["createdAt"]; ok {
		t.Error("createdAt makes the bundle differ on every run")
	}
	if csv.Spec.Maturity != "alpha" || csv.Spec.MinKubeVersion == "" || csv.Spec.DisplayName == "" ||
		csv.Spec.Description == "" || csv.Spec.Provider.Name == "" || len(csv.Spec.Keywords) == 0 ||
		len(csv.Spec.Links) == 0 || len(csv.Spec.Maintainers) == 0 {
		t.Errorf("incomplete spec: %+v", csv.Spec)
	}
	var internal []string
	if err := json.Unmarshal([]byte(a["operators.operatorframework.io/internal-objects"]), &internal); err != nil {
		t.Fatalf("internal-objects: %v", err)
	}
	if want := []string{"resourcebindings.work.argosy.dev", "works.work.argosy.dev"}; !reflect.DeepEqual(internal, want) {
		t.Errorf("internal-objects %v, want %v", internal, want)
	}
}

func TestALMExamplesAreOwnedSeedObjects(t *testing.T) {
	_, b := generate(t)
	csv := csvOf(t, b)
	var examples []*unstructured.Unstructured
	if err := json.Unmarshal([]byte(csv.Metadata.Annotations["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples: %v", err)
	}
	kinds := map[string]bool{}
	for _, ex := range examples {
		gvk := ex.GroupVersionKind()
		if !slices.ContainsFunc(csv.Spec.CustomResourceDefinitions.Owned, func(d CRDDescription) bool {
			_, group, _ := strings.Cut(d.Name, ".")
			return d.Kind == gvk.Kind && d.Version == gvk.Version && group == gvk.Group
		}) {
			t.Errorf("example %s %s is not of an owned CRD", gvk, ex.GetName())
		}
		if kinds[gvk.Kind] {
			t.Errorf("two examples of kind %s", gvk.Kind)
		}
		kinds[gvk.Kind] = true
	}
	// The seed-000 objects, as the samples have them.
	seed := readObjects(t, "config/samples/seeds/000-workload-rebalancer/0[12]-*.yaml")
	for _, want := range seed {
		if want.GetKind() == "ResourceTemplate" {
			continue
		}
		i := slices.IndexFunc(examples, func(ex *unstructured.Unstructured) bool { return ex.GetKind() == want.GetKind() })
		if i < 0 {
			t.Errorf("no %s example", want.GetKind())
			continue
		}
		if !reflect.DeepEqual(examples[i].Object, want.Object) {
			t.Errorf("%s example differs from seed 000's %s", want.GetKind(), want.GetName())
		}
	}
	for _, k := range []string{"PropagationPolicy", "WorkloadRebalancer"} {
		if !kinds[k] {
			t.Errorf("no %s example", k)
		}
	}
}

func TestOtherManifestsAreOLMKinds(t *testing.T) {
	_, b := generate(t)
	found := map[string]bool{}
	for name, data := range b.Files {
		if !strings.HasPrefix(name, "manifests/") || name == CSVPath {
			continue
		}
		objs, err := decodeObjects(data)
		if err != nil || len(objs) != 1 {
			t.Fatalf("%s: %d objects, %v", name, len(objs), err)
		}
		u := objs[0]
		kind := u.GetKind()
		if kind == "CustomResourceDefinition" {
			continue
		}
		if !slices.Contains(olmExtraKinds, kind) {
			t.Errorf("%s: kind %s cannot be in a bundle", name, kind)
		}
		if u.GetNamespace() != "" {
			t.Errorf("%s has namespace %s; OLM installs into the operator's", name, u.GetNamespace())
		}
		if want := "manifests/" + extraFileName(u); name != want {
			t.Errorf("%s should be named %s", name, want)
		}
		found[kind+"/"+u.GetName()] = true
	}
	if !found["Service/argosy-controller-manager-metrics-service"] {
		t.Error("the metrics Service is not in the bundle")
	}
	for _, gone := range []string{"Service/argosy-webhook-service", "Secret/argosy-webhook-server-cert",
		"ServiceAccount/argosy-controller-manager", "ClusterRole/argosy-manager-role", "Role/argosy-manager-role",
		"ClusterRoleBinding/argosy-manager-rolebinding", "RoleBinding/argosy-leader-election-rolebinding"} {
		if found[gone] {
			t.Errorf("%s is in the bundle; the CSV already covers it", gone)
		}
	}
	if !found["ClusterRole/argosy-metrics-reader"] {
		t.Error("the unbound ClusterRole argosy-metrics-reader is not in the bundle")
	}
}

func TestAnnotationsAndDockerfileAgree(t *testing.T) {
	in, b := generate(t)
	var annotations struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.UnmarshalStrict(b.Files[AnnotationsPath], &annotations); err != nil {
		t.Fatalf("%s: %v", AnnotationsPath, err)
	}
	want := map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1":       "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1":       "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":        "metadata/",
		"operators.operatorframework.io.bundle.package.v1":         "argosy",
		"operators.operatorframework.io.bundle.channels.v1":        "alpha",
		"operators.operatorframework.io.bundle.channel.default.v1": "alpha",
	}
	for k, v := range want {
		if annotations.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, annotations.Annotations[k], v)
		}
	}

	labels := map[string]string{}
	var copies []string
	lines := strings.Split(string(b.Dockerfile), "\n")
	if lines[0] != "FROM scratch" {
		t.Errorf("first line %q, want FROM scratch", lines[0])
	}
	for _, l := range lines {
		if kv, ok := strings.CutPrefix(l, "LABEL "); ok {
			k, v, _ := strings.Cut(kv, "=")
			labels[k] = v
		}
		if c, ok := strings.CutPrefix(l, "COPY "); ok {
			copies = append(copies, c)
		}
	}
	if !reflect.DeepEqual(labels, annotations.Annotations) {
		t.Errorf("bundle.Dockerfile labels %v differ from annotations.yaml %v", labels, annotations.Annotations)
	}
	wantCopies := []string{
		in.BundleDir + "/manifests /" + annotations.Annotations["operators.operatorframework.io.bundle.manifests.v1"],
		in.BundleDir + "/metadata /" + annotations.Annotations["operators.operatorframework.io.bundle.metadata.v1"],
	}
	if !reflect.DeepEqual(copies, wantCopies) {
		t.Errorf("COPY lines %v, want %v", copies, wantCopies)
	}
}

// TestRunIsDeterministic writes the bundle twice and expects the same
// bytes, and no stale file from before.
func TestRunIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, filepath.Join(dir, "bundle"))
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	first := readTree(t, dir)
	stale := filepath.Join(dir, "bundle", "manifests", "stale.yaml")
	if err := os.WriteFile(stale, []byte("kind: Stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	second := readTree(t, dir)
	if !reflect.DeepEqual(first, second) {
		t.Error("a second run wrote different files")
	}
	if _, ok := first["bundle.Dockerfile"]; !ok {
		t.Error("bundle.Dockerfile is not next to the bundle directory")
	}
	if _, ok := first["bundle/"+CSVPath]; !ok {
		t.Errorf("no %s", CSVPath)
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSetArg(t *testing.T) {
	got := setArg([]string{"--a", "--system-namespace", "x", "--b", "-system-namespace=y"}, "system-namespace", "$(POD_NAMESPACE)")
	if want := []string{"--a", "--system-namespace=$(POD_NAMESPACE)", "--b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("setArg replacing: %v, want %v", got, want)
	}
	got = setArg([]string{"--a"}, "webhook-cert-secret", "")
	if want := []string{"--a", "--webhook-cert-secret="}; !reflect.DeepEqual(got, want) {
		t.Errorf("setArg appending: %v, want %v", got, want)
	}
}

func TestHumanize(t *testing.T) {
	if got := humanize("CronFederatedHPA"); got != "Cron Federated HPA" {
		t.Errorf("humanize(CronFederatedHPA) = %q", got)
	}
	if got := humanize("ttlSecondsAfterFinished"); got != "TTL Seconds After Finished" {
		t.Errorf("humanize(ttlSecondsAfterFinished) = %q", got)
	}
	if got := humanize("apiEndpoint"); got != "API Endpoint" {
		t.Errorf("humanize(apiEndpoint) = %q", got)
	}
}
