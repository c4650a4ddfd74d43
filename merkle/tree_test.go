package merkle

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTreeInsertHasLen(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 500, 5000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			items := newItemGen(uint64(n)).items(n)
			var tr Tree // the zero value is ready
			r := rand.New(rand.NewPCG(1, uint64(n)))
			order := r.Perm(n)
			for _, i := range order {
				if !tr.Insert(items[i]) {
					t.Fatalf("Insert(%v) = false for a new item", items[i])
				}
			}
			for _, i := range order[:min(n, 50)] {
				if tr.Insert(items[i]) {
					t.Fatalf("Insert(%v) = true for a duplicate", items[i])
				}
			}
			if tr.Len() != n {
				t.Fatalf("Len() = %d, want %d", tr.Len(), n)
			}
			for _, it := range items {
				if !tr.Has(it) {
					t.Fatalf("Has(%v) = false, want true", it)
				}
				other := it
				other.Clock++
				if tr.Has(other) {
					t.Fatalf("Has(%v) = true for an absent item", other)
				}
			}
			got := slices.Collect(tr.All())
			if !slices.EqualFunc(got, items, func(a, b Item) bool { return a == b }) {
				t.Fatalf("All() does not yield the items in (Clock, ID) order")
			}
		})
	}
}

func TestRootIndependentOfInsertionOrder(t *testing.T) {
	items := newItemGen(7).items(3000)
	want := FromItems(items).Root()
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 0))
		shuffled := slices.Clone(items)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := treeOf(t, shuffled).Root(); got != want {
			t.Fatalf("seed %d: Root() = %v, want %v", seed, got, want)
		}
	}
	// In clock order, and with duplicates inserted twice.
	if got := treeOf(t, items, items[:100]).Root(); got != want {
		t.Fatalf("in-order Root() = %v, want %v", got, want)
	}
}

func TestRootEqualIffSetsEqual(t *testing.T) {
	items := newItemGen(8).items(500)
	base := FromItems(items)
	tests := []struct {
		name  string
		other []Item
		equal bool
	}{
		{"same set", items, true},
		{"one item fewer", items[1:], false},
		{"one item more", append(slices.Clone(items), newItemGen(99).next()), false},
		{"one item replaced", append(slices.Clone(items[:499]), newItemGen(98).next()), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromItems(tc.other).Root() == base.Root()
			if got != tc.equal {
				t.Errorf("roots equal = %v, want %v", got, tc.equal)
			}
		})
	}
	if New().Root() != (Root{}) {
		t.Errorf("empty tree Root() = %v, want zero", New().Root())
	}
}

func TestFromItemsMatchesInsert(t *testing.T) {
	items := newItemGen(9).items(10000)
	withDups := append(slices.Clone(items), items[:300]...)
	built := FromItems(withDups)
	inserted := treeOf(t, items)
	if built.Root() != inserted.Root() || built.Len() != inserted.Len() {
		t.Fatalf("FromItems root %v len %d, Insert root %v len %d", built.Root(), built.Len(), inserted.Root(), inserted.Len())
	}
	// A built tree keeps working under inserts.
	more := newItemGen(10).items(2000)
	for _, it := range more {
		built.Insert(it)
	}
	if want := treeOf(t, items, more).Root(); built.Root() != want {
		t.Fatalf("after inserts Root() = %v, want %v", built.Root(), want)
	}
	checkStructure(t, built)
}

func TestClone(t *testing.T) {
	items := newItemGen(11).items(1000)
	a := FromItems(items)
	b := a.Clone()
	b.Insert(newItemGen(12).next())
	if a.Len() != 1000 || a.Root() != FromItems(items).Root() {
		t.Fatalf("inserting into a clone changed the original")
	}
	if b.Len() != 1001 {
		t.Fatalf("clone Len() = %d, want 1001", b.Len())
	}
}

// TestRangeQueries checks the order-statistic queries reconciliation uses
// against a sorted slice.
func TestRangeQueries(t *testing.T) {
	g := newItemGen(13)
	g.maxGap = 3 // many equal wall clocks
	items := g.items(5000)
	r := rand.New(rand.NewPCG(13, 13))
	tr := New()
	for _, i := range r.Perm(len(items)) {
		tr.Insert(items[i])
	}
	checkStructure(t, tr)
	prefix := make([]fpSum, len(items)+1)
	for i, it := range items {
		prefix[i+1] = prefix[i]
		h := itemHash(&it.ID)
		prefix[i+1].add(&h)
	}
	for range 2000 {
		i := r.IntN(len(items) + 1)
		if got := tr.sumTo(i); got != prefix[i] {
			t.Fatalf("sumTo(%d) wrong", i)
		}
		if i < len(items) {
			if got := tr.at(i); got != items[i] {
				t.Fatalf("at(%d) = %v, want %v", i, got, items[i])
			}
		}
		if i > 0 && i < len(items) {
			b := boundBetween(items[i-1], items[i])
			if !items[i-1].before(b) || items[i].before(b) {
				t.Fatalf("boundBetween(%v, %v) = %+v does not separate them", items[i-1], items[i], b)
			}
			if rank, sum := tr.prefix(b); rank != i || sum != prefix[i] {
				t.Fatalf("prefix(bound before %d) = %d, want %d", i, rank, i)
			}
		}
		j := i + r.IntN(len(items)-i+1)
		if got := tr.appendRange(nil, i, j); !slices.Equal(got, items[i:j]) {
			t.Fatalf("appendRange(%d, %d) wrong", i, j)
		}
	}
	if rank, sum := tr.prefix(infBound); rank != len(items) || sum != prefix[len(items)] {
		t.Fatalf("prefix(+inf) = %d, want %d", rank, len(items))
	}
	if rank, _ := tr.prefix(minBound); rank != 0 {
		t.Fatalf("prefix(min) = %d, want 0", rank)
	}
}

