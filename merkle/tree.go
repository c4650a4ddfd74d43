package merkle

import (
	"iter"
	"slices"
	"sort"
)

// Node capacities of the B+tree. Leaves hold up to maxLeafItems items,
// inner nodes up to maxInnerKids children.
const (
	maxLeafItems = 64
	maxInnerKids = 64
)

// Tree is the Merkle summary of one repo's op set: a B+tree of Items in
// (Clock, ID) order whose inner nodes cache, per child, the number of items
// below it and the sum of their item hashes. Insert, Has, Root and the range
// fingerprints reconciliation needs all take O(log n).
//
// The zero value is an empty tree ready to use. A Tree is not safe for
// concurrent use when any goroutine calls Insert; concurrent readers
// (Has, Len, Root, All, Clone, sessions) are fine. Inserting while a Session
// on the tree is running makes that session fail with ErrTreeChanged.
//
// The set only grows, like the op log it summarizes; there is no Delete.
type Tree struct {
	root *node
	n    int
	sum  fpSum
	gen  uint64 // bumped by every successful Insert
}

// node is a B+tree node. A leaf has kids == nil.
type node struct {
	// Leaf fields: items in order and their item hashes.
	items []Item
	hs    []fpSum

	// Inner fields: keys[i] is the smallest item in kids[i+1]; cnts[i] and
	// sums[i] are the item count and hash sum of the subtree kids[i].
	kids []*node
	keys []Item
	cnts []int
	sums []fpSum
}

func (n *node) leaf() bool { return n.kids == nil }

// totals returns the item count and hash sum of n's subtree.
func (n *node) totals() (int, fpSum) {
	var s fpSum
	if n.leaf() {
		for i := range n.hs {
			s.add(&n.hs[i])
		}
		return len(n.items), s
	}
	c := 0
	for i := range n.sums {
		c += n.cnts[i]
		s.add(&n.sums[i])
	}
	return c, s
}

// New returns an empty tree.
func New() *Tree { return &Tree{} }

// FromItems returns a tree holding items, built in O(n log n) for the sort
// and O(n) for the rest. Duplicates are kept once; items is not modified.
func FromItems(items []Item) *Tree {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, Item.Compare)
	sorted = slices.Compact(sorted)
	t := &Tree{}
	if len(sorted) == 0 {
		return t
	}
	// Fill leaves completely, then build inner levels over them.
	var level []*node
	for i := 0; i < len(sorted); i += maxLeafItems {
		j := min(i+maxLeafItems, len(sorted))
		lf := &node{
			items: make([]Item, j-i, maxLeafItems+1),
			hs:    make([]fpSum, j-i, maxLeafItems+1),
		}
		copy(lf.items, sorted[i:j])
		for k := range lf.items {
			lf.hs[k] = itemHash(&lf.items[k].ID)
			t.sum.add(&lf.hs[k])
		}
		level = append(level, lf)
	}
	for len(level) > 1 {
		var up []*node
		for i := 0; i < len(level); i += maxInnerKids {
			j := min(i+maxInnerKids, len(level))
			in := &node{
				kids: make([]*node, 0, maxInnerKids+1),
				keys: make([]Item, 0, maxInnerKids),
				cnts: make([]int, 0, maxInnerKids+1),
				sums: make([]fpSum, 0, maxInnerKids+1),
			}
			for k, kid := range level[i:j] {
				c, s := kid.totals()
				in.kids = append(in.kids, kid)
				in.cnts = append(in.cnts, c)
				in.sums = append(in.sums, s)
				if k > 0 {
					in.keys = append(in.keys, kid.first())
				}
			}
			up = append(up, in)
		}
		level = up
	}
	t.root = level[0]
	t.n = len(sorted)
	return t
}

// first returns the smallest item in n's subtree, which must not be empty.
func (n *node) first() Item {
	for !n.leaf() {
		n = n.kids[0]
	}
	return n.items[0]
}

// Len returns the number of items in the tree.
func (t *Tree) Len() int { return t.n }

// Root returns the summary of the whole set in O(1).
func (t *Tree) Root() Root {
	return Root{Count: uint64(t.n), Sum: t.sum.bytes()}
}

