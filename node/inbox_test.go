package node

import (
	"context"
	"testing"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// copyRepo hands every op of repo that from stores to to, as a peer would,
// following the repo on to first.
func copyRepo(t *testing.T, from, to *Node, repo string) {
	t.Helper()
	id, err := op.ParseID(repo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := to.rep.follow(id); err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	if err := from.store.ForEachOp(id, func(_ crdt.Timestamp, oid op.ID) error {
		o, err := from.store.Op(oid)
		if err == nil {
			raws = append(raws, o.Bytes())
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := to.rep.Ingest(identity.PublicKey{}, id, raws); err != nil {
		t.Fatal(err)
	}
}

func inboxReasons(t *testing.T, n *Node, q api.InboxQuery) []string {
	t.Helper()
	items, err := n.Inbox(context.Background(), q)
	if err != nil {
		t.Fatalf("Inbox(%+v): %v", q, err)
	}
	var out []string
	for _, it := range items {
		s := it.Reason + " " + it.Actor.Alias
		if !it.Unread {
			s += " read"
		}
		out = append(out, s)
	}
	return out
}

// TestInbox walks alice's inbox as bob answers, mentions her and closes
// her issue, and as she marks items read.
func TestInbox(t *testing.T) {
	ctx := context.Background()
	a, b := openNode(t, t.TempDir()), openNode(t, t.TempDir())
	if _, err := a.Inbox(ctx, api.InboxQuery{}); code(err) != api.CodeNoIdentity {
		t.Fatalf("Inbox without identity = %v, want %s", err, api.CodeNoIdentity)
	}
	repo := aliceAndBob(t, a, b)
	mine, err := a.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetMaintainer(ctx, repo.ID, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	copyRepo(t, a, b, repo.ID)
	if got := inboxReasons(t, b, api.InboxQuery{}); len(got) != 1 || got[0] != "new alice" {
		t.Errorf("bob's inbox = %q, want [new alice]", got)
	}
	if got := inboxReasons(t, a, api.InboxQuery{}); len(got) != 0 {
		t.Errorf("alice's inbox before bob wrote = %q, want none (her own ops)", got)
	}

	// bob comments on alice's issue, opens his own where he mentions
	// her, and closes hers.
	if _, err := b.Comment(ctx, repo.ID, mine.ID, api.NewComment{Body: "looking"}); err != nil {
		t.Fatal(err)
	}
	theirs, err := b.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "theirs", Body: "cc @Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditIssue(ctx, repo.ID, mine.ID, api.Edit{State: "closed", Reason: "completed"}); err != nil {
		t.Fatal(err)
	}
	copyRepo(t, b, a, repo.ID)
	want := []string{"state_change bob", "mention bob", "author bob"}
	if got := inboxReasons(t, a, api.InboxQuery{}); !equal(got, want) {
		t.Errorf("alice's inbox = %q, want %q", got, want)
	}
	if got := inboxReasons(t, a, api.InboxQuery{Limit: 1}); !equal(got, want[:1]) {
		t.Errorf("alice's inbox, limit 1 = %q, want %q", got, want[:1])
	}

	res, err := a.MarkRead(ctx, api.MarkRead{Objects: []string{mine.ID[:8]}})
	if err != nil || res.Unread != 1 || len(res.Objects) != 1 || res.Objects[0] != mine.ID {
		t.Fatalf("MarkRead(mine) = %+v, %v; want mine marked, 1 unread", res, err)
	}
	if got := inboxReasons(t, a, api.InboxQuery{}); !equal(got, []string{"mention bob"}) {
		t.Errorf("after marking mine read = %q, want [mention bob]", got)
	}
	want = []string{"state_change bob read", "mention bob", "author bob read"}
	if got := inboxReasons(t, a, api.InboxQuery{All: true}); !equal(got, want) {
		t.Errorf("--all after marking mine read = %q, want %q", got, want)
	}
	// A new comment on a read object is unread again.
	if _, err := b.Comment(ctx, repo.ID, mine.ID, api.NewComment{Body: "reopen?"}); err != nil {
		t.Fatal(err)
	}
	copyRepo(t, b, a, repo.ID)
	if got := inboxReasons(t, a, api.InboxQuery{}); !equal(got, []string{"author bob", "mention bob"}) {
		t.Errorf("after a new comment = %q", got)
	}
	if _, err := a.MarkRead(ctx, api.MarkRead{Objects: []string{"0000"}}); code(err) != api.CodeNotFound {
		t.Errorf("MarkRead(unknown) = %v, want %s", err, api.CodeNotFound)
	}
	if _, err := a.MarkRead(ctx, api.MarkRead{}); code(err) != api.CodeInvalid {
		t.Errorf("MarkRead(nothing) = %v, want %s", err, api.CodeInvalid)
	}
	if res, err := a.MarkRead(ctx, api.MarkRead{All: true}); err != nil || res.Unread != 0 {
		t.Fatalf("MarkRead(all) = %+v, %v", res, err)
	}
	if got := inboxReasons(t, a, api.InboxQuery{}); len(got) != 0 {
		t.Errorf("after marking all read = %q, want none", got)
	}
	// bob sees alice's comment on his issue as one on what he opened.
	if _, err := a.Comment(ctx, repo.ID, theirs.ID, api.NewComment{Body: "ok"}); err != nil {
		t.Fatal(err)
	}
	copyRepo(t, a, b, repo.ID)
	if got := inboxReasons(t, b, api.InboxQuery{Repo: "r", Limit: 1}); !equal(got, []string{"author alice"}) {
		t.Errorf("bob's inbox = %q, want [author alice]", got)
	}
}

// aliceAndBob gives a and b the identities alice and bob, and alice a
// repo "r", which it returns.
func aliceAndBob(t *testing.T, a, b *Node) api.Repo {
	t.Helper()
	ctx := context.Background()
	for n, alias := range map[*Node]string{a: "alice", b: "bob"} {
		if _, err := n.InitIdentity(ctx, alias, nil); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "r"})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestInboxReviewRequest: bob asks alice to review his patch; the request
// reaches her inbox, and the patch lists her as a requested reviewer.
func TestInboxReviewRequest(t *testing.T) {
	ctx := context.Background()
	a, b := openNode(t, t.TempDir()), openNode(t, t.TempDir())
	repo := aliceAndBob(t, a, b)
	alice, err := a.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	copyRepo(t, a, b, repo.ID)
	rid, err := op.ParseID(repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	open, err := action(forge.KindPatchOpen, op.ID{}, forge.PatchOpen{Title: "p", Base: "main", Commit: "1111111111111111111111111111111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := b.write(ctx, rid, open)
	if err != nil {
		t.Fatal(err)
	}
	patch := applied[len(applied)-1].ID.String()
	p, err := b.EditPatch(ctx, repo.ID, patch, api.Edit{AddReviewers: []string{alice.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Reviewers) != 1 || p.Reviewers[0].ID != alice.ID {
		t.Errorf("patch reviewers = %+v, want alice", p.Reviewers)
	}
	if _, err := b.EditIssue(ctx, repo.ID, patch, api.Edit{AddReviewers: []string{alice.ID}}); err == nil {
		t.Errorf("EditIssue with reviewers on a patch succeeded")
	}
	copyRepo(t, b, a, repo.ID)
	if got := inboxReasons(t, a, api.InboxQuery{}); !equal(got, []string{"review_requested bob", "new bob"}) {
		t.Errorf("alice's inbox = %q, want the review request first", got)
	}
	p, err = b.EditPatch(ctx, repo.ID, patch, api.Edit{RemoveReviewers: []string{alice.ID}})
	if err != nil || len(p.Reviewers) != 0 {
		t.Errorf("after removing alice: reviewers %+v, %v; want none", p.Reviewers, err)
	}
	if _, err := b.EditPatch(ctx, repo.ID, patch, api.Edit{RemoveReviewers: []string{alice.ID}}); code(err) != api.CodeNotFound {
		t.Errorf("removing a reviewer twice = %v, want %s", err, api.CodeNotFound)
	}
}
