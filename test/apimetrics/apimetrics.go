// Package apimetrics reads the kube-apiserver's own request counters, so
// that tests and benchmarks can count the writes a controller makes without
// trusting the controller to count them.
package apimetrics

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// WriteVerbs are the verb label values of apiserver_request_total for
// requests that write. The apiserver reports a server-side apply as APPLY,
// any other patch as PATCH, a create as POST and an update as PUT
// (k8s.io/apiserver/pkg/endpoints/metrics.CleanVerb).
var WriteVerbs = []string{"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"}

// Requests sums apiserver_request_total over the given verbs (APPLY, PATCH,
// POST, PUT, ...) for a resource and subresource ("" for the main resource).
func Requests(ctx context.Context, cfg *rest.Config, resource, subresource string, verbs ...string) (float64, error) {
	samples, err := scrape(ctx, cfg)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, s := range samples {
		if s.labels["resource"] == resource && s.labels["subresource"] == subresource && slices.Contains(verbs, s.labels["verb"]) {
			sum += s.value
		}
	}
	return sum, nil
}

// Writes is a snapshot (or, after Sub, a difference) of the apiserver's
// write counters for every resource and subresource. Keys are
// "group/resource[/subresource]" with "core" for the core group, e.g.
// "core/events", "events.k8s.io/events",
// "work.argosy.dev/resourcebindings/status".
type Writes struct {
	// Counts are the writes that were not dry runs, by key; failed
	// requests (conflicts, say) included: they cost the apiserver too.
	Counts map[string]float64
	// ByVerb splits Counts: key -> verb -> count.
	ByVerb map[string]map[string]float64
	// Failed are the writes of Counts answered with a code >= 400 (409
	// conflicts, 422 invalid, ...), by key.
	Failed map[string]float64
	// DryRun are the dry-run writes (dry_run label set), by key; they are
	// not in Counts.
	DryRun map[string]float64
}

// ReadWrites reads the write counters (WriteVerbs) of the apiserver
// behind cfg.
func ReadWrites(ctx context.Context, cfg *rest.Config) (Writes, error) {
	samples, err := scrape(ctx, cfg)
	if err != nil {
		return Writes{}, err
	}
	return writesOf(samples), nil
}

func writesOf(samples []sample) Writes {
	w := newWrites()
	for _, s := range samples {
		verb := s.labels["verb"]
		if !slices.Contains(WriteVerbs, verb) {
			continue
		}
		key := Key(s.labels["group"], s.labels["resource"], s.labels["subresource"])
		if s.labels["dry_run"] != "" {
			w.DryRun[key] += s.value
			continue
		}
		w.Counts[key] += s.value
		if w.ByVerb[key] == nil {
			w.ByVerb[key] = map[string]float64{}
		}
		w.ByVerb[key][verb] += s.value
		if code, _ := strconv.Atoi(s.labels["code"]); code >= 400 {
			w.Failed[key] += s.value
		}
	}
	return w
}

// Key is the Writes key of a group, resource and subresource.
func Key(group, resource, subresource string) string {
	if group == "" {
		group = "core"
	}
	k := group + "/" + resource
	if subresource != "" {
		k += "/" + subresource
	}
	return k
}

func newWrites() Writes {
	return Writes{Counts: map[string]float64{}, ByVerb: map[string]map[string]float64{},
		Failed: map[string]float64{}, DryRun: map[string]float64{}}
}

// Sub returns w minus before, keeping only keys whose difference is not 0.
func (w Writes) Sub(before Writes) Writes {
	d := newWrites()
	sub := func(dst, a, b map[string]float64) {
		for k, v := range a {
			if x := v - b[k]; x != 0 {
				dst[k] = x
			}
		}
	}
	sub(d.Counts, w.Counts, before.Counts)
	sub(d.Failed, w.Failed, before.Failed)
	sub(d.DryRun, w.DryRun, before.DryRun)
	for k, verbs := range w.ByVerb {
		m := map[string]float64{}
		sub(m, verbs, before.ByVerb[k])
		if len(m) > 0 {
			d.ByVerb[k] = m
		}
	}
	return d
}

// Total sums Counts (dry runs excluded).
func (w Writes) Total() float64 { return sum(w.Counts) }

