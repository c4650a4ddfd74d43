package storage_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// orphans signs n issues of repo g by k whose parents nobody has.
func orphans(t testing.TB, k *identity.Key, g *op.Op, n int) []*op.Op {
	t.Helper()
	out := make([]*op.Op, n)
	for i := range out {
		missing := op.ID(sha256.Sum256(fmt.Appendf(nil, "missing %s %d", k.Public().Short(), i)))
		out[i] = signOp(t, k, g.ID(), []op.ID{missing}, g.Clock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("orphan %d", i)})
	}
	return out
}

func ingestFrom(t testing.TB, s *storage.Store, peer identity.PublicKey, ops ...*op.Op) storage.Report {
	t.Helper()
	rep, err := s.IngestFrom(peer, ops)
	if err != nil {
		t.Fatalf("IngestFrom: %v", err)
	}
	return rep
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestPendingQuotas(t *testing.T) {
	kA, kB := testKey(t, 1), testKey(t, 2)
	peerA, peerB := kA.Public(), kB.Public()
	g := genesis(t, kA, "murmur")

	t.Run("per peer", func(t *testing.T) {
		s := open(t, nil, &storage.Options{MaxPending: 100, MaxPendingPerPeer: 3, MaxPendingPerAuthor: 100})
		ingest(t, s, g)
		flood := orphans(t, kA, g, 5)
		rep := ingestFrom(t, s, peerA, flood...)
		want := append(repeat(storage.Waiting, 3), repeat(storage.Dropped, 2)...)
		if !slices.Equal(rep.Outcomes, want) || !errors.Is(rep.Errors[4], storage.ErrPeerQuota) {
			t.Errorf("flood outcomes = %v, errors %v; want %v, ErrPeerQuota", rep.Outcomes, rep.Errors, want)
		}
		// The same author through another peer still fits.
		if rep := ingestFrom(t, s, peerB, flood[4]); rep.Outcomes[0] != storage.Waiting {
			t.Errorf("another peer: %v, want Waiting", rep.Outcomes)
		}
		if a, b := s.PendingOf(peerA), s.PendingOf(peerB); a != 3 || b != 1 {
			t.Errorf("PendingOf = %d, %d; want 3, 1", a, b)
		}
	})

	t.Run("per author", func(t *testing.T) {
		s := open(t, nil, &storage.Options{MaxPending: 100, MaxPendingPerPeer: 100, MaxPendingPerAuthor: 3})
		ingest(t, s, g)
		flood := orphans(t, kA, g, 4)
		ingestFrom(t, s, peerA, flood[:2]...)
		rep := ingestFrom(t, s, peerB, flood[2:]...)
		if !slices.Equal(rep.Outcomes, []storage.Outcome{storage.Waiting, storage.Dropped}) || !errors.Is(rep.Errors[1], storage.ErrAuthorQuota) {
			t.Errorf("outcomes = %v, errors %v; want Waiting, Dropped (ErrAuthorQuota)", rep.Outcomes, rep.Errors)
		}
		if rep := ingestFrom(t, s, peerB, orphans(t, kB, g, 1)...); rep.Outcomes[0] != storage.Waiting {
			t.Errorf("another author: %v, want Waiting", rep.Outcomes)
		}
	})

	t.Run("parked ops count", func(t *testing.T) {
		now := time.UnixMilli(baseClock.Wall()).Add(time.Hour)
		s := open(t, nil, &storage.Options{MaxPendingPerPeer: 2, MaxDrift: time.Minute, Now: func() time.Time { return now }})
		ingest(t, s, g)
		future := crdtAt(now.Add(365 * 24 * time.Hour))
		var ops []*op.Op
		for i := range 3 {
			ops = append(ops, signOp(t, kA, g.ID(), []op.ID{g.ID()}, future, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprint(i)}))
		}
		rep := ingestFrom(t, s, peerA, ops...)
		if !slices.Equal(rep.Outcomes, []storage.Outcome{storage.Parked, storage.Parked, storage.Dropped}) || !errors.Is(rep.Errors[2], storage.ErrPeerQuota) {
			t.Errorf("outcomes = %v, errors %v; want Parked, Parked, Dropped (ErrPeerQuota)", rep.Outcomes, rep.Errors)
		}
	})

	t.Run("full pool evicts the largest holder's oldest", func(t *testing.T) {
		s := open(t, nil, &storage.Options{MaxPending: 6, MaxPendingPerPeer: 6, MaxPendingPerAuthor: 6})
		ingest(t, s, g)
		flood := orphans(t, kA, g, 7)
		ingestFrom(t, s, peerA, flood[:6]...)
		// B's issue arrives before its parent: it needs the pool.
		honest := chain(t, kB, g, 2)
		rep := ingestFrom(t, s, peerB, honest[1])
		if rep.Outcomes[0] != storage.Waiting || rep.Evicted != 1 {
			t.Fatalf("honest child: %v, %d evicted; want Waiting, 1", rep.Outcomes, rep.Evicted)
		}
		// A is now the largest holder itself: its next op is dropped.
		rep = ingestFrom(t, s, peerA, flood[6])
		if rep.Outcomes[0] != storage.Dropped || !errors.Is(rep.Errors[0], storage.ErrPendingFull) {
			t.Errorf("flood over a full pool: %v, %v; want Dropped, ErrPendingFull", rep.Outcomes, rep.Errors)
		}
		rep = ingestFrom(t, s, peerB, honest[0])
		if rep.Outcomes[0] != storage.Stored || rep.Released != 1 {
			t.Errorf("honest parent: %v, %d released; want Stored, 1", rep.Outcomes, rep.Released)
		}
		if ok, _ := s.HasOp(honest[1].ID()); !ok {
			t.Error("the honest child was not applied")
		}
		// The oldest orphan was evicted, so it is new again; the next is not.
		rep = ingestFrom(t, s, peerA, flood[0], flood[1])
		if !slices.Equal(rep.Outcomes, []storage.Outcome{storage.Waiting, storage.Duplicate}) {
			t.Errorf("re-sent orphans: %v, want Waiting (evicted), Duplicate", rep.Outcomes)
		}
	})

	t.Run("reopen charges authors", func(t *testing.T) {
		fs := vfs.NewMem()
		s := open(t, fs, &storage.Options{MaxPending: 100, MaxPendingPerPeer: 100, MaxPendingPerAuthor: 3})
		ingest(t, s, g)
		flood := orphans(t, kA, g, 4)
		ingestFrom(t, s, peerA, flood[:3]...)
		s.Close()
		s = open(t, fs, &storage.Options{MaxPending: 100, MaxPendingPerPeer: 100, MaxPendingPerAuthor: 3})
		if n, a := s.PendingOf(peerA), s.PendingOf(identity.PublicKey{}); n != 3 || a != 0 {
			t.Errorf("PendingOf(author, zero key) after reopen = %d, %d; want 3, 0", n, a)
		}
		if rep := ingestFrom(t, s, peerB, flood[3]); rep.Outcomes[0] != storage.Dropped {
			t.Errorf("author over quota after reopen: %v, want Dropped", rep.Outcomes)
		}
	})
}

