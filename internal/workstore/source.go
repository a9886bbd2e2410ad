package workstore

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

// Sources are the event sources of Works for a controller: the host's Work
// informer and the memory store, with the same handler and predicates.
func (s *Store) Sources(c cache.Cache, h handler.EventHandler, preds ...predicate.Predicate) []source.Source {
	return []source.Source{
		source.Kind[client.Object](c, &workv1alpha1.Work{}, h, preds...),
		s.Memory.Source(h, preds...),
	}
}

// Source is a controller-runtime source of the store's changes. When it
// starts, every Work already stored is delivered as a creation.
func (m *Memory) Source(h handler.EventHandler, preds ...predicate.Predicate) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		m.Subscribe(func(old, new *workv1alpha1.Work) {
			if ctx.Err() != nil {
				return
			}
			switch {
			case old == nil:
				e := event.CreateEvent{Object: new}
				for _, p := range preds {
					if !p.Create(e) {
						return
					}
				}
				h.Create(ctx, e, q)
			case new == nil:
				e := event.DeleteEvent{Object: old}
				for _, p := range preds {
					if !p.Delete(e) {
						return
					}
				}
				h.Delete(ctx, e, q)
			default:
				e := event.UpdateEvent{ObjectOld: old, ObjectNew: new}
				for _, p := range preds {
					if !p.Update(e) {
						return
					}
				}
				h.Update(ctx, e, q)
			}
		})
		return nil
	})
}
