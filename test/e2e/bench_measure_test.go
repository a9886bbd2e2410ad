package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"argosy.dev/argosy/test/apimetrics"
	"argosy.dev/argosy/test/install"
)

// What the benchmarks measure besides time: host writes counted by the host
// apiserver, the host apiserver's memory, and (make profile) CPU and heap
// profiles.

// scaleEnv multiplies the template counts of the end-to-end benchmarks
// (default 1): ARGOSY_BENCH_SCALE=0.05 runs the cold start with 250
// templates instead of 5,000.
const scaleEnv = "ARGOSY_BENCH_SCALE"

// scaled returns n times ARGOSY_BENCH_SCALE, at least 1.
func scaled(b *testing.B, n int) int {
	v := os.Getenv(scaleEnv)
	if v == "" {
		return n
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		b.Fatalf("%s=%q: want a positive number", scaleEnv, v)
	}
	return max(1, int(math.Round(float64(n)*f)))
}

// hostWrites reads the host apiserver's write counters.
func hostWrites(ctx context.Context, b *testing.B) apimetrics.Writes {
	w, err := apimetrics.ReadWrites(ctx, testFleet.HostConfig())
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// templateKey is the apimetrics key of ResourceTemplates.
var templateKey = apimetrics.Key("work.argosy.dev", "resourcetemplates", "")

// withoutOwnCreates takes the benchmark's own n template creates (POST)
// out of a difference of write counters.
func withoutOwnCreates(w apimetrics.Writes, n int) apimetrics.Writes {
	w.Counts[templateKey] -= float64(n)
	if w.ByVerb[templateKey] != nil {
		w.ByVerb[templateKey]["POST"] -= float64(n)
	}
	if w.Counts[templateKey] == 0 {
		delete(w.Counts, templateKey)
	}
	return w
}

// reportWrites reports the host writes per template (dry runs left out)
// as host-writes/template<suffix> and logs them by resource, with the
// counts by verb, on one line (go test keeps only 10 lines of a
// benchmark's log).
func reportWrites(b *testing.B, what string, w apimetrics.Writes, n int, suffix string) {
	b.ReportMetric(w.Total()/float64(n), "host-writes/template"+suffix)
	b.Logf("%s, host writes per template: %s", what, w.Summary(float64(n)))
}

// progress records when each binding turned done, to show how the drain
// went: how many were done every few seconds, and the longest stretch in
// which none was.
type progress struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func newProgress(start time.Time) *progress { return &progress{start: start} }

// done is a waitBindings callback.
func (p *progress) done(string) {
	p.mu.Lock()
	p.at = append(p.at, time.Since(p.start))
	p.mu.Unlock()
}

// String gives the count done at every step of the drain and the longest
// stall (no binding done) after the first binding was.
func (p *progress) String() string {
	p.mu.Lock()
	at := slices.Clone(p.at)
	p.mu.Unlock()
	if len(at) == 0 {
		return "none done"
	}
	slices.Sort(at)
	last := at[len(at)-1]
	step := max(time.Second, (last / 20).Round(time.Second))
	var counts []string
	i := 0
	for t := step; ; t += step {
		for i < len(at) && at[i] <= t {
			i++
		}
		counts = append(counts, strconv.Itoa(i))
		if i == len(at) {
			break
		}
	}
	var stall, stallAt time.Duration
	for j := 1; j < len(at); j++ {
		if d := at[j] - at[j-1]; d > stall {
			stall, stallAt = d, at[j-1]
		}
	}
	return fmt.Sprintf("first after %s, done every %s: %s; longest stall %s from %s (at %d done)",
		at[0].Round(10*time.Millisecond), step, strings.Join(counts, " "), stall.Round(10*time.Millisecond),
		stallAt.Round(10*time.Millisecond), sort.Search(len(at), func(k int) bool { return at[k] > stallAt }))
}

// rssSampler samples the VmRSS of a fleet process at a fixed interval.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	base int64 // the first sample
	peak int64
	n    int
	err  error
}

// sampleRSS takes a first sample of the fleet process called name at once
// (the base), then one every interval until stop.
func sampleRSS(b *testing.B, name string, interval time.Duration) *rssSampler {
	first, err := testFleet.ProcessRSS(name)
	if err != nil {
		b.Fatal(err)
	}
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{}), base: first, peak: first, n: 1}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			v, err := testFleet.ProcessRSS(name)
			s.mu.Lock()
			if err != nil {
				s.err = err
			} else {
				s.peak = max(s.peak, v)
				s.n++
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// Stop ends the sampling and returns the base (first) and peak samples.
func (s *rssSampler) Stop() (base, peak int64, samples int, err error) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base, s.peak, s.n, s.err
}

