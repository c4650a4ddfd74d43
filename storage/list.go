package storage

import (
	"bytes"
	"container/heap"
	"fmt"
	"slices"

	"murmur/crdt"
	"murmur/forge"
	"murmur/op"
)

// ListSummaries returns the summaries of a repo's issues or patches in
// state ("" for every state) that keep accepts (nil keeps all), most
// recently updated first, ties by ID. With limit > 0 it returns at most
// limit of them and holds no more than that in memory, however many the
// repo has; it still reads every summary in the state, since the listing
// index is ordered by ID. Without a filter, it decodes only the update
// time of the summaries it does not return.
func (s *Store) ListSummaries(repo op.ID, typ forge.ObjectType, state string, limit int, keep func(*forge.Summary) bool) ([]forge.Summary, error) {
	prefix := summaryPrefix(repo, typeCode(typ))
	if state != "" {
		prefix = append(prefix, stateCode(state))
	}
	top := topK[listed]{limit: limit}
	err := s.scan(prefix, func(k, v []byte) error {
		if keep == nil {
			// Rank by update time and ID (the key's last 32 bytes);
			// decode the rest only for what makes the page.
			var u struct {
				Updated crdt.Timestamp `cbor:"11,keyasint"`
			}
			if err := decMode.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("storage: summary: %v: %w", err, ErrCorrupt)
			}
			c := listed{updated: u.Updated, id: op.ID(k[len(k)-32:])}
			if top.wants(c) {
				c.raw = bytes.Clone(v)
				top.add(c)
			}
			return nil
		}
		var sm forge.Summary
		if err := decMode.Unmarshal(v, &sm); err != nil {
			return fmt.Errorf("storage: summary: %v: %w", err, ErrCorrupt)
		}
		if keep(&sm) {
			top.add(listed{updated: sm.Updated, id: sm.ID, sum: &sm})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(top.items, func(a, b listed) int {
		switch {
		case a.before(b):
			return -1
		case b.before(a):
			return 1
		}
		return 0
	})
	out := make([]forge.Summary, 0, len(top.items))
	for _, c := range top.items {
		if c.sum == nil {
			c.sum = new(forge.Summary)
			if err := decMode.Unmarshal(c.raw, c.sum); err != nil {
				return nil, fmt.Errorf("storage: summary: %v: %w", err, ErrCorrupt)
			}
		}
		out = append(out, *c.sum)
	}
	return out, nil
}

// listed is a summary ranked for a listing: decoded (sum) or not yet
// (raw).
type listed struct {
	updated crdt.Timestamp
	id      op.ID
	sum     *forge.Summary
	raw     []byte
}

// before reports whether a lists before b: updated later, or at the same
// time with a smaller ID.
func (a listed) before(b listed) bool {
	if a.updated != b.updated {
		return a.updated > b.updated
	}
	return bytes.Compare(a.id[:], b.id[:]) < 0
}

// topK keeps the limit items that list first (all of them when limit <=
// 0), the one that lists last on top of a heap, so that a better item
// replaces it.
type topK[T interface{ before(T) bool }] struct {
	limit int
	items []T
}

// wants reports whether c would be kept.
func (h *topK[T]) wants(c T) bool {
	return h.limit <= 0 || len(h.items) < h.limit || c.before(h.items[0])
}

func (h *topK[T]) add(c T) {
	switch {
	case h.limit <= 0 || len(h.items) < h.limit:
		heap.Push(h, c)
	case c.before(h.items[0]):
		h.items[0] = c
		heap.Fix(h, 0)
	}
}

func (h *topK[T]) Len() int           { return len(h.items) }
func (h *topK[T]) Less(i, j int) bool { return h.items[j].before(h.items[i]) }
func (h *topK[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topK[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *topK[T]) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