// TestPendingPoolProperties drives a small pool with random deliveries of
// children before their parents, from several peers and authors, with
// reopenings, and checks the bounds after every step; then every parent
// and every child is delivered once more (as anti-entropy would) and all
// of them must be stored with nothing left pending.
func TestPendingPoolProperties(t *testing.T) {
	const maxPending, perPeer, perAuthor = 20, 8, 8
	opts := &storage.Options{MaxPending: maxPending, MaxPendingPerPeer: perPeer, MaxPendingPerAuthor: perAuthor}
	keys := []*identity.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	peers := []identity.PublicKey{keys[0].Public(), keys[1].Public(), keys[2].Public(), {}}
	g := genesis(t, keys[0], "murmur")
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			parents := chain(t, keys[0], g, 10)
			var children []*op.Op
			for i := range 60 {
				p := parents[rng.IntN(len(parents))]
				k := keys[rng.IntN(len(keys))]
				children = append(children, signOp(t, k, g.ID(), []op.ID{p.ID()}, p.Clock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprint(i)}))
			}
			fs := vfs.NewMem()
			s := open(t, fs, opts)
			ingest(t, s, g)
			check := func(step int) {
				t.Helper()
				total := 0
				for _, p := range peers {
					n := s.PendingOf(p)
					if n > perPeer {
						t.Fatalf("step %d: PendingOf(%s) = %d, over the quota %d", step, p.Short(), n, perPeer)
					}
					total += n
				}
				if got := s.Pending(); got > maxPending || got != total {
					t.Fatalf("step %d: Pending() = %d, per-peer sum %d, limit %d", step, got, total, maxPending)
				}
			}
			for step := range 150 {
				peer := peers[rng.IntN(len(peers))]
				switch r := rng.IntN(20); {
				case r == 0:
					s.Close()
					s = open(t, fs, opts)
				case r < 4:
					ingestFrom(t, s, peer, parents[rng.IntN(len(parents))])
				default:
					ingestFrom(t, s, peer, children[rng.IntN(len(children))])
				}
				check(step)
			}
			ingestFrom(t, s, peers[0], parents...)
			for _, c := range children {
				rep := ingestFrom(t, s, peers[rng.IntN(len(peers))], c)
				if o := rep.Outcomes[0]; o != storage.Stored && o != storage.Duplicate {
					t.Fatalf("re-delivered child: %v, %v", o, rep.Errors[0])
				}
			}
			if n, _ := s.OpCount(g.ID()); n != 1+len(parents)+len(children) || s.Pending() != 0 {
				t.Errorf("OpCount = %d, Pending %d; want %d, 0", n, s.Pending(), 1+len(parents)+len(children))
			}
		})
	}
}
