package storage

import (
	"bytes"
	"container/heap"
	"fmt"
	"slices"

	"murmur/forge"
	"murmur/op"
)

// ListSummaries returns the summaries of a repo's issues or patches in
// state ("" for every state) that keep accepts (nil keeps all), most
// recently updated first, ties by ID. With limit > 0 it returns at most
// limit of them and holds no more than that in memory, however many the
// repo has; it still reads every summary in the state, since the listing
// index is ordered by ID.
func (s *Store) ListSummaries(repo op.ID, typ forge.ObjectType, state string, limit int, keep func(*forge.Summary) bool) ([]forge.Summary, error) {
	prefix := summaryPrefix(repo, typeCode(typ))
	if state != "" {
		prefix = append(prefix, stateCode(state))
	}
	top := summaryHeap{}
	err := s.scan(prefix, func(_, v []byte) error {
		var sm forge.Summary
		if err := decMode.Unmarshal(v, &sm); err != nil {
			return fmt.Errorf("storage: summary: %v: %w", err, ErrCorrupt)
		}
		switch {
		case keep != nil && !keep(&sm):
		case limit <= 0 || len(top) < limit:
			heap.Push(&top, sm)
		case newerSummary(sm, top[0]):
			top[0] = sm
			heap.Fix(&top, 0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []forge.Summary(top)
	slices.SortFunc(out, func(a, b forge.Summary) int {
		switch {
		case newerSummary(a, b):
			return -1
		case newerSummary(b, a):
			return 1
		}
		return 0
	})
	return out, nil
}

// newerSummary reports whether a lists before b: updated later, or at the
// same time with a smaller ID.
func newerSummary(a, b forge.Summary) bool {
	if a.Updated != b.Updated {
		return a.Updated > b.Updated
	}
	return bytes.Compare(a.ID[:], b.ID[:]) < 0
}

// summaryHeap keeps the summaries that list first, the one that lists
// last on top, so that a newer summary replaces it.
type summaryHeap []forge.Summary

func (h summaryHeap) Len() int           { return len(h) }
func (h summaryHeap) Less(i, j int) bool { return newerSummary(h[j], h[i]) }
func (h summaryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *summaryHeap) Push(x any)        { *h = append(*h, x.(forge.Summary)) }
func (h *summaryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
