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
	"argosy.dev/argosy/test/apimetrics"
)

// BenchmarkSchedule5000 creates 5,000 Deployment templates at once, claimed
// by one PropagationPolicy with static weights 1:1 (seed 001's), and waits
// until every binding is Scheduled for its generation. It reports the wall
// time from the first create (ns/op), the bindings placed per second, and
// the writes per binding counted by the host apiserver itself: binding
// writes (the detector's create, the scheduler's placement) and binding
// status writes (the scheduler's outcome), each per binding.
//
//	ARGOSY_BIN=$PWD/bin go test ./test/e2e -run '^$' -bench Schedule5000 -count 3
func BenchmarkSchedule5000(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	// The creating client must not be the bottleneck: the fleet's admin
	// config allows 100 requests per second.
	hc := testFleet.HostConfig()
	hc.QPS, hc.Burst = 2000, 4000
	creator, err := client.New(hc, client.Options{Scheme: hostClient.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
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
		w, err := watchBindings(ctx, func(*workv1alpha1.ResourceBinding) {})
		if err != nil {
			b.Fatal(err)
		}
		specBefore, err := apimetrics.Requests(ctx, hc, "resourcebindings", "", writeVerbs...)
		if err != nil {
			b.Fatal(err)
		}
		statusBefore, err := apimetrics.Requests(ctx, hc, "resourcebindings", "status", writeVerbs...)
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
					if err := creator.Create(ctx, benchTemplate(ns, fmt.Sprintf("d%d", j))); err != nil {
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
		b.Logf("created %d templates in %s", n, time.Since(start).Round(time.Millisecond))
		select {
		case err := <-errs:
			w.Stop()
			b.Fatalf("creating templates (%d done): %v", created.Load(), err)
		default:
		}
		err = waitAllScheduled(ctx, w, names, 5*time.Minute)
		elapsed := time.Since(start)
		b.Logf("all %d bindings scheduled %s after the first create", n, elapsed.Round(time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		// Let stragglers land, then read what the apiserver counted.
		time.Sleep(2 * time.Second)
		specAfter, err1 := apimetrics.Requests(ctx, hc, "resourcebindings", "", writeVerbs...)
		statusAfter, err2 := apimetrics.Requests(ctx, hc, "resourcebindings", "status", writeVerbs...)
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "bindings/s")
		b.ReportMetric((specAfter-specBefore)/n, "spec-writes/binding")
		b.ReportMetric((statusAfter-statusBefore)/n, "status-writes/binding")
		b.StartTimer()

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

// writeVerbs are the apiserver's verbs of requests that write.
var writeVerbs = []string{"APPLY", "PATCH", "POST", "PUT"}

// waitAllScheduled waits until each named binding is Scheduled=True for
// its generation. A watch the apiserver closes is opened again after a list.
func waitAllScheduled(ctx context.Context, w watch.Interface, names map[string]bool, timeout time.Duration) error {
	defer func() { w.Stop() }()
	done := map[string]bool{}
	observe := func(rb *workv1alpha1.ResourceBinding) {
		c := meta.FindStatusCondition(rb.Status.Conditions, workv1alpha1.ConditionScheduled)
		if names[rb.Name] && c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == rb.Generation && len(rb.Spec.Clusters) == 2 {
			done[rb.Name] = true
		}
	}
	deadline := time.After(timeout)
	for len(done) < len(names) {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				var err error
				if w, err = watchBindings(ctx, observe); err != nil {
					return err
				}
				continue
			}
			rb, ok := ev.Object.(*workv1alpha1.ResourceBinding)
			if !ok || !names[rb.Name] || (ev.Type != watch.Added && ev.Type != watch.Modified) {
				continue
			}
			observe(rb)
		case <-deadline:
			return fmt.Errorf("%d of %d bindings scheduled after %s", len(done), len(names), timeout)
		}
	}
	return nil
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
