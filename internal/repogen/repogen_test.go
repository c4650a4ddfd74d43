package repogen

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: git is not installed, and repogen writes histories with it")
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	needGit(t)
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	gen := func(name string, o Options) string {
		t.Helper()
		head, err := Generate(ctx, filepath.Join(dir, name), o)
		if err != nil {
			t.Fatal(err)
		}
		return head
	}
	o := Options{Commits: 150, Seed: 7}
	a, b := gen("a", o), gen("b", o)
	if a != b {
		t.Errorf("two generations with %+v: heads %s and %s, want the same", o, a, b)
	}
	if c := gen("c", Options{Commits: 150, Seed: 8}); c == a {
		t.Errorf("seeds 7 and 8 both gave head %s, want different histories", a)
	}
	count, err := Git(ctx, filepath.Join(dir, "a"), "rev-list", "--count", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if count != "150" {
		t.Errorf("rev-list --count HEAD = %s, want 150", count)
	}
	// The working copy is checked out and clean.
	if st, err := Git(ctx, filepath.Join(dir, "a"), "status", "--porcelain"); err != nil || st != "" {
		t.Errorf("git status --porcelain = %q, %v; want a clean checkout", st, err)
	}
}

func TestGenerateChurn(t *testing.T) {
	needGit(t)
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "r")
	if _, err := Generate(ctx, dir, Options{Commits: 400, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	// Renames, deletions and additions all occur, and most commits touch
	// few files.
	log, err := Git(ctx, dir, "log", "-M", "--name-status", "--format=%x00", "HEAD~399..HEAD")
	if err != nil {
		t.Fatal(err)
	}
	var seen = map[byte]int{}
	small, commits := 0, 0
	for _, c := range splitCommits(log) {
		commits++
		if len(c) <= 6 {
			small++
		}
		for _, l := range c {
			seen[l[0]]++
		}
	}
	for _, s := range []byte{'A', 'D', 'M', 'R'} {
		if seen[s] == 0 {
			t.Errorf("no %c entries in 399 commits; counts %v", s, seen)
		}
	}
	if small*10 < commits*9 {
		t.Errorf("%d of %d commits touch at most 6 files, want at least 90%%", small, commits)
	}
}

// splitCommits splits `git log --name-status --format=%x00` output into
// the status lines of each commit.
func splitCommits(log string) [][]string {
	var out [][]string
	for _, l := range strings.Split(log, "\n") {
		switch {
		case l == "\x00":
			out = append(out, nil)
		case l != "" && len(out) > 0:
			out[len(out)-1] = append(out[len(out)-1], l)
		}
	}
	return out
}
