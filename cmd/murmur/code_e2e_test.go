package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"murmur/api"
	"murmur/node"
)

// gitWork makes c's working directory a git working copy with one commit
// and returns a function that commits a change and returns its hash.
func gitWork(t *testing.T, c *cli) func(file, text string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: git is not installed, and this test moves code with it")
	}
	gitInit(t, c.dir)
	return committer(t, c.dir)
}

// refOf returns the entry of name in c's `refs list --json` of repo.
func refOf(c *cli, repo, name string) (api.Ref, bool) {
	var refs []api.Ref
	c.json(&refs, "refs", "list", "-R", repo, "--json")
	for _, r := range refs {
		if r.Name == name {
			return r, true
		}
	}
	return api.Ref{}, false
}

func TestE2ECodeTravels(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commit := gitWork(t, ca)
	commit("README", "hello\n")
	head := commit("main.go", "package main\n")

	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	ca.ok("refs", "push")
	if r, ok := refOf(ca, repo.ID, "refs/heads/trunk"); !ok || r.Commit != head || !r.Objects {
		t.Fatalf("on A after refs push: %+v (found %v), want trunk at %s with objects", r, ok, head)
	}

	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	// No further command: B's node fetches the commits itself.
	eventually(t, "B holds the pushed commits", 20*time.Second, func() error {
		r, ok := refOf(cb, repo.ID, "refs/heads/trunk")
		if !ok || r.Commit != head || !r.Objects {
			return fmt.Errorf("trunk on B = %+v (found %v)", r, ok)
		}
		return nil
	})
	bare := filepath.Join(cb.home, node.CodeDir, repo.ID+".git")
	for _, c := range []string{head, head + "~1", head + "^{tree}"} {
		if out, err := exec.Command("git", "--git-dir", bare, "cat-file", "-e", c).CombinedOutput(); err != nil {
			t.Errorf("git cat-file -e %s in B's object store: %v %s", c, err, out)
		}
	}
	var st api.Status
	cb.json(&st, "status", "--json")
	if !st.Code.Available || st.Code.Git == "" {
		t.Errorf("status on B: code = %+v, want available", st.Code)
	}
	db.stop()
	da.stop()
}

func TestE2ENoGitStillSyncsMetadata(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commit := gitWork(t, ca)
	head := commit("README", "hello\n")
	// B's PATH has no git.
	cb.env["PATH"] = t.TempDir()

	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	ca.ok("refs", "push")
	issue := ca.id("issue", "create", "-t", "Works without git")

	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	eventually(t, "B has the repo's issue and refs", 20*time.Second, func() error {
		r, ok := refOf(cb, repo.ID, "refs/heads/trunk")
		if !ok || r.Commit != head {
			return fmt.Errorf("trunk on B = %+v (found %v)", r, ok)
		}
		if r.Objects || !strings.Contains(r.MissingReason, "git") {
			return fmt.Errorf("trunk on B = %+v, want objects missing because git is", r)
		}
		if out := cb.ok("issue", "view", issue, "-R", repo.ID, "--json"); !strings.Contains(out, "Works without git") {
			return fmt.Errorf("issue on B: %s", out)
		}
		return nil
	})
	var st api.Status
	cb.json(&st, "status", "--json")
	if st.Code.Available || !strings.Contains(st.Code.Reason, "install git") {
		t.Errorf("status on B: code = %+v, want unavailable, telling to install git", st.Code)
	}
	if out := cb.run("refs", "list", "-R", repo.ID); !strings.Contains(out.stderr, "install git") || !strings.Contains(out.stdout, "missing") {
		t.Errorf("refs list on B: stdout %q stderr %q, want the ref shown missing and why", out.stdout, out.stderr)
	}
	db.stop()
	da.stop()
}
