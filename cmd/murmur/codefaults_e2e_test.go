package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestE2EGitPushNamespaceAndConcurrentRefusal: through git-remote-murmur,
// a non-maintainer's git push lands only in their own namespace and
// reaches the other replica with its commits, while the canonical branch
// stays; and a push that git's own check passes but that the node
// refuses, because a concurrent push from another replica moved the
// branch after git listed it, shows as git's usual non-fast-forward
// rejection and moves nothing.
func TestE2EGitPushNamespaceAndConcurrentRefusal(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	withHelper(t, ca)
	withHelper(t, cb)
	commitA := gitWork(t, ca)
	c1 := commitA("README", "hello\n")
	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	ca.gitOK(".", "push", "murmur", "trunk")
	const trunk = "refs/heads/trunk"
	var bob api.Identity
	cb.json(&bob, "id", "show", "--json")

	// Bob, not a maintainer, clones and pushes trunk: it becomes his
	// namespace's trunk, and the canonical trunk does not move.
	cb.gitOK(".", "clone", "-q", "murmur://"+repo.ID, "clone")
	b1 := cb.commitIn("clone", "bob.txt", "from bob\n")
	if out := cb.gitOK("clone", "push", "origin", "trunk"); !strings.Contains(out, "trunk -> trunk") {
		t.Errorf("Bob's git push said %q", out)
	}
	mine := api.NamespaceRef(bob.ID, trunk)
	for _, c := range []*cli{cb, ca} {
		refWith(t, c, repo.ID, mine, "Bob's pushed branch with its commits on "+c.home, func(r api.Ref) error {
			if r.Commit != b1 || r.Namespace != bob.ID || !r.Objects {
				return fmt.Errorf("%+v, want %.7s in %s's namespace with objects", r, b1, bob.ID)
			}
			return nil
		})
		if r, _ := refOf(c, repo.ID, trunk); r.Commit != c1 {
			t.Errorf("canonical trunk on %s after Bob's push = %+v, want %.7s", c.home, r, c1)
		}
	}
	if err := hasObjects(ca, repo.ID, b1); err != nil {
		t.Error(err)
	}
	// git sees Bob's own trunk as the remote's: a second push is a no-op.
	if out := cb.gitOK("clone", "push", "origin", "trunk"); !strings.Contains(out, "up-to-date") {
		t.Errorf("Bob's second git push said %q, want up-to-date", out)
	}

	// Bob becomes a maintainer. Alice commits on c1 and pushes; after git
	// has listed trunk at c1 (so its own check passes), her pre-push hook
	// has Bob push b1 to the canonical trunk from his replica and waits
	// until it reaches hers. Her node then refuses her push.
	ca.ok("repo", "maintainer", "add", bob.ID)
	eventually(t, "Bob is a maintainer on B", 30*time.Second, func() error {
		var r api.Repo
		cb.json(&r, "repo", "view", repo.ID, "--json")
		if !slices.ContainsFunc(r.Maintainers, func(p api.Person) bool { return p.ID == bob.ID }) {
			return fmt.Errorf("maintainers on B: %+v", r.Maintainers)
		}
		return nil
	})
	c2 := commitA("alice.txt", "from alice\n")
	hook := fmt.Sprintf(`#!/bin/sh
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
MURMUR_HOME=%s HOME=%s git -C %s push -q origin trunk || exit 1
i=0
until murmur refs list -R %s --json | grep -q %s; do
	i=$((i+1)); [ $i -gt 300 ] && { echo "Bob's push did not reach Alice's node" >&2; exit 1; }
	sleep 0.1
done
`, shellQuote(cb.home), shellQuote(cb.dir), shellQuote(filepath.Join(cb.dir, "clone")), repo.ID, b1)
	if err := os.WriteFile(filepath.Join(ca.dir, ".git", "hooks", "pre-push"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := ca.gitTry(".", "push", "murmur", "trunk")
	if err == nil || !strings.Contains(out, "[rejected]") || !strings.Contains(out, "trunk -> trunk (non-fast-forward)") {
		t.Fatalf("Alice's push after Bob's concurrent one: err %v, output:\n%s\nwant git's non-fast-forward rejection", err, out)
	}
	for _, c := range []*cli{ca, cb} {
		canonicalRef(t, c, repo.ID, trunk, b1)
	}
	if r, _ := refOf(ca, repo.ID, trunk); r.Commit == c2 || len(r.Conflicts) != 0 {
		t.Errorf("trunk on A after the refused push = %+v, want %.7s and no conflict", r, b1)
	}
	db.stop()
	da.stop()
}
