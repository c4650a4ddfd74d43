package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"murmur/api"
	"murmur/identity"
)

func openNode(t *testing.T, home string) *Node {
	t.Helper()
	n, err := Open(context.Background(), Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func code(err error) string { return api.ErrorCode(err) }

func TestStory(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	if _, err := n.Identity(ctx); code(err) != api.CodeNoIdentity {
		t.Fatalf("Identity before init = %v, want %s", err, api.CodeNoIdentity)
	}
	id, err := n.InitIdentity(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.Alias != "alice" {
		t.Errorf("alias = %q", id.Alias)
	}
	if _, err := n.InitIdentity(ctx, "again", nil); code(err) != api.CodeConflict {
		t.Errorf("second InitIdentity = %v, want conflict", err)
	}
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "murmur", Description: "p2p forge"})
	if err != nil {
		t.Fatal(err)
	}
	if repo.DefaultBranch != "main" || repo.Owner.Alias != "alice" || len(repo.Maintainers) != 1 {
		t.Errorf("repo = %+v", repo)
	}
	iss, err := n.CreateIssue(ctx, "", api.NewIssue{Title: "crash on start", Body: "details", Labels: []string{"bug"}})
	if err != nil {
		t.Fatal(err)
	}
	if iss.Title != "crash on start" || iss.State != "open" || len(iss.Labels) != 1 || iss.Author.Alias != "alice" {
		t.Errorf("issue = %+v", iss)
	}
	c, err := n.Comment(ctx, "murmur", iss.ID[:8], api.NewComment{Body: "me too"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := n.Comment(ctx, "murmur", iss.ID[:8], api.NewComment{Body: "fixed?", ReplyTo: c.ID[:6]})
	if err != nil {
		t.Fatal(err)
	}
	if r.ReplyTo != c.ID {
		t.Errorf("reply_to = %q, want %q", r.ReplyTo, c.ID)
	}
	closed, err := n.EditIssue(ctx, "", iss.ID[:4], api.Edit{State: "closed", Reason: "not-planned", Comment: "wontfix"})
	if err != nil {
		t.Fatal(err)
	}
	if closed.State != "closed" || closed.Reason != "not-planned" || len(closed.Comments) != 3 {
		t.Errorf("closed = %+v", closed)
	}
	if err := n.React(ctx, "", c.ID[:8], "👍", false); err != nil {
		t.Fatal(err)
	}
	if err := n.React(ctx, "", c.ID[:8], "👍", true); err != nil {
		t.Fatal(err)
	}
	open, err := n.Issues(ctx, "", api.ListFilter{})
	if err != nil || len(open) != 0 {
		t.Errorf("open issues = %v, %v", open, err)
	}
	all, err := n.Issues(ctx, "", api.ListFilter{State: "all", Label: "BUG"})
	if err != nil || len(all) != 1 {
		t.Errorf("all issues = %v, %v", all, err)
	}
	w := newWorkCopy(t)
	commit := w.commitText("main.go", "package main\n\nfunc main() {\n}\n\n")
	second := w.commitText("main.go", "package main\n\nfunc main() {\n\tprintln()\n}\n")
	if _, err := n.PushRefs(ctx, "", api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/topic": second}}); err != nil {
		t.Fatal(err)
	}
	p, err := n.CreatePatch(ctx, "", api.NewPatch{Title: "fix", Commit: commit})
	if err != nil {
		t.Fatal(err)
	}
	if p.Base != "main" || len(p.Revisions) != 1 {
		t.Errorf("patch = %+v", p)
	}
	p, err = n.AddRevision(ctx, "", p.ID, api.NewRevision{Commit: second})
	if err != nil {
		t.Fatal(err)
	}
	p, err = n.Review(ctx, "", p.ID, api.NewReview{Verdict: "request-changes", Summary: "nit", Path: "main.go", Start: 3, End: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Reviews) != 1 || p.Reviews[0].RevNumber != 2 || len(p.Comments) != 1 || p.Comments[0].Anchor.Path != "main.go" {
		t.Errorf("patch after review = %+v", p)
	}
	if _, err := n.CreatePatch(ctx, "", api.NewPatch{Title: "bad", Commit: "xyz"}); code(err) != api.CodeInvalid {
		t.Errorf("bad commit: %v", err)
	}
	refs, err := n.SetRefs(ctx, "", map[string]string{"refs/heads/main": commit})
	if err != nil || len(refs) != 2 {
		t.Fatalf("SetRefs = %v, %v; want main and topic", refs, err)
	}
	if _, err := n.Issue(ctx, "", "ffff"); code(err) != api.CodeNotFound {
		t.Errorf("unknown issue: %v", err)
	}
	if _, err := n.CreateIssue(ctx, "", api.NewIssue{Title: "  "}); code(err) != api.CodeInvalid {
		t.Errorf("empty title: %v", err)
	}
	acts, err := n.Activity(ctx, "", 5)
	if err != nil || len(acts) != 5 {
		t.Errorf("activity = %d, %v", len(acts), err)
	}
}

func TestNonMaintainerRefused(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	n := openNode(t, home)
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	n.Close()
	// Swap in another identity.
	os.Remove(filepath.Join(home, KeyFile))
	k, _ := identity.Generate()
	if err := identity.Save(filepath.Join(home, KeyFile), k, nil); err != nil {
		t.Fatal(err)
	}
	n2 := openNode(t, home)
	_, err := n2.SetRefs(ctx, "r", map[string]string{"refs/heads/main": "0123456789abcdef0123456789abcdef01234567"})
	if code(err) != api.CodeForbidden {
		t.Errorf("non-maintainer SetRefs = %v, want forbidden", err)
	}
	if _, err := n2.CreateIssue(ctx, "r", api.NewIssue{Title: "anyone may"}); err != nil {
		t.Errorf("non-maintainer issue: %v", err)
	}
}

func TestLockedKey(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	k, _ := identity.Generate()
	if err := identity.Save(filepath.Join(home, KeyFile), k, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	n := openNode(t, home)
	_, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"})
	if code(err) != api.CodeLocked {
		t.Errorf("write with locked key = %v, want %s", err, api.CodeLocked)
	}
}

func TestEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := openNode(t, t.TempDir())
	ch, _ := n.Events(ctx)
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-ch:
		if e.Kind != "repo.create" || !e.Local {
			t.Errorf("event = %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	cancel()
	for range ch {
	}
	if err := errors.Join(); err != nil {
		t.Fatal(err)
	}
}
