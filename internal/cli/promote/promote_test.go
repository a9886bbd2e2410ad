package promote

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"argosy.dev/argosy/internal/template"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestStripMemberFields(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{
			name: "service: allocated cluster IPs go, a chosen nodePort stays",
			in: `{apiVersion: v1, kind: Service, metadata: {name: s, annotations: {a: b}},
  spec: {type: NodePort, clusterIP: 10.96.0.7, clusterIPs: [10.96.0.7], ports: [{port: 80, nodePort: 30000}]}}`,
			want: `{apiVersion: v1, kind: Service, metadata: {name: s, annotations: {a: b}},
  spec: {type: NodePort, ports: [{port: 80, nodePort: 30000}]}}`,
		},
		{
			name: "headless service keeps clusterIP None",
			in:   `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {clusterIP: None, clusterIPs: [None]}}`,
			want: `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {clusterIP: None, clusterIPs: [None]}}`,
		},
		{
			name: "job: generated selector and labels go",
			in: `{apiVersion: batch/v1, kind: Job, metadata: {name: j},
  spec: {selector: {matchLabels: {controller-uid: x}}, template: {metadata: {labels: {app: a, controller-uid: x, batch.kubernetes.io/controller-uid: x, job-name: j, batch.kubernetes.io/job-name: j}}}}}`,
			want: `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {template: {metadata: {labels: {app: a}}}}}`,
		},
		{
			name: "job with a manual selector keeps it",
			in:   `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {manualSelector: true, selector: {matchLabels: {app: a}}}}`,
			want: `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {manualSelector: true, selector: {matchLabels: {app: a}}}}`,
		},
		{
			name: "deployment: only the controller's revision annotation goes",
			in:   `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, annotations: {deployment.kubernetes.io/revision: "3"}}, spec: {replicas: 2}}`,
			want: `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {replicas: 2}}`,
		},
		{
			name: "pvc: bound volume and binder annotations go",
			in:   `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p, annotations: {pv.kubernetes.io/bind-completed: "yes", keep: me}}, spec: {volumeName: pv-1}}`,
			want: `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p, annotations: {keep: me}}, spec: {}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := obj(t, c.in)
			StripMemberFields(u)
			if want := obj(t, c.want); !equality.Semantic.DeepEqual(u.Object, want.Object) {
				t.Errorf("got  %v\nwant %v", u.Object, want.Object)
			}
		})
	}
}

// Objects gives seed 002's migration for one object: a policy placing it
// on the cluster with conflictResolution Overwrite, then the template.
func TestObjects(t *testing.T) {
	member := obj(t, `{apiVersion: apps/v1, kind: Deployment,
  metadata: {name: nginx-deploy, namespace: default, uid: u1, resourceVersion: "7", generation: 3, managedFields: [{manager: kubectl}]},
  spec: {replicas: 2}, status: {readyReplicas: 2}}`)
	namespaced := func(schema.GroupKind) (bool, bool, error) { return true, true, nil }
	objs, err := Objects(member, "member1", "argosy-templates", namespaced)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects", len(objs))
	}
	pp, rt := objs[0], objs[1]
	name := template.Name("apps", "Deployment", "default", "nginx-deploy")
	if rt.GetKind() != "ResourceTemplate" || rt.GetName() != name || rt.GetNamespace() != "argosy-templates" {
		t.Errorf("template %s %s/%s, want ResourceTemplate argosy-templates/%s", rt.GetKind(), rt.GetNamespace(), rt.GetName(), name)
	}
	wrapped, _, _ := unstructured.NestedMap(rt.Object, "spec", "template")
	want := obj(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: nginx-deploy, namespace: default}, spec: {replicas: 2}}`)
	if !equality.Semantic.DeepEqual(wrapped, want.Object) {
		t.Errorf("wrapped %v, want %v", wrapped, want.Object)
	}
	wantPP := obj(t, `{apiVersion: policy.argosy.dev/v1alpha1, kind: PropagationPolicy, metadata: {name: `+name+`, namespace: default},
  spec: {conflictResolution: Overwrite, placement: {clusterAffinity: {clusterNames: [member1]}},
    resourceSelectors: [{apiVersion: apps/v1, kind: Deployment, namespace: default, name: nginx-deploy}]}}`)
	if !equality.Semantic.DeepEqual(pp.Object, wantPP.Object) {
		t.Errorf("policy %v\nwant   %v", pp.Object, wantPP.Object)
	}
	if member.GetUID() != "u1" {
		t.Error("Objects changed its input")
	}

	cr := obj(t, `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: viewer}, rules: []}`)
	objs, err = Objects(cr, "member2", "argosy-templates", func(schema.GroupKind) (bool, bool, error) { return false, true, nil })
	if err != nil {
		t.Fatal(err)
	}
	if objs[0].GetKind() != "ClusterPropagationPolicy" || objs[0].GetNamespace() != "" {
		t.Errorf("cluster-scoped object: policy %s in %q, want a ClusterPropagationPolicy", objs[0].GetKind(), objs[0].GetNamespace())
	}
}