// checkStructure verifies the B+tree invariants: cached counts and sums,
// separator keys, and sorted leaves.
func checkStructure(t *testing.T, tr *Tree) {
	t.Helper()
	if tr.root == nil {
		return
	}
	var check func(n *node) (int, fpSum, Item, Item)
	check = func(n *node) (int, fpSum, Item, Item) {
		if n.leaf() {
			if len(n.items) == 0 || len(n.items) > maxLeafItems {
				t.Fatalf("leaf with %d items", len(n.items))
			}
			var s fpSum
			for i, it := range n.items {
				if i > 0 && !n.items[i-1].less(it) {
					t.Fatalf("leaf not sorted")
				}
				if itemHash(&it.ID) != n.hs[i] {
					t.Fatalf("stale item hash")
				}
				s.add(&n.hs[i])
			}
			return len(n.items), s, n.items[0], n.items[len(n.items)-1]
		}
		if len(n.kids) < 2 && n != tr.root || len(n.kids) > maxInnerKids || len(n.keys) != len(n.kids)-1 {
			t.Fatalf("inner node with %d kids, %d keys", len(n.kids), len(n.keys))
		}
		total, sum := 0, fpSum{}
		var first, last Item
		for i, k := range n.kids {
			c, s, lo, hi := check(k)
			if c != n.cnts[i] || s != n.sums[i] {
				t.Fatalf("stale cached count or sum")
			}
			if i > 0 && (lo != n.keys[i-1] || !last.less(lo)) {
				t.Fatalf("bad separator key")
			}
			if i == 0 {
				first = lo
			}
			last = hi
			total += c
			sum.add(&s)
		}
		return total, sum, first, last
	}
	c, s, _, _ := check(tr.root)
	if c != tr.n || s != tr.sum {
		t.Fatalf("tree totals %d/%v, nodes say %d/%v", tr.n, tr.sum, c, s)
	}
}

func TestRootMarshal(t *testing.T) {
	want := FromItems(newItemGen(14).items(100)).Root()
	b, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != RootSize || len(b) > 64 {
		t.Fatalf("marshaled root is %d bytes, want %d", len(b), RootSize)
	}
	var got Root
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if got != want {
		t.Fatalf("UnmarshalBinary(MarshalBinary(%v)) = %v", want, got)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short", b[:RootSize-1], ErrMalformed},
		{"trailing byte", append(slices.Clone(b), 0), ErrMalformed},
		{"bad version", append([]byte{2}, b[1:]...), ErrVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Root
			if err := r.UnmarshalBinary(tc.in); !errors.Is(err, tc.want) {
				t.Errorf("UnmarshalBinary = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBoundBetween(t *testing.T) {
	id := func(b ...byte) (x [32]byte) { copy(x[:], b); return x }
	tests := []struct {
		name       string
		prev, next Item
		want       bound
	}{
		{"clocks differ in low bit", Item{Clock: 4}, Item{Clock: 5}, bound{clock: 5}},
		{"clocks differ high", Item{Clock: 0x0fff}, Item{Clock: 0x1234}, bound{clock: 0x1000}},
		{"same clock, first byte", Item{Clock: 9, ID: id(1, 7)}, Item{Clock: 9, ID: id(2, 0, 5)}, bound{clock: 9, id: id(2)}},
		{"same clock, third byte", Item{Clock: 9, ID: id(1, 2, 3, 4)}, Item{Clock: 9, ID: id(1, 2, 4, 1)}, bound{clock: 9, id: id(1, 2, 4)}},
		{"top clock bit", Item{Clock: 1<<63 - 1}, Item{Clock: 1 << 63}, bound{clock: 1 << 63}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := boundBetween(tc.prev, tc.next)
			if got != tc.want {
				t.Errorf("boundBetween(%v, %v) = %+v, want %+v", tc.prev, tc.next, got, tc.want)
			}
			if !tc.prev.before(got) || tc.next.before(got) {
				t.Errorf("bound %+v does not separate %v and %v", got, tc.prev, tc.next)
			}
		})
	}
}
