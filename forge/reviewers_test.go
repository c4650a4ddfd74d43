package forge_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// TestReviewersSetLaw checks the requested reviewers of a patch as an
// OR-Set: replicas that receive the same adds and removes in any order
// agree, and a remove takes away only the adds it names, so an add
// concurrent with a remove wins. Only the patch author or a maintainer
// may request.
func TestReviewersSetLaw(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			w := newWorld(t)
			patch := w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA})
			prefix := sortedByClock(w)
			who := []identity.PublicKey{w.pub("bob"), w.pub("carol"), w.pub("maint")}
			// Each replica of the model: which add ops each remove saw.
			adds := map[op.ID]identity.PublicKey{}
			removed := map[op.ID]bool{}
			var made []*op.Op
			for range 40 {
				parents := w.m.headList(w.repo)
				if len(made) > 0 && rng.IntN(2) == 0 {
					parents = []op.ID{made[rng.IntN(len(made))].ID()}
				}
				k := who[rng.IntN(len(who))]
				author := []string{"alice", "owner"}[rng.IntN(2)]
				var o *op.Op
				if seen := addsBefore(w, parents, adds, k); len(seen) > 0 && rng.IntN(3) == 0 {
					o = w.makeOn(parents, author, forge.KindReviewerDel, patch, forge.Remove{Value: k.DID(), Tags: seen})
					for _, id := range seen {
						removed[id] = true
					}
				} else {
					o = w.makeOn(parents, author, forge.KindReviewerAdd, patch, forge.Member{Key: k})
					adds[o.ID()] = k
				}
				made = append(made, o)
			}
			var want []identity.PublicKey
			for id, k := range adds {
				if !removed[id] && !slices.Contains(want, k) {
					want = append(want, k)
				}
			}
			slices.SortFunc(want, func(a, b identity.PublicKey) int { return slices.Compare(a[:], b[:]) })
			for replica := range 4 {
				s := newMemStore()
				for _, id := range prefix {
					replay(t, s, w, id)
				}
				order := append([]*op.Op(nil), made...)
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				s.deliver(t, order...)
				for _, o := range made {
					if !s.metas[o.ID()].Accepted {
						t.Fatalf("%s %s rejected: %s", o.Kind, o.ID().Short(), s.metas[o.ID()].Reason)
					}
				}
				if got := s.object(t, patch).ReviewerKeys(); !slices.Equal(got, want) {
					t.Fatalf("replica %d reviewers = %v, want %v", replica, got, want)
				}
			}
		})
	}
}

// addsBefore returns the add ops of k among the ancestors of parents: what
// a remove made on parents observes.
func addsBefore(w *world, parents []op.ID, adds map[op.ID]identity.PublicKey, k identity.PublicKey) []op.ID {
	seen := map[op.ID]bool{}
	stack := slices.Clone(parents)
	var out []op.ID
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if a, ok := adds[id]; ok && a == k {
			out = append(out, id)
		}
		if o := w.ops[id]; o != nil {
			stack = append(stack, o.Parents...)
		}
	}
	slices.SortFunc(out, func(a, b op.ID) int { return slices.Compare(a[:], b[:]) })
	return out
}

// TestReviewersAuthorization: bob, neither the patch author nor a
// maintainer, cannot request reviewers; reviewers are for patches only.
func TestReviewersAuthorization(t *testing.T) {
	w := newWorld(t)
	patch := w.must("patch", "alice", forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: commitA})
	issue := w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "i"})
	if _, res := w.do("bob", forge.KindReviewerAdd, patch, forge.Member{Key: w.pub("carol")}); res.Meta.Accepted {
		t.Errorf("reviewer.add by bob accepted, want rejected")
	}
	if _, res := w.do("alice", forge.KindReviewerAdd, issue, forge.Member{Key: w.pub("carol")}); res.Meta.Accepted {
		t.Errorf("reviewer.add on an issue accepted, want rejected")
	}
	w.must("", "owner", forge.KindReviewerAdd, patch, forge.Member{Key: w.pub("carol")})
	if got := w.m.object(t, patch).ReviewerKeys(); len(got) != 1 || got[0] != w.pub("carol") {
		t.Errorf("reviewers = %v, want carol", got)
	}
}
