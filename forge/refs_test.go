package forge_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"murmur/api"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// TestNamespaceAgreesWithAPI: the forge decides who owns a namespaced
// ref and clients build those names with api's helpers; both must read a
// name the same way.
func TestNamespaceAgreesWithAPI(t *testing.T) {
	k := testKey(t, 9).Public()
	if got, want := forge.NamespaceToken(k), api.NamespaceToken(k.DID()); got != want {
		t.Fatalf("NamespaceToken = %q, api says %q", got, want)
	}
	if forge.NamespacePrefix != api.NamespacePrefix {
		t.Fatalf("NamespacePrefix = %q, api says %q", forge.NamespacePrefix, api.NamespacePrefix)
	}
	for _, name := range []string{
		api.NamespaceRef(k.DID(), "refs/heads/topic"),
		api.NamespaceRef(k.DID(), "refs/tags/v1"),
		"refs/heads/main",
		"refs/namespaces/",
		"refs/namespaces/x",
		"refs/namespaces/x/refs/heads/y",
	} {
		token, ref, ok := forge.SplitNamespace(name)
		atoken, aref := api.SplitNamespace(name)
		if token != atoken || ref != aref || ok != (atoken != "") {
			t.Errorf("SplitNamespace(%q) = %q, %q, %v; api says %q, %q", name, token, ref, ok, atoken, aref)
		}
	}
	if owner, ok := forge.NamespaceOwner(api.NamespaceRef(k.DID(), "refs/heads/x")); !ok || owner != k {
		t.Errorf("NamespaceOwner = %s, %v; want %s", owner.Short(), ok, k.Short())
	}
}

// TestRefForced: a write with Force is shown as forced while it is the
// winner, and a later ordinary write over it is not.
func TestRefForced(t *testing.T) {
	w := newWorld(t)
	const main = "refs/heads/main"
	first := w.must("", "owner", forge.KindRefSet, op.ID{}, forge.RefSet{Name: main, Commit: commitA})
	if w.m.repo(t, w.repo).RefForced(main) {
		t.Fatal("an ordinary write is forced")
	}
	forced := w.must("", "owner", forge.KindRefSet, op.ID{}, forge.RefSet{Name: main, Commit: commitB, Prev: []op.ID{first}, Force: true})
	r := w.m.repo(t, w.repo)
	if c, _ := r.Ref(main); c != commitB || !r.RefForced(main) {
		t.Fatalf("after a force update: %s forced=%v; want %s forced", c, r.RefForced(main), commitB)
	}
	w.must("", "owner", forge.KindRefSet, op.ID{}, forge.RefSet{Name: main, Commit: commitC, Prev: []op.ID{forced}})
	if r := w.m.repo(t, w.repo); r.RefForced(main) {
		t.Error("a fast-forward over a forced write is shown forced")
	}
	if r := w.m.repo(t, w.repo); r.RefForced("refs/heads/none") {
		t.Error("a missing ref is forced")
	}
}

// TestRefRegistersConverge is a property test of the ref registers: ref
// writes by several authors, canonical and namespaced, forced or not,
// each made on a random subset of the ops before it (so many are
// concurrent), applied in any order, leave every replica with the same
// refs, the same conflicts and the same forced flags.
func TestRefRegistersConverge(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			w := newWorld(t)
			w.must("", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("maint")})
			prefix := sortedByClock(w)
			authors := []string{"owner", "maint", "alice", "bob"}
			commits := []string{commitA, commitB, commitC, ""}
			var ops []*op.Op
			names := map[op.ID]string{}
			for range 30 {
				who := authors[rng.IntN(len(authors))]
				name := "refs/heads/main"
				switch rng.IntN(3) {
				case 1:
					name = forge.NamespacePrefix + forge.NamespaceToken(w.pub(who)) + "/refs/heads/topic"
				case 2: // someone else's namespace: rejected everywhere
					name = forge.NamespacePrefix + forge.NamespaceToken(w.pub(authors[rng.IntN(len(authors))])) + "/refs/heads/topic"
				}
				// Parents: the genesis prefix plus a random subset of the
				// ops made so far, so writes are often concurrent.
				parents := slices.Clone(prefix)
				var prev []op.ID
				for _, o := range ops {
					if rng.IntN(2) == 0 {
						parents = append(parents, o.ID())
						if names[o.ID()] == name {
							prev = append(prev, o.ID())
						}
					}
				}
				o := w.makeOn(parents, who, forge.KindRefSet, op.ID{}, forge.RefSet{Name: name, Commit: commits[rng.IntN(len(commits))], Prev: prev, Force: rng.IntN(3) == 0})
				ops = append(ops, o)
				names[o.ID()] = name
			}
			var want string
			for i := range 4 {
				s := newMemStore()
				for _, id := range prefix {
					replay(t, s, w, id)
				}
				order := slices.Clone(ops)
				if i > 0 {
					rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
				}
				s.deliver(t, order...)
				got := refsState(t, s, w)
				if i == 0 {
					want = got
				} else if got != want {
					t.Fatalf("replica %d differs:\n%s\nwant\n%s", i, got, want)
				}
			}
		})
	}
}

// refsState is a text of a replica's refs: each ref's value, whether it
// is forced, and its concurrent values.
func refsState(t *testing.T, s *memStore, w *world) string {
	r := s.repo(t, w.repo)
	var out string
	for _, name := range slices.Sorted(maps.Keys(r.Refs)) {
		owner, namespaced := forge.NamespaceOwner(name)
		for _, wr := range r.Refs[name].Writes {
			if namespaced && identity.PublicKey(wr.Author) != owner {
				t.Errorf("%s holds a write by %s, who does not own the namespace", name, identity.PublicKey(wr.Author).Short())
			}
		}
		v, _ := r.Refs[name].Get()
		out += fmt.Sprintf("%s=%s forced=%v", name, v, r.RefForced(name))
		for _, c := range r.Refs[name].Concurrent() {
			out += " also " + c.Value
		}
		out += "\n"
	}
	return out
}
