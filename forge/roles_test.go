package forge_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// TestConcurrentMaintainerRemoval: the owner removes maintainer M while M,
// concurrently (both ops name the same parent), sets a ref and labels an
// issue. M's ops are accepted, since their causal past still has M as a
// maintainer, whatever order a replica applies them in. A later op by M
// that has the removal among its ancestors is rejected.
func TestConcurrentMaintainerRemoval(t *testing.T) {
	w := newWorld(t)
	w.must("issue", "alice", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Crash"})
	add := w.must("add", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("maint")})
	base := []op.ID{add}

	m := w.pub("maint")
	removal := w.makeOn(base, "owner", forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: m.DID(), Tags: []op.ID{add}})
	ref := w.makeOn(base, "maint", forge.KindRefSet, op.ID{}, forge.RefSet{Name: "refs/heads/main", Commit: commitA})
	label := w.makeOn([]op.ID{ref.ID()}, "maint", forge.KindLabelAdd, w.id("issue"), forge.Label{Label: "bug"})
	after := w.makeOn([]op.ID{label.ID(), removal.ID()}, "maint", forge.KindLabelAdd, w.id("issue"), forge.Label{Label: "late"})
	afterRemovalOnly := w.makeOn([]op.ID{removal.ID()}, "maint", forge.KindRefSet, op.ID{}, forge.RefSet{Name: "refs/heads/evil", Commit: commitB})
	merge := w.makeOn([]op.ID{after.ID(), afterRemovalOnly.ID()}, "owner", forge.KindTitle, w.id("issue"), forge.Set{Value: "merged view"})

	want := map[op.ID]bool{
		removal.ID(): true, ref.ID(): true, label.ID(): true,
		after.ID(): false, afterRemovalOnly.ID(): false, merge.ID(): true,
	}
	orders := map[string][]*op.Op{
		"removal first": {removal, ref, label, after, afterRemovalOnly, merge},
		"edits first":   {ref, label, removal, afterRemovalOnly, after, merge},
		"interleaved":   {ref, removal, afterRemovalOnly, label, after, merge},
	}
	type outcome struct {
		Metas       map[op.ID]forge.Meta
		Snapshot    string
		Maintainers []identity.PublicKey
	}
	var first *outcome
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			// Each order starts from a copy of the shared prefix.
			s := newMemStore()
			for _, id := range sortedByClock(w) {
				replay(t, s, w, id)
			}
			for _, o := range order {
				res, err := s.apply(t, o)
				if err != nil {
					t.Fatalf("Apply(%s): %v", o.Kind, err)
				}
				if res.Meta.Accepted != want[o.ID()] {
					t.Errorf("%s by %s: Accepted = %v (%v), want %v", o.Kind, o.Author.Short(), res.Meta.Accepted, res.Err, want[o.ID()])
				}
				if !res.Meta.Accepted && !errors.Is(res.Err, forge.ErrUnauthorized) {
					t.Errorf("%s rejected with %v, want ErrUnauthorized", o.Kind, res.Err)
				}
			}
			obj := s.object(t, w.id("issue"))
			if got := obj.Labels.Elements(); !slices.Equal(got, []string{"bug"}) {
				t.Errorf("labels = %q, want [bug]", got)
			}
			repo := s.repo(t, w.repo)
			if c, ok := repo.Ref("refs/heads/main"); !ok || c != commitA {
				t.Errorf("ref main = %q, %v; want %s", c, ok, commitA)
			}
			if _, ok := repo.Ref("refs/heads/evil"); ok {
				t.Errorf("ref evil set by a removed maintainer")
			}
			roles := s.rolesAt(t, merge.ID())
			if roles.IsMaintainer(m) {
				t.Errorf("maint is still a maintainer after the removal")
			}
			got := &outcome{Metas: map[op.ID]forge.Meta{}, Snapshot: s.snapshot(t), Maintainers: roles.Maintainers()}
			for _, o := range order {
				got.Metas[o.ID()] = s.metas[o.ID()]
			}
			if first == nil {
				first = got
			} else if d := cmp.Diff(first, got); d != "" {
				t.Errorf("state differs from another delivery order (-other +this):\n%s", d)
			}
		})
	}
}

