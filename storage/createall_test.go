package storage_test

import (
	"errors"
	"slices"
	"testing"

	"murmur/forge"
	"murmur/op"
	"murmur/storage"
)

const commitA = "1111111111111111111111111111111111111111"

// TestCreateAllIsAllOrNothing: ops made together form a chain on the
// tip and are all stored; when forge would reject one of them, none is.
func TestCreateAllIsAllOrNothing(t *testing.T) {
	s := open(t, nil, nil)
	f := newFixture(t, s)
	heads, err := s.Heads(f.repo)
	if err != nil {
		t.Fatal(err)
	}
	refs := []forge.RefSet{{Name: "refs/heads/main", Commit: commitA}, {Name: "refs/heads/dev", Commit: commitA}}
	var built []*op.Op
	applied, err := s.CreateAll(f.repo, len(refs), func(i int, tip storage.Tip) (*op.Op, error) {
		want := heads
		if i > 0 {
			want = []op.ID{built[i-1].ID()}
		}
		if !slices.Equal(tip.Parents, want) || tip.Roles == nil || !tip.Roles.IsMaintainer(f.maint.Public()) {
			t.Errorf("tip of op %d = %+v, want parents %v and the role state", i, tip, want)
		}
		o := signOp(t, f.maint, f.repo, tip.Parents, tip.Clock+1, forge.KindRefSet, op.ID{}, refs[i])
		built = append(built, o)
		return o, nil
	})
	if err != nil || len(applied) != 2 || applied[0].ID != built[0].ID() || applied[1].ID != built[1].ID() {
		t.Fatalf("CreateAll = %+v, %v; want both ops", applied, err)
	}
	r, err := s.Repo(f.repo)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.RefNames(); !slices.Equal(got, []string{"refs/heads/dev", "refs/heads/main"}) {
		t.Errorf("refs = %v, want dev and main", got)
	}

	before := takeSnapshot(t, s)
	_, err = s.CreateAll(f.repo, 2, func(i int, tip storage.Tip) (*op.Op, error) {
		who := f.maint
		if i == 1 {
			who = f.alice // not a maintainer: rejected
		}
		return signOp(t, who, f.repo, tip.Parents, tip.Clock+1, forge.KindRefSet, op.ID{}, forge.RefSet{Name: "refs/heads/x", Commit: commitA}), nil
	})
	if !errors.Is(err, storage.ErrRejected) || !errors.Is(err, forge.ErrUnauthorized) {
		t.Fatalf("CreateAll with a rejected op = %v, want ErrRejected wrapping ErrUnauthorized", err)
	}
	if d := diffSnapshots(before, takeSnapshot(t, s)); d != "" {
		t.Errorf("a CreateAll with a rejected op changed the store (-before +after):\n%s", d)
	}
	if _, err := s.CreateAll(op.ID{}, 1, nil); err == nil {
		t.Error("CreateAll of a genesis succeeded")
	}
}
