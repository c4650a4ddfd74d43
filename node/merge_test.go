package node

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"murmur/api"
	"murmur/forge"
	"murmur/op"
)

func TestFixesIn(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"Fixes 1a2b", []string{"1a2b"}},
		{"fixes #1A2B3C.", []string{"1a2b3c"}},
		{"Parse it.\n\nCloses: abcd, beef and cafe\nResolves 0123", []string{"abcd", "beef", "cafe", "0123"}},
		{"Fixed abcd; resolved abcd", []string{"abcd"}},
		{"fixes the parser", nil},
		{"prefixes abcd", nil},
		{"Fixes abc", nil},
		{"Fixes 1a2bz", nil},
	} {
		if got := FixesIn(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("FixesIn(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// waitPatch polls n until patch id satisfies ok.
func waitPatch(t *testing.T, n *Node, repo, id string, ok func(api.Patch) bool) api.Patch {
	t.Helper()
	ctx := testCtx(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := n.Patch(ctx, repo, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("patch %s is %s, never got as expected", id[:8], p.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMergeDetection(t *testing.T) {
	w := newWorkCopy(t)
	base := w.commit("a", 100)
	ctx := testCtx(t)
	a, b := openMeshNode(t, t.TempDir()), openMeshNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := a.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "parser crashes"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "unrelated"})
	if err != nil {
		t.Fatal(err)
	}
	w.git("checkout", "--quiet", "-b", "feature")
	w.commit("b", 100)
	w.git("commit", "--quiet", "--allow-empty", "-m", "Handle empty input\n\nFixes "+fixed.ID[:8])
	head := w.git("rev-parse", "HEAD")
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": base, "refs/heads/feature": head}}); err != nil {
		t.Fatal(err)
	}
	p, err := a.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "empty input", Base: "main", Commit: head, BaseCommit: base})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Patch(ctx, repo.ID, p.ID); got.State != forge.StateOpen {
		t.Fatalf("patch is %s while main does not reach its head, want open", got.State)
	}
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	waitRef(t, ctx, b, repo.ID, "refs/heads/feature", func(r api.Ref) bool { return r.Objects && r.Commit == head })

	// The maintainer fast-forwards main to the patch head.
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Patch(ctx, repo.ID, p.ID); got.State != forge.StateMerged {
		t.Errorf("after the push, patch on the maintainer's node is %s, want merged", got.State)
	}
	if _, err := a.Sync(ctx, api.SyncRequest{Peers: []string{b.Mesh().Addr()}}); err != nil {
		t.Fatal(err)
	}
	waitPatch(t, b, repo.ID, p.ID, func(p api.Patch) bool { return p.State == forge.StateMerged })
	for _, n := range []*Node{a, b} {
		if is, _ := n.Issue(ctx, repo.ID, fixed.ID); is.State != forge.StateClosed || is.Reason != forge.ReasonCompleted {
			t.Errorf("fixed issue is %s (%s), want closed as completed", is.State, is.Reason)
		}
		if is, _ := n.Issue(ctx, repo.ID, other.ID); is.State != forge.StateOpen {
			t.Errorf("unrelated issue is %s, want open", is.State)
		}
	}
	// b, no maintainer, wrote nothing: the ops came from a, once.
	bid, _ := b.Identity(ctx)
	acts, err := b.Activity(ctx, repo.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	merges := 0
	for _, act := range acts {
		if act.Author.ID == bid.ID {
			t.Errorf("b, no maintainer, wrote %s", act.Kind)
		}
		if act.Kind == forge.KindState && act.Object == p.ID {
			merges++
		}
	}
	if merges != 1 {
		t.Errorf("%d state ops on the patch, want one merge", merges)
	}
}

// TestMergeAgreesWithoutObjects: a replica that cannot hold code (no
// git) shows a patch merged and its issue closed all the same, by the
// maintainer's ops.
func TestMergeAgreesWithoutObjects(t *testing.T) {
	w := newWorkCopy(t)
	base := w.commit("a", 100)
	// c starts without git in PATH, so its code side has none.
	path := os.Getenv("PATH")
	t.Setenv("PATH", t.TempDir())
	c := openMeshNode(t, t.TempDir())
	t.Setenv("PATH", path)
	a := openMeshNode(t, t.TempDir())
	ctx := testCtx(t)
	if st, _ := c.Status(ctx); st.Code.Available {
		t.Fatalf("c's code = %+v, want unavailable", st.Code)
	}
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	issue, err := a.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "bug"})
	if err != nil {
		t.Fatal(err)
	}
	head := w.commit("b", 100)
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/fix": head}}); err != nil {
		t.Fatal(err)
	}
	p, err := a.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "fix", Description: "Closes " + issue.ID[:8], Base: "main", Commit: head, BaseCommit: base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync(ctx, api.SyncRequest{Peers: []string{c.Mesh().Addr()}}); err != nil {
		t.Fatal(err)
	}
	waitPatch(t, c, repo.ID, p.ID, func(p api.Patch) bool { return p.State == forge.StateMerged })
	if is, _ := c.Issue(ctx, repo.ID, issue.ID); is.State != forge.StateClosed {
		t.Errorf("issue on c is %s, want closed", is.State)
	}
	if r := waitRef(t, ctx, c, repo.ID, "refs/heads/main", func(r api.Ref) bool { return r.Commit == head }); r.Objects {
		t.Errorf("main on c = %+v, want its objects missing", r)
	}
}

// BenchmarkDetectMerges measures a merge detection pass over a repo with
// 100 open patches that its base branch does not reach: cold asks git
// about each, warm finds each at the head and base it was last checked
// against (a push to any other ref).
func BenchmarkDetectMerges(b *testing.B) {
	w := newWorkCopy(b)
	w.git("commit", "--quiet", "--allow-empty", "-m", "base")
	base := w.git("rev-parse", "HEAD")
	ctx := context.Background()
	n, err := Open(ctx, Config{Home: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	if _, err := n.InitIdentity(ctx, "m", nil); err != nil {
		b.Fatal(err)
	}
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"})
	if err != nil {
		b.Fatal(err)
	}
	refs := map[string]string{"refs/heads/main": base}
	for i := range 100 {
		w.git("checkout", "--quiet", "-B", "p", base)
		w.git("commit", "--quiet", "--allow-empty", "-m", fmt.Sprint("patch ", i))
		head := w.git("rev-parse", "HEAD")
		refs[fmt.Sprintf("refs/heads/p%d", i)] = head
		if _, err := n.CreatePatch(ctx, repo.ID, api.NewPatch{Title: "p", Base: "main", Commit: head, BaseCommit: base}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := n.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: refs}); err != nil {
		b.Fatal(err)
	}
	c, id := n.codes(), mustIDB(b, repo.ID)
	for _, warm := range []bool{false, true} {
		b.Run(map[bool]string{false: "cold", true: "warm"}[warm], func(b *testing.B) {
			for b.Loop() {
				if !warm {
					c.detecting.Lock()
					clear(c.unmerged)
					c.detecting.Unlock()
				}
				if err := c.detectMerges(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustIDB(b *testing.B, s string) op.ID {
	id, err := op.ParseID(s)
	if err != nil {
		b.Fatal(err)
	}
	return id
}