// Insert adds it to the set in O(log n). It returns false, and changes
// nothing, when it is already present.
func (t *Tree) Insert(it Item) bool {
	h := itemHash(&it.ID)
	if t.root == nil {
		t.root = &node{
			items: append(make([]Item, 0, maxLeafItems+1), it),
			hs:    append(make([]fpSum, 0, maxLeafItems+1), h),
		}
	} else {
		ok, right, sep := t.root.insert(it, &h, true)
		if !ok {
			return false
		}
		if right != nil {
			left := t.root
			lc, ls := left.totals()
			rc, rs := right.totals()
			t.root = &node{
				kids: append(make([]*node, 0, maxInnerKids+1), left, right),
				keys: append(make([]Item, 0, maxInnerKids), sep),
				cnts: append(make([]int, 0, maxInnerKids+1), lc, rc),
				sums: append(make([]fpSum, 0, maxInnerKids+1), ls, rs),
			}
		}
	}
	t.n++
	t.sum.add(&h)
	t.gen++
	return true
}

// insert adds it below n. When n overflows it splits, returning the new
// right sibling and the smallest item in it. rightmost says n is the last
// node on its level: appends there split unevenly, leaving the left node
// full, so a tree grown in clock order stays densely packed.
func (n *node) insert(it Item, h *fpSum, rightmost bool) (bool, *node, Item) {
	if n.leaf() {
		i, found := slices.BinarySearchFunc(n.items, it, Item.Compare)
		if found {
			return false, nil, Item{}
		}
		n.items = slices.Insert(n.items, i, it)
		n.hs = slices.Insert(n.hs, i, *h)
		if len(n.items) <= maxLeafItems {
			return true, nil, Item{}
		}
		sp := len(n.items) / 2
		if rightmost && i == len(n.items)-1 {
			sp = len(n.items) - 1
		}
		right := &node{
			items: append(make([]Item, 0, maxLeafItems+1), n.items[sp:]...),
			hs:    append(make([]fpSum, 0, maxLeafItems+1), n.hs[sp:]...),
		}
		n.items = n.items[:sp]
		n.hs = n.hs[:sp]
		return true, right, right.items[0]
	}

	i := sort.Search(len(n.keys), func(j int) bool { return it.less(n.keys[j]) })
	ok, right, sep := n.kids[i].insert(it, h, rightmost && i == len(n.kids)-1)
	if !ok {
		return false, nil, Item{}
	}
	if right == nil {
		n.cnts[i]++
		n.sums[i].add(h)
		return true, nil, Item{}
	}
	lc, ls := n.kids[i].totals()
	rc, rs := right.totals()
	n.cnts[i], n.sums[i] = lc, ls
	n.kids = slices.Insert(n.kids, i+1, right)
	n.keys = slices.Insert(n.keys, i, sep)
	n.cnts = slices.Insert(n.cnts, i+1, rc)
	n.sums = slices.Insert(n.sums, i+1, rs)
	if len(n.kids) <= maxInnerKids {
		return true, nil, Item{}
	}
	sp := len(n.kids) / 2
	if rightmost && i+1 == len(n.kids)-1 {
		sp = len(n.kids) - 1
	}
	r := &node{
		kids: append(make([]*node, 0, maxInnerKids+1), n.kids[sp:]...),
		keys: append(make([]Item, 0, maxInnerKids), n.keys[sp:]...),
		cnts: append(make([]int, 0, maxInnerKids+1), n.cnts[sp:]...),
		sums: append(make([]fpSum, 0, maxInnerKids+1), n.sums[sp:]...),
	}
	sep = n.keys[sp-1]
	clear(n.kids[sp:])
	n.kids = n.kids[:sp]
	n.keys = n.keys[:sp-1]
	n.cnts = n.cnts[:sp]
	n.sums = n.sums[:sp]
	return true, r, sep
}

// Has reports whether it is in the set, in O(log n).
func (t *Tree) Has(it Item) bool {
	n := t.root
	if n == nil {
		return false
	}
	for !n.leaf() {
		n = n.kids[sort.Search(len(n.keys), func(j int) bool { return it.less(n.keys[j]) })]
	}
	_, found := slices.BinarySearchFunc(n.items, it, Item.Compare)
	return found
}

