// Package get is the `get` command: member clusters, and propagated objects
// one row per object and cluster, read from the host only (bindings and
// Works), in the shape of karmadactl get.
package get

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// none is what kubectl prints for an empty list cell.
const none = "<none>"

// ClusterTable is `get clusters`: the columns of `kubectl get clusters`
// (NAME VERSION MODE READY AGE), and with -o wide the region, zones and
// taints.
func ClusterTable(clusters []clusterv1alpha1.Cluster, now time.Time) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "NAME", Type: "string"},
		{Name: "VERSION", Type: "string"},
		{Name: "MODE", Type: "string"},
		{Name: "READY", Type: "string"},
		{Name: "AGE", Type: "string"},
		{Name: "REGION", Type: "string", Priority: 1},
		{Name: "ZONES", Type: "string", Priority: 1},
		{Name: "TAINTS", Type: "string", Priority: 1},
	}}
	sorted := append([]clusterv1alpha1.Cluster(nil), clusters...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i := range sorted {
		c := &sorted[i]
		ready := "Unknown"
		if cond := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionReady); cond != nil {
			ready = string(cond.Status)
		}
		zones := strings.Join(c.Spec.Zones, ",")
		if zones == "" {
			zones = c.Spec.Zone
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{
			c.Name, orNone(c.Status.KubernetesVersion), string(c.Spec.SyncMode), ready, age(c.CreationTimestamp, now),
			orNone(c.Spec.Region), orNone(zones), taints(c.Spec.Taints),
		}})
	}
	return t
}

// Placement is one ResourceBinding with the creation times of its Works by
// cluster (a Work is created when the object is first dispatched to a
// cluster, so it dates the member copy).
type Placement struct {
	Binding   *workv1alpha1.ResourceBinding
	WorkTimes map[string]metav1.Time
}

// Row is one propagated object in one cluster.
type Row struct {
	Namespace, Name, Cluster string
	// Desired is the replica count assigned to the cluster (for a cluster
	// being evicted: what it still runs).
	Desired                    int32
	Ready, UpToDate, Available int64
	Age                        string
	// Adopted is karmadactl's ADOPTION: the member object is managed by
	// Argosy (applied, so it carries argosy.dev/managed). N means Argosy
	// has not taken the object over: not applied yet, or an unmanaged
	// object is in the way and conflictResolution is Abort.
	Adopted  bool
	Health   workv1alpha1.ResourceHealth
	Evicting bool
	Message  string
}

// Rows builds one row per object and cluster: the clusters of
// spec.clusters, then clusters still being evicted from (they keep a copy
// during a graceful eviction). Sorted by namespace, name, then cluster.
func Rows(placements []Placement, now time.Time) []Row {
	var rows []Row
	for _, p := range placements {
		b := p.Binding
		statuses := map[string]*workv1alpha1.AggregatedStatusItem{}
		for i := range b.Status.AggregatedStatus {
			statuses[b.Status.AggregatedStatus[i].ClusterName] = &b.Status.AggregatedStatus[i]
		}
		type target struct {
			name     string
			replicas int32
			evicting bool
		}
		var targets []target
		inSpec := map[string]bool{}
		for _, tc := range b.Spec.Clusters {
			inSpec[tc.Name] = true
			targets = append(targets, target{name: tc.Name, replicas: tc.Replicas})
		}
		for _, task := range b.Spec.GracefulEvictionTasks {
			if inSpec[task.FromCluster] {
				continue
			}
			inSpec[task.FromCluster] = true
			var r int32
			if task.Replicas != nil {
				r = *task.Replicas
			}
			targets = append(targets, target{name: task.FromCluster, replicas: r, evicting: true})
		}
		for _, tg := range targets {
			row := Row{
				Namespace: b.Spec.Resource.Namespace, Name: b.Spec.Resource.Name, Cluster: tg.name,
				Desired: tg.replicas, Evicting: tg.evicting, Health: workv1alpha1.ResourceUnknown,
			}
			created := b.CreationTimestamp
			if wt, ok := p.WorkTimes[tg.name]; ok {
				created = wt
			}
			row.Age = age(created, now)
			if st := statuses[tg.name]; st != nil {
				row.Adopted = st.Applied
				row.Message = st.AppliedMessage
				if st.Health != "" {
					row.Health = st.Health
				}
				s := status(st)
				row.Ready, row.UpToDate, row.Available = num(s, "readyReplicas"), num(s, "updatedReplicas"), num(s, "availableReplicas")
			}
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Cluster < b.Cluster
	})
	return rows
}

