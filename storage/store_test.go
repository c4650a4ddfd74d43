package storage_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/identity"
	"murmur/op"
	"murmur/storage"
)

// repoFixture is a small repo made with Create: owner, a maintainer, and
// alice's issue with a comment, a reaction, a label and an assignee.
type repoFixture struct {
	owner, maint, alice  *identity.Key
	repo, issue, comment op.ID
}

func newFixture(t testing.TB, s *storage.Store) *repoFixture {
	t.Helper()
	f := &repoFixture{owner: testKey(t, 1), maint: testKey(t, 2), alice: testKey(t, 3)}
	f.repo = mustCreate(t, s, op.ID{}, f.owner, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "murmur", DefaultBranch: "main"})
	mustCreate(t, s, f.repo, f.owner, forge.KindMaintainerAdd, op.ID{}, forge.Member{Key: f.maint.Public()})
	f.issue = mustCreate(t, s, f.repo, f.alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "Crash on start", Body: "It crashes."})
	f.comment = mustCreate(t, s, f.repo, f.alice, forge.KindCommentAdd, f.issue, forge.CommentAdd{Body: "trace"})
	mustCreate(t, s, f.repo, f.alice, forge.KindReactionAdd, f.issue, forge.React{Emoji: "+1"})
	mustCreate(t, s, f.repo, f.alice, forge.KindReactionAdd, f.comment, forge.React{Emoji: "eyes"})
	mustCreate(t, s, f.repo, f.maint, forge.KindLabelAdd, f.issue, forge.Label{Label: "bug"})
	mustCreate(t, s, f.repo, f.maint, forge.KindAssigneeAdd, f.issue, forge.Member{Key: f.alice.Public()})
	return f
}

