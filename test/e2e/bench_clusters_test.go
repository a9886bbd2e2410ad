package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/membership"
	"argosy.dev/argosy/test/apimetrics"
	"argosy.dev/argosy/test/fleet"
	"argosy.dev/argosy/test/install"
)

// BenchmarkWritesPerTemplate8Clusters measures whether host writes grow
// with the number of member clusters. It adds 6 bare members to the fleet
// (a kube-apiserver each on the shared etcd, nothing else: the Deployments
// have 0 replicas), registers them as Clusters the way the installer
// registers member1 and member2, and then propagates 1,000 templates
// (Duplicated) first to the 2 full members, then, in a fresh namespace, to
// all 8. For each it reports the host writes per template (the templates'
// own creates left out) and the drain time, first create to all
// FullyApplied, and the ratios 8 to 2. ns/op covers both drains. The
// extra Clusters are deleted and their apiservers stopped at the end, also
// when the benchmark fails.
//
//	ARGOSY_BIN=$PWD/bin go test ./test/e2e -run '^$' -bench WritesPerTemplate8Clusters -benchtime=1x -count 3
func BenchmarkWritesPerTemplate8Clusters(b *testing.B) {
	n := scaled(b, 1000)
	ctx := context.Background()
	creator := fastHostClient(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clusterRatioRun(ctx, b, creator, n, 8)
		b.StartTimer()
	}
}

// clusterRatioRun is one run of BenchmarkWritesPerTemplate8Clusters with
// total members in all.
func clusterRatioRun(ctx context.Context, b *testing.B, creator client.Client, n, total int) {
	var extra []string
	defer func() { removeBareMembers(b, extra) }()
	addBareMembers(ctx, b, total-len(benchMembers), &extra)
	all := append(slices.Clone(benchMembers), extra...)

	type result struct {
		drain  time.Duration
		writes apimetrics.Writes
	}
	run := func(clusters []string) result {
		ns := benchNamespace(ctx, b, fmt.Sprintf("writes%dc", len(clusters)), clusters...)
		names := templateNames(ns, n)
		before := hostWrites(ctx, b)
		b.StartTimer()
		start := time.Now()
		if err := createTemplates(ctx, creator, ns, n); err != nil {
			b.Fatal(err)
		}
		prog := newProgress(start)
		err := waitBindings(ctx, names, fullyAppliedOn(len(clusters)), prog.done, 20*time.Minute)
		drain := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("%d clusters: %v", len(clusters), err)
		}
		b.Logf("%d clusters, FullyApplied since the first create: %s", len(clusters), prog)
		writes := withoutOwnCreates(settledWrites(ctx, b).Sub(before), n)
		cleanupPropagated(ctx, b, ns, names)
		return result{drain, writes}
	}
	two := run(benchMembers)
	many := run(all)

	suffix := func(k int) string { return "-" + strconv.Itoa(k) + "c" }
	for _, r := range []struct {
		k int
		result
	}{{len(benchMembers), two}, {len(all), many}} {
		reportWrites(b, fmt.Sprintf("%d clusters", r.k), r.writes, n, suffix(r.k))
		b.ReportMetric(r.drain.Seconds(), "s-drain"+suffix(r.k))
	}
	b.ReportMetric(many.writes.Total()/two.writes.Total(), fmt.Sprintf("x-writes-%dc/2c", len(all)))
	b.ReportMetric(many.drain.Seconds()/two.drain.Seconds(), fmt.Sprintf("x-drain-%dc/2c", len(all)))
	b.Logf("%d templates: 2 clusters %.2f host writes/template, drained in %s; %d clusters %.2f, drained in %s",
		n, two.writes.Total()/float64(n), two.drain.Round(time.Millisecond),
		len(all), many.writes.Total()/float64(n), many.drain.Round(time.Millisecond))
}

// addBareMembers starts k bare members (fleet.AddBareMember) with names
// new to the fleet's etcd, registers each as a Cluster like
// install.Install registers member1 and member2, and waits until every one
// is Ready and untainted. It appends each name to *names as soon as its
// apiserver runs, for the caller to pass to removeBareMembers whether this
// fails or not.
func addBareMembers(ctx context.Context, b *testing.B, k int, names *[]string) {
	suffix := strconv.FormatInt(time.Now().UnixNano()/int64(time.Millisecond)%(36*36*36*36*36), 36)
	for j := range k {
		name := fmt.Sprintf("bare%d-%s", len(benchMembers)+j+1, suffix)
		err := testFleet.AddBareMember(ctx, fleet.MemberSpec{Name: name, Region: "us-east-1", Zone: "us-east-1a", Provider: "kwok"})
		if err != nil {
			b.Fatal(err)
		}
		*names = append(*names, name)
		if err := install.RegisterMember(ctx, hostClient, testFleet, name); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range *names {
		var last string
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			var cl clusterv1alpha1.Cluster
			if err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
				last = err.Error()
				return false, nil
			}
			last = fmt.Sprintf("conditions %v, taints %v", cl.Status.Conditions, cl.Spec.Taints)
			return meta.IsStatusConditionTrue(cl.Status.Conditions, clusterv1alpha1.ClusterConditionReady) && len(cl.Spec.Taints) == 0, nil
		})
		if err != nil {
			b.Fatalf("cluster %s not Ready and untainted: %v (%s)", name, err, last)
		}
	}
}

// removeBareMembers unregisters the Clusters, waits (up to a minute) until
// they are gone, then stops the members' apiservers.
func removeBareMembers(b *testing.B, names []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range names {
		if _, err := membership.Unregister(ctx, hostClient, name, install.SystemNamespace); err != nil {
			b.Errorf("unregistering %s: %v", name, err)
		}
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			err := hostClient.Get(ctx, client.ObjectKey{Name: name}, &clusterv1alpha1.Cluster{})
			return err != nil && client.IgnoreNotFound(err) == nil, nil
		})
		if err != nil {
			b.Errorf("cluster %s not gone: %v", name, err)
		}
	}
	for _, name := range names {
		if err := testFleet.RemoveBareMember(name); err != nil {
			b.Error(err)
		}
	}
}
