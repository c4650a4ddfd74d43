package storage

import (
	"bytes"
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2"

	"murmur/op"
)

// Finding is one problem Check found.
type Finding struct {
	// Kind: "damaged" (Pebble could not read a file), "op" (a stored op
	// does not decode, verify or match its key), "index" (a derived table
	// differs from what a rebuild from the ops gives).
	Kind string `json:"kind"`
	// File is the damaged file's name, for "damaged".
	File string `json:"file,omitempty"`
	// Op is the op's ID (hex), for "op".
	Op string `json:"op,omitempty"`
	// Table names the derived table, for "index".
	Table string `json:"table,omitempty"`
	// Detail says what is wrong.
	Detail string `json:"detail"`
}

// CheckReport is the result of Check.
type CheckReport struct {
	Ops      int       `json:"ops"`     // stored ops read
	Pending  int       `json:"pending"` // ops waiting for dependencies read
	Findings []Finding `json:"findings,omitempty"`
}

// maxFindings bounds the findings Check lists per kind of check.
const maxFindings = 100

// derivedTables are the tables Rebuild recomputes, by name.
var derivedTables = []struct {
	tag  byte
	name string
}{
	{tagOp, "op metas"}, {tagHead, "heads"}, {tagRoles, "role states"}, {tagRepo, "repos"},
	{tagObject, "objects"}, {tagComment, "comments"}, {tagSummary, "listing index"},
	{tagPosting, "search index"}, {tagIndexed, "search index records"},
}

// Check reads the whole store and reports what is wrong with it: Pebble's
// own consistency check of its levels, every block read with its
// checksum, every op decoded and its signature and ID verified, and every
// derived table compared with a rebuild from the ops. The rebuild is made
// in scratch, a directory Check creates and removes. Check does not change
// the store. The error is for a failure to run the check, not for what it
// found.
func (s *Store) Check(scratch string) (CheckReport, error) {
	var rep CheckReport
	add := func(f Finding) {
		if len(rep.Findings) < 3*maxFindings {
			rep.Findings = append(rep.Findings, f)
		}
	}
	damage := func(err error) {
		err = s.damaged("check", err)
		f := Finding{Kind: "damaged", Detail: err.Error()}
		if de, ok := err.(*DamageError); ok {
			f.File, f.Detail = de.File, de.Problem
		}
		add(f)
	}
	if err := s.db.CheckLevels(nil); err != nil {
		damage(err)
	}
	// Every key and value: each block is read and its checksum verified.
	if err := s.scan(nil, func(k, v []byte) error { return nil }); err != nil {
		damage(err)
		// The rest would stop at the same block.
		return rep, nil
	}
	bad := 0
	verify := func(tag byte, raw []byte, k []byte) {
		var want op.ID
		copy(want[:], k[1:])
		o, err := op.DecodeVerified(raw)
		switch {
		case err != nil:
		case len(k) != 33 || o.ID() != want:
			err = fmt.Errorf("stored under %x, but its ID is %s", k[1:], o.ID())
		case tag == tagOp:
			ok, herr := s.has(clockKey(o.RepoID(), o.Clock, o.ID()))
			if herr != nil {
				err = herr
			} else if !ok {
				err = fmt.Errorf("missing from its repo's clock order")
			}
		}
		if err != nil && bad < maxFindings {
			bad++
			add(Finding{Kind: "op", Op: fmt.Sprintf("%x", k[1:]), Detail: err.Error()})
		}
	}
	err := s.scan([]byte{tagOp}, func(k, v []byte) error {
		rep.Ops++
		_, raw, err := splitOpValue(v)
		if err != nil {
			raw = nil
		}
		verify(tagOp, raw, k)
		return nil
	})
	if err == nil {
		err = s.scan([]byte{tagPending}, func(k, v []byte) error {
			rep.Pending++
			verify(tagPending, v, k)
			return nil
		})
	}
	if err != nil {
		damage(err)
		return rep, nil
	}
	found, err := s.compareWithRebuild(scratch)
	if err != nil {
		return rep, err
	}
	for _, f := range found {
		add(f)
	}
	return rep, nil
}

// compareWithRebuild copies the ops to a new store in scratch, rebuilds
// it, and compares its derived tables with this store's.
func (s *Store) compareWithRebuild(scratch string) ([]Finding, error) {
	if err := os.RemoveAll(scratch); err != nil {
		return nil, fmt.Errorf("storage: check: clear %s: %w", scratch, err)
	}
	defer os.RemoveAll(scratch)
	r, err := Open(scratch, &Options{Now: s.opts.Now, MaxDrift: s.opts.MaxDrift, MaxPending: s.opts.MaxPending})
	if err != nil {
		return nil, fmt.Errorf("storage: check: %w", err)
	}
	defer r.Close()
	for _, tag := range []byte{tagOp, tagClock} {
		b := r.db.NewBatch()
		err := s.scan([]byte{tag}, func(k, v []byte) error {
			if err := b.Set(k, v, nil); err != nil {
				return err
			}
			if b.Len() < 4<<20 {
				return nil
			}
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b.Reset()
			return nil
		})
		if err == nil {
			err = b.Commit(pebble.NoSync)
		}
		b.Close()
		if err != nil {
			return nil, fmt.Errorf("storage: check: copy ops: %w", err)
		}
	}
	if err := r.Rebuild(); err != nil {
		return []Finding{{Kind: "op", Detail: "the ops do not rebuild: " + err.Error()}}, nil
	}
	var out []Finding
	for _, t := range derivedTables {
		n, first, err := diffTable(s.db, r.db, []byte{t.tag})
		if err != nil {
			return nil, fmt.Errorf("storage: check: compare %s: %w", t.name, err)
		}
		if n > 0 {
			out = append(out, Finding{Kind: "index", Table: t.name,
				Detail: fmt.Sprintf("%d entries differ from a rebuild from the ops (first at key %x)", n, first)})
		}
	}
	return out, nil
}

// diffTable counts the keys under prefix whose presence or value differs
// between a and b, and returns the first.
func diffTable(a, b *pebble.DB, prefix []byte) (int, []byte, error) {
	o := &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)}
	ia, err := a.NewIter(o)
	if err != nil {
		return 0, nil, err
	}
	defer ia.Close()
	ib, err := b.NewIter(o)
	if err != nil {
		return 0, nil, err
	}
	defer ib.Close()
	n := 0
	var first []byte
	differ := func(k []byte) {
		if n == 0 {
			first = bytes.Clone(k)
		}
		n++
	}
	va, vb := ia.First(), ib.First()
	for va || vb {
		c := 0
		switch {
		case !va:
			c = 1
		case !vb:
			c = -1
		default:
			c = bytes.Compare(ia.Key(), ib.Key())
		}
		switch {
		case c < 0:
			differ(ia.Key())
			va = ia.Next()
		case c > 0:
			differ(ib.Key())
			vb = ib.Next()
		default:
			if !bytes.Equal(ia.Value(), ib.Value()) {
				differ(ia.Key())
			}
			va, vb = ia.Next(), ib.Next()
		}
	}
	if err := ia.Error(); err != nil {
		return 0, nil, err
	}
	return n, first, ib.Error()
}
