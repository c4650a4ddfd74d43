package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"murmur/api"
	"murmur/internal/repogen"
	"murmur/node"
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
	// until it reaches hers (the canonical trunk, not Bob's namespaced
	// trunk, which names b1 already). Her node then refuses her push.
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
until murmur refs list -R %s --jq '.[] | select(.name == "refs/heads/trunk") | .commit' | grep -q %s; do
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

// bigText is n bytes of text that compresses poorly, the same for a seed.
func bigText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, seed))
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "%016x %016x\n", r.Uint64(), r.Uint64())
	}
	return b.String()
}

// corruptObject damages, in the bare repository gitDir, the stored bytes
// of object (a blob of some size): it repacks the repository into one
// pack and flips a byte in the middle of the object's compressed data, as
// a failing disk would. git serves such a pack without inflating it.
func corruptObject(t *testing.T, gitDir, object string) {
	t.Helper()
	gitRun(t, gitDir, "-c", "repack.writeBitmaps=false", "repack", "-a", "-d", "-q")
	idx, err := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "*.idx"))
	if err != nil || len(idx) != 1 {
		t.Fatalf("packs after git repack -a: %v, %v", idx, err)
	}
	out := gitRun(t, gitDir, "verify-pack", "-v", idx[0])
	var at, size int64 = -1, 0
	for _, line := range strings.Split(out, "\n") {
		// <object> <type> <size> <size-in-pack> <offset> [depth base]
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == object {
			if _, err := fmt.Sscan(f[3]+" "+f[4], &size, &at); err != nil {
				t.Fatal(err)
			}
		}
	}
	if at < 0 || size < 1024 {
		t.Fatalf("object %s not found in the pack, or too small to damage (%d bytes):\n%s", object, size, out)
	}
	pack := strings.TrimSuffix(idx[0], ".idx") + ".pack"
	if err := os.Chmod(pack, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(pack, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at+size/2); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, at+size/2); err != nil {
		t.Fatal(err)
	}
}

// publish starts c's daemon, makes c's working copy (which has commits)
// a repo and publishes its refs with their objects.
func publish(t *testing.T, c *cli) (*daemon, api.Repo) {
	t.Helper()
	d := newDaemon(t, c)
	d.start()
	var repo api.Repo
	c.json(&repo, "repo", "init", "--json")
	c.ok("refs", "push")
	return d, repo
}

// gitDirOf is the bare repository of repo on c's node.
func gitDirOf(t *testing.T, c *cli, repo string) string {
	t.Helper()
	var r api.Repo
	c.json(&r, "repo", "view", repo, "--json")
	if r.GitDir == "" {
		t.Fatalf("repo view on %s shows no git directory", c.home)
	}
	return r.GitDir
}

// fsckClean checks that the bare repository of repo on c's node passes
// git fsck and that none of its refs names a missing object.
func fsckClean(t *testing.T, c *cli, repo string) {
	t.Helper()
	dir := gitDirOf(t, c, repo)
	if out, err := exec.Command("git", "--git-dir", dir, "fsck", "--no-dangling", "--no-progress").CombinedOutput(); err != nil {
		t.Errorf("git fsck of %s: %v\n%s", dir, err, out)
	}
	out, err := exec.Command("git", "--git-dir", dir, "for-each-ref", "--format=%(objectname) %(refname)").CombinedOutput()
	if err != nil {
		t.Fatalf("git for-each-ref in %s: %v\n%s", dir, err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		obj, ref, _ := strings.Cut(line, " ")
		if obj == "" {
			continue
		}
		if o, err := exec.Command("git", "--git-dir", dir, "cat-file", "-e", obj).CombinedOutput(); err != nil {
			t.Errorf("ref %s of %s names %s, which is missing: %s", ref, dir, obj, o)
		}
	}
}

// TestE2ETamperedPackPenalized: a serving node whose bare repository
// holds a damaged copy of a wanted object sends a pack that the fetching
// node's git refuses; the fetching node stores nothing of it, shows the
// ref with objects missing and why, penalizes the sender, and fetches the
// good copy once another peer that holds it connects.
func TestE2ETamperedPackPenalized(t *testing.T) {
	t.Parallel()
	ca, cb, cc := newCLI(t, t.TempDir()), newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commitA := gitWork(t, ca)
	head := commitA("data.txt", bigText(1, 256<<10))
	blob := gitRun(t, ca.dir, "rev-parse", head+":data.txt")
	da, repo := publish(t, ca)
	const trunk = "refs/heads/trunk"

	// C fetches the good copy, then goes offline.
	dc := newDaemon(t, cc, da.addr)
	dc.start()
	cc.ok("repo", "follow", repo.ID, "--peer", da.addr)
	canonicalRef(t, cc, repo.ID, trunk, head)
	dc.stop()

	// A's disk damages the blob.
	corruptObject(t, gitDirOf(t, ca, repo.ID), blob)

	db := newDaemon(t, cb, da.addr)
	db.start()
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	eventually(t, "B penalizes A for its pack", 30*time.Second, func() error {
		if !strings.Contains(db.logs.String(), "peer penalized") || !strings.Contains(db.logs.String(), "bad pack") {
			return fmt.Errorf("no penalty in B's log yet")
		}
		return nil
	})
	refWith(t, cb, repo.ID, trunk, "trunk on B with objects missing and why", func(r api.Ref) error {
		if r.Commit != head || r.Objects || !strings.Contains(r.MissingReason, "was penalized") || !strings.Contains(r.MissingReason, "bad pack") {
			return fmt.Errorf("%+v, want %.7s with objects missing because a peer was penalized for a bad pack", r, head)
		}
		return nil
	})
	var st api.Status
	cb.json(&st, "status", "--json")
	if st.Code.LastFetch == nil || !strings.Contains(st.Code.LastFetch.Error, "bad pack") {
		t.Errorf("status on B: last fetch %+v, want its bad pack", st.Code.LastFetch)
	}
	if err := hasObjects(cb, repo.ID, head); err == nil {
		t.Errorf("B stored the commit of a pack its git refused")
	}
	fsckClean(t, cb, repo.ID)

	// C comes back, joining B: B fetches the good copy from it.
	dc = newDaemon(t, cc, db.addr)
	dc.start()
	canonicalRef(t, cb, repo.ID, trunk, head)
	if got := gitRun(t, gitDirOf(t, cb, repo.ID), "cat-file", "blob", blob); got != strings.TrimSpace(bigText(1, 256<<10)) {
		t.Errorf("B's copy of data.txt differs from the original (%d bytes)", len(got))
	}
	fsckClean(t, cb, repo.ID)
	dc.stop()
	db.stop()
	da.stop()
}

// TestE2EOversizeFetchRefused: a node started with a small fetch bound
// (MURMUR_MAX_FETCH_BYTES, as --max-fetch-bytes) refuses a larger pack,
// penalizes its sender, stores nothing and says why in refs list.
func TestE2EOversizeFetchRefused(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	commitA := gitWork(t, ca)
	head := commitA("data.txt", bigText(2, 256<<10))
	da, repo := publish(t, ca)

	cb.env["MURMUR_MAX_FETCH_BYTES"] = "64KiB"
	db := newDaemon(t, cb, da.addr)
	db.start()
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	refWith(t, cb, repo.ID, "refs/heads/trunk", "trunk on B with objects missing because of the fetch bound", func(r api.Ref) error {
		if r.Commit != head || r.Objects || !strings.Contains(r.MissingReason, "was penalized") ||
			!strings.Contains(r.MissingReason, "max-fetch-bytes") || !strings.Contains(r.MissingReason, "65536") {
			return fmt.Errorf("%+v, want %.7s with objects missing, the peer penalized, naming max-fetch-bytes and its 65536 bytes", r, head)
		}
		return nil
	})
	if !strings.Contains(db.logs.String(), "peer penalized") {
		t.Errorf("B did not penalize A for its oversize pack:\n%s", db.logs)
	}
	if err := hasObjects(cb, repo.ID, head); err == nil {
		t.Errorf("B stored the commit of an oversize pack")
	}
	fsckClean(t, cb, repo.ID)
	db.stop()
	da.stop()
}

// fetchUnderway reports whether git is writing a pack into the bare
// repository dir: a temporary pack or an incoming quarantine exists.
func fetchUnderway(dir string) bool {
	for _, pat := range []string{"objects/pack/tmp_pack_*", "objects/incoming-*", "objects/pack/.tmp-*"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
			return true
		}
	}
	return false
}

