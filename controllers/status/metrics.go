package status

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// propagation is the time from a template generation being seen to its
// binding turning FullyApplied for it. Registered once with
// controller-runtime's registry, as controller-runtime's own metrics are.
var propagation = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name: "argosy_propagation_duration_seconds",
	Help: "Time from a template generation first seen by the manager to its binding turning FullyApplied (applied in every target cluster).",
	// 10 ms to about 5 minutes.
	Buckets: prometheus.ExponentialBuckets(0.01, 2, 15),
})

func init() { metrics.Registry.MustRegister(propagation) }

// generations remembers when each template generation was first seen, until
// its binding is FullyApplied for it.
type generations struct {
	mu sync.Mutex
	m  map[types.NamespacedName]seenGeneration
}

type seenGeneration struct {
	generation int64
	at         time.Time
}

// see records the template's generation at now, unless it was seen before.
func (g *generations) see(k types.NamespacedName, generation int64, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[types.NamespacedName]seenGeneration{}
	}
	if s, ok := g.m[k]; !ok || s.generation != generation {
		g.m[k] = seenGeneration{generation: generation, at: now}
	}
}

// applied observes the propagation time of generation, once.
func (g *generations) applied(k types.NamespacedName, generation int64, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s, ok := g.m[k]; ok && s.generation == generation {
		propagation.Observe(now.Sub(s.at).Seconds())
		delete(g.m, k)
	}
}

func (g *generations) forget(k types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.m, k)
}
