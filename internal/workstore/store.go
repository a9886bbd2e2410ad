// Package workstore is where Works live. A Work is the rendered manifests
// of one binding for one member cluster, and the record of what happened
// when they were applied there.
//
// Works of pull-mode members are objects on the host apiserver: they are
// the contract with the member's agent, which may read its own execution
// namespace and nothing else. In push mode the manager holds both ends, so
// by default (Mode PullOnly) those Works live in the manager's memory
// (Memory): the binding controller renders into it, the execution
// controller applies from it and records each cluster's outcome in it, and
// the status controller aggregates it into the binding's and the
// template's status. That takes two to six host writes per cluster per
// template off the host apiserver, and the host's write count no longer
// grows with the number of clusters. Mode Always keeps every Work on the
// host, for people who inspect per-cluster manifests with kubectl.
//
// Work objects found on the host are applied in either mode (written by
// hand, by an earlier manager in Mode Always, or by another tool). A Work
// is read and written where it is: the memory first, then the host; a new
// one goes where the mode and its cluster's sync mode put it.
package workstore

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Mode says which Works are objects on the host apiserver.
type Mode string

const (
	// PullOnly: only the Works of pull-mode clusters are host objects; the
	// others live in the manager's memory. The default.
	PullOnly Mode = "pull-only"
	// Always: every Work is a host object.
	Always Mode = "always"
)

// ParseMode reads the --work-objects flag.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case PullOnly, Always:
		return Mode(s), nil
	}
	return "", fmt.Errorf("--work-objects must be %q or %q, not %q", PullOnly, Always, s)
}

// Store reads and writes Works wherever they are.
type Store struct {
	// Mode says where new Works go.
	Mode Mode
	// Memory holds the Works kept in memory.
	Memory *Memory
	// Host is the manager's client: reads from its cache, writes to the
	// host apiserver.
	Host *Host
	// Clusters reads Clusters (for their sync mode), from the cache.
	Clusters client.Reader
	// Rendered is what the binding controller has rendered, per binding.
	Rendered *Rendered
}

// New returns a store in mode over the host client c.
func New(mode Mode, c client.Client) *Store {
	return &Store{Mode: mode, Memory: NewMemory(), Host: &Host{Client: c}, Clusters: c, Rendered: &Rendered{}}
}

// ClusterOf returns the cluster of an execution namespace.
func ClusterOf(namespace string) (string, bool) {
	c, ok := strings.CutPrefix(namespace, workv1alpha1.ExecutionNamespacePrefix)
	return c, ok && c != ""
}

// inMemory tells whether a new Work in namespace goes to memory: in Mode
// PullOnly, for a cluster that is not in pull mode (a cluster not known
// yet is taken to be push, the default).
func (s *Store) inMemory(ctx context.Context, namespace string) bool {
	if s.Mode != PullOnly {
		return false
	}
	cluster, ok := ClusterOf(namespace)
	if !ok {
		return false
	}
	cl := &clusterv1alpha1.Cluster{}
	if err := s.Clusters.Get(ctx, client.ObjectKey{Name: cluster}, cl, client.UnsafeDisableDeepCopy); err != nil {
		return true
	}
	return cl.Spec.SyncMode != clusterv1alpha1.Pull
}

// InMemory tells whether the Work key is kept in memory: it is there, or
// it is nowhere and a new one would go there.
func (s *Store) InMemory(ctx context.Context, key types.NamespacedName) bool {
	if s.Memory.Has(key) {
		return true
	}
	if _, err := s.Host.Get(ctx, key); err == nil {
		return false
	}
	return s.inMemory(ctx, key.Namespace)
}

// Get returns a copy of the Work key, from memory or the cache.
func (s *Store) Get(ctx context.Context, key types.NamespacedName) (*workv1alpha1.Work, error) {
	if w, err := s.Memory.Get(key); err == nil {
		return w, nil
	}
	return s.Host.Get(ctx, key)
}

// ListForBinding returns the Works rendered from the binding, read only.
func (s *Store) ListForBinding(ctx context.Context, namespace, name string) ([]*workv1alpha1.Work, error) {
	key := namespace + "/" + name
	mem := s.Memory.ListForBinding(key)
	host, err := s.Host.ListForBinding(ctx, key)
	if err != nil {
		return nil, err
	}
	return merge(mem, host), nil
}

