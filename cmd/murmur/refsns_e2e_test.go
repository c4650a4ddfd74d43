package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// committer returns a function that commits a change in the git working
// copy dir and returns its hash.
func committer(t *testing.T, dir string) func(file, text string) string {
	return func(file, text string) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		gitRun(t, dir, "add", file)
		gitRun(t, dir, "commit", "-q", "-m", "change "+file)
		return gitRun(t, dir, "rev-parse", "HEAD")
	}
}

// refWith waits until c's ref name of repo satisfies ok and returns it.
func refWith(t *testing.T, c *cli, repo, name, what string, ok func(api.Ref) error) api.Ref {
	t.Helper()
	var got api.Ref
	eventually(t, what, 30*time.Second, func() error {
		r, found := refOf(c, repo, name)
		if !found {
			return fmt.Errorf("no ref %s", name)
		}
		got = r
		return ok(r)
	})
	return got
}

// hasObjects checks that the bare repository of repo on c's node holds
// the commits.
func hasObjects(c *cli, repo string, commits ...string) error {
	var r api.Repo
	c.json(&r, "repo", "view", repo, "--json")
	if r.GitDir == "" {
		return fmt.Errorf("repo view shows no git directory")
	}
	for _, commit := range commits {
		if out, err := exec.Command("git", "--git-dir", r.GitDir, "cat-file", "-e", commit+"^{commit}").CombinedOutput(); err != nil {
			return fmt.Errorf("commit %.7s not in %s: %v %s", commit, r.GitDir, err, out)
		}
	}
	return nil
}

