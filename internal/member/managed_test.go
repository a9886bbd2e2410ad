package member

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/scheme"
	"argosy.dev/argosy/test/fleet"
)

func TestCompactManaged(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{
			"name": "d", "namespace": "ns", "uid": "u1", "resourceVersion": "7", "generation": int64(3),
			"labels":        map[string]any{workv1alpha1.LabelManaged: "true"},
			"annotations":   map[string]any{workv1alpha1.AnnotationWork: "argosy-es-m1/w", lastApplied: "{}"},
			"managedFields": []any{map[string]any{"manager": "x"}},
		},
		"spec":   map[string]any{"replicas": int64(2)},
		"status": map[string]any{"readyReplicas": int64(2)},
	}}
	out, err := CompactManaged(u)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := out.(*ManagedObject)
	if !ok {
		t.Fatalf("CompactManaged gave %T", out)
	}
	if o.Name != "d" || o.Namespace != "ns" || o.UID != "u1" || o.ResourceVersion != "7" || o.Generation != 3 ||
		o.Labels[workv1alpha1.LabelManaged] != "true" || o.Annotations[workv1alpha1.AnnotationWork] != "argosy-es-m1/w" ||
		o.GroupVersionKind().Kind != "Deployment" {
		t.Errorf("metadata %+v %+v", o.TypeMeta, o.ObjectMeta)
	}
	back, err := o.Unstructured()
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(back.Object, "status", "readyReplicas"); r != 2 || back.GetManagedFields() != nil || back.GetAnnotations()[lastApplied] != "" {
		t.Errorf("round trip %v", back.Object)
	}
	if again, _ := CompactManaged(o); again != o {
		t.Error("a ManagedObject should pass unchanged (transforms may run twice)")
	}
	c := o.DeepCopyObject().(*ManagedObject)
	c.Labels["x"] = "y"
	if o.Labels["x"] != "" {
		t.Error("DeepCopyObject shares the labels")
	}
}

func TestTrimManaged(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name":          "c",
			"managedFields": []any{map[string]any{"manager": "x"}},
			"annotations":   map[string]any{lastApplied: "{...}", "keep": "me"},
		},
		"data": map[string]any{"k": "v"},
	}}
	out, err := TrimManaged(u)
	if err != nil || out != u {
		t.Fatalf("TrimManaged = %v, %v", out, err)
	}
	if u.GetManagedFields() != nil || u.GetAnnotations()[lastApplied] != "" || u.GetAnnotations()["keep"] != "me" {
		t.Errorf("not trimmed: %v", u.Object)
	}
	only := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"annotations": map[string]any{lastApplied: "{}"}}}}
	_, _ = TrimManaged(only)
	if _, ok := only.Object["metadata"].(map[string]any)["annotations"]; ok {
		t.Error("an emptied annotations map should go")
	}
	if o, err := TrimManaged("not an object"); o != "not an object" || err != nil {
		t.Error("other values pass unchanged")
	}
}

// startMemberAPI runs a real kube-apiserver (envtest, binaries from bin/)
// that plays a member, and returns its admin config.
func startMemberAPI(t *testing.T) *rest.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	bin, err := fleet.BinDir()
	if err != nil {
		t.Skip(err)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: bin}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	return cfg
}

// kubeconfigOf writes a kubeconfig for cfg's client-certificate identity.
func kubeconfigOf(t *testing.T, cfg *rest.Config) []byte {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "ctx"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// events records what the managed informers' handlers saw.
type events struct {
	mu   sync.Mutex
	seen []string // cluster/resource/op/name
}

func (e *events) handler(cluster string, gvr schema.GroupVersionResource) toolscache.ResourceEventHandler {
	rec := func(op string, obj any) {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		o, err := meta.Accessor(obj)
		if err != nil {
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.seen = append(e.seen, fmt.Sprintf("%s/%s/%s/%s", cluster, gvr.Resource, op, o.GetName()))
	}
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { rec("add", o) },
		UpdateFunc: func(_, o any) { rec("update", o) },
		DeleteFunc: func(o any) { rec("delete", o) },
	}
}

func (e *events) has(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range e.seen {
		if x == s {
			return true
		}
	}
	return false
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 20*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("%s: never", what)
	}
}

