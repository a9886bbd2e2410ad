package e2e

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

func benchTemplate(ns, name string) *workv1alpha1.ResourceTemplate {
	obj := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"replicas": 0,
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": "nginx"}}},
			},
		},
	}
	raw, _ := json.Marshal(obj)
	return &workv1alpha1.ResourceTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: templateNamespace, Name: template.Name("apps", "Deployment", ns, name)},
		Spec:       workv1alpha1.ResourceTemplateSpec{Template: runtime.RawExtension{Raw: raw}},
	}
}

// watchBindings lists the bindings (calling seen on each) and watches
// from the list's resource version, so no event is a synthetic replay.
func watchBindings(ctx context.Context, seen func(*workv1alpha1.ResourceBinding)) (watch.Interface, error) {
	wc, err := client.NewWithWatch(testFleet.HostConfig(), client.Options{Scheme: hostClient.Scheme()})
	if err != nil {
		return nil, err
	}
	var list workv1alpha1.ResourceBindingList
	if err := wc.List(ctx, &list, client.InNamespace(templateNamespace)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		seen(&list.Items[i])
	}
	return wc.Watch(ctx, &workv1alpha1.ResourceBindingList{}, client.InNamespace(templateNamespace),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
}

func cleanupBench(ctx context.Context, b *testing.B, ns string) {
	// Templates of the run, then the policy; bindings follow their templates.
	var list workv1alpha1.ResourceTemplateList
	if err := hostClient.List(ctx, &list, client.InNamespace(templateNamespace)); err != nil {
		b.Fatal(err)
	}
	for i := range list.Items {
		rt := &list.Items[i]
		var obj struct {
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if json.Unmarshal(rt.Spec.Template.Raw, &obj) == nil && obj.Metadata.Namespace == ns {
			_ = hostClient.Delete(ctx, rt)
		}
	}
	_ = hostClient.Delete(ctx, &policyv1alpha1.PropagationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: ns}})
}

func ensureNS(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := hostClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}
