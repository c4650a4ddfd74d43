package storage_test

import (
	"errors"
	"slices"
	"testing"

	"murmur/forge"
	"murmur/op"
	"murmur/storage"
)

// TestMaintainerRemovedConcurrently: the owner removes maintainer M while
// M, concurrently (both ops name the same parent), sets a ref and labels an
// issue. Delivered in either order, and with children before parents, both
// stores accept M's ops (their causal past has M as maintainer) and reject
// M's later op whose parents include the removal.
func TestMaintainerRemovedConcurrently(t *testing.T) {
	owner, m, alice := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	g := genesis(t, owner, "murmur")
	issue := signOp(t, alice, g.ID(), []op.ID{g.ID()}, baseClock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Crash"})
	add := signOp(t, owner, g.ID(), []op.ID{issue.ID()}, baseClock+2, forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: m.Public()})
	base := []op.ID{add.ID()}
	removal := signOp(t, owner, g.ID(), base, baseClock+3, forge.KindMaintainerDel, op.ID{}, forge.Remove{Value: m.Public().DID(), Tags: base})
	ref := signOp(t, m, g.ID(), base, baseClock+3, forge.KindRefSet, op.ID{}, forge.RefSet{Name: "refs/heads/main", Commit: "1111111111111111111111111111111111111111"})
	label := signOp(t, m, g.ID(), []op.ID{ref.ID()}, baseClock+4, forge.KindLabelAdd, issue.ID(), forge.Label{Label: "bug"})
	late := signOp(t, m, g.ID(), []op.ID{label.ID(), removal.ID()}, baseClock+5, forge.KindLabelAdd, issue.ID(), forge.Label{Label: "late"})

	prefix := []*op.Op{g, issue, add}
	orders := map[string][]*op.Op{
		"removal first":    {removal, ref, label, late},
		"edits first":      {ref, label, removal, late},
		"children first":   {late, label, removal, ref},
		"all reversed":     {late, label, ref, removal, add, issue, g},
		"one op per batch": nil, // edits first, one Ingest each
	}
	want := map[op.ID]bool{removal.ID(): true, ref.ID(): true, label.ID(): true, late.ID(): false}
	var first *snapshot
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			s := open(t, nil, nil)
			if name == "all reversed" {
				ingest(t, s, order...)
			} else if order == nil {
				for _, o := range append(slices.Clone(prefix), ref, label, removal, late) {
					ingest(t, s, o)
				}
			} else {
				ingest(t, s, prefix...)
				ingest(t, s, order...)
			}
			for id, accepted := range want {
				meta, err := s.Meta(id)
				if err != nil {
					t.Fatalf("Meta: %v", err)
				}
				if meta.Accepted != accepted {
					t.Errorf("%s by %s: Accepted = %v (%s), want %v", meta.Kind, meta.Author.Short(), meta.Accepted, meta.Reason, accepted)
				}
			}
			obj, err := s.ObjectWithComments(issue.ID())
			if err != nil {
				t.Fatal(err)
			}
			if got := obj.Labels.Elements(); !slices.Equal(got, []string{"bug"}) {
				t.Errorf("labels = %v, want [bug]", got)
			}
			repo, err := s.Repo(g.ID())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := repo.Ref("refs/heads/main"); !ok {
				t.Errorf("ref set by M concurrently with the removal is missing")
			}
			roles, err := s.RolesAt(g.ID())
			if err != nil {
				t.Fatal(err)
			}
			if roles.IsMaintainer(m.Public()) {
				t.Errorf("M is a maintainer at the heads after the removal")
			}
			// M can no longer act through Create either.
			_, err = create(t, s, g.ID(), m, forge.KindLabelAdd, issue.ID(), forge.Label{Label: "again"})
			if !errors.Is(err, storage.ErrRejected) || !errors.Is(err, forge.ErrUnauthorized) {
				t.Errorf("Create by removed maintainer = %v, want ErrRejected wrapping ErrUnauthorized", err)
			}
			sn := takeSnapshot(t, s)
			if first == nil {
				first = sn
			} else if d := diffSnapshots(first, sn); d != "" {
				t.Errorf("store differs from another delivery order:\n%s", d)
			}
		})
	}
}