// DryRunTotal sums DryRun.
func (w Writes) DryRunTotal() float64 { return sum(w.DryRun) }

// FailedTotal sums Failed.
func (w Writes) FailedTotal() float64 { return sum(w.Failed) }

// Keys are the keys of Counts and DryRun, sorted.
func (w Writes) Keys() []string {
	keys := slices.Collect(maps.Keys(w.Counts))
	for k := range w.DryRun {
		if _, ok := w.Counts[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Summary formats the writes divided by per on one line: the total, then
// each key with its verbs, failures and dry runs, the largest first.
func (w Writes) Summary(per float64) string {
	if per == 0 {
		per = 1
	}
	keys := w.Keys()
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmpFloat(w.Counts[b]+w.DryRun[b], w.Counts[a]+w.DryRun[a])
	})
	parts := []string{fmt.Sprintf("total %.2f (%.0f writes)", w.Total()/per, w.Total())}
	for _, k := range keys {
		var verbs []string
		for _, verb := range WriteVerbs {
			if v := w.ByVerb[k][verb]; v != 0 {
				verbs = append(verbs, fmt.Sprintf("%s %.0f", verb, v))
			}
		}
		if v := w.Failed[k]; v != 0 {
			verbs = append(verbs, fmt.Sprintf("failed %.0f", v))
		}
		if v := w.DryRun[k]; v != 0 {
			verbs = append(verbs, fmt.Sprintf("dry-run %.0f, not in the total", v))
		}
		parts = append(parts, fmt.Sprintf("%s %.2f [%s]", k, w.Counts[k]/per, strings.Join(verbs, " ")))
	}
	return strings.Join(parts, "; ")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Table formats the writes divided by per (say, the number of templates),
// one line per key with the split by verb, failures and dry runs, then the
// totals.
func (w Writes) Table(per float64) string {
	if per == 0 {
		per = 1
	}
	var b strings.Builder
	for _, k := range w.Keys() {
		fmt.Fprintf(&b, "  %-50s %7.2f", k, w.Counts[k]/per)
		var parts []string
		for _, verb := range WriteVerbs {
			if v := w.ByVerb[k][verb]; v != 0 {
				parts = append(parts, fmt.Sprintf("%s %.2f", verb, v/per))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "  (%s)", strings.Join(parts, ", "))
		}
		if v := w.Failed[k]; v != 0 {
			fmt.Fprintf(&b, "  failed %.2f", v/per)
		}
		if v := w.DryRun[k]; v != 0 {
			fmt.Fprintf(&b, "  dry-run %.2f", v/per)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  %-50s %7.2f  (failed %.2f; dry runs %.2f, not in the total)\n", "total", w.Total()/per, w.FailedTotal()/per, w.DryRunTotal()/per)
	return b.String()
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// sample is one apiserver_request_total series.
type sample struct {
	labels map[string]string
	value  float64
}

// scrape reads apiserver_request_total from the apiserver's /metrics.
func scrape(ctx context.Context, cfg *rest.Config) ([]sample, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the apiserver's metrics: %w", err)
	}
	return parse(string(raw), "apiserver_request_total")
}

// parse reads the samples of one counter from Prometheus text format.
func parse(text, metric string) ([]sample, error) {
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, metric+"{")
		if !ok {
			continue
		}
		labels, rest, err := parseLabels(rest)
		if err != nil {
			return nil, fmt.Errorf("%w in %q", err, line)
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", line, err)
		}
		out = append(out, sample{labels: labels, value: v})
	}
	return out, nil
}

// parseLabels reads `name="value",...}` and returns the labels and what
// follows the closing brace.
func parseLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, ", ")
		if rest, ok := strings.CutPrefix(s, "}"); ok {
			return labels, rest, nil
		}
		eq := strings.Index(s, `="`)
		if eq <= 0 {
			return nil, "", fmt.Errorf("malformed labels")
		}
		name := s[:eq]
		s = s[eq+2:]
		var val strings.Builder
		i := 0
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i])
				}
				continue
			}
			val.WriteByte(s[i])
		}
		if i == len(s) {
			return nil, "", fmt.Errorf("unterminated label value")
		}
		labels[name] = val.String()
		s = s[i+1:]
	}
}
