package storage

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"murmur/forge"
	"murmur/op"
)

// stateCodes are every state byte a summary key may hold (see stateCode).
var stateCodes = []byte{'o', 'c', 'd', 'm', '?'}

// ListSummaries returns the summaries of a repo's issues or patches in
// state ("" for every state) that keep accepts (nil keeps all), most
// recently updated first, ties by ID. With limit > 0 it returns at most
// limit of them.
//
// The listing index is ordered that way within each state, so a page
// costs what it returns: ListSummaries reads the index from its start and
// stops once the page is full, merging the states when state is "". A
// filter that rejects most summaries makes it read further, one summary at
// a time, never holding more than the page.
func (s *Store) ListSummaries(repo op.ID, typ forge.ObjectType, state string, limit int, keep func(*forge.Summary) bool) ([]forge.Summary, error) {
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()
	// The states are read with one iterator each; a snapshot gives them
	// one point in time, so an object that changes state meanwhile is
	// listed once.
	snap := db.NewSnapshot()
	defer snap.Close()
	codes := stateCodes
	if state != "" {
		codes = []byte{stateCode(state)}
	}
	prefix := summaryPrefix(repo, typeCode(typ))
	its := make([]*pebble.Iterator, 0, len(codes))
	defer func() {
		for _, it := range its {
			it.Close()
		}
	}()
	for _, c := range codes {
		p := append(bytes.Clone(prefix), c)
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return nil, s.damaged("read", err)
		}
		its = append(its, it)
		it.First()
	}
	var out []forge.Summary
	for limit <= 0 || len(out) < limit {
		// The next summary is the smallest ^updated ‖ ID among the
		// states' current keys.
		var next *pebble.Iterator
		for _, it := range its {
			if !it.Valid() {
				if err := it.Error(); err != nil {
					return nil, s.damaged("read", err)
				}
				continue
			}
			if len(it.Key()) != summaryKeyLen {
				return nil, fmt.Errorf("storage: listing index key %x has length %d, want %d: %w", it.Key(), len(it.Key()), summaryKeyLen, ErrCorrupt)
			}
			if next == nil || bytes.Compare(it.Key()[summaryRankAt:], next.Key()[summaryRankAt:]) < 0 {
				next = it
			}
		}
		if next == nil {
			break
		}
		v, err := next.ValueAndErr()
		if err != nil {
			return nil, s.damaged("read", err)
		}
		var sm forge.Summary
		if err := decMode.Unmarshal(v, &sm); err != nil {
			return nil, fmt.Errorf("storage: summary: %v: %w", err, ErrCorrupt)
		}
		if keep == nil || keep(&sm) {
			out = append(out, sm)
		}
		next.Next()
	}
	return out, nil
}
