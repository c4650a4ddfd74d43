package storage

import (
	"fmt"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// rolesSnapshotEvery bounds the chain of deltas read to load a role state:
// a state that many extensions from a full one is stored full.
const rolesSnapshotEvery = 32

// storedRoles is a role state as stored under tagRoles: either the whole
// state (Base absent; the CBOR of forge.Roles, as every state was stored
// before deltas), or the entries it adds to the stored state Base, Depth
// extensions from a state without a parent. Keys 1–3 are forge.Roles's.
//
// Stored format (CBOR, integer keys) is stable within storage format 3;
// a store with only whole states reads as before.
type storedRoles struct {
	Owner   identity.PublicKey        `cbor:"1,keyasint"`
	Entries map[op.ID]forge.RoleEntry `cbor:"2,keyasint"`
	Mods    map[op.ID]forge.ModEntry  `cbor:"3,keyasint,omitempty"`
	Base    *forge.RolesID            `cbor:"4,keyasint,omitempty"`
	Depth   int                       `cbor:"5,keyasint,omitempty"`
}

// encodeRoles returns the stored form of r: a delta on its parent when
// the parent is stored (or written by this transaction) and the chain is
// short, else the whole state.
func (t *txn) encodeRoles(r *forge.Roles) ([]byte, error) {
	v := storedRoles{Owner: r.Owner, Entries: r.Entries, Mods: r.Mods}
	if parent, entries, mods, depth, ok := r.Delta(); ok && depth%rolesSnapshotEvery != 0 {
		stored := t.newRoles[parent] != nil
		if !stored {
			var err error
			if stored, err = t.s.has(key1(tagRoles, parent[:])); err != nil {
				return nil, err
			}
		}
		if stored {
			v = storedRoles{Owner: r.Owner, Entries: entries, Mods: mods, Base: &parent, Depth: depth}
		}
	}
	return encMode.Marshal(v)
}

// decodeRoles reads the stored role state id, reached through hops
// deltas, loading its base when it is a delta. A chain of deltas is never
// longer than rolesSnapshotEvery, so a longer one (or a cycle) is damage,
// and the result must have the ID it is stored under.
func (s *Store) decodeRoles(id forge.RolesID, b []byte, hops int) (*forge.Roles, error) {
	var v storedRoles
	if err := decMode.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("storage: role state: %v: %w", err, ErrCorrupt)
	}
	var r *forge.Roles
	if v.Base == nil {
		if v.Entries == nil {
			v.Entries = map[op.ID]forge.RoleEntry{}
		}
		r = &forge.Roles{Owner: v.Owner, Entries: v.Entries, Mods: v.Mods}
	} else {
		if v.Depth <= 0 || v.Depth%rolesSnapshotEvery == 0 || hops+1 >= rolesSnapshotEvery {
			return nil, fmt.Errorf("storage: role state %s: delta at depth %d, %d deltas from the state read: %w", id.String()[:8], v.Depth, hops, ErrCorrupt)
		}
		base, err := s.loadRolesVia(*v.Base, hops+1)
		if err != nil {
			return nil, err
		}
		r = forge.ExtendRoles(base, v.Entries, v.Mods, v.Depth)
	}
	if r.ID() != id {
		return nil, fmt.Errorf("storage: role state %s reads back as %s: %w", id.String()[:8], r.ID().String()[:8], ErrCorrupt)
	}
	return r, nil
}
