package merkle

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// itemGen produces items with increasing, realistic hybrid logical clocks:
// wall-clock milliseconds a few seconds to minutes apart, with a logical
// counter when two fall in the same millisecond, and random IDs.
type itemGen struct {
	r       *rand.Rand
	wall    uint64
	logical uint64
	maxGap  uint64 // largest gap between two clocks, in milliseconds
}

func newItemGen(seed uint64) *itemGen {
	return &itemGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), wall: 1_700_000_000_000, maxGap: 120_000}
}

func (g *itemGen) next() Item {
	gap := g.r.Uint64N(g.maxGap + 1)
	if gap == 0 {
		g.logical++
	} else {
		g.wall += gap
		g.logical = 0
	}
	var it Item
	it.Clock = g.wall<<16 | g.logical
	for i := 0; i < 32; i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			it.ID[i+j] = byte(v >> (8 * j))
		}
	}
	return it
}

func (g *itemGen) items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = g.next()
	}
	return out
}

// treeOf builds a tree by inserting the items of every list in order.
func treeOf(t testing.TB, lists ...[]Item) *Tree {
	t.Helper()
	tr := New()
	for _, l := range lists {
		for _, it := range l {
			tr.Insert(it)
		}
	}
	return tr
}

// setMinus returns the IDs of items in a but not in b, sorted by ID.
func setMinus(a, b []Item) [][32]byte {
	in := make(map[[32]byte]bool, len(b))
	for _, it := range b {
		in[it.ID] = true
	}
	var out [][32]byte
	for _, it := range a {
		if !in[it.ID] {
			out = append(out, it.ID)
		}
	}
	sortIDs(out)
	return slices.Compact(out)
}

func sortIDs(ids [][32]byte) {
	slices.SortFunc(ids, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
}

func sortedIDs(ids [][32]byte) [][32]byte {
	c := slices.Clone(ids)
	sortIDs(c)
	return c
}

// pick splits items into those at the chosen positions and the rest.
func pick(items []Item, positions map[int]bool) (picked, rest []Item) {
	for i, it := range items {
		if positions[i] {
			picked = append(picked, it)
		} else {
			rest = append(rest, it)
		}
	}
	return picked, rest
}

func randomPositions(r *rand.Rand, n, d int) map[int]bool {
	pos := make(map[int]bool, d)
	for len(pos) < d {
		pos[r.IntN(n)] = true
	}
	return pos
}
