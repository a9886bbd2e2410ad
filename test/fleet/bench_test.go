package fleet

import (
	"testing"
	"time"
)

// BenchmarkStart measures Start of a host and 2 default members until every
// cluster is ready (nodes Ready), from built binaries. One iteration takes
// ~10-15s, so the default -benchtime runs it once; use -count for a median:
//
//	ARGOSY_BIN=$PWD/bin go test ./test/fleet -run '^$' -bench Start -count 5
//
// Besides ns/op it reports the fleet's summed resident memory.
func BenchmarkStart(b *testing.B) {
	bin, err := BinDir()
	if err != nil {
		b.Fatal(err)
	}
	var rss int64
	var apiserver time.Duration
	for i := 0; i < b.N; i++ {
		f, err := Start(b.Context(), Options{BinDir: bin, Dir: b.TempDir(), Members: DefaultMembers(2)})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rss += TotalRSS(f.Usage())
		apiserver += f.Timing().APIServer["member1"]
		if err := f.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rss)/float64(b.N)/(1<<20), "MiB-rss")
	b.ReportMetric(apiserver.Seconds()/float64(b.N), "s-apiserver-readyz")
}
