package member

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// The objects Argosy applies to a member are watched there through one
// dynamic informer per resource, filtered by workv1alpha1.LabelManaged, so
// that only what Argosy manages is held in memory. The informers start when
// a resource is first asked for and stop with the member.

// ManagedHandlerFunc returns the event handler of a new managed informer of
// a member cluster for one resource. Objects given to the handler are the
// informer's own *ManagedObject: do not modify them.
type ManagedHandlerFunc func(cluster string, gvr schema.GroupVersionResource) cache.ResourceEventHandler

// ErrMemberStopped is returned for a member that has been removed from the
// cache (disconnected or replaced by a new connection).
var ErrMemberStopped = errors.New("member connection closed")

// lastApplied is kubectl's client-side apply annotation: a full copy of the
// object, as large as the object itself, of no use to Argosy.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// restMapperMinAge is how old the member's RESTMapper must be before an
// unknown kind makes it re-read discovery, so that a burst of Works of a
// kind the member does not serve costs a few discoveries, not one each.
const restMapperMinAge = 250 * time.Millisecond

// managedSelector selects the objects Argosy manages.
var managedSelector = workv1alpha1.LabelManaged + "=true"

// managed is the per-member state of managed objects.
type managed struct {
	mu        sync.Mutex
	factory   dynamicinformer.DynamicSharedInformerFactory
	stopCh    chan struct{}
	stopped   bool
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer

	mapper     restMapper
	namespaces sync.Map // namespace name -> struct{}: known to exist
}

// OnManagedEvent registers f to make the event handler of every managed
// informer started from now on, for every member. Register handlers before
// members connect (that is, before the manager starts).
func (c *Cache) OnManagedEvent(f ManagedHandlerFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.managedHandlers = append(c.managedHandlers, f)
}

// OnConnect registers f to be called with the cluster name each time a
// member is connected or reconnected with new settings (and so has new,
// empty managed informers).
func (c *Cache) OnConnect(f func(cluster string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connectHooks = append(c.connectHooks, f)
}

func (c *Cache) connected(cluster string) {
	c.mu.Lock()
	hooks := c.connectHooks
	c.mu.Unlock()
	for _, f := range hooks {
		f(cluster)
	}
}

// ManagedInformer returns the member's informer of the objects of resource
// gvr that carry LabelManaged=true, starting it on first use. It stores
// *ManagedObject (see CompactManaged); read them with GetManaged. Use
// ManagedSynced before trusting that an object is absent.
func (m *Member) ManagedInformer(gvr schema.GroupVersionResource) (cache.SharedIndexInformer, error) {
	s := &m.managed
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, ErrMemberStopped
	}
	if inf, ok := s.informers[gvr]; ok {
		return inf, nil
	}
	if s.factory == nil {
		s.factory = dynamicinformer.NewFilteredDynamicSharedInformerFactory(m.Dynamic, 0, metav1.NamespaceAll,
			func(o *metav1.ListOptions) { o.LabelSelector = managedSelector })
		s.stopCh = make(chan struct{})
		s.informers = map[schema.GroupVersionResource]cache.SharedIndexInformer{}
	}
	inf := s.factory.ForResource(gvr).Informer()
	// Both only fail once the informer has started, which it has not.
	_ = inf.SetTransform(CompactManaged)
	log := m.log.WithValues("resource", gvr.String())
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		// The reflector retries with backoff; a kind whose CRD was deleted
		// fails here until the member stops.
		log.V(1).Info("listing or watching managed objects failed", "error", err.Error())
	})
	for _, h := range m.managedHandlers {
		if _, err := inf.AddEventHandler(h(m.Name, gvr)); err != nil {
			return nil, fmt.Errorf("adding a handler to the informer of %s in cluster %s: %w", gvr, m.Name, err)
		}
	}
	s.informers[gvr] = inf
	s.factory.Start(s.stopCh)
	return inf, nil
}

// ManagedSynced waits until inf (from ManagedInformer) has listed once, or
// ctx ends, or the member stops; it reports whether inf has synced.
func (m *Member) ManagedSynced(ctx context.Context, inf cache.SharedIndexInformer) bool {
	if inf.HasSynced() {
		return true
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
}

// GetManaged returns the object namespace/name (name alone for
// cluster-scoped objects) from inf's cache, decoded into a copy of its
// own, or nil.
func GetManaged(inf cache.SharedIndexInformer, namespace, name string) *unstructured.Unstructured {
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	obj, ok, err := inf.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	switch o := obj.(type) {
	case *ManagedObject:
		u, err := o.Unstructured()
		if err != nil {
			return nil
		}
		return u
	case *unstructured.Unstructured:
		return o.DeepCopy()
	}
	return nil
}

// ManagedObject is how the managed informers hold a member object: its
// metadata, for keys, indexes and handlers, and the whole object as JSON.
// A Deployment decoded into maps takes about five times the memory of its
// JSON, and Argosy may manage thousands of objects in every member.
type ManagedObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	// Raw is the object as JSON, without managed fields and kubectl's
	// last-applied annotation. It is never modified: copies share it.
	Raw []byte `json:"-"`
}

