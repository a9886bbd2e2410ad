package gitops

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/google/cel-go/cel"
	lua "github.com/yuin/gopher-lua"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/controllers/status"
	"argosy.dev/argosy/internal/template"
)

// repoRoot is three levels up: config/samples/gitops.
const repoRoot = "../../.."

// samples decodes every YAML document under this directory but the
// kustomization files, keyed by "<kind>/<name>".
func samples(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		// kustomization.yaml files are kustomize's input, not objects.
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || d.Name() == "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", p, err)
			}
			if m == nil {
				continue
			}
			u := &unstructured.Unstructured{Object: m}
			if u.GetKind() == "" || u.GetName() == "" {
				return fmt.Errorf("%s: a document without kind or metadata.name", p)
			}
			key := u.GetKind() + "/" + u.GetName()
			if _, dup := out[key]; dup {
				return fmt.Errorf("%s: %s defined twice", p, key)
			}
			out[key] = u
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func get(t *testing.T, objs map[string]*unstructured.Unstructured, key string) *unstructured.Unstructured {
	t.Helper()
	u, ok := objs[key]
	if !ok {
		t.Fatalf("no %s in the samples", key)
	}
	return u
}

func str(t *testing.T, u *unstructured.Unstructured, fields ...string) string {
	t.Helper()
	s, ok, err := unstructured.NestedString(u.Object, fields...)
	if err != nil || !ok || s == "" {
		t.Fatalf("%s/%s: %s is not set (%v)", u.GetKind(), u.GetName(), strings.Join(fields, "."), err)
	}
	return s
}

// The Applications and Kustomizations point at kustomizations that exist
// in this repository, from the same repository URL.
func TestSourcesPointAtKustomizations(t *testing.T) {
	objs := samples(t)
	for _, c := range []struct {
		key    string
		path   []string
		repo   []string
		wantAt string
	}{
		{"Application/argosy", []string{"spec", "source", "path"}, []string{"spec", "source", "repoURL"}, "config/default"},
		{"Application/shop", []string{"spec", "source", "path"}, []string{"spec", "source", "repoURL"}, "config/samples/gitops/app"},
		{"Kustomization/argosy", []string{"spec", "path"}, nil, "config/default"},
		{"Kustomization/shop", []string{"spec", "path"}, nil, "config/samples/gitops/app"},
	} {
		u := get(t, objs, c.key)
		p := filepath.Clean(strings.TrimPrefix(str(t, u, c.path...), "./"))
		if p != c.wantAt {
			t.Errorf("%s: path %s, want %s", c.key, p, c.wantAt)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, p, "kustomization.yaml")); err != nil {
			t.Errorf("%s: path %s has no kustomization.yaml: %v", c.key, p, err)
		}
		if c.repo != nil {
			if got, want := str(t, u, c.repo...), str(t, get(t, objs, "GitRepository/argosy"), "spec", "url"); got != want {
				t.Errorf("%s: repoURL %s, but the Flux GitRepository says %s", c.key, got, want)
			}
		}
	}
	deps, _, _ := unstructured.NestedSlice(get(t, objs, "Kustomization/shop").Object, "spec", "dependsOn")
	if len(deps) != 1 || deps[0].(map[string]any)["name"] != "argosy" {
		t.Errorf("Kustomization/shop must depend on Kustomization/argosy, has dependsOn %v", deps)
	}
	if _, ok, _ := unstructured.NestedMap(get(t, objs, "Application/shop").Object, "spec", "syncPolicy", "retry"); !ok {
		t.Error("Application/shop has no spec.syncPolicy.retry: its first sync fails until the Argosy webhooks serve")
	}
}

// Every file the app kustomization lists exists, and its ResourceTemplates
// carry the derived names in the template namespace, as the webhook
// demands and Argo CD needs (it cannot track an object without a name).
func TestAppTemplatesHaveDerivedNames(t *testing.T) {
	data, err := os.ReadFile("app/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join("app", r)); err != nil {
			t.Errorf("app/kustomization.yaml lists %s: %v", r, err)
		}
	}
	n := 0
	for _, u := range samples(t) {
		if u.GetKind() != workv1alpha1.KindResourceTemplate {
			continue
		}
		n++
		w := str(t, u, "spec", "template", "apiVersion")
		gv, err := schema.ParseGroupVersion(w)
		if err != nil {
			t.Fatal(err)
		}
		want := template.Name(gv.Group, str(t, u, "spec", "template", "kind"),
			str(t, u, "spec", "template", "metadata", "namespace"), str(t, u, "spec", "template", "metadata", "name"))
		if u.GetName() != want || u.GetNamespace() != workv1alpha1.DefaultTemplateNamespace {
			t.Errorf("ResourceTemplate %s/%s: want %s/%s (regenerate with kubectl argosy wrap)", u.GetNamespace(), u.GetName(), workv1alpha1.DefaultTemplateNamespace, want)
		}
	}
	if n == 0 {
		t.Error("the samples hold no ResourceTemplate")
	}
}

