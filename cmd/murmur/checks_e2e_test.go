package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// patchOn returns patch id as c's node shows it.
func patchOn(c *cli, repo, id string) api.Patch {
	var p api.Patch
	c.json(&p, "patch", "view", id, "-R", repo, "--json")
	return p
}

// checkKeys lists a patch's checks as "revision reporter name state".
func checkKeys(p api.Patch) []string {
	var out []string
	for _, c := range p.Checks {
		out = append(out, fmt.Sprintf("%d %s %s %s", c.RevNumber, c.Reporter.ID, c.Name, c.State))
	}
	return out
}

// TestE2EChecksAndMerges runs two real nodes: A, the maintainer with a
// working copy, and B, a follower with another identity. Checks from both
// show on both, per revision and reporter; a maintainer's push of the base
// branch that reaches a patch head marks the patch merged on both and
// closes the issue it fixes; 'patch merge' fast-forwards, makes a merge
// commit, and refuses a conflicting merge leaving the working copy clean.
func TestE2EChecksAndMerges(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commit := gitWork(t, ca)
	commit("README", "hello\n")
	commit("main.go", "package main\n\nfunc main() {}\n")

	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	ca.ok("refs", "push")
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	var idA, idB api.Identity
	ca.json(&idA, "id", "show", "--json")
	cb.json(&idB, "id", "show", "--json")

	// branch makes a branch from trunk with one commit and publishes it.
	branch := func(name, file, text, msg string) string {
		t.Helper()
		gitRun(t, ca.dir, "checkout", "-q", "-b", name, "trunk")
		head := commit(file, text)
		if msg != "" {
			gitRun(t, ca.dir, "commit", "-q", "--amend", "-m", msg)
			head = gitRun(t, ca.dir, "rev-parse", "HEAD")
		}
		ca.ok("refs", "push")
		gitRun(t, ca.dir, "checkout", "-q", "trunk")
		return head
	}
	open := func(title, head, desc string) string {
		t.Helper()
		return ca.id("patch", "open", "-t", title, "--commit", head, "--base-commit", gitRun(t, ca.dir, "rev-parse", "trunk"), "-b", desc)
	}
	onBoth := func(what string, ok func(c *cli) error) {
		t.Helper()
		for _, c := range []*cli{ca, cb} {
			eventually(t, what, 20*time.Second, func() error { return ok(c) })
		}
	}
	state := func(id, want string) func(c *cli) error {
		return func(c *cli) error {
			if p := patchOn(c, repo.ID, id); p.State != want {
				return fmt.Errorf("patch %s is %s, want %s", id, p.State, want)
			}
			return nil
		}
	}
	trunkOn := func(c *cli) string {
		r, _ := refOf(c, repo.ID, "refs/heads/trunk")
		return r.Commit
	}

	// Checks: A reports twice under one name (the later wins), B once.
	h1 := branch("checked", "a.txt", "a\n", "")
	p1 := open("Checked", h1, "")
	ca.id("patch", "check", p1, "--state", "pending", "--name", "ci/test")
	ca.id("patch", "check", p1, "--state", "success", "--name", "ci/test", "--url", "https://ci.example/runs/2", "--summary", "all passed")
	eventually(t, "B has the patch", 20*time.Second, func() error {
		if r := cb.run("patch", "view", p1, "-R", repo.ID, "--json"); r.code != 0 {
			return fmt.Errorf("patch view on B: %s", r.stderr)
		}
		return nil
	})
	cb.id("patch", "check", p1, "-R", repo.ID, "--state", "failure", "--name", "ci/test", "--summary", "flaky")
	want := []string{"1 " + idA.ID + " ci/test success", "1 " + idB.ID + " ci/test failure"}
	slices.Sort(want)
	onBoth("both checks on both nodes", func(c *cli) error {
		var checks []api.Check
		c.json(&checks, "patch", "checks", p1, "-R", repo.ID, "--json")
		got := checkKeys(api.Patch{Checks: checks})
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("checks = %q, want %q", got, want)
		}
		return nil
	})
	if out := cb.ok("patch", "checks", p1, "-R", repo.ID); !strings.Contains(out, "success\tci/test") || !strings.Contains(out, "https://ci.example/runs/2\tall passed") {
		t.Errorf("patch checks on B:\n%s", out)
	}
	if out := cb.ok("patch", "view", p1, "-R", repo.ID); !strings.Contains(out, "check\t1\tfailure\tci/test") {
		t.Errorf("patch view on B shows no checks:\n%s", out)
	}

	// A push of trunk that reaches a patch head merges it, everywhere,
	// and closes the issue its commit fixes.
	issue := ca.id("issue", "create", "-t", "Crash on empty input")
	other := ca.id("issue", "create", "-t", "Unrelated")
	h2 := branch("fix", "b.txt", "b\n", "Handle empty input\n\nFixes "+issue+".")
	p2 := open("Handle empty input", h2, "See the commit.")
	gitRun(t, ca.dir, "merge", "-q", "--ff-only", "fix")
	ca.ok("refs", "push")
	onBoth("the pushed patch shown merged", state(p2, "merged"))
	onBoth("the fixed issue closed", func(c *cli) error {
		var is api.Issue
		c.json(&is, "issue", "view", issue, "-R", repo.ID, "--json")
		if is.State != "closed" || is.Reason != "completed" {
			return fmt.Errorf("issue %s is %s (%s), want closed (completed)", issue, is.State, is.Reason)
		}
		return nil
	})
	var is api.Issue
	cb.json(&is, "issue", "view", other, "-R", repo.ID, "--json")
	if is.State != "open" {
		t.Errorf("an issue the patch does not name is %s, want open", is.State)
	}
	if p := patchOn(cb, repo.ID, p1); p.State != "open" {
		t.Errorf("a patch trunk does not reach is %s, want open", p.State)
	}

	// patch merge fast-forwards.
	h3 := branch("ff", "c.txt", "c\n", "")
	p3 := open("Fast-forward", h3, "")
	gitRun(t, ca.dir, "checkout", "-q", "ff") // anywhere; the merge checks trunk out
	if out := ca.ok("patch", "merge", p3); strings.TrimSpace(out) != p3 {
		t.Errorf("patch merge printed %q, want %s", out, p3)
	}
	if got := gitRun(t, ca.dir, "rev-parse", "trunk"); got != h3 {
		t.Errorf("local trunk after a fast-forward merge = %s, want %s", got, h3)
	}
	onBoth("the fast-forwarded patch merged", state(p3, "merged"))
	onBoth("trunk at the fast-forwarded head", func(c *cli) error {
		if got := trunkOn(c); got != h3 {
			return fmt.Errorf("trunk = %s, want %s", got, h3)
		}
		return nil
	})

	// patch merge makes a merge commit when trunk moved on.
	h4 := branch("merge", "d.txt", "d\n", "")
	p4 := open("Merge commit", h4, "")
	gitRun(t, ca.dir, "checkout", "-q", "trunk")
	moved := commit("e.txt", "e\n")
	ca.ok("refs", "push")
	if r := ca.run("patch", "merge", p4, "--ff-only"); r.code == 0 || !strings.Contains(r.stderr, "cannot be fast-forwarded") {
		t.Errorf("patch merge --ff-only of a diverged patch: exit %d, stderr %q", r.code, r.stderr)
	}
	ca.ok("patch", "merge", p4)
	tip := gitRun(t, ca.dir, "rev-parse", "trunk")
	if parents := strings.Fields(gitRun(t, ca.dir, "log", "-1", "--format=%P", tip)); !slices.Equal(parents, []string{moved, h4}) {
		t.Errorf("merge commit %s has parents %v, want [%s %s]", tip, parents, moved, h4)
	}
	onBoth("the merge-commit patch merged", state(p4, "merged"))
	onBoth("trunk at the merge commit", func(c *cli) error {
		if got := trunkOn(c); got != tip {
			return fmt.Errorf("trunk = %s, want %s", got, tip)
		}
		return nil
	})

	// A conflicting merge is refused, and the working copy left clean.
	h5 := branch("conflict", "main.go", "package main\n\nfunc main() { println(1) }\n", "")
	p5 := open("Conflicts", h5, "")
	commit("main.go", "package main\n\nfunc main() { println(2) }\n")
	ca.ok("refs", "push")
	before := gitRun(t, ca.dir, "rev-parse", "HEAD")
	r := ca.run("patch", "merge", p5)
	if r.code == 0 || !strings.Contains(r.stderr, "conflict") || !strings.Contains(r.stderr, "main.go") || !strings.Contains(r.stderr, "git merge") {
		t.Errorf("conflicting patch merge: exit %d, stderr %q; want a refusal naming main.go and how to merge by hand", r.code, r.stderr)
	}
	if st := gitRun(t, ca.dir, "status", "--porcelain"); st != "" {
		t.Errorf("working copy after a refused merge:\n%s", st)
	}
	if got := gitRun(t, ca.dir, "rev-parse", "HEAD"); got != before {
		t.Errorf("HEAD after a refused merge = %s, want %s", got, before)
	}
	if p := patchOn(ca, repo.ID, p5); p.State != "open" {
		t.Errorf("the conflicting patch is %s, want open", p.State)
	}
	if got := trunkOn(ca); got != before {
		t.Errorf("trunk after a refused merge = %s, want %s", got, before)
	}

	// B, no maintainer, is told what to do, outside a working copy and
	// in one.
	if r := cb.run("patch", "merge", p5, "-R", repo.ID); r.code == 0 || !strings.Contains(r.stderr, "not inside a git working copy") {
		t.Errorf("patch merge outside a working copy: exit %d, stderr %q", r.code, r.stderr)
	}
	gitInit(t, cb.dir)
	if r := cb.run("patch", "merge", p5, "-R", repo.ID); r.code == 0 || !strings.Contains(r.stderr, "only maintainers") {
		t.Errorf("patch merge by a non-maintainer: exit %d, stderr %q", r.code, r.stderr)
	}
	db.stop()
	da.stop()
}