// DeepCopyObject implements runtime.Object.
func (o *ManagedObject) DeepCopyObject() runtime.Object {
	c := &ManagedObject{TypeMeta: o.TypeMeta, Raw: o.Raw}
	o.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	return c
}

// Unstructured decodes the object.
func (o *ManagedObject) Unstructured() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(o.Raw); err != nil {
		return nil, err
	}
	return u, nil
}

// CompactManaged is the managed informers' transform: it trims the object
// (TrimManaged) and stores it as a *ManagedObject. Anything else, a
// ManagedObject included, passes unchanged.
func CompactManaged(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	_, _ = TrimManaged(u)
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	o := &ManagedObject{Raw: raw}
	o.APIVersion, o.Kind = u.GetAPIVersion(), u.GetKind()
	o.Name, o.Namespace, o.UID = u.GetName(), u.GetNamespace(), u.GetUID()
	o.ResourceVersion, o.Generation = u.GetResourceVersion(), u.GetGeneration()
	o.Labels, o.Annotations = u.GetLabels(), u.GetAnnotations()
	o.DeletionTimestamp = u.GetDeletionTimestamp()
	return o, nil
}

// stopManaged stops the managed informers; later calls to ManagedInformer
// fail with ErrMemberStopped.
func (m *Member) stopManaged() {
	s := &m.managed
	s.mu.Lock()
	s.stopped = true
	f, stopCh := s.factory, s.stopCh
	s.mu.Unlock()
	if f != nil {
		close(stopCh)
		f.Shutdown()
	}
}

// TrimManaged drops managed fields and kubectl's last-applied-configuration
// annotation, which together are often more than half of an object, and
// which Argosy never reads. Other values pass unchanged.
func TrimManaged(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return obj, nil
	}
	delete(md, "managedFields")
	if a, ok := md["annotations"].(map[string]any); ok {
		delete(a, lastApplied)
		if len(a) == 0 {
			delete(md, "annotations")
		}
	}
	return obj, nil
}

// NamespaceKnown reports whether namespace ns is known to exist in the
// member (see RememberNamespace).
func (m *Member) NamespaceKnown(ns string) bool {
	_, ok := m.managed.namespaces.Load(ns)
	return ok
}

// RememberNamespace records that namespace ns exists in the member, so that
// it is not looked up again for this connection.
func (m *Member) RememberNamespace(ns string) { m.managed.namespaces.Store(ns, struct{}{}) }

// ForgetNamespace forgets ns, after the member said it does not exist.
func (m *Member) ForgetNamespace(ns string) { m.managed.namespaces.Delete(ns) }

// RESTMapping maps gvk to its resource and scope in the member, from
// discovery. A kind the member does not serve makes the mapper re-read
// discovery (unless it did less than restMapperMinAge ago and was not reset
// since), so that a kind whose CRD was applied a moment ago becomes usable;
// the error is then a meta.NoKindMatchError.
func (m *Member) RESTMapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return m.managed.mapper.mapping(m.probe.Discovery(), gvk)
}

// ResetRESTMapper makes the next RESTMapping re-read discovery; call it
// when a CustomResourceDefinition of the member changes (a kind may have
// appeared or gone).
func (m *Member) ResetRESTMapper() { m.managed.mapper.reset() }

// restMapper is a discovery-based RESTMapper that reloads on unknown kinds.
type restMapper struct {
	mu       sync.RWMutex
	mapper   meta.RESTMapper
	loadedAt time.Time
	stale    bool
	group    singleflight.Group
}

// current returns the mapper, whether it must be reloaded before use (it
// was reset), and whether an unknown kind may reload it (it is old enough).
func (r *restMapper) current() (m meta.RESTMapper, stale, reloadable bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.mapper, r.mapper == nil || r.stale, time.Since(r.loadedAt) >= restMapperMinAge
}

func (r *restMapper) mapping(d discovery.DiscoveryInterface, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	gk := gvk.GroupKind()
	m, stale, reloadable := r.current()
	if !stale {
		mp, err := m.RESTMapping(gk, gvk.Version)
		if err == nil || !meta.IsNoMatchError(err) || !reloadable {
			return mp, err
		}
	}
	if err := r.load(d); err != nil {
		return nil, err
	}
	m, _, _ = r.current()
	return m.RESTMapping(gk, gvk.Version)
}

// load reads discovery once for every concurrent caller.
func (r *restMapper) load(d discovery.DiscoveryInterface) error {
	_, err, _ := r.group.Do("load", func() (any, error) {
		groups, err := restmapper.GetAPIGroupResources(d)
		if err != nil && !(discovery.IsGroupDiscoveryFailedError(err) && len(groups) > 0) {
			// A group that fails (an aggregated API that is down) leaves the
			// others usable; no answer at all does not.
			return nil, fmt.Errorf("reading the API discovery: %w", err)
		}
		r.mu.Lock()
		r.mapper = restmapper.NewDiscoveryRESTMapper(groups)
		r.loadedAt = time.Now()
		r.stale = false
		r.mu.Unlock()
		return nil, nil
	})
	return err
}

func (r *restMapper) reset() {
	r.mu.Lock()
	r.stale = true
	r.mu.Unlock()
}
