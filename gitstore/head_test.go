package gitstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunUnderGitsEnvironment: a store used by a program that git runs
// (a remote helper, a hook) works on its own repositories, not on the one
// git's GIT_DIR names; and SetHead points HEAD at the default branch.
func TestRunUnderGitsEnvironment(t *testing.T) {
	s := newStore(t)
	w := newWork(t, s.git)
	c := w.commit("a", 10)
	t.Setenv("GIT_DIR", ".git") // relative, as git sets it for a helper
	t.Setenv("GIT_WORK_TREE", t.TempDir())
	ctx := testContext(t)
	if err := s.Import(ctx, "r", w.dir, []string{c}); err != nil {
		t.Fatalf("Import under GIT_DIR: %v", err)
	}
	if err := s.SetRef(ctx, "r", "refs/heads/trunk", c, ""); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"refs/heads/trunk", "refs/heads/trunk"} {
		if err := s.SetHead(ctx, "r", ref); err != nil {
			t.Fatalf("SetHead(%s) = %v", ref, err)
		}
	}
	dir, _ := s.Dir("r")
	b, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil || strings.TrimSpace(string(b)) != "ref: refs/heads/trunk" {
		t.Errorf("HEAD = %q, %v; want ref: refs/heads/trunk", b, err)
	}
	for _, bad := range []string{"refs/tags/v1", "refs/heads/a..b", "main"} {
		if err := s.SetHead(ctx, "r", bad); err == nil {
			t.Errorf("SetHead(%q) = nil, want an error", bad)
		}
	}
}
