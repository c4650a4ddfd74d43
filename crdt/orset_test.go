package crdt

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// setOp is one step in a table-driven ORSet test: an add when elem is set,
// else a remove of tags.
type setOp struct {
	tag  ID
	elem string
	tags []ID
}

func add(tag ID, e string) setOp { return setOp{tag: tag, elem: e} }
func remove(tags ...ID) setOp    { return setOp{tags: tags} }
func (o setOp) on(s *ORSet[string]) {
	if o.elem != "" {
		s.Add(o.tag, o.elem)
		return
	}
	s.Remove(o.tags...)
}

func TestORSet(t *testing.T) {
	tests := []struct {
		name     string
		ops      []setOp
		elements []string
		tags     map[string][]ID
	}{
		{
			name:     "adds, sorted and unique",
			ops:      []setOp{add(id3, "bug"), add(id1, "docs"), add(id2, "bug")},
			elements: []string{"bug", "docs"},
			tags:     map[string][]ID{"bug": {id2, id3}, "docs": {id1}},
		},
		{
			name:     "remove of all observed tags removes",
			ops:      []setOp{add(id1, "bug"), add(id2, "bug"), remove(id1, id2)},
			elements: nil,
			tags:     map[string][]ID{"bug": nil},
		},
		{
			name:     "remove of some tags keeps the element",
			ops:      []setOp{add(id1, "bug"), add(id2, "bug"), remove(id1)},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id2}},
		},
		{
			name:     "add wins over a concurrent remove",
			ops:      []setOp{add(id1, "bug"), remove(id1), add(id2, "bug")},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id2}},
		},
		{
			name:     "add wins whatever the arrival order",
			ops:      []setOp{add(id2, "bug"), remove(id1), add(id1, "bug")},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id2}},
		},
		{
			name:     "remove before its add arrives still removes it",
			ops:      []setOp{remove(id1), add(id1, "bug")},
			elements: nil,
			tags:     map[string][]ID{"bug": nil},
		},
		{
			name:     "remove of an unknown tag removes nothing",
			ops:      []setOp{add(id1, "bug"), remove(id4)},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id1}},
		},
		{
			name:     "re-add after remove",
			ops:      []setOp{add(id1, "bug"), remove(id1), add(id2, "bug")},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id2}},
		},
		{
			name:     "duplicate add and remove are idempotent",
			ops:      []setOp{add(id1, "bug"), add(id1, "bug"), add(id2, "docs"), remove(id2), remove(id2)},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id1}, "docs": nil},
		},
		{
			name:     "a second add under a held tag is ignored",
			ops:      []setOp{add(id1, "bug"), add(id1, "docs")},
			elements: []string{"bug"},
			tags:     map[string][]ID{"bug": {id1}, "docs": nil},
		},
		{
			name:     "empty remove does nothing",
			ops:      []setOp{add(id1, "bug"), remove()},
			elements: []string{"bug"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s ORSet[string]
			for _, op := range tt.ops {
				op.on(&s)
			}
			if diff := cmp.Diff(tt.elements, s.Elements()); diff != "" {
				t.Errorf("Elements() (-want +got):\n%s", diff)
			}
			if got := s.Len(); got != len(tt.elements) {
				t.Errorf("Len() = %d, want %d", got, len(tt.elements))
			}
			for e, want := range tt.tags {
				if diff := cmp.Diff(want, s.Tags(e)); diff != "" {
					t.Errorf("Tags(%q) (-want +got):\n%s", e, diff)
				}
				if got := s.Contains(e); got != (len(want) > 0) {
					t.Errorf("Contains(%q) = %v, want %v", e, got, len(want) > 0)
				}
			}
			for _, e := range tt.elements {
				if !s.Contains(e) {
					t.Errorf("Contains(%q) = false, want true", e)
				}
			}
		})
	}
}

func TestORSetAddWinsAcrossReplicas(t *testing.T) {
	// Alice adds "bug"; Bob sees it and removes it while Alice, not having
	// seen the remove, adds "bug" again. After exchanging states both
	// replicas keep "bug" by Alice's second add.
	var a, b ORSet[string]
	a.Add(id1, "bug")
	b.Merge(&a)
	b.Remove(b.Tags("bug")...)
	a.Add(id2, "bug")

	if b.Contains("bug") {
		t.Fatalf("Bob's replica contains %q right after removing it", "bug")
	}
	a.Merge(&b)
	b.Merge(&a)
	for name, s := range map[string]*ORSet[string]{"alice": &a, "bob": &b} {
		if diff := cmp.Diff([]ID{id2}, s.Tags("bug")); diff != "" {
			t.Errorf("%s: Tags(%q) (-want +got):\n%s", name, "bug", diff)
		}
	}
	if diff := cmp.Diff(&a, &b); diff != "" {
		t.Errorf("replicas differ after exchanging states (-alice +bob):\n%s", diff)
	}
}

func TestORSetMerge(t *testing.T) {
	var a, b ORSet[string]
	a.Add(id1, "bug")
	a.Add(id2, "docs")
	b.Remove(id1)
	b.Add(id3, "p0")
	bBefore := b.Clone()

	a.Merge(&b)
	if diff := cmp.Diff(bBefore, &b); diff != "" {
		t.Errorf("Merge modified its argument (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"docs", "p0"}, a.Elements()); diff != "" {
		t.Errorf("Elements() after merge (-want +got):\n%s", diff)
	}
	if _, ok := a.Adds[id1]; ok {
		t.Errorf("Adds still holds removed tag %v", id1)
	}

	snapshot := a.Clone()
	a.Merge(&a)
	a.Merge(nil)
	a.Merge(snapshot)
	if diff := cmp.Diff(snapshot, &a); diff != "" {
		t.Errorf("merging self, nil and an equal state changed the set (-want +got):\n%s", diff)
	}
}

func TestORSetEmpty(t *testing.T) {
	var nilSet *ORSet[string]
	for name, s := range map[string]*ORSet[string]{"zero": new(ORSet[string]), "nil": nilSet} {
		t.Run(name, func(t *testing.T) {
			if s.Contains("x") {
				t.Errorf("Contains(%q) = true, want false", "x")
			}
			if got := s.Elements(); got != nil {
				t.Errorf("Elements() = %v, want nil", got)
			}
			if got := s.Tags("x"); got != nil {
				t.Errorf("Tags(%q) = %v, want nil", "x", got)
			}
			if got := s.Len(); got != 0 {
				t.Errorf("Len() = %d, want 0", got)
			}
		})
	}
}

func TestORSetIgnoresRemovedTagsInAdds(t *testing.T) {
	// A state built or decoded elsewhere may hold an add whose tag was also
	// removed; readers must still treat it as removed.
	s := ORSet[string]{
		Adds:    map[ID]string{id1: "bug", id2: "docs"},
		Removed: map[ID]struct{}{id1: {}},
	}
	if s.Contains("bug") {
		t.Errorf("Contains(%q) = true for an add whose tag was removed", "bug")
	}
	if diff := cmp.Diff([]string{"docs"}, s.Elements()); diff != "" {
		t.Errorf("Elements() (-want +got):\n%s", diff)
	}
}

func TestORSetFloatNaN(t *testing.T) {
	var s ORSet[float64]
	nan := math.NaN()
	s.Add(id1, nan)
	s.Add(id2, nan)
	s.Add(id3, 1)
	if !s.Contains(nan) {
		t.Errorf("Contains(NaN) = false after adding NaN")
	}
	if got := s.Len(); got != 2 {
		t.Errorf("Len() = %d with NaN twice and 1, want 2", got)
	}
}
