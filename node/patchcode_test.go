package node

import (
	"strings"
	"testing"

	"murmur/api"
)

// codeRepo returns a node with a repo whose ref is at a commit of text
// in a.txt of a working copy.
func codeRepo(t *testing.T, ref, text string) (w *workCopy, n *Node, repo api.Repo, commit string) {
	t.Helper()
	w = newWorkCopy(t)
	n = openNode(t, t.TempDir())
	ctx := testCtx(t)
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	commit = w.commitText("a.txt", text)
	if _, err := n.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{ref: commit}}); err != nil {
		t.Fatal(err)
	}
	return w, n, repo, commit
}

func TestPatchOnRealCommits(t *testing.T) {
	ctx := testCtx(t)
	w, n, repo, base := codeRepo(t, "refs/heads/main", "one\ntwo\nthree\n")
	w.git("checkout", "-q", "-b", "topic")
	rev1 := w.commitText("a.txt", "one\n2\nthree\nfour\n")
	unpushed := w.commitText("b.txt", "new\n")

	// A commit the node lacks is refused, and so is one the base has.
	if _, err := n.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "t", Commit: rev1}); code(err) != api.CodeInvalid || !strings.Contains(err.Error(), "push the branch first") {
		t.Errorf("CreatePatch on a commit the node lacks = %v, want invalid, saying to push the branch", err)
	}
	if _, err := n.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "t", Commit: base}); code(err) != api.CodeInvalid || !strings.Contains(err.Error(), "already in refs/heads/main") {
		t.Errorf("CreatePatch on the base's own commit = %v, want invalid", err)
	}
	if _, err := n.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/topic": rev1}}); err != nil {
		t.Fatal(err)
	}
	p, err := n.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "t", Commit: rev1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Revisions[0].BaseCommit != base {
		t.Errorf("base commit = %q, want the merge base with main %s", p.Revisions[0].BaseCommit, base)
	}
	if _, err := n.AddRevision(ctx, repo.ID, p.ID, api.NewRevision{Commit: rev1}); code(err) != api.CodeInvalid {
		t.Errorf("AddRevision of the same commit = %v, want invalid", err)
	}
	if _, err := n.AddRevision(ctx, repo.ID, p.ID, api.NewRevision{Commit: unpushed}); code(err) != api.CodeInvalid {
		t.Errorf("AddRevision of a commit the node lacks = %v, want invalid", err)
	}

	d, err := n.PatchDiff(ctx, repo.ID, p.ID, api.DiffQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Revision != 1 || d.Base != base || d.Head != rev1 || len(d.Files) != 1 || d.Added != 2 || d.Deleted != 1 {
		t.Fatalf("PatchDiff = %+v", d)
	}
	var added []string
	for _, l := range d.Files[0].Hunks[0].Lines {
		if l.Kind == "+" {
			added = append(added, l.Text)
		}
	}
	if strings.Join(added, ",") != "2,four" {
		t.Errorf("added lines = %q, want 2 and four", added)
	}

	if _, err := n.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/topic": unpushed}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddRevision(ctx, repo.ID, p.ID, api.NewRevision{Commit: unpushed}); err != nil {
		t.Fatal(err)
	}
	d, err = n.PatchDiff(ctx, repo.ID, p.ID, api.DiffQuery{From: 1, To: 2, Stat: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.From != 1 || d.Revision != 2 || len(d.Files) != 1 || d.Files[0].Path != "b.txt" || d.Files[0].Status != "added" || len(d.Files[0].Hunks) != 0 {
		t.Errorf("PatchDiff from 1 to 2 = %+v, want b.txt added, no hunks", d)
	}
	if _, err := n.PatchDiff(ctx, repo.ID, p.ID, api.DiffQuery{Revision: 3}); code(err) != api.CodeInvalid {
		t.Errorf("PatchDiff of revision 3 = %v, want invalid", err)
	}

	// Inline comments are checked against the revision's tree.
	for _, tc := range []struct {
		path       string
		start, end int
		want       string
	}{
		{"a.txt", 4, 4, ""},
		{"./a.txt", 1, 2, ""},
		{"a.txt", 4, 5, "has 4 lines"},
		{"nope.txt", 1, 1, "is not a file"},
	} {
		_, err := n.Review(ctx, repo.ID, p.ID, api.NewReview{Verdict: "comment", Summary: "s", Revision: 1, Path: tc.path, Start: tc.start, End: tc.end})
		if tc.want == "" && err != nil || tc.want != "" && (code(err) != api.CodeInvalid || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Review on %s:%d-%d = %v, want %q", tc.path, tc.start, tc.end, err, tc.want)
		}
	}
	got, err := n.Patch(ctx, repo.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Comments) != 2 || got.Comments[1].Anchor.Path != "a.txt" {
		t.Errorf("comments = %+v, want two on a.txt", got.Comments)
	}
}

// A follower gets every revision's commit, also one that no branch
// reaches any more after a rebase.
func TestRevisionsTravelAfterARebase(t *testing.T) {
	w := newWorkCopy(t)
	ctx := testCtx(t)
	a, b := openMeshNode(t, t.TempDir()), openMeshNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	base := w.commitText("a.txt", "one\n")
	w.git("checkout", "-q", "-b", "topic")
	rev1 := w.commitText("a.txt", "one\ntwo\n")
	push := func(ref, commit string) {
		t.Helper()
		if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{ref: commit}, Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	push("refs/heads/main", base)
	push("refs/heads/topic", rev1)
	p, err := a.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "t", Commit: rev1})
	if err != nil {
		t.Fatal(err)
	}
	w.git("reset", "-q", "--hard", base)
	rev2 := w.commitText("a.txt", "one\nzwei\n")
	push("refs/heads/topic", rev2)
	if _, err := a.AddRevision(ctx, repo.ID, p.ID, api.NewRevision{Commit: rev2}); err != nil {
		t.Fatal(err)
	}

	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	revs, err := a.Patch(ctx, repo.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitRef(t, ctx, b, repo.ID, "refs/heads/topic", func(r api.Ref) bool { return r.Objects && r.Commit == rev2 })
	waitBareRef(t, b, repo.ID, revisionRefPrefix+revs.Revisions[0].ID, rev1)
	d, err := b.PatchDiff(ctx, repo.ID, p.ID, api.DiffQuery{From: 1, To: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.Base != rev1 || d.Head != rev2 || d.Added != 1 || d.Deleted != 1 {
		t.Errorf("diff from revision 1 to 2 on the follower = %+v", d)
	}
}

func TestPatchOnANodeWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ctx := testCtx(t)
	n := openNode(t, t.TempDir())
	if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	_, err := n.CreatePatch(ctx, "r", api.NewPatch{Title: "t", Commit: strings.Repeat("ab", 20)})
	if code(err) != api.CodeUnavailable || !strings.Contains(err.Error(), "cannot store code") || !strings.Contains(err.Error(), "install git") {
		t.Errorf("CreatePatch without git = %v, want unavailable, saying why", err)
	}
	if r, err := n.Repo(ctx, "r"); err != nil || r.GitDir != "" {
		t.Errorf("Repo without git = %+v, %v; want no git directory", r, err)
	}
}

func TestAnchoredComment(t *testing.T) {
	ctx := testCtx(t)
	_, n, repo, head := codeRepo(t, "refs/heads/topic", "one\ntwo\n")
	p, err := n.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "t", Commit: head})
	if err != nil {
		t.Fatal(err)
	}
	issue, err := n.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "i"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := n.Comment(ctx, repo.ID, p.ID, api.NewComment{Body: "b", Path: "a.txt", Start: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Anchor == nil || c.Anchor.Path != "a.txt" || c.Anchor.Start != 2 || c.Anchor.End != 2 || c.Anchor.Commit != head {
		t.Errorf("anchored comment = %+v, want a.txt line 2 of %s", c.Anchor, head)
	}
	for _, tc := range []struct {
		id   string
		nc   api.NewComment
		want string
	}{
		{p.ID, api.NewComment{Body: "b", Path: "a.txt", Start: 3}, "has 2 lines"},
		{p.ID, api.NewComment{Body: "b", Path: "a.txt", Start: 2, End: 1}, "line range"},
		{p.ID, api.NewComment{Body: "b", Path: "a.txt", Start: 1, Revision: 2}, "revisions 1 to 1"},
		{issue.ID, api.NewComment{Body: "b", Path: "a.txt", Start: 1}, "only comments on patches"},
	} {
		if _, err := n.Comment(ctx, repo.ID, tc.id, tc.nc); code(err) != api.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Comment(%+v) = %v, want invalid: %q", tc.nc, err, tc.want)
		}
	}
}
