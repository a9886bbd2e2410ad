package detector

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// claimWrites remembers the claims the detector wrote until the cache shows
// them, so that a reconcile that runs before the template's watch event
// arrives (for example one triggered by the binding written right after
// the claim) does not take the cached, older status.policy for the truth and
// write the claim a second time.
type claimWrites struct {
	mu sync.Mutex
	m  map[types.NamespacedName]claimWrite
}

type claimWrite struct {
	uid types.UID
	// staleRV is the resourceVersion of the template the claim was written
	// over: while the cache still holds it, the cache has not seen the write.
	staleRV string
	ref     *workv1alpha1.PolicyReference
}

// wrote records that ref (nil: no claim) was written over rt.
func (c *claimWrites) wrote(rt *workv1alpha1.ResourceTemplate, ref *workv1alpha1.PolicyReference) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[types.NamespacedName]claimWrite{}
	}
	c.m[types.NamespacedName{Namespace: rt.Namespace, Name: rt.Name}] = claimWrite{uid: rt.UID, staleRV: rt.ResourceVersion, ref: ref.DeepCopy()}
}

// recorded returns the claim written last for rt, while the cached rt
// predates that write.
func (c *claimWrites) recorded(rt *workv1alpha1.ResourceTemplate) (*workv1alpha1.PolicyReference, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := types.NamespacedName{Namespace: rt.Namespace, Name: rt.Name}
	if w, ok := c.m[key]; ok {
		if w.uid == rt.UID && w.staleRV == rt.ResourceVersion {
			return w.ref, true
		}
		delete(c.m, key)
	}
	return nil, false
}

// forget drops the record of a deleted template.
func (c *claimWrites) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
