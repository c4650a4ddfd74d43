package forge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"murmur/crdt"
	"murmur/identity"
	"murmur/op"
)

// RolesID names a role state: the SHA-256 of its owner and sorted role op
// IDs. Most ops of a repo share a handful of role states, so storage keeps
// each once and an op records only the ID.
type RolesID [32]byte

// String returns the hex form.
func (id RolesID) String() string { return hex.EncodeToString(id[:]) }

// RoleEntry is one accepted maintainer.add or maintainer.remove op.
type RoleEntry struct {
	Add  bool               `cbor:"1,keyasint,omitempty"`
	Key  identity.PublicKey `cbor:"2,keyasint"`
	Tags []op.ID            `cbor:"3,keyasint,omitempty"` // adds a remove observed
}

// Roles is the role state in an op's causal past: the repo owner and every
// accepted maintainer op among the op's ancestors (and the op itself). It is
// the union of the parents' role states, so it is computed incrementally and
// never depends on arrival order. Maintainers form an add-wins set; the
// owner is always a maintainer.
//
// A Roles value is immutable once built; share it freely.
type Roles struct {
	Owner   identity.PublicKey  `cbor:"1,keyasint"`
	Entries map[op.ID]RoleEntry `cbor:"2,keyasint"`
	// Mods are the accepted moderation ops (bans, members, who may open,
	// locks) among the op's ancestors and the op itself.
	Mods map[op.ID]ModEntry `cbor:"3,keyasint,omitempty"`

	maint *crdt.ORSet[string]
	// ext says how r extends a parent state (nil for a genesis or union
	// state); storage keeps r as those entries on its parent.
	ext  *extension
	modv atomic.Pointer[modView] // built on first use; safe to share
	id   atomic.Pointer[RolesID] // likewise
}

// NewRoles returns the role state of a repo's genesis op.
func NewRoles(owner identity.PublicKey) *Roles {
	return &Roles{Owner: owner, Entries: map[op.ID]RoleEntry{}}
}

// ID returns the content address of r. It is computed once: every op
// applied records the ID of its role state.
func (r *Roles) ID() RolesID {
	if id := r.id.Load(); id != nil {
		return *id
	}
	id := r.computeID()
	r.id.Store(&id)
	return id
}

func (r *Roles) computeID() RolesID {
	ids := sortedIDs(r.Entries)
	h := sha256.New()
	h.Write([]byte("murmur/roles\x00"))
	h.Write(r.Owner[:])
	for _, id := range ids {
		h.Write(id[:])
	}
	if len(r.Mods) > 0 {
		// Only states with moderation entries hash this part, so the IDs
		// of states stored before moderation existed stay the same.
		h.Write([]byte("\x00mods"))
		for _, id := range sortedIDs(r.Mods) {
			h.Write(id[:])
		}
	}
	var out RolesID
	h.Sum(out[:0])
	return out
}

func (r *Roles) set() *crdt.ORSet[string] {
	if r.maint != nil {
		return r.maint
	}
	s := &crdt.ORSet[string]{}
	for id, e := range r.Entries {
		if e.Add {
			s.Add(crdt.ID(id), string(e.Key[:]))
		} else {
			for _, t := range e.Tags {
				s.Remove(crdt.ID(t))
			}
		}
	}
	r.maint = s
	return s
}

// IsMaintainer reports whether k may act as a maintainer under r.
func (r *Roles) IsMaintainer(k identity.PublicKey) bool {
	return k == r.Owner || r.set().Contains(string(k[:]))
}

// Maintainers returns the owner followed by the other maintainers, sorted.
func (r *Roles) Maintainers() []identity.PublicKey {
	out := []identity.PublicKey{r.Owner}
	for _, e := range r.set().Elements() {
		var k identity.PublicKey
		copy(k[:], e)
		if k != r.Owner {
			out = append(out, k)
		}
	}
	return out
}

// Tags returns the add ops that currently make k a maintainer: what a
// maintainer.remove names.
func (r *Roles) Tags(k identity.PublicKey) []op.ID {
	var out []op.ID
	for _, t := range r.set().Tags(string(k[:])) {
		out = append(out, op.ID(t))
	}
	return out
}

