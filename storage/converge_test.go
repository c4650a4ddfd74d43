package storage_test

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"murmur/forge"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomized history tests (0: random)")

func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d)", seed, seed)
	return seed
}

// TestConvergence builds a random concurrent history on six replicas, then
// delivers the whole op set to fresh stores in random orders (children
// before parents, duplicates, random batch sizes) and checks that every
// store, and every replica that made the history, ends in the same state:
// repo registers and refs, every object, the listing index, heads, role
// state and the acceptance of every op.
func TestConvergence(t *testing.T) {
	seed := testSeed(t)
	// The race detector slows this test down tenfold; it still gets a
	// thousand ops, compared on fewer stores.
	n, perms, replicas := 1200, 3, 0
	if raceEnabled {
		n, perms, replicas = 1000, 2, 3
	}
	h := newHistory(t, seed)
	h.run(n)
	t.Logf("%d ops: %v", len(h.ops), h.stats)
	if replicas == 0 {
		replicas = len(h.authors)
	}

	want := takeSnapshot(t, h.authors[0].store)
	rejected := 0
	for _, m := range want.Metas {
		if !m.Accepted {
			rejected++
		}
	}
	if len(want.Metas) != len(h.ops) || want.Pending != 0 {
		t.Fatalf("reference replica holds %d ops, %d pending; want %d, 0", len(want.Metas), want.Pending, len(h.ops))
	}
	// The generator must have produced what this test is about.
	if rejected == 0 || h.stats["(merge)"] == 0 || len(want.Objects) < 5 {
		t.Fatalf("history too tame: %d rejected, %d merges, %d objects", rejected, h.stats["(merge)"], len(want.Objects))
	}

	for _, a := range h.authors[1:replicas] {
		if d := diffSnapshots(want, takeSnapshot(t, a.store)); d != "" {
			t.Fatalf("replica %s differs from %s (-%s +%s):\n%s", a.name, h.authors[0].name, h.authors[0].name, a.name, d)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range perms {
		s := open(t, nil, nil)
		deliverAll(t, s, h.permute(rng), rng)
		if s.Pending() != 0 {
			t.Errorf("permutation %d: %d ops still pending", i, s.Pending())
		}
		if d := diffSnapshots(want, takeSnapshot(t, s)); d != "" {
			t.Fatalf("permutation %d differs from the replicas (-replica +permutation):\n%s", i, d)
		}
	}
}

// TestRebuild checks that Rebuild recomputes exactly the derived state
// that incremental application produced.
func TestRebuild(t *testing.T) {
	seed := testSeed(t)
	h := newHistory(t, seed)
	h.run(400)
	s := open(t, nil, nil)
	rng := rand.New(rand.NewPCG(seed, 2))
	deliverAll(t, s, h.permute(rng), rng)
	want := takeSnapshot(t, s)
	if err := s.Rebuild(); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if d := diffSnapshots(want, takeSnapshot(t, s)); d != "" {
		t.Fatalf("state after Rebuild differs (-before +after):\n%s", d)
	}
	// The rebuilt store keeps working.
	a := h.authors[0]
	mustCreate(t, s, h.repo, a.key, forge.KindIssueOpen, [32]byte{}, forge.IssueOpen{Title: "after rebuild"})
	if n, err := s.OpCount(h.repo); err != nil || n != len(h.ops)+1 {
		t.Errorf("OpCount after Rebuild and Create = %d, %v; want %d", n, err, len(h.ops)+1)
	}
}
