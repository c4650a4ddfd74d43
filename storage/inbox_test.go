package storage_test

import (
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"murmur/forge"
	"murmur/op"
	"murmur/storage"
)

// inboxEntries lists the inbox index, oldest first.
func inboxEntries(t *testing.T, s *storage.Store) []*storage.InboxEntry {
	t.Helper()
	var out []*storage.InboxEntry
	if err := s.InboxEntries(op.ID{}, func(e *storage.InboxEntry) (bool, error) {
		out = append(out, e)
		return true, nil
	}); err != nil {
		t.Fatalf("InboxEntries: %v", err)
	}
	slices.Reverse(out)
	return out
}

// TestInboxIndex checks that notable ops get an entry in the batch that
// stores them, with who answered whom and who was mentioned, that Rebuild
// keeps the entries' seqs, and that opening a format-3 store builds the
// index.
func TestInboxIndex(t *testing.T) {
	fs := vfs.NewMem()
	s := open(t, fs, nil)
	alice, bob := testKey(t, 1), testKey(t, 2)
	g := genesis(t, alice, "r")
	ingest(t, s, g)
	repo := g.ID()
	issue := mustCreate(t, s, repo, alice, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "t", Body: "b"})
	c1 := mustCreate(t, s, repo, bob, forge.KindCommentAdd, issue, forge.CommentAdd{Body: "hi @Alice, see did:key:z6Mkabc."})
	mustCreate(t, s, repo, alice, forge.KindLabelAdd, issue, forge.Label{Label: "bug"})
	reply := mustCreate(t, s, repo, alice, forge.KindCommentAdd, issue, forge.CommentAdd{Body: "ok", ReplyTo: &c1})
	mustCreate(t, s, repo, alice, forge.KindState, issue, forge.StateSet{State: forge.StateClosed, Reason: forge.ReasonCompleted, Prev: []op.ID{issue}})

	got := inboxEntries(t, s)
	var kinds []string
	for _, e := range got {
		kinds = append(kinds, e.Kind)
	}
	want := []string{forge.KindIssueOpen, forge.KindCommentAdd, forge.KindCommentAdd, forge.KindState}
	if !slices.Equal(kinds, want) {
		t.Fatalf("entry kinds = %v, want %v", kinds, want)
	}
	if e := got[1]; e.Actor != bob.Public() || e.Owner != alice.Public() || !slices.Equal(e.Mentions, []string{"alice", "did:key:z6Mkabc"}) {
		t.Errorf("comment entry = actor %v owner %v mentions %q", e.Actor, e.Owner, e.Mentions)
	}
	if e := got[2]; e.Op != reply || e.ReplyTo != bob.Public() {
		t.Errorf("reply entry = op %v reply to %v, want %v to bob", e.Op.Short(), e.ReplyTo, reply.Short())
	}
	if e := got[3]; e.Value != forge.StateClosed {
		t.Errorf("state entry value = %q, want %q", e.Value, forge.StateClosed)
	}
	// Another repo's entries are kept apart by the repo index.
	g2 := genesis(t, bob, "other")
	ingest(t, s, g2)
	mustCreate(t, s, g2.ID(), bob, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: "x"})
	var ofRepo []op.ID
	if err := s.InboxEntries(repo, func(e *storage.InboxEntry) (bool, error) {
		ofRepo = append(ofRepo, e.Op)
		return true, nil
	}); err != nil || len(ofRepo) != len(got) || ofRepo[0] != got[len(got)-1].Op {
		t.Errorf("InboxEntries(repo) = %d entries, newest %v, %v; want %d, newest %v", len(ofRepo), ofRepo, err, len(got), got[len(got)-1].Op.Short())
	}
	got = inboxEntries(t, s)
	if ok, err := s.Participated(issue, bob.Public()); err != nil || !ok {
		t.Errorf("Participated(issue, bob) = %v, %v, want true", ok, err)
	}
	if ok, err := s.Participated(issue, testKey(t, 3).Public()); err != nil || ok {
		t.Errorf("Participated(issue, carol) = %v, %v, want false", ok, err)
	}

	if err := s.Rebuild(); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if after := inboxEntries(t, s); len(after) != len(got) || after[len(after)-1].Seq != got[len(got)-1].Seq {
		t.Fatalf("after Rebuild: %d entries, last seq %d; want %d, %d", len(after), after[len(after)-1].Seq, len(got), got[len(got)-1].Seq)
	}

	// A format-3 store has no index: opening it builds one.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	for _, tag := range []byte{'n', 'N', 'P', 'Q'} {
		_ = b.DeleteRange([]byte{tag}, []byte{tag + 1}, nil)
	}
	_ = b.Set([]byte{0x00, 'f', 'o', 'r', 'm', 'a', 't'}, []byte{3}, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, fs, nil)
	// Migration numbers entries repo by repo, each in (clock, ID) order.
	opsOf := func(es []*storage.InboxEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Op.String())
		}
		slices.Sort(out)
		return out
	}
	if mig := inboxEntries(t, s); !slices.Equal(opsOf(mig), opsOf(got)) || s.InboxSeq() != uint64(len(got)) {
		t.Fatalf("after migration: %d entries, seq %d; want the %d entries from before", len(mig), s.InboxSeq(), len(got))
	}
	if ok, err := s.Participated(issue, bob.Public()); err != nil || !ok {
		t.Errorf("after migration Participated(issue, bob) = %v, %v, want true", ok, err)
	}
}