// TestE2EKilledMidFetch: a node killed (SIGKILL) as soon as git starts
// writing the pack of a large repo's first fetch is left consistent,
// whether the pack had all come or not: doctor reports it healthy, git
// fsck of its bare repository is clean and no ref names a missing
// object; restarted, it completes the fetch.
func TestE2EKilledMidFetch(t *testing.T) {
	t.Parallel()
	ca, cb := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: git is not installed, and this test moves code with it")
	}
	ctx := context.Background()
	head, err := repogen.Generate(ctx, ca.dir, repogen.Options{Commits: 400, Seed: 3, Branch: "trunk"})
	if err != nil {
		t.Fatal(err)
	}
	da, repo := publish(t, ca)
	const trunk = "refs/heads/trunk"

	db := newDaemon(t, cb, da.addr)
	db.start()
	cb.ok("repo", "follow", repo.ID, "--peer", da.addr)
	bare := filepath.Join(cb.home, node.CodeDir, repo.ID+".git")
	deadline := time.Now().Add(60 * time.Second)
	for !fetchUnderway(bare) {
		if packs, _ := filepath.Glob(filepath.Join(bare, "objects", "pack", "pack-*.pack")); len(packs) > 0 {
			t.Fatalf("B stored the whole pack before the test saw the fetch under way; make the repo larger")
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's fetch did not start in 60s:\n%s", db.logs)
		}
		time.Sleep(time.Millisecond)
	}
	db.kill()
	// The git that the node ran outlives it and fails on the closed
	// stream, leaving its temporary pack. The next node on the data
	// directory (here the one refs list runs) removes it.
	eventually(t, "what the interrupted fetch left is removed", 30*time.Second, func() error {
		refOf(cb, repo.ID, trunk)
		if fetchUnderway(bare) {
			return fmt.Errorf("a temporary pack is still in %s", bare)
		}
		return nil
	})
	r, ok := refOf(cb, repo.ID, trunk)
	if !ok || r.Commit != head {
		t.Fatalf("trunk on B after the kill = %+v (found %v), want %.7s", r, ok, head)
	}
	t.Logf("after the kill, B holds the objects of trunk: %v", r.Objects)
	fsckClean(t, cb, repo.ID)
	if res := cb.run("doctor"); res.code != 0 {
		t.Errorf("doctor after the kill: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}

	db = newDaemon(t, cb, da.addr)
	db.start()
	canonicalRef(t, cb, repo.ID, trunk, head)
	db.stop()
	fsckClean(t, cb, repo.ID)
	if n := gitRun(t, bare, "rev-list", "--count", head); n != "400" {
		t.Errorf("B's trunk has %s commits, want 400", n)
	}
	if res := cb.run("doctor"); res.code != 0 {
		t.Errorf("doctor after the fetch completed: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	da.stop()
}
