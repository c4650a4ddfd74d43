package crdt

import (
	"encoding/binary"
	"fmt"
	"testing"
)

func benchIDs(n int) []ID {
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = hashID(fmt.Sprint(i))
	}
	return ids
}

// BenchmarkLWWApply applies a causal chain of writes, each superseding the
// previous one as successive edits of one field do, to registers of n writes.
// It reports the cost per write.
func BenchmarkLWWApply(b *testing.B) {
	for _, n := range []int{16, 1024} {
		b.Run(fmt.Sprintf("writes=%d", n), func(b *testing.B) {
			ws := make([]Write[string], n)
			ids := benchIDs(n + 1)
			for i := range ws {
				ws[i] = wr(ids[i+1], Timestamp(i), alice, "v", ids[i])
			}
			b.ReportAllocs()
			for b.Loop() {
				var r LWW[string]
				for _, w := range ws {
					r.Apply(w)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/write")
		})
	}
}

// BenchmarkLWWApplyDuplicate applies a write the register already holds,
// the common case when peers gossip the same op.
func BenchmarkLWWApplyDuplicate(b *testing.B) {
	var r LWW[string]
	w := wr(id2, 2, alice, "v", id1)
	r.Apply(w)
	b.ReportAllocs()
	for b.Loop() {
		r.Apply(w)
	}
}

func BenchmarkLWWGet(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("writes=%d", n), func(b *testing.B) {
			ids := benchIDs(n + 1)
			var r LWW[string]
			for i := range n {
				r.Apply(wr(ids[i+1], Timestamp(i), alice, "v", ids[i]))
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := r.Get(); !ok {
					b.Fatal("empty register")
				}
			}
		})
	}
}

// BenchmarkORSetAdd adds n tags over a few elements to fresh sets and
// reports the cost per add.
func BenchmarkORSetAdd(b *testing.B) {
	for _, n := range []int{16, 1024} {
		b.Run(fmt.Sprintf("adds=%d", n), func(b *testing.B) {
			ids := benchIDs(n)
			b.ReportAllocs()
			for b.Loop() {
				var s ORSet[string]
				for i, id := range ids {
					s.Add(id, elements[i%len(elements)])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/add")
		})
	}
}

// BenchmarkORSetAddRemove toggles one element: an add, then a remove of the
// tags observed, as reacting and un-reacting does.
func BenchmarkORSetAddRemove(b *testing.B) {
	ids := benchIDs(b.N)
	var s ORSet[string]
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Add(ids[i], "+1")
		s.Remove(ids[i])
	}
}

func BenchmarkORSetContains(b *testing.B) {
	var s ORSet[string]
	var tag ID
	for i := range 20 {
		binary.BigEndian.PutUint64(tag[:], uint64(i))
		s.Add(tag, elements[i%len(elements)])
	}
	b.ReportAllocs()
	for b.Loop() {
		if !s.Contains("wontfix") {
			b.Fatal("missing element")
		}
	}
}

func BenchmarkLWWMerge(b *testing.B) {
	ids := benchIDs(1001)
	var src LWW[string]
	for i := range 1000 {
		src.Apply(wr(ids[i+1], Timestamp(i), alice, "v", ids[i]))
	}
	b.ReportAllocs()
	for b.Loop() {
		var dst LWW[string]
		dst.Merge(&src)
	}
}

func BenchmarkClockNow(b *testing.B) {
	var c Clock
	b.ReportAllocs()
	for b.Loop() {
		c.Now()
	}
}