// fixture is a template status and what each tool must make of it.
type fixture struct {
	name string
	tpl  *unstructured.Unstructured
	// argo is the Argo CD health status the Lua script returns; kstatus
	// what kstatus computes (Flux's wait, kubectl's status readers).
	argo    string
	kstatus kstatus.Status
}

const generation = 3

func templateWith(t *testing.T, st *workv1alpha1.ResourceTemplateStatus) *unstructured.Unstructured {
	t.Helper()
	tpl := &workv1alpha1.ResourceTemplate{
		TypeMeta:   metav1.TypeMeta{APIVersion: workv1alpha1.GroupVersion.String(), Kind: workv1alpha1.KindResourceTemplate},
		ObjectMeta: metav1.ObjectMeta{Name: "deployment-shop-web-f9619453", Namespace: "argosy-templates", Generation: generation},
		Spec: workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{
			Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"}}`)}},
	}
	if st != nil {
		tpl.Status = *st
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		delete(m, "status")
	}
	return &unstructured.Unstructured{Object: m}
}

// computed is the status the status controller writes for a template that
// no binding exists for yet.
func computed(t *testing.T, policySelects bool) *workv1alpha1.ResourceTemplateStatus {
	t.Helper()
	tpl := &workv1alpha1.ResourceTemplate{ObjectMeta: metav1.ObjectMeta{Name: "deployment-shop-web-f9619453", Namespace: "argosy-templates", Generation: generation},
		Spec: workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{
			Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"}}`)}}}
	out, err := status.Compute(status.Input{Template: tpl, PolicySelects: policySelects, Now: metav1.NewTime(time.Unix(1700000000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	return &out.Template
}

// written is a status as the status controller writes it: Ready always,
// Reconciling and Stalled only while True, all for generation gen.
func written(gen int64, ready bool, reason, message string, reconciling, stalled bool) *workv1alpha1.ResourceTemplateStatus {
	st := &workv1alpha1.ResourceTemplateStatus{ObservedGeneration: gen}
	c := func(typ string, s metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: message, ObservedGeneration: gen,
			LastTransitionTime: metav1.NewTime(time.Unix(1700000000, 0))}
	}
	if ready {
		st.Conditions = append(st.Conditions, c(workv1alpha1.TemplateConditionReady, metav1.ConditionTrue))
	} else {
		st.Conditions = append(st.Conditions, c(workv1alpha1.TemplateConditionReady, metav1.ConditionFalse))
	}
	if reconciling {
		st.Conditions = append(st.Conditions, c(workv1alpha1.TemplateConditionReconciling, metav1.ConditionTrue))
	}
	if stalled {
		st.Conditions = append(st.Conditions, c(workv1alpha1.TemplateConditionStalled, metav1.ConditionTrue))
	}
	return st
}

func fixtures(t *testing.T) []fixture {
	return []fixture{
		// kstatus calls an object without status Current; the Lua script
		// does not, and the Flux expressions cannot be evaluated yet.
		{"no status yet", templateWith(t, nil), "Progressing", kstatus.CurrentStatus},
		{"computed: no policy selects it", templateWith(t, computed(t, false)), "Degraded", kstatus.FailedStatus},
		{"computed: waiting for the claim", templateWith(t, computed(t, true)), "Progressing", kstatus.InProgressStatus},
		{"ready", templateWith(t, written(generation, true, workv1alpha1.TemplateReasonSucceeded, "ready in all 2 clusters", false, false)),
			"Healthy", kstatus.CurrentStatus},
		{"ready for an older generation", templateWith(t, written(generation-1, true, workv1alpha1.TemplateReasonSucceeded, "ready in all 2 clusters", false, false)),
			"Progressing", kstatus.InProgressStatus},
		{"rolling out", templateWith(t, written(generation, false, workv1alpha1.TemplateReasonProgressing, "1 of 2 clusters still rolling out", true, false)),
			"Progressing", kstatus.InProgressStatus},
		{"conflict", templateWith(t, written(generation, false, workv1alpha1.TemplateReasonConflict, "1 of 2 clusters failed: member1: apply failed", false, true)),
			"Degraded", kstatus.FailedStatus},
		{"suspended", templateWith(t, written(generation, false, workv1alpha1.TemplateReasonSuspended, "dispatching is suspended", true, false)),
			"Suspended", kstatus.InProgressStatus},
	}
}

// healthScript is the Lua of argocd-cm.yaml.
func healthScript(t *testing.T) string {
	t.Helper()
	cm := get(t, samples(t), "ConfigMap/argocd-cm")
	return str(t, cm, "data", "resource.customizations.health.work.argosy.dev_ResourceTemplate")
}

// argoHealth runs script as Argo CD does: a Lua VM with only the package,
// base and table libraries, the object as the global obj, and a table with
// status and message returned.
func argoHealth(t *testing.T, script string, u *unstructured.Unstructured) (string, string) {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		l.Push(l.NewFunction(lib.open))
		l.Push(lua.LString(lib.name))
		l.Call(1, 0)
	}
	l.SetGlobal("obj", toLua(l, u.Object))
	if err := l.DoString(script); err != nil {
		t.Fatalf("health script: %v", err)
	}
	tbl, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health script returned %s, not a table", l.Get(-1).Type())
	}
	return tbl.RawGetString("status").String(), tbl.RawGetString("message").String()
}

func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		tbl := l.NewTable()
		for k, e := range v {
			tbl.RawSetString(k, toLua(l, e))
		}
		return tbl
	case []any:
		tbl := l.NewTable()
		for _, e := range v {
			tbl.Append(toLua(l, e))
		}
		return tbl
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	default:
		return lua.LNil
	}
}

func TestArgoCDHealthAgreesWithKstatus(t *testing.T) {
	script := healthScript(t)
	valid := []string{"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			res, err := kstatus.Compute(f.tpl)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != f.kstatus {
				t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, f.kstatus)
			}
			got, msg := argoHealth(t, script, f.tpl)
			if !slices.Contains(valid, got) {
				t.Fatalf("health status %q is not one Argo CD knows", got)
			}
			if got != f.argo {
				t.Errorf("Argo CD health = %s (%s), want %s", got, msg, f.argo)
			}
			if msg == "" || msg == "nil" {
				t.Errorf("Argo CD health %s has no message", got)
			}
		})
	}
}

