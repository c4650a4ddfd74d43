package patchmerge

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T, bare bool) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: needs git in PATH")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
		t.Setenv(k, "t")
	}
	for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(k, "t@example.org")
	}
	r := &repo{t: t, dir: t.TempDir()}
	args := []string{"init", "--quiet", "-b", "main"}
	if bare {
		args = append(args, "--bare")
	}
	r.git(args...)
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	out, err := git(context.Background(), r.dir, args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *repo) commit(name, content string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, name), []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", name)
	r.git("commit", "--quiet", "-m", "edit "+name)
	return r.git("rev-parse", "HEAD")
}

// setup makes a node-like bare repository holding main at base and a
// patch branch, and a working copy cloned before the patch existed.
func setup(t *testing.T, patch func(author *repo)) (node, work *repo, base, head string) {
	node = newRepo(t, true)
	author := newRepo(t, false)
	base = author.commit("a.txt", "one\ntwo\nthree\n")
	author.git("push", "--quiet", node.dir, "main")
	work = newRepo(t, false)
	work.git("pull", "--quiet", node.dir, "main")
	author.git("checkout", "--quiet", "-b", "feature")
	patch(author)
	head = author.git("rev-parse", "HEAD")
	author.git("push", "--quiet", node.dir, "feature:refs/namespaces/x/refs/heads/feature")
	return node, work, base, head
}

func TestMerge(t *testing.T) {
	ctx := context.Background()
	edit := func(a *repo) { a.commit("a.txt", "one\nTWO\nthree\n") }

	t.Run("fast-forward", func(t *testing.T) {
		node, work, base, head := setup(t, edit)
		res, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: base})
		if err != nil || !res.FastForward || res.Commit != head {
			t.Fatalf("Merge = %+v, %v; want a fast-forward to %s", res, err, head)
		}
		if got := work.git("rev-parse", "main"); got != head {
			t.Errorf("main = %s, want %s", got, head)
		}
	})
	t.Run("no-ff", func(t *testing.T) {
		node, work, base, head := setup(t, edit)
		res, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: base, Mode: NoFastForward, Message: "Merge patch"})
		if err != nil || res.FastForward {
			t.Fatalf("Merge = %+v, %v; want a merge commit", res, err)
		}
		if parents := strings.Fields(work.git("log", "-1", "--format=%P", res.Commit)); !slices.Equal(parents, []string{base, head}) {
			t.Errorf("merge parents = %v, want [%s %s]", parents, base, head)
		}
	})
	t.Run("merge commit and ff-only", func(t *testing.T) {
		node, work, base, head := setup(t, edit)
		// main moved on meanwhile, without conflict.
		other := newRepo(t, false)
		other.git("pull", "--quiet", node.dir, "main")
		moved := other.commit("b.txt", "new file\n")
		other.git("push", "--quiet", node.dir, "main")
		if _, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: moved, Mode: FastForwardOnly}); !errors.Is(err, ErrNotFastForward) {
			t.Fatalf("ff-only Merge = %v, want ErrNotFastForward", err)
		}
		res, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: moved, Message: "Merge patch"})
		if err != nil || res.FastForward {
			t.Fatalf("Merge = %+v, %v; want a merge commit", res, err)
		}
		if parents := strings.Fields(work.git("log", "-1", "--format=%P", res.Commit)); !slices.Equal(parents, []string{moved, head}) {
			t.Errorf("merge parents = %v, want [%s %s]", parents, moved, head)
		}
		_ = base
	})
	t.Run("conflict", func(t *testing.T) {
		node, work, _, head := setup(t, edit)
		other := newRepo(t, false)
		other.git("pull", "--quiet", node.dir, "main")
		moved := other.commit("a.txt", "one\nzwei\nthree\n")
		other.git("push", "--quiet", node.dir, "main")
		work.git("checkout", "--quiet", "-b", "mine")
		before := work.git("rev-parse", "HEAD")
		_, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: moved, Message: "Merge patch"})
		var ce *ConflictError
		if !errors.As(err, &ce) || !slices.Equal(ce.Files, []string{"a.txt"}) {
			t.Fatalf("Merge = %v, want a conflict in a.txt", err)
		}
		if st := work.git("status", "--porcelain"); st != "" {
			t.Errorf("working copy not clean after a refused merge:\n%s", st)
		}
		if b := work.git("symbolic-ref", "--short", "HEAD"); b != "mine" || work.git("rev-parse", "HEAD") != before {
			t.Errorf("after a refused merge HEAD is %s, want back on mine at %s", b, before)
		}
	})
	t.Run("dirty and local commits", func(t *testing.T) {
		node, work, base, head := setup(t, edit)
		if err := os.WriteFile(filepath.Join(work.dir, "a.txt"), []byte("changed"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: base}); !errors.Is(err, ErrDirty) {
			t.Errorf("Merge in a dirty working copy = %v, want ErrDirty", err)
		}
		work.git("checkout", "--quiet", "--", "a.txt")
		work.commit("c.txt", "unpushed\n")
		if _, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: head, Branch: "main", BaseCommit: base}); !errors.Is(err, ErrLocalCommits) {
			t.Errorf("Merge over unpushed commits = %v, want ErrLocalCommits", err)
		}
		missing := strings.Repeat("ab", 20)
		if _, err := Merge(ctx, Request{Dir: work.dir, Source: node.dir, Head: missing, Branch: "main", BaseCommit: base}); !errors.Is(err, ErrMissing) {
			t.Errorf("Merge of a commit the node lacks = %v, want ErrMissing", err)
		}
	})
}