// TestConcurrentReAddWins: a maintainer removed by one maintainer while
// another concurrently adds them again stays a maintainer (add wins).
func TestConcurrentReAddWins(t *testing.T) {
	w := newWorld(t)
	w.must("", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("alice")})
	add := w.must("add", "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("maint")})
	base := w.m.headList(w.repo)
	m := w.pub("maint")
	for _, o := range []*op.Op{
		w.makeOn(base, "owner", forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: m.DID(), Tags: []op.ID{add}}),
		w.makeOn(base, "alice", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: m}),
	} {
		if res, err := w.m.apply(t, o); err != nil || !res.Meta.Accepted {
			t.Fatalf("Apply(%s): %v, %v", o.Kind, res.Err, err)
		}
	}
	roles := rolesNow(w)
	if !roles.IsMaintainer(m) {
		t.Errorf("IsMaintainer(maint) = false after a concurrent re-add, want true")
	}
	want := []identity.PublicKey{w.pub("alice"), m}
	slices.SortFunc(want, identity.PublicKey.Compare)
	want = append([]identity.PublicKey{w.pub("owner")}, want...)
	if got := roles.Maintainers(); !slices.Equal(got, want) {
		t.Errorf("Maintainers() = %v, want %v (owner first, then sorted)", got, want)
	}
	// The remover, having seen both, can now remove the re-add too.
	_, res := w.do("owner", forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: m.DID(), Tags: roles.Tags(m)})
	if !res.Meta.Accepted || rolesNow(w).IsMaintainer(m) {
		t.Errorf("second removal: Accepted=%v, still maintainer=%v", res.Meta.Accepted, rolesNow(w).IsMaintainer(m))
	}
}

func sortedByClock(w *world) []op.ID {
	var ids []op.ID
	for id := range w.m.metas {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b op.ID) int {
		ma, mb := w.m.metas[a], w.m.metas[b]
		if ma.Clock != mb.Clock {
			if ma.Clock < mb.Clock {
				return -1
			}
			return 1
		}
		return 0
	})
	return ids
}

// replay applies to s an op already applied to w, rebuilt from w's record
// of it.
func replay(t *testing.T, s *memStore, w *world, id op.ID) {
	t.Helper()
	o, ok := w.ops[id]
	if !ok {
		t.Fatalf("op %s not kept", id.Short())
	}
	if _, err := s.apply(t, o); err != nil {
		t.Fatalf("replay %s: %v", o.Kind, err)
	}
}

func TestRolesUnionAndID(t *testing.T) {
	w := newWorld(t)
	base := w.m.headList(w.repo)
	a := w.makeOn(base, "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("alice")})
	b := w.makeOn(base, "owner", forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: w.pub("bob")})
	for _, o := range []*op.Op{a, b} {
		if _, err := w.m.apply(t, o); err != nil {
			t.Fatal(err)
		}
	}
	ra, rb := w.m.rolesAt(t, a.ID()), w.m.rolesAt(t, b.ID())
	if ra.ID() == rb.ID() {
		t.Fatalf("different role states share an ID")
	}
	ab, ba := forge.UnionRoles(ra, rb), forge.UnionRoles(rb, ra)
	if ab.ID() != ba.ID() {
		t.Errorf("UnionRoles is not commutative: %s vs %s", ab.ID(), ba.ID())
	}
	if !ab.IsMaintainer(w.pub("alice")) || !ab.IsMaintainer(w.pub("bob")) || ab.IsMaintainer(w.pub("carol")) {
		t.Errorf("union maintainers = %v", ab.Maintainers())
	}
	if ra.IsMaintainer(w.pub("bob")) {
		t.Errorf("UnionRoles modified its argument")
	}
	if got := forge.UnionRoles(ra, ra); got != ra {
		t.Errorf("UnionRoles of equal states copied instead of returning the first")
	}
	if forge.UnionRoles() != nil {
		t.Errorf("UnionRoles() != nil")
	}
	// The merge op has the union as its role state.
	_, res := w.do("carol", forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
	if res.Meta.Roles != ab.ID() {
		t.Errorf("merge op roles = %s, want the union %s", res.Meta.Roles, ab.ID())
	}
}