// The healthCheckExprs of flux/shop.yaml, evaluated as CEL over the
// object's top-level fields, say current exactly when the Argo CD script
// says Healthy and failed exactly when it says Degraded; without status
// they cannot be evaluated, and Flux keeps waiting.
func TestFluxHealthCheckExprs(t *testing.T) {
	ks := get(t, samples(t), "Kustomization/shop")
	exprs, _, _ := unstructured.NestedSlice(ks.Object, "spec", "healthCheckExprs")
	if len(exprs) != 1 {
		t.Fatalf("Kustomization/shop has %d healthCheckExprs, want 1", len(exprs))
	}
	e := exprs[0].(map[string]any)
	if e["apiVersion"] != workv1alpha1.GroupVersion.String() || e["kind"] != workv1alpha1.KindResourceTemplate {
		t.Fatalf("healthCheckExprs is for %v %v", e["apiVersion"], e["kind"])
	}
	env, err := cel.NewEnv(cel.Variable("apiVersion", cel.StringType), cel.Variable("kind", cel.StringType),
		cel.Variable("metadata", cel.DynType), cel.Variable("spec", cel.DynType), cel.Variable("status", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	compile := func(field string) cel.Program {
		src, _ := e[field].(string)
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("healthCheckExprs %s: %v", field, iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		return prg
	}
	current, failed := compile("current"), compile("failed")
	script := healthScript(t)
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			argo, _ := argoHealth(t, script, f.tpl)
			for _, c := range []struct {
				name string
				prg  cel.Program
				want bool
			}{{"current", current, argo == "Healthy"}, {"failed", failed, argo == "Degraded"}} {
				out, _, err := c.prg.Eval(f.tpl.Object)
				if _, ok := f.tpl.Object["status"]; !ok {
					if err == nil && out.Value() == true {
						t.Errorf("%s is true for a template without status", c.name)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if out.Value() != c.want {
					t.Errorf("%s = %v, want %v (Argo CD says %s)", c.name, out.Value(), c.want, argo)
				}
			}
		})
	}
}
