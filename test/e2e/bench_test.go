package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/template"
)

// BenchmarkSchedule5000 creates 5,000 Deployment templates at once, claimed
// by one PropagationPolicy with static weights 1:1 (seed 001's), and waits
// until every binding is Scheduled for its generation. It reports the wall
// time (ns/op), the bindings placed per second, and the writes per binding
// seen by a watch on the bindings (the detector's create included).
//
//	ARGOSY_BIN=$PWD/bin go test ./test/e2e -run '^$' -bench Schedule5000 -count 3
func BenchmarkSchedule5000(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		ns := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
		pp := &policyv1alpha1.PropagationPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: ns},
			Spec: policyv1alpha1.PropagationSpec{
				ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment"}},
				Placement: policyv1alpha1.Placement{
					ClusterAffinity: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1", "member2"}},
					ReplicaScheduling: &policyv1alpha1.ReplicaSchedulingStrategy{
						ReplicaSchedulingType:     policyv1alpha1.ReplicaSchedulingTypeDivided,
						ReplicaDivisionPreference: policyv1alpha1.ReplicaDivisionPreferenceWeighted,
						WeightPreference: &policyv1alpha1.ClusterPreferences{StaticWeightList: []policyv1alpha1.StaticClusterWeight{
							{TargetCluster: policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}}, Weight: 1},
							{TargetCluster: policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member2"}}, Weight: 1},
						}},
					},
				},
			},
		}
		b.StopTimer()
		if err := ensureNS(ctx, ns); err != nil {
			b.Fatal(err)
		}
		if err := hostClient.Create(ctx, pp); err != nil {
			b.Fatal(err)
		}
		names := make(map[string]bool, n)
		for j := 0; j < n; j++ {
			names[template.Name("apps", "Deployment", ns, fmt.Sprintf("d%d", j))] = true
		}
		w, err := watchBindings(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		var created atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 1)
		for worker := 0; worker < 32; worker++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := worker; j < n; j += 32 {
					if err := hostClient.Create(ctx, benchTemplate(ns, fmt.Sprintf("d%d", j))); err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
					created.Add(1)
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errs:
			w.Stop()
			b.Fatalf("creating templates (%d done): %v", created.Load(), err)
		default:
		}
		writes, err := waitAllScheduled(w, names, 5*time.Minute)
		elapsed := time.Since(start)
		w.Stop()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "bindings/s")
		b.ReportMetric(float64(writes)/float64(n), "writes/binding")

		b.StopTimer()
		cleanupBench(ctx, b, ns)
		b.StartTimer()
	}
}

func benchTemplate(ns, name string) *workv1alpha1.ResourceTemplate {
	obj := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"replicas": 2,
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

func watchBindings(ctx context.Context) (watch.Interface, error) {
	wc, err := client.NewWithWatch(testFleet.HostConfig(), client.Options{Scheme: hostClient.Scheme()})
	if err != nil {
		return nil, err
	}
	return wc.Watch(ctx, &workv1alpha1.ResourceBindingList{}, client.InNamespace(templateNamespace))
}

// waitAllScheduled counts every write (add or modify event) to the named
// bindings until each one is Scheduled=True for its generation.
func waitAllScheduled(w watch.Interface, names map[string]bool, timeout time.Duration) (int, error) {
	done := map[string]bool{}
	writes := 0
	deadline := time.After(timeout)
	for len(done) < len(names) {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return writes, fmt.Errorf("watch closed with %d of %d scheduled", len(done), len(names))
			}
			rb, ok := ev.Object.(*workv1alpha1.ResourceBinding)
			if !ok || !names[rb.Name] || (ev.Type != watch.Added && ev.Type != watch.Modified) {
				continue
			}
			writes++
			c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
			if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == rb.Generation && len(rb.Spec.Clusters) == 2 {
				done[rb.Name] = true
			}
		case <-deadline:
			return writes, fmt.Errorf("%d of %d bindings scheduled after %s", len(done), len(names), timeout)
		}
	}
	return writes, nil
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
