package storage

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// FuzzDecodeRoles reads arbitrary bytes as a stored role state, whole or a
// delta on a stored base (or on itself, a cycle): a decoder error is fine,
// a panic or an endless chain is not, and a state that decodes has the ID
// it is stored under.
func FuzzDecodeRoles(f *testing.F) {
	s, err := Open("db", &Options{FS: vfs.NewMem()})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	base := forge.NewRoles(identity.PublicKey{1})
	baseID := base.ID()
	full, _ := encMode.Marshal(storedRoles{Owner: base.Owner, Entries: base.Entries})
	if err := s.db.Set(key1(tagRoles, baseID[:]), full, nil); err != nil {
		f.Fatal(err)
	}
	entries := map[op.ID]forge.RoleEntry{{9}: {Add: true, Key: identity.PublicKey{2}}}
	child := forge.ExtendRoles(base, entries, nil, 1)
	delta, _ := encMode.Marshal(storedRoles{Owner: base.Owner, Entries: entries, Base: &baseID, Depth: 1})
	self := child.ID()
	cycle, _ := encMode.Marshal(storedRoles{Owner: base.Owner, Entries: entries, Base: &self, Depth: 1})
	f.Add(full, false)
	f.Add(delta, false)
	f.Add(cycle, true)
	f.Fuzz(func(t *testing.T, b []byte, asChild bool) {
		id := baseID
		if asChild {
			// Stored under the child's ID, so a delta naming that ID
			// as its base is a cycle.
			id = self
			if err := s.db.Set(key1(tagRoles, id[:]), b, nil); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.decodeRoles(id, b, 0)
		if err == nil && r.ID() != id {
			t.Fatalf("decoded state has ID %s, stored under %s", r.ID(), id)
		}
	})
}