// TestManagedObjectsOfAMember runs the managed informers, the RESTMapper
// and the connection hooks against a real API server.
func TestManagedObjectsOfAMember(t *testing.T) {
	cfg := startMemberAPI(t)
	ctx := context.Background()
	host, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{ns, "work"} {
		if err := host.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := host.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m1-creds"},
		Data:       map[string][]byte{clusterv1alpha1.SecretKubeconfigKey: kubeconfigOf(t, cfg)},
	}); err != nil {
		t.Fatal(err)
	}

	c := NewCache(host, testr.New(t), WithSecretNamespace(ns))
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = c.Start(cctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	ev := &events{}
	c.OnManagedEvent(ev.handler)
	var connected []string
	var connMu sync.Mutex
	c.OnConnect(func(cluster string) { connMu.Lock(); connected = append(connected, cluster); connMu.Unlock() })

	m, err := c.Connect(ctx, newCluster("m1", "", "m1-creds"))
	if err != nil {
		t.Fatal(err)
	}
	connMu.Lock()
	if fmt.Sprint(connected) != "[m1]" {
		t.Errorf("OnConnect calls = %v, want [m1]", connected)
	}
	connMu.Unlock()

	t.Run("RESTMapping", func(t *testing.T) {
		mp, err := m.RESTMapping(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})
		if err != nil || mp.Resource.Resource != "deployments" || mp.Scope.Name() != meta.RESTScopeNameNamespace {
			t.Fatalf("Deployment maps to %+v, %v", mp, err)
		}
		mp, err = m.RESTMapping(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
		if err != nil || mp.Scope.Name() != meta.RESTScopeNameRoot {
			t.Fatalf("Namespace maps to %+v, %v", mp, err)
		}
		widget := schema.GroupVersionKind{Group: "test.argosy.dev", Version: "v1", Kind: "Widget"}
		if _, err := m.RESTMapping(widget); !meta.IsNoMatchError(err) {
			t.Fatalf("Widget before its CRD: %v, want no match", err)
		}
		createWidgetCRD(t, host)
		// Right after the last discovery only a reset reloads it.
		m.ResetRESTMapper()
		eventually(t, "Widget served after its CRD", func() bool {
			mp, err = m.RESTMapping(widget)
			if err != nil {
				m.ResetRESTMapper()
			}
			return err == nil
		})
		if mp.Resource.Resource != "widgets" {
			t.Errorf("Widget maps to %v", mp.Resource)
		}
		// Without a reset, an unknown kind reloads discovery once the
		// mapper is restMapperMinAge old.
		gadget := schema.GroupVersionKind{Group: "test.argosy.dev", Version: "v1", Kind: "Gadget"}
		createCRD(t, host, "gadgets", "Gadget")
		eventually(t, "Gadget served after its CRD", func() bool {
			_, err := m.RESTMapping(gadget)
			return err == nil
		})
		// A reset forgets kinds that went away.
		if err := host.Delete(ctx, &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "gadgets.test.argosy.dev"}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "Gadget unknown after its CRD is deleted and the mapper reset", func() bool {
			m.ResetRESTMapper()
			_, err := m.RESTMapping(gadget)
			return meta.IsNoMatchError(err)
		})
	})

	t.Run("ManagedInformer", func(t *testing.T) {
		cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		for _, cm := range []*corev1.ConfigMap{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "work", Name: "managed",
				Labels:      map[string]string{workv1alpha1.LabelManaged: "true"},
				Annotations: map[string]string{lastApplied: `{"big":"copy"}`, workv1alpha1.AnnotationWork: "argosy-es-m1/w"}},
				Data: map[string]string{"k": "v"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "work", Name: "unmanaged"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "work", Name: "not-true", Labels: map[string]string{workv1alpha1.LabelManaged: "false"}}},
		} {
			if err := host.Create(ctx, cm); err != nil {
				t.Fatal(err)
			}
		}
		inf, err := m.ManagedInformer(cms)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := m.ManagedInformer(cms); again != inf {
			t.Error("a second ManagedInformer call started another informer")
		}
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		if !m.ManagedSynced(sctx, inf) {
			t.Fatal("managed informer never synced")
		}
		if got := GetManaged(inf, "work", "unmanaged"); got != nil {
			t.Error("an object without the label is in the managed cache")
		}
		if got := GetManaged(inf, "work", "not-true"); got != nil {
			t.Error("an object labelled false is in the managed cache")
		}
		got := GetManaged(inf, "work", "managed")
		if got == nil {
			t.Fatal("the managed object is not in the cache")
		}
		if got.GetManagedFields() != nil || got.GetAnnotations()[lastApplied] != "" || got.GetAnnotations()[workv1alpha1.AnnotationWork] == "" {
			t.Errorf("cached object not trimmed as expected: %v", got.Object)
		}
		if d, _, _ := unstructured.NestedString(got.Object, "data", "k"); d != "v" {
			t.Errorf("cached object lost its data: %v", got.Object)
		}
		stored, _, _ := inf.GetIndexer().GetByKey("work/managed")
		mo, ok := stored.(*ManagedObject)
		if !ok {
			t.Fatalf("the informer stores %T, want *ManagedObject", stored)
		}
		if mo.Annotations[workv1alpha1.AnnotationWork] != "argosy-es-m1/w" || mo.UID == "" || mo.ResourceVersion == "" {
			t.Errorf("ManagedObject metadata %+v", mo.ObjectMeta)
		}
		got.Object["data"] = map[string]any{"changed": "by caller"}
		if again := GetManaged(inf, "work", "managed"); again.Object["data"].(map[string]any)["k"] != "v" {
			t.Error("GetManaged returned the cache's own object")
		}
		eventually(t, "add event of the managed ConfigMap", func() bool { return ev.has("m1/configmaps/add/managed") })
		if ev.has("m1/configmaps/add/unmanaged") {
			t.Error("an event for an unmanaged object")
		}

		// Labelling an object makes it appear; unlabelling makes it go.
		un := &corev1.ConfigMap{}
		if err := host.Get(ctx, client.ObjectKey{Namespace: "work", Name: "unmanaged"}, un); err != nil {
			t.Fatal(err)
		}
		un.Labels = map[string]string{workv1alpha1.LabelManaged: "true"}
		if err := host.Update(ctx, un); err != nil {
			t.Fatal(err)
		}
		eventually(t, "labelled object in the cache", func() bool { return GetManaged(inf, "work", "unmanaged") != nil })
		un.Labels = nil
		if err := host.Update(ctx, un); err != nil {
			t.Fatal(err)
		}
		eventually(t, "unlabelled object leaves the cache", func() bool { return GetManaged(inf, "work", "unmanaged") == nil })
		// Handlers run after the store changed, not with it.
		eventually(t, "a delete event for the unlabelled object", func() bool { return ev.has("m1/configmaps/delete/unmanaged") })

		// A custom resource, cluster-scoped lookups by name.
		widgets := schema.GroupVersionResource{Group: "test.argosy.dev", Version: "v1", Resource: "widgets"}
		w := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "test.argosy.dev/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "w1", "namespace": "work", "labels": map[string]any{workv1alpha1.LabelManaged: "true"}},
			"spec":     map[string]any{"size": int64(3)},
		}}
		if err := host.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
		winf, err := m.ManagedInformer(widgets)
		if err != nil {
			t.Fatal(err)
		}
		if !m.ManagedSynced(sctx, winf) {
			t.Fatal("widget informer never synced")
		}
		if GetManaged(winf, "work", "w1") == nil {
			t.Error("the managed Widget is not in the cache")
		}
	})

	t.Run("Namespaces", func(t *testing.T) {
		if m.NamespaceKnown("x") {
			t.Error("unknown namespace reported known")
		}
		m.RememberNamespace("x")
		if !m.NamespaceKnown("x") {
			t.Error("remembered namespace not known")
		}
		m.ForgetNamespace("x")
		if m.NamespaceKnown("x") {
			t.Error("forgotten namespace still known")
		}
	})

	t.Run("Removed member stops its managed informers", func(t *testing.T) {
		inf, err := m.ManagedInformer(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"})
		if err != nil {
			t.Fatal(err)
		}
		c.Remove("m1")
		select {
		case <-m.Stopped():
		case <-time.After(10 * time.Second):
			t.Fatal("member did not stop")
		}
		if !inf.IsStopped() {
			t.Error("managed informer still running after Remove")
		}
		if _, err := m.ManagedInformer(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}); !errors.Is(err, ErrMemberStopped) {
			t.Errorf("ManagedInformer after Remove = %v, want ErrMemberStopped", err)
		}
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		defer scancel()
		start := time.Now()
		fresh := m.managed.factory.ForResource(schema.GroupVersionResource{Version: "v1", Resource: "services"}).Informer()
		if m.ManagedSynced(sctx, fresh) || time.Since(start) > 2*time.Second {
			t.Error("ManagedSynced on a stopped member should return false at once")
		}
	})
}

func createWidgetCRD(t *testing.T, c client.Client) { createCRD(t, c, "widgets", "Widget") }

func createCRD(t *testing.T, c client.Client, plural, kind string) {
	t.Helper()
	preserve := true
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + ".test.argosy.dev"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "test.argosy.dev",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve,
				}},
			}},
		},
	}
	if err := c.Create(context.Background(), crd); err != nil {
		t.Fatal(err)
	}
}