// WorkloadTable renders rows: karmadactl's Deployment columns (NAME CLUSTER
// READY UP-TO-DATE AVAILABLE AGE ADOPTION) for Deployments, a generic NAME
// CLUSTER READY AGE ADOPTION (READY from the health Argosy computed) for
// other kinds; NAMESPACE first with allNamespaces; -o wide adds the health,
// whether the cluster is being evicted, and the apply message.
func WorkloadTable(gk schema.GroupKind, rows []Row, allNamespaces bool) *metav1.Table {
	deployment := gk == schema.GroupKind{Group: "apps", Kind: "Deployment"}
	var cols []metav1.TableColumnDefinition
	if allNamespaces {
		cols = append(cols, metav1.TableColumnDefinition{Name: "NAMESPACE", Type: "string"})
	}
	cols = append(cols, metav1.TableColumnDefinition{Name: "NAME", Type: "string"}, metav1.TableColumnDefinition{Name: "CLUSTER", Type: "string"})
	if deployment {
		cols = append(cols,
			metav1.TableColumnDefinition{Name: "READY", Type: "string"},
			metav1.TableColumnDefinition{Name: "UP-TO-DATE", Type: "integer"},
			metav1.TableColumnDefinition{Name: "AVAILABLE", Type: "integer"})
	} else {
		cols = append(cols, metav1.TableColumnDefinition{Name: "READY", Type: "string"})
	}
	cols = append(cols,
		metav1.TableColumnDefinition{Name: "AGE", Type: "string"},
		metav1.TableColumnDefinition{Name: "ADOPTION", Type: "string"},
		metav1.TableColumnDefinition{Name: "HEALTH", Type: "string", Priority: 1},
		metav1.TableColumnDefinition{Name: "EVICTING", Type: "string", Priority: 1},
		metav1.TableColumnDefinition{Name: "MESSAGE", Type: "string", Priority: 1})

	t := &metav1.Table{ColumnDefinitions: cols}
	for _, r := range rows {
		var cells []any
		if allNamespaces {
			cells = append(cells, orNone(r.Namespace))
		}
		cells = append(cells, r.Name, r.Cluster)
		if deployment {
			cells = append(cells, fmt.Sprintf("%d/%d", r.Ready, r.Desired), r.UpToDate, r.Available)
		} else {
			cells = append(cells, readiness(r.Health))
		}
		cells = append(cells, r.Age, yesNo(r.Adopted), string(r.Health), yesNo(r.Evicting), orNone(r.Message))
		t.Rows = append(t.Rows, metav1.TableRow{Cells: cells})
	}
	return t
}

// readiness maps Argosy's health to kubectl's True/False/Unknown.
func readiness(h workv1alpha1.ResourceHealth) string {
	switch h {
	case workv1alpha1.ResourceHealthy:
		return "True"
	case workv1alpha1.ResourceUnhealthy:
		return "False"
	}
	return "Unknown"
}

func status(st *workv1alpha1.AggregatedStatusItem) map[string]any {
	if st.Status == nil || len(st.Status.Raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(st.Status.Raw, &m) != nil {
		return nil
	}
	return m
}

func num(m map[string]any, f string) int64 {
	switch v := m[f].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func taints(ts []corev1.Taint) string {
	if len(ts) == 0 {
		return none
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		parts[i] = s + ":" + string(t.Effect)
	}
	return strings.Join(parts, ",")
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}