func TestCreateVisible(t *testing.T) {
	s := open(t, nil, nil)
	f := newFixture(t, s)

	r, err := s.Repo(f.repo)
	if err != nil {
		t.Fatalf("Repo: %v", err)
	}
	if name, _ := r.Name.Get(); name != "murmur" || r.Owner != f.owner.Public() {
		t.Errorf("Repo = %q owned by %s", name, r.Owner.Short())
	}
	obj, err := s.ObjectWithComments(f.issue)
	if err != nil {
		t.Fatalf("Object: %v", err)
	}
	if title, _ := obj.Title.Get(); title != "Crash on start" {
		t.Errorf("title = %q", title)
	}
	if got := obj.Labels.Elements(); !slices.Equal(got, []string{"bug"}) {
		t.Errorf("labels = %v", got)
	}
	if got := obj.AssigneeKeys(); len(got) != 1 || got[0] != f.alice.Public() {
		t.Errorf("assignees = %v", got)
	}
	if rs := forge.Reactions(&obj.Reactions); len(rs) != 1 || rs[0].Emoji != "+1" {
		t.Errorf("reactions = %v", rs)
	}
	if rs := forge.Reactions(&obj.Comments[f.comment].Reactions); len(rs) != 1 || rs[0].Emoji != "eyes" {
		t.Errorf("comment reactions = %v", rs)
	}
	sums, err := s.Summaries(f.repo, forge.TypeIssue, forge.StateOpen)
	if err != nil || len(sums) != 1 || sums[0].ID != f.issue || sums[0].Comments != 1 {
		t.Errorf("Summaries = %+v, %v", sums, err)
	}
	if n, err := s.OpCount(f.repo); err != nil || n != 8 {
		t.Errorf("OpCount = %d, %v; want 8", n, err)
	}
	heads, err := s.Heads(f.repo)
	if err != nil || len(heads) != 1 {
		t.Fatalf("Heads = %v, %v; want one head", heads, err)
	}
	m, err := s.Meta(heads[0])
	if err != nil || m.Kind != forge.KindAssigneeAdd || !m.Accepted || m.Object != f.issue {
		t.Errorf("Meta(head) = %+v, %v", m, err)
	}
	roles, err := s.RolesAt(f.repo)
	if err != nil || !roles.IsMaintainer(f.maint.Public()) || roles.IsMaintainer(f.alice.Public()) {
		t.Errorf("RolesAt = %v, %v", roles, err)
	}

	// The next Create sees the tip: one parent, the head's clock, the roles.
	_, err = s.Create(f.repo, func(tip storage.Tip) (*op.Op, error) {
		if tip.Repo != f.repo || !slices.Equal(tip.Parents, heads) || tip.Clock != m.Clock || tip.Roles.ID() != roles.ID() {
			t.Errorf("Tip = %+v, want parents %v, clock %v", tip, heads, m.Clock)
		}
		return signOp(t, f.alice, f.repo, tip.Parents, tip.Clock+1, forge.KindCommentAdd, f.issue, forge.CommentAdd{Body: "more"}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Op(f.issue)
	if err != nil || o.Kind != forge.KindIssueOpen || o.ID() != f.issue {
		t.Errorf("Op(issue) = %v, %v", o, err)
	}
	if _, err := s.Op(op.ID{1}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Op(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.ObjectWithComments(op.ID{1}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Object(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Repo(op.ID{1}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Repo(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.RolesAt(op.ID{1}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RolesAt(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestCreateErrors(t *testing.T) {
	s := open(t, nil, nil)
	f := newFixture(t, s)
	stranger := testKey(t, 9)
	other := mustCreate(t, s, op.ID{}, stranger, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "other", DefaultBranch: "main"})
	errBuild := errors.New("no editor")

	tests := []struct {
		name  string
		repo  op.ID
		build func(storage.Tip) (*op.Op, error)
		want  []error
	}{
		{"unauthorized", f.repo, func(tip storage.Tip) (*op.Op, error) {
			return signOp(t, f.alice, f.repo, tip.Parents, tip.Clock+1, forge.KindLabelAdd, f.issue, forge.Label{Label: "x"}), nil
		}, []error{storage.ErrRejected, forge.ErrUnauthorized}},
		{"nonsense", f.repo, func(tip storage.Tip) (*op.Op, error) {
			return signOp(t, f.alice, f.repo, tip.Parents, tip.Clock+1, forge.KindCommentEdit, f.issue, forge.Set{Value: "x"}), nil
		}, []error{storage.ErrRejected, forge.ErrRejected}},
		{"clock not after parents", f.repo, func(tip storage.Tip) (*op.Op, error) {
			return signOp(t, f.alice, f.repo, tip.Parents, tip.Clock, forge.KindCommentAdd, f.issue, forge.CommentAdd{Body: "x"}), nil
		}, []error{forge.ErrInvalidOp}},
		{"build fails", f.repo, func(storage.Tip) (*op.Op, error) { return nil, errBuild }, []error{errBuild}},
		{"op for another repo", f.repo, func(tip storage.Tip) (*op.Op, error) {
			return signOp(t, stranger, other, []op.ID{other}, baseClock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"}), nil
		}, nil},
		{"unknown repo", op.ID{7}, func(storage.Tip) (*op.Op, error) {
			t.Errorf("build called for an unknown repo")
			return nil, nil
		}, []error{storage.ErrNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := takeSnapshot(t, s)
			_, err := s.Create(tt.repo, tt.build)
			if err == nil {
				t.Fatalf("Create succeeded, want an error")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("Create error = %v, want it to wrap %v", err, w)
				}
			}
			if d := diffSnapshots(before, takeSnapshot(t, s)); d != "" {
				t.Errorf("failed Create changed the store (-before +after):\n%s", d)
			}
		})
	}
}

// TestRejectedOpStored: a rejected op from a peer is stored without
// effect, and a valid op built on it is accepted.
func TestRejectedOpStored(t *testing.T) {
	s := open(t, nil, nil)
	f := newFixture(t, s)
	before := takeSnapshot(t, s)
	heads := before.Heads[f.repo]
	clock := before.Metas[heads[0]].Clock

	bad := signOp(t, f.alice, f.repo, heads, clock+1, forge.KindLabelAdd, f.issue, forge.Label{Label: "wontfix"})
	rep := ingest(t, s, bad)
	if rep.Outcomes[0] != storage.Stored || len(rep.Applied) != 1 {
		t.Fatalf("Ingest(unauthorized) = %v, applied %d; want Stored", rep.Outcomes, len(rep.Applied))
	}
	if a := rep.Applied[0]; a.Meta.Accepted || !errors.Is(a.Err, forge.ErrUnauthorized) || a.ID != bad.ID() {
		t.Errorf("Applied = %+v, want rejected as unauthorized", a)
	}
	m, err := s.Meta(bad.ID())
	if err != nil || m.Accepted || m.Reason == "" {
		t.Errorf("Meta(rejected) = %+v, %v; want Accepted=false with a reason", m, err)
	}
	after := takeSnapshot(t, s)
	if d := diffSnapshots(before.Views, after.Views); d != "" {
		t.Errorf("rejected op changed objects:\n%s", d)
	}
	if !slices.Equal(after.Heads[f.repo], []op.ID{bad.ID()}) {
		t.Errorf("Heads = %v, want the rejected op", after.Heads[f.repo])
	}

	good := signOp(t, f.maint, f.repo, []op.ID{bad.ID()}, clock+2, forge.KindLabelAdd, f.issue, forge.Label{Label: "confirmed"})
	rep = ingest(t, s, good)
	if rep.Outcomes[0] != storage.Stored || !rep.Applied[0].Meta.Accepted {
		t.Fatalf("op after rejected op: %v, %+v", rep.Outcomes, rep.Applied)
	}
	obj, err := s.ObjectWithComments(f.issue)
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.Labels.Elements(); !slices.Equal(got, []string{"bug", "confirmed"}) {
		t.Errorf("labels = %v, want [bug confirmed]", got)
	}
}

// TestDurable checks that what Create, Ingest and SetLocal report as done
// survives a crash right after they return: a crash clone of the file
// system keeps only what was synced.
func TestDurable(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := open(t, fs, nil)
	f := newFixture(t, s)
	k := testKey(t, 5)
	crashed := func() *storage.Store {
		t.Helper()
		return open(t, fs.CrashClone(vfs.CrashCloneCfg{}), nil)
	}

	id := mustCreate(t, s, f.repo, f.alice, forge.KindCommentAdd, f.issue, forge.CommentAdd{Body: "durable"})
	if ok, err := crashed().HasOp(id); err != nil || !ok {
		t.Errorf("HasOp(created op) after crash = %v, %v; want true", ok, err)
	}

	heads, _ := s.Heads(f.repo)
	m, _ := s.Meta(heads[0])
	remote := signOp(t, k, f.repo, heads, m.Clock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "from a peer"})
	orphan := signOp(t, k, f.repo, []op.ID{{1}}, m.Clock+2, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "waits"})
	ingest(t, s, remote, orphan)
	c := crashed()
	if ok, err := c.HasOp(remote.ID()); err != nil || !ok {
		t.Errorf("HasOp(ingested op) after crash = %v, %v; want true", ok, err)
	}
	if c.Pending() != 1 {
		t.Errorf("Pending() after crash = %d, want 1", c.Pending())
	}

	if err := s.SetLocal("follow/x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if v, err := crashed().Local("follow/x"); err != nil || string(v) != "1" {
		t.Errorf("Local after crash = %q, %v; want 1", v, err)
	}
	if d := diffSnapshots(takeSnapshot(t, s), takeSnapshot(t, crashed())); d != "" {
		t.Errorf("state after crash differs (-before +after):\n%s", d)
	}
}

func TestReopen(t *testing.T) {
	fs := vfs.NewMem()
	s := open(t, fs, nil)
	f := newFixture(t, s)
	orphan := signOp(t, f.alice, f.repo, []op.ID{{1}}, baseClock+100, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "waits"})
	ingest(t, s, orphan)
	want := takeSnapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, fs, nil)
	got := takeSnapshot(t, s2)
	if d := diffSnapshots(want, got); d != "" {
		t.Errorf("reopened store differs (-before +after):\n%s", d)
	}
	if got.Pending != 1 {
		t.Errorf("Pending() after reopen = %d, want 1", got.Pending)
	}
	// The reopened store keeps working.
	mustCreate(t, s2, f.repo, f.alice, forge.KindCommentAdd, f.issue, forge.CommentAdd{Body: "after reopen"})
}

func TestFormatVersion(t *testing.T) {
	formatKey := []byte{0x00, 'f', 'o', 'r', 'm', 'a', 't'}
	uvarint := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	tests := []struct {
		name  string
		value []byte // nil: key absent
		want  error
	}{
		{"new store", nil, nil},
		{"version 1", uvarint(1), nil}, // migrated, and marked the current version
		{"version 2", uvarint(2), nil},
		{"version 3", uvarint(3), nil},
		{"version 4", uvarint(4), nil},
		{"version 5", uvarint(5), nil},
		{"version 0", uvarint(0), storage.ErrUnknownFormat},
		{"version 6", uvarint(6), nil},
		{"version 7", uvarint(7), storage.ErrUnknownFormat},
		{"version 300", uvarint(300), storage.ErrUnknownFormat},
		{"unreadable", []byte{}, storage.ErrCorrupt},
		{"truncated varint", []byte{0x80}, storage.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := vfs.NewMem()
			db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
			if err != nil {
				t.Fatal(err)
			}
			if tt.value != nil {
				if err := db.Set(formatKey, tt.value, pebble.Sync); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := storage.Open("db", &storage.Options{FS: fs})
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Open = %v, want %v", err, tt.want)
				}
				// The failed open released the database.
				db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
				if err != nil {
					t.Fatalf("reopen after failed Open: %v", err)
				}
				db.Close()
				return
			}
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err = pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v, closer, err := db.Get(formatKey)
			if err != nil {
				t.Fatalf("format key after Open: %v", err)
			}
			defer closer.Close()
			if got, n := binary.Uvarint(v); n <= 0 || got != storage.FormatVersion {
				t.Errorf("format key = %x, want uvarint %d", v, storage.FormatVersion)
			}
		})
	}
}

// chain returns n ops in repo g, each the child of the previous, by k.
func chain(t testing.TB, k *identity.Key, g *op.Op, n int) []*op.Op {
	t.Helper()
	out := make([]*op.Op, 0, n)
	parent := g
	for i := range n {
		o := signOp(t, k, g.ID(), []op.ID{parent.ID()}, parent.Clock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("issue %d", i)})
		out = append(out, o)
		parent = o
	}
	return out
}

func TestPending(t *testing.T) {
	k := testKey(t, 1)
	g := genesis(t, k, "murmur")
	ops := chain(t, k, g, 3)
	a, b, c := ops[0], ops[1], ops[2]

	t.Run("child before parent", func(t *testing.T) {
		s := open(t, nil, nil)
		ingest(t, s, g)
		rep := ingest(t, s, c, b)
		if !slices.Equal(rep.Outcomes, []storage.Outcome{storage.Waiting, storage.Waiting}) || len(rep.Applied) != 0 {
			t.Fatalf("Ingest(c, b) = %v, applied %d; want both Waiting", rep.Outcomes, len(rep.Applied))
		}
		if s.Pending() != 2 {
			t.Errorf("Pending() = %d, want 2", s.Pending())
		}
		if ok, _ := s.HasOp(c.ID()); ok {
			t.Errorf("HasOp(waiting op) = true")
		}
		if rep := ingest(t, s, c); rep.Outcomes[0] != storage.Duplicate {
			t.Errorf("Ingest(pending op again) = %v, want Duplicate", rep.Outcomes)
		}
		rep = ingest(t, s, a)
		if rep.Outcomes[0] != storage.Stored || rep.Released != 2 {
			t.Fatalf("Ingest(a) = %v, Released %d; want Stored, 2 released", rep.Outcomes, rep.Released)
		}
		var order []op.ID
		for _, ap := range rep.Applied {
			order = append(order, ap.ID)
		}
		if !slices.Equal(order, []op.ID{a.ID(), b.ID(), c.ID()}) {
			t.Errorf("applied order = %v, want a, b, c", order)
		}
		if s.Pending() != 0 {
			t.Errorf("Pending() = %d, want 0", s.Pending())
		}
		if heads, _ := s.Heads(g.ID()); !slices.Equal(heads, []op.ID{c.ID()}) {
			t.Errorf("Heads = %v, want [c]", heads)
		}
		if rep := ingest(t, s, b); rep.Outcomes[0] != storage.Duplicate {
			t.Errorf("Ingest(stored op again) = %v, want Duplicate", rep.Outcomes)
		}
	})

	t.Run("same batch reversed", func(t *testing.T) {
		s := open(t, nil, nil)
		rep := ingest(t, s, c, b, a, g)
		want := []storage.Outcome{storage.Waiting, storage.Waiting, storage.Waiting, storage.Stored}
		if !slices.Equal(rep.Outcomes, want) || rep.Released != 3 || len(rep.Applied) != 4 {
			t.Errorf("Ingest(reversed chain) = %v, Released %d, applied %d; want %v, 3, 4", rep.Outcomes, rep.Released, len(rep.Applied), want)
		}
		if s.Pending() != 0 {
			t.Errorf("Pending() = %d, want 0", s.Pending())
		}
	})

	t.Run("waiting survives reopen", func(t *testing.T) {
		fs := vfs.NewMem()
		s := open(t, fs, nil)
		ingest(t, s, g, c)
		s.Close()
		s = open(t, fs, nil)
		if s.Pending() != 1 {
			t.Errorf("Pending() after reopen = %d, want 1", s.Pending())
		}
		rep := ingest(t, s, a, b)
		if rep.Released != 1 || s.Pending() != 0 {
			t.Errorf("after parents: Released %d, Pending %d; want 1, 0", rep.Released, s.Pending())
		}
		if ok, _ := s.HasOp(c.ID()); !ok {
			t.Errorf("HasOp(c) = false after its parents arrived")
		}
	})

	t.Run("waiting for target", func(t *testing.T) {
		s := open(t, nil, nil)
		ingest(t, s, g)
		// title.set on a, whose parent is g: only the target is missing.
		edit := signOp(t, k, g.ID(), []op.ID{g.ID()}, a.Clock+1, forge.KindTitle, a.ID(), forge.Set{Value: "renamed"})
		if rep := ingest(t, s, edit); rep.Outcomes[0] != storage.Waiting {
			t.Fatalf("Ingest(edit before its target) = %v, want Waiting", rep.Outcomes)
		}
		if rep := ingest(t, s, a); rep.Released != 1 {
			t.Errorf("Released = %d, want 1", rep.Released)
		}
		obj, err := s.ObjectWithComments(a.ID())
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := obj.Title.Get(); v != "renamed" {
			t.Errorf("title = %q, want renamed", v)
		}
	})
}

func TestMaxPending(t *testing.T) {
	k := testKey(t, 1)
	g := genesis(t, k, "murmur")
	ops := chain(t, k, g, 4)
	s := open(t, nil, &storage.Options{MaxPending: 2, MaxPendingPerPeer: 10, MaxPendingPerAuthor: 10})
	rep := ingest(t, s, ops[1], ops[2], ops[3])
	want := []storage.Outcome{storage.Waiting, storage.Waiting, storage.Dropped}
	if !slices.Equal(rep.Outcomes, want) {
		t.Fatalf("Outcomes = %v, want %v", rep.Outcomes, want)
	}
	if !errors.Is(rep.Errors[2], storage.ErrPendingFull) || rep.Errors[0] != nil {
		t.Errorf("Errors = %v, want ErrPendingFull for the third only", rep.Errors)
	}
	if s.Pending() != 2 {
		t.Errorf("Pending() = %d, want 2", s.Pending())
	}
	// The dropped op comes again with the next sync and then fits.
	rep = ingest(t, s, g, ops[0], ops[3])
	if !slices.Equal(rep.Outcomes, []storage.Outcome{storage.Stored, storage.Stored, storage.Stored}) || s.Pending() != 0 {
		t.Errorf("after parents: %v, Pending %d", rep.Outcomes, s.Pending())
	}
	if n, _ := s.OpCount(g.ID()); n != 5 {
		t.Errorf("OpCount = %d, want 5", n)
	}
}

func TestParked(t *testing.T) {
	k := testKey(t, 1)
	now := time.UnixMilli(baseClock.Wall()).Add(time.Hour)
	opts := &storage.Options{MaxDrift: time.Minute, Now: func() time.Time { return now }}
	g := genesis(t, k, "murmur")
	future := now.Add(30 * time.Minute)
	clock := crdtAt(future)
	parent := signOp(t, k, g.ID(), []op.ID{g.ID()}, clock, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "from the future"})
	child := signOp(t, k, g.ID(), []op.ID{parent.ID()}, clock+1, forge.KindTitle, parent.ID(), forge.Set{Value: "renamed"})
	later := signOp(t, k, g.ID(), []op.ID{child.ID()}, crdtAt(future.Add(time.Hour)), forge.KindCommentAdd, parent.ID(), forge.CommentAdd{Body: "much later"})

	s := open(t, nil, opts)
	ingest(t, s, g)
	rep := ingest(t, s, child, later, parent)
	if want := []storage.Outcome{storage.Parked, storage.Parked, storage.Parked}; !slices.Equal(rep.Outcomes, want) {
		t.Fatalf("Ingest(future ops) = %v, want %v", rep.Outcomes, want)
	}
	if s.Pending() != 3 {
		t.Errorf("Pending() = %d, want 3", s.Pending())
	}
	if rep := ingest(t, s, parent); rep.Outcomes[0] != storage.Duplicate {
		t.Errorf("Ingest(parked op again) = %v, want Duplicate", rep.Outcomes)
	}
	rep, err := s.Release()
	if err != nil || len(rep.Applied) != 0 {
		t.Fatalf("Release() too early = %d applied, %v", len(rep.Applied), err)
	}

	now = future // local time caught up with parent and child, not later
	rep, err = s.Release()
	if err != nil {
		t.Fatal(err)
	}
	var applied []op.ID
	for _, a := range rep.Applied {
		applied = append(applied, a.ID)
	}
	if !slices.Equal(applied, []op.ID{parent.ID(), child.ID()}) {
		t.Errorf("Release applied %v, want parent, child; outcomes %v, errors %v", applied, rep.Outcomes, rep.Errors)
	}
	for _, o := range []*op.Op{parent, child} {
		if ok, _ := s.HasOp(o.ID()); !ok {
			t.Errorf("HasOp(%s) = false after Release", o.Kind)
		}
	}
	if s.Pending() != 1 {
		t.Errorf("Pending() = %d, want 1 (later is still parked)", s.Pending())
	}
	obj, err := s.ObjectWithComments(parent.ID())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := obj.Title.Get(); v != "renamed" {
		t.Errorf("title = %q, want renamed", v)
	}

	now = future.Add(2 * time.Hour)
	if rep, err := s.Release(); err != nil || len(rep.Applied) != 1 || s.Pending() != 0 {
		t.Errorf("second Release: %d applied, %v, Pending %d; want 1, 0", len(rep.Applied), err, s.Pending())
	}
}

// TestParkedWaitsForParent: a parked op released before its parent arrives
// waits in the pending pool and is applied when the parent comes.
func TestParkedWaitsForParent(t *testing.T) {
	k := testKey(t, 1)
	now := time.UnixMilli(baseClock.Wall())
	opts := &storage.Options{MaxDrift: time.Minute, Now: func() time.Time { return now }}
	g := genesis(t, k, "murmur")
	parent := signOp(t, k, g.ID(), []op.ID{g.ID()}, baseClock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "p"})
	child := signOp(t, k, g.ID(), []op.ID{parent.ID()}, crdtAt(now.Add(time.Hour)), forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "c"})

	s := open(t, nil, opts)
	ingest(t, s, g, child)
	now = now.Add(2 * time.Hour)
	rep, err := s.Release()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != 1 || rep.Outcomes[0] != storage.Waiting || s.Pending() != 1 {
		t.Fatalf("Release = %v, Pending %d; want Waiting, 1", rep.Outcomes, s.Pending())
	}
	rep = ingest(t, s, parent)
	if rep.Released != 1 || s.Pending() != 0 {
		t.Errorf("Ingest(parent): Released %d, Pending %d; want 1, 0", rep.Released, s.Pending())
	}
	if ok, _ := s.HasOp(child.ID()); !ok {
		t.Errorf("child not stored")
	}
}

func TestInvalidOps(t *testing.T) {
	k := testKey(t, 1)
	g := genesis(t, k, "murmur")
	other := genesis(t, k, "other")
	a := signOp(t, k, g.ID(), []op.ID{g.ID()}, baseClock+10, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "a"})

	tests := []struct {
		name  string
		check *op.Op
	}{
		{"clock equal to parent", signOp(t, k, g.ID(), []op.ID{a.ID()}, a.Clock, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})},
		{"clock before target", signOp(t, k, g.ID(), []op.ID{g.ID()}, a.Clock-5, forge.KindTitle, a.ID(), forge.Set{Value: "x"})},
		{"parent in another repo", signOp(t, k, g.ID(), []op.ID{other.ID()}, a.Clock+1, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, nil, nil)
			ingest(t, s, g, other, a)
			before := takeSnapshot(t, s)
			rep := ingest(t, s, tt.check)
			if rep.Outcomes[0] != storage.Invalid || !errors.Is(rep.Errors[0], forge.ErrInvalidOp) {
				t.Errorf("Ingest = %v, %v; want Invalid, ErrInvalidOp", rep.Outcomes, rep.Errors)
			}
			if ok, _ := s.HasOp(tt.check.ID()); ok {
				t.Errorf("invalid op stored")
			}
			if d := diffSnapshots(before, takeSnapshot(t, s)); d != "" {
				t.Errorf("invalid op changed the store:\n%s", d)
			}
		})
	}

	t.Run("invalid after waiting", func(t *testing.T) {
		s := open(t, nil, nil)
		ingest(t, s, g)
		bad := signOp(t, k, g.ID(), []op.ID{a.ID()}, a.Clock, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
		if rep := ingest(t, s, bad); rep.Outcomes[0] != storage.Waiting {
			t.Fatalf("Ingest(bad before parent) = %v, want Waiting", rep.Outcomes)
		}
		rep := ingest(t, s, a)
		if rep.Outcomes[0] != storage.Stored || len(rep.Applied) != 1 {
			t.Errorf("Ingest(parent) = %v, applied %d; want only the parent applied", rep.Outcomes, len(rep.Applied))
		}
		if ok, _ := s.HasOp(bad.ID()); ok {
			t.Errorf("invalid op stored after its parent arrived")
		}
		if s.Pending() != 0 {
			t.Errorf("Pending() = %d, want 0: the invalid op is dropped", s.Pending())
		}
	})
}