const mib = 1 << 20

// Profiles (make profile): with ARGOSY_PROFILE_DIR set, the cold-start
// benchmark writes CPU profiles of the host kube-apiserver and of the
// manager, taken from the moment the manager resumes, and the manager's
// heap once every binding is FullyApplied.
const (
	profileSecondsEnv     = "ARGOSY_PROFILE_SECONDS"
	defaultProfileSeconds = 30
	// maxHostProfileSeconds stays under the apiserver's 60 s timeout of
	// ordinary requests, which /debug/pprof/profile is.
	maxHostProfileSeconds = 55
)

// profileDir is ARGOSY_PROFILE_DIR, "" when no profiles are wanted.
func profileDir() string { return os.Getenv(install.ProfileDirEnv) }

func profileSeconds(b *testing.B) int {
	v := os.Getenv(profileSecondsEnv)
	if v == "" {
		return defaultProfileSeconds
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number of seconds", profileSecondsEnv, v)
	}
	return n
}

// cpuProfiles are CPU profiles being taken.
type cpuProfiles struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// startCPUProfiles starts, concurrently, a CPU profile of the host
// apiserver (through the admin client) and one of the manager (its
// --pprof-bind-address, retried until the resuming manager listens), each
// for seconds, and writes them to dir as host-apiserver.cpu.pprof and
// manager.cpu.pprof. Wait returns once both are written.
func startCPUProfiles(b *testing.B, dir string, seconds int) *cpuProfiles {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	addr, err := install.ManagerPprofAddr(testFleet)
	if err != nil {
		b.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(testFleet.HostConfig())
	if err != nil {
		b.Fatal(err)
	}
	p := &cpuProfiles{}
	start := time.Now()
	p.wg.Go(func() {
		hs := min(seconds, maxHostProfileSeconds)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(hs+60)*time.Second)
		defer cancel()
		raw, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(hs)).DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "host-apiserver.cpu.pprof"), raw, 0o644)
		}
		p.fail("host apiserver CPU profile", err)
	})
	p.wg.Go(func() {
		// The manager's pprof server starts with the manager: retry until
		// it listens, and profile for what is left of the seconds.
		var err error
		for time.Since(start) < time.Duration(seconds)*time.Second {
			left := max(1, seconds-int(time.Since(start).Seconds()))
			var raw []byte
			if raw, err = httpGet(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, left), time.Duration(left+60)*time.Second); err == nil {
				err = os.WriteFile(filepath.Join(dir, "manager.cpu.pprof"), raw, 0o644)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		p.fail("manager CPU profile", err)
	})
	return p
}

func (p *cpuProfiles) fail(what string, err error) {
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, fmt.Errorf("%s: %w", what, err))
		p.mu.Unlock()
	}
}

// Wait waits for both profiles and returns what went wrong.
func (p *cpuProfiles) Wait() error {
	p.wg.Wait()
	return errors.Join(p.errs...)
}

// writeManagerHeap writes the manager's heap profile (after a GC) to
// dir/manager.heap.pprof.
func writeManagerHeap(dir string) error {
	addr, err := install.ManagerPprofAddr(testFleet)
	if err != nil {
		return err
	}
	raw, err := httpGet("http://"+addr+"/debug/pprof/heap?gc=1", time.Minute)
	if err != nil {
		return fmt.Errorf("manager heap profile: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "manager.heap.pprof"), raw, 0o644)
}

func httpGet(url string, timeout time.Duration) ([]byte, error) {
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return body, nil
}

// settledWrites waits until the host's write counters stop moving (no new
// write for 3 s, at most 2 minutes) and returns them: writes that follow
// FullyApplied (a template's Ready, the members' status) belong to the
// templates too and must be counted.
func settledWrites(ctx context.Context, b *testing.B) apimetrics.Writes {
	last := hostWrites(ctx, b)
	still := 0
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && still < 3; {
		time.Sleep(time.Second)
		cur := hostWrites(ctx, b)
		if cur.Total() == last.Total() {
			still++
		} else {
			still = 0
		}
		last = cur
	}
	return last
}
