package crdt

import (
	"crypto/sha256"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Test IDs and authors with an obvious bytewise order: idN sorts by N.
var (
	id1, id2, id3, id4, id5 = ID{1}, ID{2}, ID{3}, ID{4}, ID{5}

	alice = [32]byte{0xa1}
	bob   = [32]byte{0xb0}
	carol = [32]byte{0xc0}
)

func hashID(s string) ID { return sha256.Sum256([]byte(s)) }

func wr(id ID, clock Timestamp, author [32]byte, value string, prev ...ID) Write[string] {
	return Write[string]{Stamp: Stamp{Clock: clock, Author: author, ID: id}, Value: value, Prev: prev}
}

func writeIDs(ws []Write[string]) []ID {
	var ids []ID
	for _, w := range ws {
		ids = append(ids, w.ID)
	}
	return ids
}

func TestStampCompare(t *testing.T) {
	base := Stamp{Clock: 10, Author: bob, ID: id3}
	tests := []struct {
		name string
		a, b Stamp
		want int
	}{
		{"equal", base, base, 0},
		{"clock first", Stamp{Clock: 9, Author: carol, ID: id5}, base, -1},
		{"clock beats author and id", Stamp{Clock: 11, Author: alice, ID: id1}, base, 1},
		{"author breaks clock tie", Stamp{Clock: 10, Author: alice, ID: id5}, base, -1},
		{"author bytewise", Stamp{Clock: 10, Author: carol, ID: id1}, base, 1},
		{"id breaks clock and author tie", Stamp{Clock: 10, Author: bob, ID: id2}, base, -1},
		{"id bytewise", Stamp{Clock: 10, Author: bob, ID: id4}, base, 1},
		{"id compares all bytes", Stamp{Clock: 10, Author: bob, ID: ID{3, 0, 0, 1}}, base, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := tt.b.Compare(tt.a); got != -tt.want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
			if got := tt.a.Less(tt.b); got != (tt.want < 0) {
				t.Errorf("%+v.Less(%+v) = %v, want %v", tt.a, tt.b, got, tt.want < 0)
			}
		})
	}
}

