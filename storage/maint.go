package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

func sortHeads(hs []headMeta) {
	slices.SortFunc(hs, func(a, b headMeta) int {
		if a.clock != b.clock {
			if a.clock > b.clock {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
}

// Release hands parked ops whose clocks local time has now reached back to
// the store (they are applied, or wait for dependencies). The node calls it
// periodically.
func (s *Store) Release() (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A failed store tries to reopen here too, so that a node resumes
	// writing without waiting for a write; it reports the failure only
	// when there is something to release.
	werr := s.writableLocked()
	limit := crdt.NewTimestamp(s.opts.Now().Add(s.opts.MaxDrift).UnixMilli(), crdt.MaxLogical)
	var due []*op.Op
	var keys [][]byte
	err := s.scan([]byte{tagParked}, func(k, _ []byte) error {
		if crdt.Timestamp(binary.BigEndian.Uint64(k[1:9])) > limit {
			return errStop
		}
		var id op.ID
		copy(id[:], k[9:])
		v, ok, err := s.get(key1(tagPending, id[:]))
		if err != nil {
			return err
		}
		keys = append(keys, bytes.Clone(k))
		if !ok {
			return nil
		}
		o, err := op.Trusted(v)
		if err != nil {
			return fmt.Errorf("storage: parked op %s: %v: %w", id.Short(), err, ErrCorrupt)
		}
		due = append(due, o)
		return nil
	})
	if err != nil && err != errStop {
		return Report{}, err
	}
	if len(keys) == 0 {
		return Report{}, nil
	}
	if werr != nil {
		return Report{}, werr
	}
	t := s.newTxn()
	defer t.close()
	for _, k := range keys {
		t.b.Delete(k, nil)
	}
	from := make([]identity.PublicKey, len(due))
	for i, o := range due {
		id := o.ID()
		from[i] = s.pool.ids[id].peer // still charged to the peer that sent it
		t.b.Delete(key1(tagPending, id[:]), nil)
		t.unpend(id, o)
		t.unparked[id] = true // the batch deletes it from the pool; add must not see it as pending
	}
	rep := Report{Outcomes: make([]Outcome, len(due)), Errors: make([]error, len(due))}
	for i, o := range due {
		out, err := t.add(o, from[i])
		if err != nil && out == 0 {
			return Report{}, err
		}
		rep.Outcomes[i], rep.Errors[i] = out, err
	}
	if err := t.commit(); err != nil {
		return Report{}, err
	}
	rep.Applied = t.applied
	return rep, nil
}

// Rebuild recomputes every derived table (heads, role states, metas,
// materialized repos and objects, listing index) from the stored ops. Use
// it after a change to how ops are applied, or to repair derived data.
func (s *Store) Rebuild() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	for _, tag := range []byte{tagHead, tagRoles, tagRepo, tagObject, tagComment, tagSummary, tagPosting, tagIndexed} {
		b.DeleteRange([]byte{tag}, []byte{tag + 1}, nil)
	}
	if err := s.fence.guard(func() error { return b.Commit(pebble.Sync) }); err != nil || s.fence.failure() != nil {
		b.Close()
		return fmt.Errorf("storage: rebuild: clear derived data: %w", s.failedLocked(err))
	}
	b.Close()
	s.rolesMu.Lock()
	clear(s.roles)
	s.rolesMu.Unlock()
	s.wcache.drop()

	const batchOps = 5000
	t := s.newTxn()
	t.rebuild = true
	n := 0
	// 'c' keys are grouped by repo and ordered by (clock, ID): a
	// topological order of each repo's DAG, since every stored op's clock
	// exceeds its parents' and target's.
	err := s.scan([]byte{tagClock}, func(k, _ []byte) error {
		var id op.ID
		copy(id[:], k[41:])
		o, err := s.Op(id)
		if err != nil {
			return err
		}
		res, err := forge.Apply(t, o)
		if err != nil {
			return fmt.Errorf("storage: rebuild: op %s: %w", id.Short(), err)
		}
		if err := t.write(o, res); err != nil {
			return err
		}
		n++
		if n%batchOps == 0 {
			if err := t.commit(); err != nil {
				return err
			}
			t.close()
			t = s.newTxn()
			t.rebuild = true
		}
		return nil
	})
	if err == nil {
		err = t.commit()
	}
	t.close()
	if err == nil {
		err = s.backfillInbox()
	}
	if err != nil {
		return fmt.Errorf("storage: rebuild: %w", err)
	}
	return nil
}
