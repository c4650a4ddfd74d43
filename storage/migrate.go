package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"murmur/crdt"
)

// Store formats and what opening an older one does:
//
//	1 → 2  op metas are decoded in either encoding (meta.go); nothing is
//	       rewritten.
//	2 → 3  the listing index gains the update clock in its keys, so that a
//	       first page reads only its own entries: migrateSummaries rewrites
//	       every 's' key before the format key says 3.
//	3 → 4  role states may be stored as deltas on their parent (roles.go);
//	       nothing is rewritten.
//	4 → 5  the full-text index ('x', 'X'; search.go) is built from the
//	       materialized objects and comments by migrateSearch.
//	5 → 6  the inbox index (inbox.go) is built from the stored ops
//	       (backfillInbox) before the format key says 6.

// summaryKeyLenV2 is the length of a format-2 summary key:
// 's' ‖ repo ‖ type ‖ state ‖ objectID.
const summaryKeyLenV2 = 1 + 32 + 1 + 1 + 32

// migrateBatch bounds the summaries rewritten in one batch, and so the
// memory a migration holds.
const migrateBatch = 4096

// migrateSummaries rewrites format-2 listing index keys in the format-3
// layout, in batches; the format key is written after it returns. A
// migration cut short leaves both layouts and the old format key, and the
// next open finishes it: format-3 keys are left as they are. A summary
// whose value does not decode is dropped, since it could not be listed
// either; Check then reports it missing and Rebuild restores it. It runs
// during Open, before the store is shared.
func (s *Store) migrateSummaries() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagSummary}, UpperBound: []byte{tagSummary + 1}})
	if err != nil {
		return s.damaged("migrate listing index", err)
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	commit := func() error {
		if err := b.Commit(pebble.NoSync); err != nil || s.fence.failure() != nil {
			return fmt.Errorf("storage: migrate listing index: %w", s.failedLocked(err))
		}
		b.Close()
		b = s.db.NewBatch()
		return nil
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != summaryKeyLenV2 {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return s.damaged("migrate listing index", err)
		}
		var u struct {
			Updated crdt.Timestamp `cbor:"11,keyasint"`
		}
		if err := decMode.Unmarshal(v, &u); err == nil {
			nk := make([]byte, 0, summaryKeyLen)
			nk = append(nk, k[:summaryRankAt]...)
			nk = binary.BigEndian.AppendUint64(nk, ^uint64(u.Updated))
			nk = append(nk, k[summaryRankAt:]...)
			if err := b.Set(nk, v, nil); err != nil {
				return fmt.Errorf("storage: migrate listing index: %w", err)
			}
		}
		if err := b.Delete(k, nil); err != nil {
			return fmt.Errorf("storage: migrate listing index: %w", err)
		}
		if b.Count() >= 2*migrateBatch {
			if err := commit(); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return s.damaged("migrate listing index", err)
	}
	return commit()
}
