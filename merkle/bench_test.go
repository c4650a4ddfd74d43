package merkle

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkReconcile runs whole sessions in memory between two trees of
// 100,000 items and reports, besides time, the protocol cost per session:
// round trips, bytes of reconciliation messages both ways, and the lower
// bound of d IDs of 32 bytes.
func BenchmarkReconcile(b *testing.B) {
	const n = 100_000
	all := newItemGen(60).items(n)
	full := FromItems(all)
	r := rand.New(rand.NewPCG(60, 60))
	_, scattered := pick(all, randomPositions(r, n, 100))
	cases := []struct {
		name string
		a, b *Tree
		d    int
	}{
		{"n=100000,d=0", full, full.Clone(), 0},
		{"n=100000,d=1", full, FromItems(all[:n-1]), 1},
		{"n=100000,d=100,newest", full, FromItems(all[:n-100]), 100},
		{"n=100000,d=100,scattered", full, FromItems(scattered), 100},
		{"n=100000,d=10000,newest", full, FromItems(all[:n-10_000]), 10_000},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var res SimResult
			for b.Loop() {
				var err error
				if res, err = Simulate(tc.a, tc.b); err != nil {
					b.Fatal(err)
				}
			}
			if len(res.Have)+len(res.Need) != tc.d {
				b.Fatalf("found %d differences, want %d", len(res.Have)+len(res.Need), tc.d)
			}
			b.ReportMetric(res.RoundTrips, "round_trips")
			b.ReportMetric(float64(res.OverheadBytes), "overhead_bytes")
			b.ReportMetric(float64(tc.d*32), "lower_bound_bytes")
		})
	}
	// The same differences with the missing side initiating.
	for _, tc := range cases[1:] {
		b.Run(tc.name+",reversed", func(b *testing.B) {
			var res SimResult
			for b.Loop() {
				var err error
				if res, err = Simulate(tc.b, tc.a); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.RoundTrips, "round_trips")
			b.ReportMetric(float64(res.OverheadBytes), "overhead_bytes")
			b.ReportMetric(float64(tc.d*32), "lower_bound_bytes")
		})
	}
}

// BenchmarkInsert measures Insert into a tree of about n items, in clock
// order (how ops usually arrive) and in random order (a sync's backlog).
func BenchmarkInsert(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		for _, order := range []string{"clock-order", "random-order"} {
			b.Run(fmt.Sprintf("n=%d,%s", n, order), func(b *testing.B) {
				g := newItemGen(61)
				items := g.items(n + 10_000)
				if order == "random-order" {
					r := rand.New(rand.NewPCG(61, 61))
					r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
				}
				base := New()
				for _, it := range items[:n] {
					base.Insert(it)
				}
				tr := base.Clone()
				i := n
				b.ResetTimer()
				for b.Loop() {
					if i == len(items) {
						b.StopTimer()
						tr, i = base.Clone(), n
						b.StartTimer()
					}
					tr.Insert(items[i])
					i++
				}
			})
		}
	}
}

// BenchmarkFromItems measures building a tree of n items at once, as
// storage does when it opens a repo.
func BenchmarkFromItems(b *testing.B) {
	items := newItemGen(62).items(100_000)
	for b.Loop() {
		FromItems(items)
	}
}