func TestResolve(t *testing.T) {
	s := open(t, nil, nil)
	k := testKey(t, 1)
	g := genesis(t, k, "murmur")
	ops := chain(t, k, g, 40)
	ingest(t, s, append([]*op.Op{g}, ops...)...)
	all := append([]*op.Op{g}, ops...)

	id := ops[7].ID()
	hex := id.String()
	matching := func(prefix string) []op.ID {
		var out []op.ID
		for _, o := range all {
			if strings.HasPrefix(o.ID().String(), prefix) {
				out = append(out, o.ID())
			}
		}
		return sortedIDs(out)
	}
	// A one-digit prefix that at least two of the 41 ops share.
	var shared string
	for d := range 16 {
		if p := fmt.Sprintf("%x", d); len(matching(p)) >= 2 {
			shared = p
			break
		}
	}

	tests := []struct {
		name    string
		prefix  string
		want    []op.ID
		wantErr bool
	}{
		{"full", hex, []op.ID{id}, false},
		{"short", hex[:8], matching(hex[:8]), false},
		{"odd length", hex[:7], matching(hex[:7]), false},
		{"upper case", strings.ToUpper(hex[:8]), matching(hex[:8]), false},
		{"upper case odd", strings.ToUpper(hex[:9]), matching(hex[:9]), false},
		{"ambiguous", shared, matching(shared), false},
		{"none", "ffffffffffffffff", matching("ffffffffffffffff"), false},
		{"not hex", "zz", nil, true},
		{"odd not hex", "abz", nil, true},
		{"too long", hex + "0", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Resolve(tt.prefix, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Resolve(%q) error = %v, wantErr %v", tt.prefix, err, tt.wantErr)
			}
			if !slices.Equal(sortedIDs(got), tt.want) {
				t.Errorf("Resolve(%q) = %v, want %v", tt.prefix, got, tt.want)
			}
		})
	}
	if len(matching(shared)) < 2 {
		t.Fatalf("no shared one-digit prefix among %d ops", len(all))
	}

	// keep filters on the op's meta.
	got, err := s.Resolve("", func(m forge.Meta) bool { return m.Kind == forge.KindRepoCreate })
	if err != nil || !slices.Equal(got, []op.ID{g.ID()}) {
		t.Errorf("Resolve(\"\", repos only) = %v, %v; want the genesis op", got, err)
	}
}

