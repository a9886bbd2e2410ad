package rebalance

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	appsv1alpha1 "argosy.dev/argosy/api/apps/v1alpha1"
)

func mapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	return m
}

func TestWorkloads(t *testing.T) {
	deploy := func(name string) appsv1alpha1.ObjectReference {
		return appsv1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: name}
	}
	cases := []struct {
		desc    string
		args    []string
		want    []appsv1alpha1.ObjectReference
		wantErr string
	}{
		{desc: "kind resolved to its apiVersion", args: []string{"deployment/foo"}, want: []appsv1alpha1.ObjectReference{deploy("foo")}},
		{desc: "plural and group", args: []string{"deployments.apps/foo", "statefulset/db"},
			want: []appsv1alpha1.ObjectReference{deploy("foo"), {APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "prod", Name: "db"}}},
		{desc: "cluster-scoped kinds get no namespace", args: []string{"clusterrole/view"},
			want: []appsv1alpha1.ObjectReference{{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: "view"}}},
		{desc: "repeats are listed once", args: []string{"deployment/foo", "deployments/foo"}, want: []appsv1alpha1.ObjectReference{deploy("foo")}},
		{desc: "not KIND/NAME", args: []string{"foo"}, wantErr: `argument "foo": want KIND/NAME`},
		{desc: "unknown kind names the argument", args: []string{"deployment/foo", "widget/bar"}, wantErr: `argument "widget/bar"`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got, err := Workloads(mapper(), c.args, "prod")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}

	many := make([]string, appsv1alpha1.MaxRebalancerWorkloads+1)
	for i := range many {
		many[i] = "deployment/d" + strings.Repeat("x", i)
	}
	if _, err := Workloads(mapper(), many, "prod"); err == nil || !strings.Contains(err.Error(), "at most 100") {
		t.Errorf("101 workloads: error %v, want the limit", err)
	}
}

func TestTTLSeconds(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want int32
		err  bool
	}{
		{in: 5 * time.Minute, want: 300},
		{in: 0, want: 0},
		{in: 1500 * time.Millisecond, want: 2},
		{in: -time.Second, err: true},
	}
	for _, c := range cases {
		got, err := TTLSeconds(c.in)
		if c.err {
			if err == nil || !strings.Contains(err.Error(), "--ttl") {
				t.Errorf("TTLSeconds(%s): error %v, want one naming --ttl", c.in, err)
			}
			continue
		}
		if err != nil || *got != c.want {
			t.Errorf("TTLSeconds(%s) = %v, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestNew(t *testing.T) {
	refs := []appsv1alpha1.ObjectReference{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "foo"}}
	wr := New(refs, nil)
	if wr.GenerateName != "rebalance-" || wr.Name != "" || wr.Kind != "WorkloadRebalancer" || wr.APIVersion != "apps.argosy.dev/v1alpha1" {
		t.Errorf("metadata %+v %+v", wr.TypeMeta, wr.ObjectMeta)
	}
	if wr.Spec.TTLSecondsAfterFinished != nil || !equality.Semantic.DeepEqual(wr.Spec.Workloads, refs) {
		t.Errorf("spec %+v", wr.Spec)
	}
}