func TestLWW(t *testing.T) {
	tests := []struct {
		name       string
		writes     []Write[string] // applied in this order
		winner     ID              // zero: no winner
		value      string
		concurrent []ID // greatest first
		heads      []ID
		history    []ID // Stamp ascending
	}{
		{
			name:    "single write",
			writes:  []Write[string]{wr(id1, 5, alice, "a")},
			winner:  id1,
			value:   "a",
			heads:   []ID{id1},
			history: []ID{id1},
		},
		{
			name: "concurrent writes: greatest clock wins",
			writes: []Write[string]{
				wr(id1, 7, alice, "early"),
				wr(id2, 9, alice, "late"),
				wr(id3, 8, carol, "middle"),
			},
			winner:     id2,
			value:      "late",
			concurrent: []ID{id3, id1},
			heads:      []ID{id1, id2, id3},
			history:    []ID{id1, id3, id2},
		},
		{
			name: "equal clocks: greatest author wins",
			writes: []Write[string]{
				wr(id3, 7, bob, "bob"),
				wr(id2, 7, carol, "carol"),
				wr(id1, 7, alice, "alice"),
			},
			winner:     id2,
			value:      "carol",
			concurrent: []ID{id3, id1},
			heads:      []ID{id1, id2, id3},
			history:    []ID{id1, id3, id2},
		},
		{
			name: "equal clocks and authors: greatest id wins",
			writes: []Write[string]{
				wr(id4, 7, bob, "four"),
				wr(id5, 7, bob, "five"),
				wr(id1, 7, bob, "one"),
			},
			winner:     id5,
			value:      "five",
			concurrent: []ID{id4, id1},
			heads:      []ID{id1, id4, id5},
			history:    []ID{id1, id4, id5},
		},
		{
			name: "later write with Prev supersedes",
			writes: []Write[string]{
				wr(id1, 7, alice, "first"),
				wr(id2, 8, bob, "second", id1),
			},
			winner:  id2,
			value:   "second",
			heads:   []ID{id2},
			history: []ID{id1, id2},
		},
		{
			name: "Prev supersedes a write with a greater stamp",
			writes: []Write[string]{
				wr(id1, 90, carol, "skewed clock"),
				wr(id2, 8, alice, "edit", id1),
			},
			winner:  id2,
			value:   "edit",
			heads:   []ID{id2},
			history: []ID{id2, id1},
		},
		{
			name: "Prev names a write not yet seen",
			writes: []Write[string]{
				wr(id2, 8, bob, "second", id1),
				wr(id1, 7, alice, "first"),
			},
			winner:  id2,
			value:   "second",
			heads:   []ID{id2},
			history: []ID{id1, id2},
		},
		{
			name: "superseding one of two concurrent writes keeps the other",
			writes: []Write[string]{
				wr(id1, 7, alice, "a"),
				wr(id2, 20, bob, "b"),
				wr(id3, 9, alice, "a2", id1),
			},
			winner:     id2,
			value:      "b",
			concurrent: []ID{id3},
			heads:      []ID{id2, id3},
			history:    []ID{id1, id3, id2},
		},
		{
			name: "a merge write supersedes all heads",
			writes: []Write[string]{
				wr(id1, 7, alice, "a"),
				wr(id2, 7, bob, "b"),
				wr(id3, 8, carol, "c", id1, id2),
			},
			winner:  id3,
			value:   "c",
			heads:   []ID{id3},
			history: []ID{id1, id2, id3},
		},
		{
			name: "applying a write twice changes nothing",
			writes: []Write[string]{
				wr(id1, 7, alice, "a"),
				wr(id1, 7, alice, "a"),
			},
			winner:  id1,
			value:   "a",
			heads:   []ID{id1},
			history: []ID{id1},
		},
		{
			name: "a different write under a held id is ignored",
			writes: []Write[string]{
				wr(id1, 7, alice, "a"),
				wr(id1, 99, bob, "forged", id2),
			},
			winner:  id1,
			value:   "a",
			heads:   []ID{id1},
			history: []ID{id1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r LWW[string]
			for _, w := range tt.writes {
				r.Apply(w)
			}
			w, ok := r.Winner()
			if ok != (tt.winner != ID{}) || w.ID != tt.winner {
				t.Errorf("Winner() = %v, %v; want %v", w.ID, ok, tt.winner)
			}
			if v, ok := r.Get(); v != tt.value || ok != (tt.winner != ID{}) {
				t.Errorf("Get() = %q, %v; want %q", v, ok, tt.value)
			}
			if diff := cmp.Diff(tt.concurrent, writeIDs(r.Concurrent())); diff != "" {
				t.Errorf("Concurrent() IDs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.heads, r.Heads()); diff != "" {
				t.Errorf("Heads() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.history, writeIDs(r.History())); diff != "" {
				t.Errorf("History() IDs (-want +got):\n%s", diff)
			}
			if got := r.Len(); got != len(tt.history) {
				t.Errorf("Len() = %d, want %d", got, len(tt.history))
			}
		})
	}
}

func TestLWWEmpty(t *testing.T) {
	var nilReg *LWW[string]
	for name, r := range map[string]*LWW[string]{"zero": new(LWW[string]), "nil": nilReg} {
		t.Run(name, func(t *testing.T) {
			if v, ok := r.Get(); ok || v != "" {
				t.Errorf("Get() = %q, %v; want \"\", false", v, ok)
			}
			if w, ok := r.Winner(); ok {
				t.Errorf("Winner() = %+v, true; want false", w)
			}
			if got := r.Concurrent(); got != nil {
				t.Errorf("Concurrent() = %v, want nil", got)
			}
			if got := r.Heads(); got != nil {
				t.Errorf("Heads() = %v, want nil", got)
			}
			if got := r.History(); got != nil {
				t.Errorf("History() = %v, want nil", got)
			}
			if got := r.Len(); got != 0 {
				t.Errorf("Len() = %d, want 0", got)
			}
			if got := r.Clone(); got.Len() != 0 {
				t.Errorf("Clone().Len() = %d, want 0", got.Len())
			}
		})
	}
}

func TestLWWApplyCopiesPrev(t *testing.T) {
	var r LWW[string]
	r.Apply(wr(id1, 1, alice, "a"))
	prev := []ID{id1}
	r.Apply(wr(id2, 2, alice, "b", prev...))
	prev[0] = id5
	if got := r.Writes[id2].Prev; !cmp.Equal(got, []ID{id1}) {
		t.Errorf("stored Prev = %v after the caller reused its slice, want [%v]", got, id1)
	}
}

func TestLWWMerge(t *testing.T) {
	var a, b LWW[string]
	a.Apply(wr(id1, 1, alice, "a1"))
	a.Apply(wr(id3, 3, alice, "a3", id1))
	b.Apply(wr(id1, 1, alice, "a1"))
	b.Apply(wr(id2, 2, bob, "b2", id1))
	b.Apply(wr(id4, 4, bob, "b4", id2, id5)) // id5 has not arrived anywhere

	bBefore := b.Clone()
	a.Merge(&b)
	if diff := cmp.Diff(bBefore, &b); diff != "" {
		t.Errorf("Merge modified its argument (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]ID{id3, id4}, a.Heads()); diff != "" {
		t.Errorf("Heads() after merge (-want +got):\n%s", diff)
	}
	if w, _ := a.Winner(); w.ID != id4 {
		t.Errorf("Winner() after merge = %v, want %v", w.ID, id4)
	}
	if _, ok := a.Superseded[id5]; !ok {
		t.Errorf("Superseded after merge lacks %v, named by a merged write's Prev", id5)
	}

	snapshot := a.Clone()
	a.Merge(&a)
	a.Merge(nil)
	a.Merge(snapshot)
	if diff := cmp.Diff(snapshot, &a); diff != "" {
		t.Errorf("merging self, nil and an equal state changed the register (-want +got):\n%s", diff)
	}

	var zero LWW[string]
	zero.Merge(&a)
	if diff := cmp.Diff(&a, &zero); diff != "" {
		t.Errorf("zero.Merge(a) differs from a (-want +got):\n%s", diff)
	}
}