// TestE2ERefNamespacesForceAndConflicts: with two real daemons and real
// git, a non-maintainer's push lands in their own namespace only and
// reaches the other replica with its commits; a maintainer's push moves
// the canonical branch; a non-fast-forward is refused without --force
// and shown forced on the other replica with it; and two maintainers'
// concurrent divergent pushes both stay, winner and conflict, with their
// commits, on both replicas.
func TestE2ERefNamespacesForceAndConflicts(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commitA := gitWork(t, ca)
	c1 := commitA("README", "hello\n")
	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	ca.ok("refs", "push")
	const trunk = "refs/heads/trunk"
	var bob api.Identity
	cb.json(&bob, "id", "show", "--json")
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)

	// Bob, not a maintainer, works in a clone of Alice's working copy.
	gitRun(t, cb.dir, "clone", "-q", ca.dir, ".")
	gitRun(t, cb.dir, "config", "user.email", "b@example.com")
	gitRun(t, cb.dir, "config", "user.name", "B")
	commitB := committer(t, cb.dir)
	b1 := commitB("bob.txt", "from bob\n")
	mine := api.NamespaceRef(bob.ID, trunk)
	if out := cb.ok("refs", "push", "-R", repo.ID); !strings.Contains(out, mine+"\t"+b1) {
		t.Errorf("Bob's refs push printed %q, want %s at %s", out, mine, b1)
	}
	refWith(t, ca, repo.ID, mine, "Bob's branch reaches A with its commits", func(r api.Ref) error {
		if r.Commit != b1 || r.Namespace != bob.ID || !r.Objects {
			return fmt.Errorf("%+v, want %.7s in %s's namespace with objects", r, b1, bob.ID)
		}
		return nil
	})
	for _, c := range []*cli{ca, cb} {
		if r, _ := refOf(c, repo.ID, trunk); r.Commit != c1 || r.Namespace != "" {
			t.Errorf("canonical trunk after Bob's push = %+v, want %.7s", r, c1)
		}
	}

	// Alice, the maintainer, moves the canonical branch.
	c2 := commitA("main.go", "package main\n")
	ca.ok("refs", "push")
	refWith(t, cb, repo.ID, trunk, "Alice's push reaches B", func(r api.Ref) error {
		if r.Commit != c2 || !r.Objects || r.Forced {
			return fmt.Errorf("%+v, want %.7s with objects, not forced", r, c2)
		}
		return nil
	})

	// A rewritten history is refused without --force, and shown forced
	// with it.
	gitRun(t, ca.dir, "reset", "-q", "--hard", c1)
	c3 := commitA("other.go", "package other\n")
	if r := ca.run("refs", "push"); r.code == 0 || !strings.Contains(r.stderr, "not a fast-forward") || !strings.Contains(r.stderr, "--force") ||
		!strings.Contains(r.stderr, c2[:7]) || !strings.Contains(r.stderr, c3[:7]) {
		t.Fatalf("non-fast-forward refs push: exit %d, stderr %q; want it refused, naming both commits and --force", r.code, r.stderr)
	}
	if r, _ := refOf(ca, repo.ID, trunk); r.Commit != c2 {
		t.Fatalf("trunk after a refused push = %.7s, want %.7s", r.Commit, c2)
	}
	ca.ok("refs", "push", "--force")
	refWith(t, cb, repo.ID, trunk, "the forced update reaches B", func(r api.Ref) error {
		if r.Commit != c3 || !r.Objects || !r.Forced {
			return fmt.Errorf("%+v, want %.7s with objects, forced", r, c3)
		}
		return nil
	})

	// Bob becomes a maintainer; then both push to trunk while B is
	// offline, and Bob, later, deletes the feature branch Alice moved.
	const feature = "refs/heads/feature"
	gitRun(t, ca.dir, "branch", "feature", c3)
	ca.ok("refs", "push")
	ca.ok("repo", "maintainer", "add", bob.ID)
	eventually(t, "Bob is a maintainer on B and sees feature", 30*time.Second, func() error {
		var r api.Repo
		cb.json(&r, "repo", "view", repo.ID, "--json")
		if !slices.ContainsFunc(r.Maintainers, func(p api.Person) bool { return p.ID == bob.ID }) {
			return fmt.Errorf("maintainers on B: %+v", r.Maintainers)
		}
		if f, _ := refOf(cb, repo.ID, feature); f.Commit != c3 {
			return fmt.Errorf("feature on B: %+v", f)
		}
		return nil
	})
	gitRun(t, cb.dir, "fetch", "-q", ca.dir, "trunk")
	gitRun(t, cb.dir, "reset", "-q", "--hard", "FETCH_HEAD")
	db.stop()
	aliceHead := commitA("alice2.txt", "online\n")
	gitRun(t, ca.dir, "branch", "-f", "feature", aliceHead)
	ca.ok("refs", "push")
	bobHead := commitB("bob2.txt", "offline\n")
	cb.ok("refs", "push", "--prune", "-R", repo.ID)
	db = newDaemon(t, cb, da.addr)
	db.start()
	var winner string
	for _, c := range []*cli{ca, cb} {
		r := refWith(t, c, repo.ID, trunk, "both concurrent pushes stay visible", func(r api.Ref) error {
			if len(r.Conflicts) != 1 {
				c.run("sync", "--peer", da.addr)
				return fmt.Errorf("%+v, want one conflict", r)
			}
			if got := []string{r.Commit, r.Conflicts[0].Value}; !slices.Contains(got, aliceHead) || !slices.Contains(got, bobHead) {
				return fmt.Errorf("trunk %.7s, conflict %.7s; want %.7s and %.7s", r.Commit, r.Conflicts[0].Value, aliceHead, bobHead)
			}
			return nil
		})
		if winner == "" {
			winner = r.Commit
		} else if r.Commit != winner {
			t.Errorf("replicas disagree on the winner: %.7s and %.7s", winner, r.Commit)
		}
		// The deletion won (it is later) and the update it did not see
		// stays on the shelf.
		refWith(t, c, repo.ID, feature, "a deletion concurrent with an update stays visible", func(r api.Ref) error {
			if r.Commit != "" || len(r.Conflicts) != 1 || r.Conflicts[0].Value != aliceHead {
				return fmt.Errorf("%+v, want deleted with %.7s on the shelf", r, aliceHead)
			}
			return nil
		})
		eventually(t, "both concurrent commits are kept", 30*time.Second, func() error {
			return hasObjects(c, repo.ID, aliceHead, bobHead)
		})
	}
	db.stop()
	da.stop()
}
