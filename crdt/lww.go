package crdt

import (
	"maps"
	"slices"
)

// Write is one assignment to an LWW register.
//
// In CBOR the fields are a map keyed by small integers: the promoted Stamp
// fields Clock 1, Author 2, ID 3, then Value 4 and Prev 5. The keys are part
// of murmur's storage format and must not change.
type Write[V any] struct {
	Stamp

	// Value is the value assigned.
	Value V `cbor:"4,keyasint"`

	// Prev lists the register writes the author had seen as current
	// (Heads()) when writing; they are superseded by this write.
	Prev []ID `cbor:"5,keyasint"`
}

// LWW is a last-writer-wins register that loses nothing: it keeps every
// write (history), knows which are superseded (named in some later write's
// Prev), and exposes the current winner (the greatest Stamp among the
// non-superseded writes) plus the concurrent losers (the other
// non-superseded writes), so a UI can show "also set concurrently by ...".
//
// The state is a pair of grow-only sets, so Apply and Merge are idempotent,
// commutative and associative: replicas that have seen the same writes, in
// any order and any grouping, hold the same state. A write may arrive after
// a write that supersedes it; it is then superseded on arrival.
//
// A register trusts its writes: one ID names one write (true of
// content-addressed op IDs; a second, different Write under an ID already
// held is ignored), and Prev names only writes the author had seen, so the
// latest write of a causal chain always stays current (should a corrupt
// state supersede every write, Winner reports none). Checking that is the op
// layer's job.
//
// The zero value is an empty register ready to use; so is a value decoded
// from CBOR, whose maps may be nil. An LWW is not safe for concurrent use,
// and copying an LWW copies references to its maps, not the state (use
// Clone). Reading methods do O(n) work in the number of writes held.
//
// Writes returned by the methods share their Prev slices with the register:
// treat them as read-only.
type LWW[V any] struct {
	// Writes holds every write applied, by ID.
	Writes map[ID]Write[V] `cbor:"1,keyasint"`

	// Superseded holds every ID named in the Prev of a write applied,
	// whether or not the write it names has arrived.
	Superseded map[ID]struct{} `cbor:"2,keyasint"`
}

// Apply adds w to the register. Applying a write already held (by ID) does
// nothing. Apply copies w.Prev, so the caller may reuse it.
func (r *LWW[V]) Apply(w Write[V]) {
	if _, ok := r.Writes[w.ID]; ok {
		return
	}
	if len(w.Prev) > 0 {
		if r.Superseded == nil {
			r.Superseded = make(map[ID]struct{}, len(w.Prev))
		}
		for _, p := range w.Prev {
			r.Superseded[p] = struct{}{}
		}
	}
	if r.Writes == nil {
		r.Writes = make(map[ID]Write[V])
	}
	w.Prev = slices.Clone(w.Prev)
	r.Writes[w.ID] = w
}

// Merge folds the state of o into r: afterwards r holds every write and
// every supersession of either. o is not modified; a nil o is empty.
func (r *LWW[V]) Merge(o *LWW[V]) {
	if o == nil || o == r {
		return
	}
	if len(o.Superseded) > 0 && r.Superseded == nil {
		r.Superseded = make(map[ID]struct{}, len(o.Superseded))
	}
	for id := range o.Superseded {
		r.Superseded[id] = struct{}{}
	}
	if len(o.Writes) > 0 && r.Writes == nil {
		r.Writes = make(map[ID]Write[V], len(o.Writes))
	}
	for _, w := range o.Writes {
		r.Apply(w)
	}
}

// Get returns the winner's value, or the zero V and false when the register
// holds no current write.
func (r *LWW[V]) Get() (V, bool) {
	w, ok := r.Winner()
	return w.Value, ok
}

// Winner returns the write with the greatest Stamp among those not
// superseded, or false when there is none (the register is empty).
func (r *LWW[V]) Winner() (Write[V], bool) {
	var (
		best Write[V]
		ok   bool
	)
	if r == nil {
		return best, false
	}
	for id, w := range r.Writes {
		if r.superseded(id) {
			continue
		}
		if !ok || best.Less(w.Stamp) {
			best, ok = w, true
		}
	}
	return best, ok
}

// Concurrent returns the writes that are not superseded other than the
// winner, greatest Stamp first: the values other authors set concurrently
// and lost. It returns nil when there are none.
func (r *LWW[V]) Concurrent() []Write[V] {
	heads := r.heads()
	if len(heads) < 2 {
		return nil
	}
	slices.SortFunc(heads, func(a, b Write[V]) int { return b.Compare(a.Stamp) })
	return heads[1:]
}

// Heads returns the IDs of all writes not superseded, sorted bytewise: what
// the next writer puts in Prev. It returns nil for an empty register.
func (r *LWW[V]) Heads() []ID {
	if r == nil {
		return nil
	}
	var ids []ID
	for id := range r.Writes {
		if !r.superseded(id) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, ID.Compare)
	return ids
}

// History returns every write held, superseded or not, ordered by Stamp
// ascending (oldest first).
func (r *LWW[V]) History() []Write[V] {
	if r == nil || len(r.Writes) == 0 {
		return nil
	}
	ws := slices.Collect(maps.Values(r.Writes))
	slices.SortFunc(ws, func(a, b Write[V]) int { return a.Compare(b.Stamp) })
	return ws
}

// Len returns the number of writes held, superseded or not.
func (r *LWW[V]) Len() int {
	if r == nil {
		return 0
	}
	return len(r.Writes)
}

// Clone returns a copy of r that shares no maps or slices with it. Values
// are copied as by assignment.
func (r *LWW[V]) Clone() *LWW[V] {
	c := new(LWW[V])
	c.Merge(r)
	return c
}

// heads returns the writes not superseded, in no particular order.
func (r *LWW[V]) heads() []Write[V] {
	if r == nil {
		return nil
	}
	var ws []Write[V]
	for id, w := range r.Writes {
		if !r.superseded(id) {
			ws = append(ws, w)
		}
	}
	return ws
}

func (r *LWW[V]) superseded(id ID) bool {
	_, ok := r.Superseded[id]
	return ok
}