// All yields every item in (Clock, ID) order. The tree must not be modified
// during the iteration.
func (t *Tree) All() iter.Seq[Item] {
	return func(yield func(Item) bool) {
		if t.root != nil {
			t.root.walk(yield)
		}
	}
}

func (n *node) walk(yield func(Item) bool) bool {
	if n.leaf() {
		for _, it := range n.items {
			if !yield(it) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if !k.walk(yield) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of t in O(n), for a driver that wants a
// snapshot to reconcile against while it keeps inserting into t.
func (t *Tree) Clone() *Tree {
	c := &Tree{n: t.n, sum: t.sum}
	if t.root != nil {
		c.root = t.root.clone()
	}
	return c
}

func (n *node) clone() *node {
	if n.leaf() {
		return &node{
			items: append(make([]Item, 0, maxLeafItems+1), n.items...),
			hs:    append(make([]fpSum, 0, maxLeafItems+1), n.hs...),
		}
	}
	c := &node{
		kids: make([]*node, len(n.kids), maxInnerKids+1),
		keys: append(make([]Item, 0, maxInnerKids), n.keys...),
		cnts: append(make([]int, 0, maxInnerKids+1), n.cnts...),
		sums: append(make([]fpSum, 0, maxInnerKids+1), n.sums...),
	}
	for i, k := range n.kids {
		c.kids[i] = k.clone()
	}
	return c
}

// prefix returns the number of items before b and the sum of their hashes.
// Each level adds up the shorter side of the chosen child, subtracting from
// the node's total when that is the right-hand side.
func (t *Tree) prefix(b bound) (int, fpSum) {
	if b.inf || t.root == nil {
		return t.n, t.sum
	}
	rank, sum := 0, fpSum{}
	n, ncnt, nsum := t.root, t.n, t.sum
	for !n.leaf() {
		i := sort.Search(len(n.keys), func(j int) bool { return !n.keys[j].before(b) })
		if i <= len(n.kids)/2 {
			for j := 0; j < i; j++ {
				rank += n.cnts[j]
				sum.add(&n.sums[j])
			}
		} else {
			rank += ncnt
			sum.add(&nsum)
			for j := i; j < len(n.kids); j++ {
				rank -= n.cnts[j]
				sum.sub(&n.sums[j])
			}
		}
		n, ncnt, nsum = n.kids[i], n.cnts[i], n.sums[i]
	}
	i := sort.Search(len(n.items), func(j int) bool { return !n.items[j].before(b) })
	if i <= len(n.items)/2 {
		for j := 0; j < i; j++ {
			sum.add(&n.hs[j])
		}
	} else {
		sum.add(&nsum)
		for j := i; j < len(n.items); j++ {
			sum.sub(&n.hs[j])
		}
	}
	return rank + i, sum
}

// sumTo returns the hash sum of the first r items, 0 <= r <= Len.
func (t *Tree) sumTo(r int) fpSum {
	if r >= t.n || t.root == nil {
		return t.sum
	}
	var sum fpSum
	n := t.root
	for !n.leaf() {
		i := 0
		for r >= n.cnts[i] {
			r -= n.cnts[i]
			sum.add(&n.sums[i])
			i++
		}
		n = n.kids[i]
	}
	for j := 0; j < r; j++ {
		sum.add(&n.hs[j])
	}
	return sum
}

// at returns the item of rank r, 0 <= r < Len.
func (t *Tree) at(r int) Item {
	n := t.root
	for !n.leaf() {
		i := 0
		for r >= n.cnts[i] {
			r -= n.cnts[i]
			i++
		}
		n = n.kids[i]
	}
	return n.items[r]
}

// appendRange appends the items of ranks [r0, r1) to dst.
func (t *Tree) appendRange(dst []Item, r0, r1 int) []Item {
	if r0 >= r1 || t.root == nil {
		return dst
	}
	return t.root.appendRange(dst, r0, r1)
}

func (n *node) appendRange(dst []Item, r0, r1 int) []Item {
	if n.leaf() {
		return append(dst, n.items[max(r0, 0):min(r1, len(n.items))]...)
	}
	off := 0
	for i, k := range n.kids {
		c := n.cnts[i]
		if off+c > r0 && off < r1 {
			dst = k.appendRange(dst, r0-off, r1-off)
		}
		off += c
		if off >= r1 {
			break
		}
	}
	return dst
}