func TestLocal(t *testing.T) {
	s := open(t, nil, nil)
	if v, err := s.Local("missing"); err != nil || v != nil {
		t.Errorf("Local(missing) = %q, %v; want nil", v, err)
	}
	for name, v := range map[string]string{"follow/a": "1", "follow/b": "2", "peer/x": "3"} {
		if err := s.SetLocal(name, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetLocal("follow/b", nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err := s.LocalPrefix("follow/", func(name string, v []byte) error {
		got[name] = string(v)
		return nil
	})
	if err != nil || len(got) != 1 || got["follow/a"] != "1" {
		t.Errorf("LocalPrefix(follow/) = %v, %v; want only follow/a", got, err)
	}
}

// quietLogger keeps pebble's informational messages out of test output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)              {}
func (quietLogger) Errorf(string, ...any)             {}
func (quietLogger) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// TestConcurrentUse runs writers and readers at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := open(t, nil, nil)
	f := newFixture(t, s)
	const writers, perWriter = 4, 20
	errs := make(chan error, writers+2)
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.Summaries(f.repo, forge.TypeIssue, ""); err != nil {
					errs <- err
					return
				}
				if _, err := s.ObjectWithComments(f.issue); err != nil {
					errs <- err
					return
				}
				if _, err := s.RolesAt(f.repo); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := testKey(t, byte(20+w))
			for i := range perWriter {
				if _, err := create(t, s, f.repo, k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("w%d i%d", w, i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := s.CountObjects(f.repo, forge.TypeIssue, ""); err != nil || n != 1+writers*perWriter {
		t.Errorf("CountObjects = %d, %v; want %d", n, err, 1+writers*perWriter)
	}
	if heads, err := s.Heads(f.repo); err != nil || len(heads) != 1 {
		t.Errorf("Heads = %v, %v; want one head (local writes form a chain)", heads, err)
	}
}

func TestOpsRaw(t *testing.T) {
	s := open(t, vfs.NewMem(), nil)
	k := testKey(t, 7)
	g1, g2 := genesis(t, k, "one"), genesis(t, k, "two")
	ingest(t, s, g1, g2)
	a := mustCreate(t, s, g1.ID(), k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "a"})
	b := mustCreate(t, s, g1.ID(), k, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "b"})
	want := func(id op.ID) []byte {
		o, err := s.Op(id)
		if err != nil {
			t.Fatal(err)
		}
		return o.Bytes()
	}
	// Order of the request, unknown IDs and other repos' ops skipped.
	got, err := s.OpsRaw(g1.ID(), []op.ID{b, {9}, g2.ID(), a, g1.ID()})
	if err != nil {
		t.Fatal(err)
	}
	exp := [][]byte{want(b), want(a), want(g1.ID())}
	if len(got) != len(exp) {
		t.Fatalf("OpsRaw returned %d ops, want %d", len(got), len(exp))
	}
	for i := range exp {
		if !bytes.Equal(got[i], exp[i]) {
			t.Errorf("OpsRaw()[%d] differs", i)
		}
	}
}
