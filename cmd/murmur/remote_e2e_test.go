package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"murmur/api"
)

var (
	helperOnce sync.Once
	helperErr  error
)

// withHelper builds git-remote-murmur beside the murmur binary (where
// 'go install ./cmd/...' puts it) and puts that directory first in c's
// PATH, so the git that c runs finds the helper.
func withHelper(t *testing.T, c *cli) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: git is not installed, and this test clones and pushes with it")
	}
	dir := filepath.Dir(c.bin)
	helperOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "git-remote-murmur"), "../git-remote-murmur").CombinedOutput()
		if err != nil {
			helperErr = fmt.Errorf("go build git-remote-murmur: %v\n%s", err, out)
		}
	})
	if helperErr != nil {
		t.Fatal(helperErr)
	}
	c.env["PATH"] = dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// git runs git in dir (relative to c's working directory) with c's
// environment (data directory, PATH with the helper) and returns its
// combined output and whether it succeeded.
func (c *cli) gitTry(dir string, args ...string) (string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := c.command(ctx, "")
	cmd.Path, cmd.Args = gitPath(c.t), append([]string{"git"}, args...)
	cmd.Dir = filepath.Join(c.dir, dir)
	cmd.Env = append(cmd.Env, "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// gitOK is gitTry that must succeed.
func (c *cli) gitOK(dir string, args ...string) string {
	c.t.Helper()
	out, err := c.gitTry(dir, args...)
	if err != nil {
		c.t.Fatalf("git %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

func gitPath(t *testing.T) string {
	p, err := exec.LookPath("git")
	if err != nil {
		t.Skip("skipping: git is not installed")
	}
	return p
}

// commitIn commits a file in the working copy dir of c and returns the
// commit.
func (c *cli) commitIn(dir, file, text string) string {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, dir, file), []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.gitOK(dir, "add", file)
	c.gitOK(dir, "commit", "-q", "-m", "change "+file)
	return c.gitOK(dir, "rev-parse", "HEAD")
}

// canonicalRef waits until c's node has ref at commit with its objects.
func canonicalRef(t *testing.T, c *cli, repo, ref, commit string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s at %.8s with objects in %s", ref, commit, c.home), 30*time.Second, func() error {
		r, ok := refOf(c, repo, ref)
		if !ok || r.Commit != commit || !r.Objects {
			return fmt.Errorf("%s = %+v (found %v)", ref, r, ok)
		}
		return nil
	})
}

// TestE2ERemoteCloneFetchPush: a maintainer's git push moves the
// canonical branch, git clone murmur://ID on another machine checks out
// the default branch, git pull brings new commits, a non-fast-forward push
// is refused until --force, and repo init in the clone links to the repo.
func TestE2ERemoteCloneFetchPush(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	withHelper(t, ca)
	withHelper(t, cb)
	commit := gitWork(t, ca)
	commit("README", "hello\n")
	head := commit("main.go", "package main\n")

	da := newDaemon(t, ca)
	da.start()
	db := newDaemon(t, cb, da.addr)
	db.start()

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	if url := ca.gitOK(".", "remote", "get-url", "murmur"); url != "murmur://"+repo.ID {
		t.Fatalf("repo init added remote murmur = %q, want murmur://%s", url, repo.ID)
	}
	// A maintainer's push moves the canonical branch.
	if out := ca.gitOK(".", "push", "murmur", "trunk"); !strings.Contains(out, "trunk -> trunk") {
		t.Errorf("git push murmur trunk said %q", out)
	}
	canonicalRef(t, ca, repo.ID, "refs/heads/trunk", head)
	if got := ca.gitOK(".", "rev-parse", "refs/remotes/murmur/trunk"); got != head {
		t.Errorf("after the push murmur/trunk = %s, want %s", got, head)
	}

	// A participant's branch lives in their namespace; it is mirrored
	// but must not become a branch of a clone.
	me, err := da.client().Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	topic := api.NamespaceRef(me.ID, "refs/heads/topic")
	if _, err := da.client().SetRefs(context.Background(), repo.ID, map[string]string{topic: head}); err != nil {
		t.Fatal(err)
	}

	// B clones by ID: its node follows the repo and fetches the code.
	cb.gitOK(".", "clone", "murmur://"+repo.ID, "clone")
	canonicalRef(t, cb, repo.ID, topic, head)
	cb.gitOK("clone", "fetch", "-q")
	if got := cb.gitOK("clone", "rev-parse", "--abbrev-ref", "HEAD"); got != "trunk" {
		t.Errorf("the clone checked out %q, want the default branch trunk", got)
	}
	if got := cb.gitOK("clone", "rev-parse", "HEAD"); got != head {
		t.Errorf("the clone's HEAD = %s, want %s", got, head)
	}
	if b, err := os.ReadFile(filepath.Join(cb.dir, "clone", "main.go")); err != nil || string(b) != "package main\n" {
		t.Errorf("main.go in the clone = %q, %v", b, err)
	}
	if out := cb.gitOK("clone", "for-each-ref", "--format=%(refname)"); strings.Contains(out, "namespaces") || strings.Contains(out, "topic") {
		t.Errorf("the clone has namespace refs:\n%s", out)
	}
	if out := cb.gitOK("clone", "ls-remote", "origin"); !strings.Contains(out, "refs/heads/trunk") || !strings.Contains(out, "HEAD") {
		t.Errorf("git ls-remote through the helper shows:\n%s\nwant HEAD and trunk", out)
	}

	// New commits pushed on A reach the clone with git pull.
	next := commit("NEWS", "v2\n")
	ca.gitOK(".", "push", "murmur", "trunk")
	// No waiting here: the helper syncs B with its peers and waits for
	// the commits itself.
	cb.gitOK("clone", "pull", "-q", "--ff-only")
	if got := cb.gitOK("clone", "rev-parse", "HEAD"); got != next {
		t.Errorf("after git pull the clone is at %s, want %s", got, next)
	}

	// A non-fast-forward push is refused; --force goes through and
	// reaches B.
	ca.gitOK(".", "reset", "-q", "--hard", "HEAD~1")
	alt := commit("ALT", "rewritten\n")
	out, err := ca.gitTry(".", "push", "murmur", "trunk")
	if err == nil || !strings.Contains(out, "non-fast-forward") {
		t.Fatalf("a non-fast-forward git push: err %v, output %q; want it rejected as non-fast-forward", err, out)
	}
	canonicalRef(t, ca, repo.ID, "refs/heads/trunk", next)
	if out := ca.gitOK(".", "push", "--force", "murmur", "trunk"); !strings.Contains(out, "forced update") {
		t.Errorf("git push --force said %q", out)
	}
	canonicalRef(t, ca, repo.ID, "refs/heads/trunk", alt)
	canonicalRef(t, cb, repo.ID, "refs/heads/trunk", alt)
	cb.gitOK("clone", "fetch", "-q")
	if got := cb.gitOK("clone", "rev-parse", "origin/trunk"); got != alt {
		t.Errorf("after git fetch origin/trunk = %s, want the forced %s", got, alt)
	}

	// repo init in the clone links to the repo instead of making another.
	cb.dir = filepath.Join(cb.dir, "clone")
	var linked api.Repo
	cb.json(&linked, "repo", "init", "--json")
	if linked.ID != repo.ID {
		t.Errorf("repo init in the clone gave repo %s, want the cloned %s", linked.ID, repo.ID)
	}
	var repos []api.Repo
	cb.json(&repos, "repo", "list", "--json")
	if len(repos) != 1 {
		t.Errorf("B has %d repos after repo init in the clone, want 1: %+v", len(repos), repos)
	}
	if got := cb.gitOK(".", "config", "murmur.repo"); got != repo.ID {
		t.Errorf("murmur.repo in the clone = %q, want %s", got, repo.ID)
	}
	db.stop()
	da.stop()
}

// TestE2ERemoteOffline: commits pushed with git push while no daemon runs
// (the helper's embedded node) reach another machine, which has no daemon
// either: murmur repo clone --peer, then git pull with MURMUR_JOIN.
func TestE2ERemoteOffline(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	withHelper(t, ca)
	withHelper(t, cb)
	commit := gitWork(t, ca)
	head := commit("README", "offline\n")

	var repo api.Repo
	ca.json(&repo, "repo", "init", "--json")
	out := ca.gitOK(".", "push", "murmur", "trunk")
	if !strings.Contains(out, "murmur sync") {
		t.Errorf("an offline git push did not say how it reaches peers: %q", out)
	}
	canonicalRef(t, ca, repo.ID, "refs/heads/trunk", head)

	da := newDaemon(t, ca)
	da.start()
	cb.ok("repo", "clone", repo.ID, "work", "--peer", da.addr)
	if got := cb.gitOK("work", "rev-parse", "HEAD"); got != head {
		t.Errorf("murmur repo clone checked out %s, want %s", got, head)
	}
	if got := cb.gitOK("work", "config", "murmur.repo"); got != repo.ID {
		t.Errorf("murmur.repo in the clone = %q, want %s", got, repo.ID)
	}
	// repo init with a data directory that lacks the cloned repo refuses
	// to make a duplicate.
	other := newCLI(t, t.TempDir())
	other.dir = filepath.Join(cb.dir, "work")
	cb.gitOK("work", "config", "--unset", "murmur.repo")
	other.fail(exitFailure, "not in this data directory", "repo", "init")
	cb.gitOK("work", "config", "murmur.repo", repo.ID)

	// Offline work on A, pushed with no daemon running.
	da.stop()
	next := commit("NEWS", "written offline\n")
	ca.gitOK(".", "push", "murmur", "trunk")
	canonicalRef(t, ca, repo.ID, "refs/heads/trunk", next)
	da.start()

	// B syncs and pulls through its helper's own node.
	cb.env["MURMUR_JOIN"] = da.addr
	cb.gitOK("work", "pull", "-q", "--ff-only")
	if got := cb.gitOK("work", "rev-parse", "HEAD"); got != next {
		t.Errorf("after git pull B is at %s, want the offline commit %s", got, next)
	}
	da.stop()
}

// TestE2ERemoteCodeNeverComes: a clone whose commits no peer holds says
// it is fetching, fails with the reason after MURMUR_FETCH_TIMEOUT, and
// a helper stopped with SIGTERM while it waits exits at once.
func TestE2ERemoteCodeNeverComes(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	withHelper(t, cb)
	da := newDaemon(t, ca)
	da.start()
	var repo api.Repo
	ca.json(&repo, "repo", "create", "gone", "--json")
	// The ref names a commit that exists nowhere.
	ca.ok("refs", "set", "-R", repo.ID, "refs/heads/main", strings.Repeat("ab", 20))

	cb.env["MURMUR_JOIN"] = da.addr
	cb.env["MURMUR_FETCH_TIMEOUT"] = "2s"
	out, err := cb.gitTry(".", "clone", "murmur://"+repo.ID, "c")
	if err == nil || !strings.Contains(out, "fetching code from peers") || !strings.Contains(out, "did not arrive within 2s") {
		t.Errorf("git clone of code nobody has: %v\n%s\nwant it to say it fetches, then fail saying why", err, out)
	}

	cb.env["MURMUR_FETCH_TIMEOUT"] = "5m"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h := cb.command(ctx, "")
	h.Path = filepath.Join(filepath.Dir(cb.bin), "git-remote-murmur")
	h.Args = []string{"git-remote-murmur", "origin", "murmur://" + repo.ID}
	h.Env = append(h.Env, "GIT_DIR="+t.TempDir())
	h.Stdin = nil
	stdin, err := h.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h.Stdout, h.Stderr = logs, logs
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Wait() }()
	if _, err := stdin.Write([]byte("capabilities\nconnect git-upload-pack\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the helper waits for code", 30*time.Second, func() error {
		if !strings.Contains(logs.String(), "fetching code from peers") {
			return fmt.Errorf("helper output so far: %q", logs.String())
		}
		return nil
	})
	_ = h.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("the helper stopped by SIGTERM exited 0:\n%s", logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the helper did not stop on SIGTERM:\n%s", logs)
	}
	// Its embedded node released the data directory.
	cb.ok("repo", "list")
	da.stop()
}
