package storage_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/internal/workload"
	"murmur/op"
	"murmur/storage"
)

// benchOps caches generated histories by size: the benchmark framework
// calls a benchmark several times with growing b.N.
var benchOps = struct {
	sync.Mutex
	m map[int][][]byte
}{m: map[int][][]byte{}}

func opsFor(b *testing.B, n int) [][]byte {
	b.Helper()
	benchOps.Lock()
	defer benchOps.Unlock()
	if raw, ok := benchOps.m[n]; ok {
		return raw
	}
	raw, err := workload.Ops(n, 1)
	if err != nil {
		b.Fatal(err)
	}
	clear(benchOps.m) // keep one history in memory
	benchOps.m[n] = raw
	return raw
}

// BenchmarkIngest measures ingest of ops from a peer: decode, parallel
// batch verification and Store.Ingest in batches of 1,000 with one sync
// each. One iteration is one op, so ns/op is per op; it also reports
// ops/s, the disk bytes per op after a flush, and the live heap growth per
// op. Run with a fixed count, e.g. -benchtime 100000x.
func BenchmarkIngest(b *testing.B) {
	b.Run("disk", func(b *testing.B) { benchIngest(b, nil) })
	b.Run("mem", func(b *testing.B) { benchIngest(b, vfs.NewMem()) })
}

func benchIngest(b *testing.B, fs vfs.FS) {
	raw := opsFor(b, b.N)
	dir := b.TempDir()
	s, err := storage.Open(dir, &storage.Options{FS: fs})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start := time.Now()
	if err := workload.IngestPipeline(s, raw, 1000); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(s.DiskUsage())/n, "disk-B/op")
	b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/n, "heap-B/op")
}

// BenchmarkCreate measures a local write: Create with a synced commit, on
// a repo that already has 10,000 ops.
func BenchmarkCreate(b *testing.B) {
	raw := opsFor(b, 10_000)
	s, err := storage.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := workload.IngestPipeline(s, raw, 1000); err != nil {
		b.Fatal(err)
	}
	g, err := op.Decode(raw[0])
	if err != nil {
		b.Fatal(err)
	}
	sums, err := s.Summaries(g.ID(), forge.TypeIssue, "")
	if err != nil || len(sums) == 0 {
		b.Fatalf("no issues: %v", err)
	}
	key := workload.Keys(1)[5]
	b.ResetTimer()
	for i := range b.N {
		target := sums[i%len(sums)].ID
		_, err := s.Create(g.ID(), func(tip storage.Tip) (*op.Op, error) {
			a, err := forge.NewAction(forge.KindCommentAdd, target, forge.CommentAdd{Body: "a comment of ordinary length, written from the command line"})
			if err != nil {
				return nil, err
			}
			return op.Sign(key, a.Unsigned(g.ID(), tip.Parents, tip.Clock+1))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
