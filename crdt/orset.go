package crdt

import (
	"cmp"
	"slices"
)

// ORSet is an add-wins observed-remove set. Each add is tagged by the ID of
// the op that made it; a remove names the add tags it observed. An element is
// present iff it has a tag that no remove named. So a remove cancels only the
// adds its author had seen: an add concurrent with a remove survives it
// (add wins), and a remove that arrives before the add it names still
// cancels that add when it comes.
//
// The state is a set of live adds and a grow-only set of removed tags; Add,
// Remove and Merge are idempotent, commutative and associative. An add whose
// tag has been removed is dropped from Adds, so a set that keeps being
// toggled grows only by one 32-byte tag per remove.
//
// A set trusts its input: one tag names one add (true of content-addressed op
// IDs; a second Add with a tag already held is ignored).
//
// The zero value is an empty set ready to use; so is a value decoded from
// CBOR, whose maps may be nil. An ORSet is not safe for concurrent use, and
// copying an ORSet copies references to its maps (use Clone). Elements are
// compared with cmp.Compare. Reading methods do O(n) work in the number of
// live adds.
type ORSet[E cmp.Ordered] struct {
	// Adds holds the adds not (yet) removed, by tag.
	Adds map[ID]E `cbor:"1,keyasint"`

	// Removed holds every tag named by a remove, whether or not the add it
	// names has arrived.
	Removed map[ID]struct{} `cbor:"2,keyasint"`
}

// Add records that the op tag added e. It does nothing if tag is already held
// or was removed.
func (s *ORSet[E]) Add(tag ID, e E) {
	if s.removed(tag) {
		return
	}
	if _, ok := s.Adds[tag]; ok {
		return
	}
	if s.Adds == nil {
		s.Adds = make(map[ID]E)
	}
	s.Adds[tag] = e
}

// Remove records a remove that observed the add tags observed (Tags of the
// element removed, as the remover saw them). Tags whose adds have not arrived
// yet are remembered and cancel those adds when they do.
func (s *ORSet[E]) Remove(observed ...ID) {
	if len(observed) == 0 {
		return
	}
	if s.Removed == nil {
		s.Removed = make(map[ID]struct{}, len(observed))
	}
	for _, tag := range observed {
		s.Removed[tag] = struct{}{}
		delete(s.Adds, tag)
	}
}

// Merge folds the state of o into s: afterwards s holds every add and every
// remove of either. o is not modified; a nil o is empty.
func (s *ORSet[E]) Merge(o *ORSet[E]) {
	if o == nil || o == s {
		return
	}
	if len(o.Removed) > 0 && s.Removed == nil {
		s.Removed = make(map[ID]struct{}, len(o.Removed))
	}
	for tag := range o.Removed {
		s.Removed[tag] = struct{}{}
		delete(s.Adds, tag)
	}
	if len(o.Adds) > 0 && s.Adds == nil {
		s.Adds = make(map[ID]E, len(o.Adds))
	}
	for tag, e := range o.Adds {
		s.Add(tag, e)
	}
}

// Contains reports whether e is present.
func (s *ORSet[E]) Contains(e E) bool {
	if s == nil {
		return false
	}
	for tag, x := range s.Adds {
		if cmp.Compare(x, e) == 0 && !s.removed(tag) {
			return true
		}
	}
	return false
}

// Elements returns the present elements, sorted ascending, each once. It
// returns nil for an empty set.
func (s *ORSet[E]) Elements() []E {
	if s == nil {
		return nil
	}
	var es []E
	for tag, e := range s.Adds {
		if !s.removed(tag) {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, cmp.Compare[E])
	return slices.CompactFunc(es, func(a, b E) bool { return cmp.Compare(a, b) == 0 })
}

// Tags returns the live add tags of e, sorted bytewise: what a remover
// names. It returns nil when e is not present.
func (s *ORSet[E]) Tags(e E) []ID {
	if s == nil {
		return nil
	}
	var tags []ID
	for tag, x := range s.Adds {
		if cmp.Compare(x, e) == 0 && !s.removed(tag) {
			tags = append(tags, tag)
		}
	}
	slices.SortFunc(tags, ID.Compare)
	return tags
}

// Len returns the number of present elements.
func (s *ORSet[E]) Len() int { return len(s.Elements()) }

// Clone returns a copy of s that shares no maps with it.
func (s *ORSet[E]) Clone() *ORSet[E] {
	c := new(ORSet[E])
	c.Merge(s)
	return c
}

func (s *ORSet[E]) removed(tag ID) bool {
	_, ok := s.Removed[tag]
	return ok
}
