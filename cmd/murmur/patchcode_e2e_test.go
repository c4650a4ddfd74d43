package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// TestE2EPatchOnRealCommits opens a patch from a branch on node A and
// follows it on node B: the diff, a checkout, inline comments checked
// against the revision's tree, a second revision and the change between
// the two.
func TestE2EPatchOnRealCommits(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commit := gitWork(t, ca)
	base := commit("main.go", "package main\n\nfunc main() {\n}\n")

	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	ca.ok("refs", "push")
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)

	// A commit the node lacks is refused, with what to do.
	gitRun(t, ca.dir, "checkout", "-q", "-b", "fix")
	rev1 := commit("main.go", "package main\n\nfunc main() {\n\tprintln(\"fixed\")\n}\n")
	ca.fail(exitFailure, "push the branch first", "patch", "open", "-t", "Fix", "-b", "", "--commit", rev1)

	// Opening from the branch publishes it and proposes its head.
	id := ca.id("patch", "open", "-t", "Fix main", "-b", "It printed nothing.")
	var p api.Patch
	ca.json(&p, "patch", "view", id, "--json")
	if len(p.Revisions) != 1 || p.Revisions[0].Commit != rev1 || p.Revisions[0].BaseCommit != base {
		t.Fatalf("patch on A = %+v, want revision 1 at %s based on %s", p.Revisions, rev1, base)
	}

	// B gets the patch and its commits, and diffs it.
	eventually(t, "B shows the patch's diff", 30*time.Second, func() error {
		r := cb.run("patch", "diff", id, "-R", repo.ID)
		if r.code != 0 {
			return fmt.Errorf("patch diff on B: exit %d: %s", r.code, r.stderr)
		}
		return nil
	})
	out := cb.ok("patch", "diff", id, "-R", repo.ID)
	for _, want := range []string{"diff --git a/main.go b/main.go\n", "--- a/main.go\n+++ b/main.go\n", "@@ -1,4 +1,5 @@", "\n+\tprintln(\"fixed\")\n", "\n }\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("patch diff on B lacks %q:\n%s", want, out)
		}
	}
	if out := cb.ok("patch", "diff", id, "--stat", "-R", repo.ID); out != " main.go | 1 +\n 1 file changed, 1 insertion(+)\n" {
		t.Errorf("patch diff --stat on B = %q", out)
	}

	// B checks the revision out into a working copy of its own.
	gitInit(t, cb.dir)
	cb.ok("patch", "checkout", id, "-R", repo.ID)
	branch := "patch/" + id[:8]
	if got := gitRun(t, cb.dir, "rev-parse", "--abbrev-ref", "HEAD"); got != branch {
		t.Errorf("B's working copy is on %q, want %s", got, branch)
	}
	if got := gitRun(t, cb.dir, "rev-parse", "HEAD"); got != rev1 {
		t.Errorf("B's HEAD = %s, want %s", got, rev1)
	}
	if b, err := os.ReadFile(filepath.Join(cb.dir, "main.go")); err != nil || !strings.Contains(string(b), "println(\"fixed\")") {
		t.Errorf("main.go in B's checkout = %q, %v", b, err)
	}

	// Inline comments: on a real line, accepted; past the end, refused.
	cb.ok("review", id, "--comment", "--file", "main.go", "--line", "4", "-b", "Why println?", "-R", repo.ID)
	cb.fail(exitFailure, "main.go has 5 lines in revision 1", "review", id, "--comment", "--file", "main.go", "--line", "6-7", "-b", "Past the end", "-R", repo.ID)
	cb.fail(exitFailure, "nope.go is not a file in revision 1", "review", id, "--comment", "--file", "nope.go", "--line", "1", "-b", "No such file", "-R", repo.ID)
	cb.ok("patch", "comment", id, "--file", "main.go", "--line", "3-5", "-b", "The whole function", "-R", repo.ID)
	cb.fail(exitFailure, "main.go has 5 lines in revision 1", "patch", "comment", id, "--file", "main.go", "--line", "9", "-b", "Past the end", "-R", repo.ID)
	cb.json(&p, "patch", "view", id, "--json", "-R", repo.ID)
	var anchors []string
	for _, c := range p.Comments {
		if c.Anchor != nil {
			anchors = append(anchors, fmt.Sprintf("%s:%d-%d@%d", c.Anchor.Path, c.Anchor.Start, c.Anchor.End, c.Anchor.RevNumber))
		}
	}
	if strings.Join(anchors, " ") != "main.go:4-4@1 main.go:3-5@1" {
		t.Errorf("inline comments on B = %q, want main.go lines 4 and 3-5 of revision 1", anchors)
	}

	// A second revision from the branch; the same head again is refused.
	ca.fail(exitFailure, "already proposes", "patch", "update", id)
	rev2 := commit("main.go", "package main\n\nfunc main() {\n\tprintln(\"fixed\")\n\tprintln(\"twice\")\n}\n")
	ca.id("patch", "update", id, "-m", "Say it twice")
	eventually(t, "B diffs revision 1 against revision 2", 30*time.Second, func() error {
		var d api.Diff
		out, err := cb.jsonOf("patch", "diff", id, "--from", "1", "--to", "2", "--json", "-R", repo.ID)
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			return err
		}
		if d.Base != rev1 || d.Head != rev2 || d.Added != 1 || d.Deleted != 0 {
			return fmt.Errorf("diff from 1 to 2 on B = %+v", d)
		}
		return nil
	})
	out = cb.ok("patch", "diff", id, "--from", "1", "--to", "2", "-R", repo.ID)
	if !strings.Contains(out, "\n+\tprintln(\"twice\")\n") || strings.Contains(out, "+\tprintln(\"fixed\")") {
		t.Errorf("patch diff --from 1 --to 2 on B:\n%s\nwant only the second println added", out)
	}
	db.stop()
	da.stop()
}