// with returns r plus the entry id. r is not changed.
func (r *Roles) with(id op.ID, e RoleEntry) *Roles {
	n := &Roles{Owner: r.Owner, Mods: r.Mods, Entries: make(map[op.ID]RoleEntry, len(r.Entries)+1), ext: r.extend(id)}
	for k, v := range r.Entries {
		n.Entries[k] = v
	}
	n.Entries[id] = e
	return n
}

// UnionRoles returns the union of role states of the same repo. With one
// argument, or when all are equal, it returns the first without copying.
func UnionRoles(rs ...*Roles) *Roles {
	if len(rs) == 0 {
		return nil
	}
	first := rs[0]
	same := true
	for _, r := range rs[1:] {
		if len(r.Entries) != len(first.Entries) || len(r.Mods) != len(first.Mods) || r.ID() != first.ID() {
			same = false
			break
		}
	}
	if same {
		return first
	}
	n := &Roles{Owner: first.Owner, Entries: map[op.ID]RoleEntry{}}
	for _, r := range rs {
		for k, v := range r.Entries {
			n.Entries[k] = v
		}
		for k, v := range r.Mods {
			if n.Mods == nil {
				n.Mods = map[op.ID]ModEntry{}
			}
			n.Mods[k] = v
		}
	}
	return n
}

// extension is how a state extends its parent: the parent's ID (not the
// parent itself, which may then be freed), the IDs of the entries and
// moderation entries it adds, and how many extensions lead to it from a
// state without a parent.
type extension struct {
	parent RolesID
	added  []op.ID
	depth  int
}

// extend describes a child of r that adds the entry id.
func (r *Roles) extend(id op.ID) *extension {
	depth := 1
	if r.ext != nil {
		depth = r.ext.depth + 1
	}
	return &extension{parent: r.ID(), added: []op.ID{id}, depth: depth}
}

// Delta says how r extends another state: the parent state's ID, the
// entries r adds to it, and how many extensions lead to r from a state
// without a parent. ok is false for a state that extends none (a genesis
// or a union state).
func (r *Roles) Delta() (parent RolesID, entries map[op.ID]RoleEntry, mods map[op.ID]ModEntry, depth int, ok bool) {
	if r.ext == nil {
		return RolesID{}, nil, nil, 0, false
	}
	entries, mods = map[op.ID]RoleEntry{}, map[op.ID]ModEntry{}
	for _, id := range r.ext.added {
		if e, in := r.Entries[id]; in {
			entries[id] = e
		}
		if e, in := r.Mods[id]; in {
			mods[id] = e
		}
	}
	return r.ext.parent, entries, mods, r.ext.depth, true
}

// ExtendRoles returns parent plus entries and mods, at the given depth:
// the inverse of Delta, for a state read back from storage.
func ExtendRoles(parent *Roles, entries map[op.ID]RoleEntry, mods map[op.ID]ModEntry, depth int) *Roles {
	n := &Roles{Owner: parent.Owner, Entries: maps.Clone(parent.Entries), Mods: maps.Clone(parent.Mods)}
	if n.Entries == nil {
		n.Entries = map[op.ID]RoleEntry{}
	}
	ext := &extension{parent: parent.ID(), depth: depth}
	for id, e := range entries {
		n.Entries[id] = e
		ext.added = append(ext.added, id)
	}
	if len(mods) > 0 && n.Mods == nil {
		n.Mods = map[op.ID]ModEntry{}
	}
	for id, e := range mods {
		n.Mods[id] = e
		ext.added = append(ext.added, id)
	}
	n.ext = ext
	return n
}

// sortedIDs returns the keys of m in byte order.
func sortedIDs[V any](m map[op.ID]V) []op.ID {
	ids := make([]op.ID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b op.ID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

func sortKeys(ks []identity.PublicKey) { slices.SortFunc(ks, identity.PublicKey.Compare) }

func sortBans(bs []Ban) {
	slices.SortFunc(bs, func(a, b Ban) int { return a.Key.Compare(b.Key) })
}

// MarshalBinary returns the raw 32 bytes. CBOR encodes it as a byte
// string, exactly as it would the array, without per-byte reflection.
func (id RolesID) MarshalBinary() ([]byte, error) { return append([]byte(nil), id[:]...), nil }

// UnmarshalBinary accepts exactly 32 bytes.
func (id *RolesID) UnmarshalBinary(b []byte) error {
	if len(b) != len(id) {
		return fmt.Errorf("forge: role state id is %d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return nil
}