// ListForCluster returns the Works of cluster, read only.
func (s *Store) ListForCluster(ctx context.Context, cluster string) ([]*workv1alpha1.Work, error) {
	ns := workv1alpha1.ExecutionNamespacePrefix + cluster
	mem := s.Memory.ListInNamespace(ns)
	host, err := s.Host.ListInNamespace(ctx, ns)
	if err != nil {
		return nil, err
	}
	return merge(mem, host), nil
}

// merge joins the Works of both stores; memory wins for a key in both.
func merge(mem, host []*workv1alpha1.Work) []*workv1alpha1.Work {
	if len(host) == 0 {
		return mem
	}
	seen := make(map[types.NamespacedName]bool, len(mem))
	for _, w := range mem {
		seen[types.NamespacedName{Namespace: w.Namespace, Name: w.Name}] = true
	}
	out := mem
	for _, w := range host {
		if !seen[types.NamespacedName{Namespace: w.Namespace, Name: w.Name}] {
			out = append(out, w)
		}
	}
	return out
}

// Apply writes what the binding controller owns of a Work (the annotations
// in owned, the finalizers it brings, the spec) where the Work is, or
// where a new one goes. fieldOwner is the host's server-side apply field
// manager. It returns the Work's UID and resourceVersion after the write.
func (s *Store) Apply(ctx context.Context, desired *workv1alpha1.Work, owned []string, fieldOwner string) (types.UID, string, error) {
	key := types.NamespacedName{Namespace: desired.Namespace, Name: desired.Name}
	if s.InMemory(ctx, key) {
		w, err := s.Memory.Apply(desired, owned)
		if err != nil {
			return "", "", err
		}
		return w.UID, w.ResourceVersion, nil
	}
	return s.Host.Apply(ctx, desired, fieldOwner)
}

// Delete deletes the Work key if its UID is uid.
func (s *Store) Delete(ctx context.Context, key types.NamespacedName, uid types.UID) error {
	if s.Memory.Has(key) {
		return s.Memory.Delete(key, uid)
	}
	return s.Host.Delete(ctx, key, uid)
}

// Tombstone records, for a Work kept in memory that does not exist (lost
// with a restart), that the objects it named must be removed from the
// member: w is the Work as it would be rendered (its manifests name the
// objects). It reports whether a tombstone is in place; not when the Work
// is kept on the host (which keeps it across restarts) or was cleaned up
// already.
func (s *Store) Tombstone(ctx context.Context, w *workv1alpha1.Work) bool {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	if !s.InMemory(ctx, key) || s.Memory.Cleaned(key) {
		return false
	}
	s.Memory.Tombstone(w)
	return s.Memory.Has(key)
}

// AddFinalizer adds finalizer to the Work (its key and UID) and returns its
// resourceVersion after the write.
func (s *Store) AddFinalizer(ctx context.Context, w *workv1alpha1.Work, finalizer, fieldOwner string) (string, error) {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	if s.Memory.Has(key) {
		out, err := s.Memory.AddFinalizer(key, w.UID, finalizer)
		if err != nil {
			return "", err
		}
		return out.ResourceVersion, nil
	}
	return s.Host.AddFinalizer(ctx, w, finalizer, fieldOwner)
}

// RemoveFinalizer removes finalizer from w, which must be the version
// read (optimistic locking). On success w holds the new version.
func (s *Store) RemoveFinalizer(ctx context.Context, w *workv1alpha1.Work, finalizer, fieldOwner string) error {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	if s.Memory.Has(key) {
		out, err := s.Memory.RemoveFinalizer(key, w.UID, w.ResourceVersion, finalizer)
		if err != nil {
			return err
		}
		out.DeepCopyInto(w)
		return nil
	}
	return s.Host.RemoveFinalizer(ctx, w, finalizer, fieldOwner)
}

// SetStatus writes the Work's status (carrying its UID, so a Work
// recreated meanwhile is not written) and returns its resourceVersion
// after the write.
func (s *Store) SetStatus(ctx context.Context, w *workv1alpha1.Work, st *workv1alpha1.WorkStatus, fieldOwner string) (string, error) {
	key := types.NamespacedName{Namespace: w.Namespace, Name: w.Name}
	if s.Memory.Has(key) {
		out, err := s.Memory.SetStatus(key, w.UID, st)
		if err != nil {
			return "", err
		}
		return out.ResourceVersion, nil
	}
	return s.Host.SetStatus(ctx, w, st, fieldOwner)
}

// IsHostObject tells whether w is an object on the host apiserver (so
// that events about it can name it) rather than one kept in memory.
func (s *Store) IsHostObject(w *workv1alpha1.Work) bool {
	return !s.Memory.Has(types.NamespacedName{Namespace: w.Namespace, Name: w.Name})
}
