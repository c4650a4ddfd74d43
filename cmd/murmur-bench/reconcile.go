package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"murmur/merkle"
)

func init() {
	register("reconcile", "Merkle reconciliation of two op sets (merkle.Simulate): round trips and bytes", reconcile)
}

// reconcileCase is one pair of sets: n items on the fuller side, d of
// them missing on the other, either the d newest or d scattered ones.
type reconcileCase struct {
	n, d      int
	scattered bool
}

func (c reconcileCase) name() string {
	s := fmt.Sprintf("n=%d,d=%d", c.n, c.d)
	switch {
	case c.d <= 1:
	case c.scattered:
		s += ",scattered"
	default:
		s += ",newest"
	}
	return s
}

// reconcile runs the merkle protocol in memory between a replica that
// lacks d ops (the initiator, as a node back from offline work would be)
// and one that has all n, and reports the messages' cost against the
// lower bound of d × 32 bytes of IDs.
func reconcile() ([]Result, error) {
	cases := []reconcileCase{
		{n: 100_000, d: 0},
		{n: 100_000, d: 1},
		{n: 100_000, d: 100},
		{n: 100_000, d: 100, scattered: true},
		{n: 100_000, d: 10_000},
	}
	var out []Result
	for _, c := range cases {
		items := syntheticItems(c.n, 1)
		missing := make(map[int]bool, c.d)
		if c.scattered {
			rng := rand.New(rand.NewPCG(2, 3))
			for len(missing) < c.d {
				missing[rng.IntN(c.n)] = true
			}
		} else {
			for i := c.n - c.d; i < c.n; i++ {
				missing[i] = true
			}
		}
		partial := make([]merkle.Item, 0, c.n-c.d)
		for i, it := range items {
			if !missing[i] {
				partial = append(partial, it)
			}
		}
		res, err := merkle.Simulate(merkle.FromItems(partial), merkle.FromItems(items))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name(), err)
		}
		if len(res.Need) != c.d || len(res.Have) != 0 {
			return nil, fmt.Errorf("%s: reconciliation found %d needed and %d extra, want %d and 0", c.name(), len(res.Need), len(res.Have), c.d)
		}
		out = append(out,
			Result{"reconcile", c.name(), "round_trips", res.RoundTrips, "round trips"},
			Result{"reconcile", c.name(), "overhead_bytes", float64(res.OverheadBytes), "bytes"},
			Result{"reconcile", c.name(), "lower_bound_bytes", float64(c.d * 32), "bytes"},
		)
	}
	return out, nil
}

// syntheticItems returns n items with increasing clocks (a few sharing a
// millisecond, like a busy replica's ops) and pseudo-random IDs.
func syntheticItems(n int, seed uint64) []merkle.Item {
	rng := rand.New(rand.NewPCG(seed, 7))
	items := make([]merkle.Item, n)
	clock := uint64(1_700_000_000_000) << 16
	var b [16]byte
	for i := range items {
		clock += uint64(rng.IntN(3)) << 16
		clock++
		binary.BigEndian.PutUint64(b[:8], clock)
		binary.BigEndian.PutUint64(b[8:], rng.Uint64())
		items[i] = merkle.Item{Clock: clock, ID: sha256.Sum256(b[:])}
	}
	return items
}
