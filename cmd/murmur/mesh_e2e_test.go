package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/internal/memreplica"
	"murmur/localapi"
	"murmur/mesh"
	"murmur/node"
	"murmur/op"
)

// daemon is a `murmur serve` process of one data directory.
type daemon struct {
	t    *testing.T
	c    *cli
	addr string
	join []string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeUDPAddr returns a loopback UDP address nobody listens on now.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

// joinedDaemons starts two data directories' daemons, the second
// joined to the first.
func joinedDaemons(t *testing.T) (ca, cb *cli, da, db *daemon) {
	ca, cb = newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da = newDaemon(t, ca)
	da.start()
	db = newDaemon(t, cb, da.addr)
	db.start()
	return ca, cb, da, db
}

func newDaemon(t *testing.T, c *cli, join ...string) *daemon {
	d := &daemon{t: t, c: c, addr: freeUDPAddr(t), join: join}
	t.Cleanup(func() { d.kill() })
	return d
}

// start runs the daemon and waits until its socket answers.
func (d *daemon) start() {
	d.t.Helper()
	if err := d.launch(); err != nil {
		d.t.Fatal(err)
	}
}

// launch is start for any goroutine: it returns what went wrong.
func (d *daemon) launch() error {
	args := []string{"serve", "--listen", d.addr, "--log", "debug"}
	for _, j := range d.join {
		args = append(args, "--join", j)
	}
	d.cmd = d.c.command(context.Background(), "", args...)
	d.logs = &syncBuffer{}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		return err
	}
	d.done = make(chan struct{})
	go func() {
		_ = d.cmd.Wait()
		close(d.done)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.logs.String(), "msg=ready") {
		select {
		case <-d.done:
			return fmt.Errorf("murmur serve on %s exited:\n%s", d.addr, d.logs)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("murmur serve on %s not ready:\n%s", d.addr, d.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.t.Fatalf("murmur serve on %s did not stop on SIGTERM:\n%s", d.addr, d.logs)
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		d.t.Fatalf("murmur serve on %s exited %d after SIGTERM:\n%s", d.addr, code, d.logs)
	}
	if !strings.Contains(d.logs.String(), "msg=stopped") {
		d.t.Errorf("murmur serve on %s did not log a clean stop:\n%s", d.addr, d.logs)
	}
}

// kill sends SIGKILL (if it runs) and waits.
func (d *daemon) kill() {
	if d.cmd == nil || d.done == nil {
		return
	}
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Kill()
	<-d.done
}

// client talks to the daemon's local API directly (for Activity, which
// has no command).
func (d *daemon) client() *localapi.Client {
	return localapi.NewClient(localapi.DialSocket(filepath.Join(d.c.home, localapi.SocketName)))
}

// eventually retries f until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jsonOf runs a --json command and returns its output, or an error.
func (c *cli) jsonOf(args ...string) (string, error) {
	r := c.run(args...)
	if r.code != 0 {
		return "", fmt.Errorf("murmur %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout, nil
}

// same runs one --json command on every cli and fails unless all print
// the same document, but for where each node keeps the repo's code.
func same(clis []*cli, args ...string) error {
	var first string
	for i, c := range clis {
		out, err := c.jsonOf(args...)
		if err != nil {
			return err
		}
		out = gitDirLine.ReplaceAllString(out, "")
		if i == 0 {
			first = out
			continue
		}
		if out != first {
			return fmt.Errorf("murmur %s differs between %s and %s:\n%s\n---\n%s", strings.Join(args, " "), clis[0].home, c.home, first, out)
		}
	}
	return nil
}

// syncAll runs `murmur sync` on each cli (through its daemon); failures
// are ignored, convergence is what is checked.
// gitDirLine is the line of a --json document that names a node's own
// git directory (api.Repo.GitDir).
var gitDirLine = regexp.MustCompile(`(?m)^\s*"git_dir": ".*",?\n`)

func syncAll(clis []*cli) {
	for _, c := range clis {
		c.run("sync", "--timeout", "10s")
	}
}

// threeNodes makes three data directories and their daemons; A runs, B
// and C join A when started.
func threeNodes(t *testing.T) (all []*cli, da, db, dc *daemon) {
	t.Helper()
	ca, cb, cc := newCLI(t, t.TempDir()), newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	da = newDaemon(t, ca)
	da.start()
	return []*cli{ca, cb, cc}, da, newDaemon(t, cb, da.addr), newDaemon(t, cc, da.addr)
}

func TestE2EMesh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three murmur serve processes")
	}
	t.Parallel()
	all, da, db, dc := threeNodes(t)
	ca, cb, cc := all[0], all[1], all[2]

	// Node A: a repo with issues, comments, labels, a patch and a review.
	ca.ok("id", "alias", "alice")
	var repo api.Repo
	ca.json(&repo, "repo", "create", "--name", "meshy", "--json")
	i1 := ca.id("issue", "create", "-t", "Crash on start", "-b", "It crashes.", "-l", "bug")
	i2 := ca.id("issue", "create", "-t", "Docs", "-l", "docs", "-l", "good-first")
	ca.id("issue", "comment", i1, "-b", "Reproduced.")
	ca.id("issue", "edit", i2, "--add-label", "help")
	commit := gitWork(t, ca)
	commit("main.go", "package main\n")
	p1 := ca.id("patch", "open", "-t", "Fix the crash")
	ca.ok("review", p1, "--approve", "-b", "Looks right.")

	// B and C follow it from A.
	db.start()
	dc.start()
	var ids [2]api.Identity
	for i, c := range []*cli{cb, cc} {
		c.ok("id", "alias", []string{"bob", "carol"}[i])
		c.json(&ids[i], "id", "show", "--json")
		var fr api.FollowResult
		c.json(&fr, "repo", "follow", repo.ID, "--peer", da.addr, "--json")
		if !fr.Following || fr.Name != "meshy" || fr.Ops == 0 {
			t.Fatalf("repo follow on %s = %+v, want the repo fetched", c.home, fr)
		}
		// Their first op in the repo publishes their alias there.
		c.id("issue", "comment", i2, "-b", "Hello from "+[]string{"bob", "carol"}[i])
	}
	eventually(t, "issues, patch and review replicated", 20*time.Second, func() error {
		return errors.Join(same(all, "issue", "list", "-s", "all", "--json"),
			same(all, "issue", "view", i1, "--json"), same(all, "patch", "view", p1, "--json"))
	})
	// B and C become maintainers, so that their label edits count.
	for _, id := range ids {
		ca.ok("repo", "maintainer", "add", id.ID)
	}
	eventually(t, "maintainers replicated", 20*time.Second, func() error {
		syncAll(all)
		return same(all, "repo", "view", "--jq", "del(.git_dir)")
	})

	// Conflicting offline edits on B and C.
	db.stop()
	dc.stop()
	cb.id("issue", "edit", i1, "-t", "Crash on start (B)", "--add-label", "urgent", "--remove-label", "bug")
	cc.id("issue", "edit", i1, "-t", "Crash on start (C)", "--add-label", "bug", "--add-label", "p1")
	cb.id("issue", "comment", i1, "-b", "B was offline.")
	cc.id("issue", "comment", i1, "-b", "C was offline.")
	ca.id("issue", "comment", i1, "-b", "A kept working.")
	db.start()
	dc.start()
	eventually(t, "offline edits converge", 30*time.Second, func() error {
		syncAll(all)
		return errors.Join(same(all, "issue", "view", i1, "--json"), same(all, "issue", "list", "-s", "all", "--json"),
			same(all, "repo", "view", "--jq", "del(.git_dir)"))
	})
	var merged api.Issue
	ca.json(&merged, "issue", "view", i1, "--json")
	if len(merged.Comments) != 4 || len(merged.Conflicts) == 0 {
		t.Errorf("merged issue has %d comments and conflicts %+v; want 4 comments and the losing title kept", len(merged.Comments), merged.Conflicts)
	}
	// Add-wins: bug was removed by B but added concurrently by C.
	for _, l := range []string{"bug", "urgent", "p1"} {
		if !strings.Contains(strings.Join(merged.Labels, ","), l) {
			t.Errorf("merged labels %v lack %q", merged.Labels, l)
		}
	}

	// A batch of many ops, and C killed while it pulls them.
	dc.stop()
	da.stop()
	bulk(t, ca.home, 6000)
	var before api.Status
	cc.json(&before, "status", "--json")
	da.start()
	dc.start()
	// Kill C as soon as it has stored part of the batch.
	midSync := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		st, err := dc.client().Status(context.Background())
		if err != nil || len(st.Repos) == 0 {
			continue
		}
		if st.Repos[0].Ops > before.Repos[0].Ops {
			midSync = st.Repos[0].Ops < before.Repos[0].Ops+6000
			break
		}
	}
	dc.kill()
	t.Logf("C killed mid-sync: %v", midSync)
	dc.start()
	eventually(t, "C recovers after SIGKILL", 30*time.Second, func() error {
		syncAll(all)
		return errors.Join(same(all, "issue", "list", "-s", "all", "--json"), same(all, "issue", "view", i1, "--json"))
	})

	// An op from a non-maintainer setting a ref is refused by every node.
	forged := forgeRef(t, ca, repo.ID, da)
	eventually(t, "forged ref reaches every node, rejected", 30*time.Second, func() error {
		syncAll(all)
		var errs []error
		for _, d := range []*daemon{da, db, dc} {
			acts, err := d.client().Activity(context.Background(), repo.ID, 20)
			if err != nil {
				return err
			}
			found := false
			for _, a := range acts {
				if a.Op == forged.String() {
					found = true
					if a.Accepted {
						errs = append(errs, fmt.Errorf("%s accepted the forged ref.set", d.c.home))
					}
				}
			}
			if !found {
				errs = append(errs, fmt.Errorf("%s does not have the forged op yet", d.c.home))
			}
		}
		return errors.Join(errs...)
	})
	for _, c := range all {
		var refs []api.Ref
		c.json(&refs, "refs", "list", "--json")
		// The patch's branch, published by patch open, is its author's.
		refs = slices.DeleteFunc(refs, func(r api.Ref) bool { return r.Namespace != "" || r.Name == "refs/heads/trunk" })
		if len(refs) != 0 {
			t.Errorf("refs on %s = %+v, want none: the forged ref.set must be refused", c.home, refs)
		}
	}
	var st api.Status
	ca.json(&st, "status", "--json")
	if !st.Online || !st.Daemon || st.Listen != da.addr || len(st.Peers) < 2 || len(st.Repos) != 1 || st.Repos[0].MerkleRoot == "" {
		t.Errorf("status on A = %+v, want online daemon on %s with 2 peers and the repo", st, da.addr)
	}
	for _, d := range []*daemon{da, db, dc} {
		d.stop()
	}
}

// bulk writes n issues into the stopped node of home, in process.
func bulk(t *testing.T, home string, n int) {
	t.Helper()
	ctx := context.Background()
	nd, err := node.Open(ctx, node.Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	for i := range n {
		if _, err := nd.CreateIssue(ctx, "", api.NewIssue{Title: fmt.Sprintf("bulk %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// forgeRef signs a ref.set by a fresh identity (no maintainer) and hands
// it to node A over the mesh from an in-test node. It returns the op ID.
func forgeRef(t *testing.T, a *cli, repoID string, da *daemon) op.ID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	repo, err := op.ParseID(repoID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	act, err := forge.NewAction(forge.KindRefSet, op.ID{}, forge.RefSet{Name: "refs/heads/main", Commit: strings.Repeat("cd", 20)})
	if err != nil {
		t.Fatal(err)
	}
	clock := crdt.NewTimestamp(time.Now().UnixMilli(), 0)
	o, err := op.Sign(key, act.Unsigned(repo, []op.ID{repo}, clock))
	if err != nil {
		t.Fatal(err)
	}
	inject(ctx, t, o, da)
	return o.ID()
}

// inject hands the signed op o to the daemon d over the mesh, from an
// in-test node with an identity of its own, as a modified client would.
func inject(ctx context.Context, t *testing.T, o *op.Op, d *daemon) {
	t.Helper()
	key, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	repo := o.RepoID()
	r := memreplica.New(repo, namedOp)
	if _, _, err := r.Add(o.Bytes()); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Start(ctx, mesh.NodeConfig{Key: key, Transport: mesh.Config{ListenAddr: "127.0.0.1:0"}, Join: []string{d.addr}}, r)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var peer identity.PublicKey
	for _, p := range m.Peers() {
		if p.Member {
			peer = p.ID
		}
	}
	if _, err := m.SyncWith(ctx, peer, repo); err != nil {
		t.Fatalf("sync the op to %s: %v", d.addr, err)
	}
}

// namedOp names a murmur op for memreplica: it must decode; signatures
// and authorization are the real nodes' business.
func namedOp(b []byte) (uint64, [32]byte, error) {
	o, err := op.Decode(b)
	if err != nil {
		return 0, [32]byte{}, err
	}
	return uint64(o.Clock), o.ID(), nil
}
