package node

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"murmur/api"
	"murmur/identity"
	"murmur/mesh"
)

// workCopy is a git working copy for tests.
type workCopy struct {
	t   testing.TB
	dir string
}

func newWorkCopy(t testing.TB) *workCopy {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: needs git in PATH")
	}
	w := &workCopy{t: t, dir: t.TempDir()}
	w.git("init", "--quiet", "-b", "main")
	return w
}

func (w *workCopy) git(args ...string) string {
	w.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes size random bytes to name, commits and returns the commit.
func (w *workCopy) commit(name string, size int) string {
	w.t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.git("add", name)
	w.git("commit", "--quiet", "-m", "change "+name)
	return w.git("rev-parse", "HEAD")
}

// commitText writes text to name, commits and returns the commit.
func (w *workCopy) commitText(name, text string) string {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.git("add", name)
	w.git("commit", "--quiet", "-m", "change "+name)
	return w.git("rev-parse", "HEAD")
}

// waitRef polls n's refs of repo until name's entry satisfies ok.
func waitRef(t *testing.T, ctx context.Context, n *Node, repo, name string, ok func(api.Ref) bool) api.Ref {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		refs, err := n.Refs(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			if r.Name == name && ok(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("refs = %+v: %s never got as expected", refs, name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bareRefs(t *testing.T, n *Node, repo string) map[string]string {
	t.Helper()
	refs, err := n.codes().store.Refs(testCtx(t), repo)
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// waitBareRef polls n's object store until ref names commit: the node
// sets it right after the fetch that brought the commit.
func waitBareRef(t *testing.T, n *Node, repo, ref, commit string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := bareRefs(t, n, repo)[ref]
		if got == commit {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("object store has %s at %q, want %s", ref, got, commit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCodeTravelsToAFollower(t *testing.T) {
	w := newWorkCopy(t)
	w.commit("a", 1000)
	head := w.commit("b", 1000)
	ctx := testCtx(t)
	a, b := openMeshNode(t, t.TempDir()), openMeshNode(t, t.TempDir())
	if st, _ := a.Status(ctx); !st.Code.Available || st.Code.Git == "" {
		t.Fatalf("status code = %+v, want available with git's version", st.Code)
	}
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}})
	if err != nil {
		t.Fatalf("PushRefs: %v", err)
	}
	if len(refs) != 1 || !refs[0].Objects || refs[0].Commit != head || refs[0].Namespace != "" {
		t.Fatalf("refs after push = %+v, want main at %s with objects", refs, head)
	}
	if got := bareRefs(t, a, repo.ID)["refs/heads/main"]; got != head {
		t.Fatalf("a's object store has main at %q, want %s", got, head)
	}

	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	waitRef(t, ctx, b, repo.ID, "refs/heads/main", func(r api.Ref) bool { return r.Objects && r.Commit == head })
	waitBareRef(t, b, repo.ID, "refs/heads/main", head)

	// A new commit moves over, and the ref follows once it has.
	next := w.commit("c", 1000)
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": next}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync(ctx, api.SyncRequest{Peers: []string{b.Mesh().Addr()}}); err != nil {
		t.Fatal(err)
	}
	waitRef(t, ctx, b, repo.ID, "refs/heads/main", func(r api.Ref) bool { return r.Objects && r.Commit == next })
	waitBareRef(t, b, repo.ID, "refs/heads/main", next)

	// A deleted ref leaves the object store too.
	if _, err := a.SetRefs(ctx, repo.ID, map[string]string{"refs/heads/main": ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.codes().syncRefs(ctx, mustID(t, repo.ID)); err != nil {
		t.Fatal(err)
	}
	if refs := bareRefs(t, a, repo.ID); len(refs) != 0 {
		t.Errorf("a's object store keeps a deleted ref: %v", refs)
	}

	// a serves code and says so in its hello, but not of a repo it does
	// not follow, though it holds its code.
	unfollowed, err := a.CreateRepo(ctx, api.NewRepo{Name: "private"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushRefs(ctx, unfollowed.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Unfollow(ctx, unfollowed.ID); err != nil {
		t.Fatal(err)
	}
	conn := b.Mesh().Endpoint().Conn(a.Mesh().ID())
	if conn == nil || !conn.Hello().Caps.Has(mesh.KindGit) {
		t.Fatalf("b's connection to a: %v; want one whose hello offers KindGit", conn)
	}
	s, err := conn.OpenStream(ctx, mesh.KindGit)
	if err != nil {
		t.Fatal(err)
	}
	other := mustID(t, unfollowed.ID)
	if _, err := s.Write(other[:]); err != nil {
		t.Fatal(err)
	}
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.ReadFull(s, make([]byte, 4)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("git stream for an unfollowed repo: read %d bytes, %v; want it closed at once", n, err)
	}
	s.Close()
}

func TestOversizePackPenalizesThePeer(t *testing.T) {
	w := newWorkCopy(t)
	head := w.commit("big", 256<<10)
	ctx := testCtx(t)
	a := openMeshNode(t, t.TempDir())
	b, err := Open(context.Background(), Config{Home: t.TempDir(), MaxFetchBytes: 32 << 10,
		Mesh: &MeshConfig{Listen: "127.0.0.1:0", Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "big"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	waitPenalty(t, b, a, "fetch limit", "a peer that sent more than the fetch limit was not penalized")
	refs, err := b.Refs(ctx, repo.ID)
	if err != nil || len(refs) != 1 || refs[0].Objects || refs[0].MissingReason == "" {
		t.Errorf("refs = %+v, %v; want main without objects, saying why", refs, err)
	}
}

// flipStream flips one byte of what a serving peer writes, at offset at.
type flipStream struct {
	*mesh.Stream
	at, off int64
}

func (f *flipStream) Write(p []byte) (int, error) {
	q := p
	if f.off <= f.at && f.at < f.off+int64(len(p)) {
		q = append([]byte(nil), p...)
		q[f.at-f.off] ^= 0x20
	}
	f.off += int64(len(p))
	return f.Stream.Write(q)
}

func TestCorruptPackPenalizesThePeer(t *testing.T) {
	w := newWorkCopy(t)
	head := w.commit("big", 128<<10)
	ctx := testCtx(t)
	a, b := openMeshNode(t, t.TempDir()), openMeshNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "big"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	// a turns hostile: its packs are altered on the way out.
	ep := a.Mesh().Endpoint()
	ep.UnregisterHandler(mesh.KindGit)
	if err := ep.RegisterHandler(mesh.KindGit, func(ctx context.Context, _ identity.PublicKey, s *mesh.Stream) {
		var id [32]byte
		if _, err := io.ReadFull(s, id[:]); err != nil {
			return
		}
		_ = a.codes().store.ServeFetch(ctx, repo.ID, &flipStream{Stream: s, at: 64 << 10})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	waitPenalty(t, b, a, "bad pack", "a peer that sent a corrupt pack was not penalized")
	if ok, err := b.codes().store.Has(ctx, repo.ID, head); ok || err != nil {
		t.Errorf("b holds the commit of a corrupt pack: %v, %v", ok, err)
	}
}

func TestRepoQuotaStopsFetchesWithoutBlame(t *testing.T) {
	w := newWorkCopy(t)
	head := w.commit("big", 256<<10)
	ctx := testCtx(t)
	a := openMeshNode(t, t.TempDir())
	b, err := Open(context.Background(), Config{Home: t.TempDir(), MaxRepoCodeBytes: 32 << 10,
		Mesh: &MeshConfig{Listen: "127.0.0.1:0", Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "big"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	r := waitRef(t, ctx, b, repo.ID, "refs/heads/main", func(r api.Ref) bool { return strings.Contains(r.MissingReason, "quota") })
	if r.Objects {
		t.Errorf("ref = %+v, want objects missing", r)
	}
	for _, p := range b.Mesh().Peers() {
		if !p.PenalizedUntil.IsZero() {
			t.Errorf("peer %s penalized (%s) for the receiver's quota", p.ID.Short(), p.PenaltyReason)
		}
	}
}

func TestNoGitStillServesMetadata(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ctx := testCtx(t)
	n := openNode(t, t.TempDir())
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Code.Available || !strings.Contains(st.Code.Reason, "install git") {
		t.Errorf("status code = %+v, want unavailable telling to install git", st.Code)
	}
	repo, err := n.CreateRepo(ctx, api.NewRepo{Name: "meta"})
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.Repeat("ab", 20)
	refs, err := n.SetRefs(ctx, repo.ID, map[string]string{"refs/heads/main": commit})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Objects || !strings.Contains(refs[0].MissingReason, "install git") {
		t.Errorf("refs = %+v, want main without objects, saying git is missing", refs)
	}
	if _, err := n.PushRefs(ctx, repo.ID, api.RefPush{Dir: t.TempDir(), Refs: map[string]string{"refs/heads/main": commit}}); code(err) != api.CodeUnavailable {
		t.Errorf("PushRefs without git = %v, want %s", err, api.CodeUnavailable)
	}
}

// waitPenalty waits up to 20 s for from to penalize peer with a reason
// containing want; failing says what the test expected.
func waitPenalty(t *testing.T, from, peer *Node, want, failing string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, p := range from.Mesh().Peers() {
			if p.ID == peer.Mesh().ID() && !p.PenalizedUntil.IsZero() {
				if !strings.Contains(p.PenaltyReason, want) {
					t.Errorf("penalty reason = %q, want %q", p.PenaltyReason, want)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal(failing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
