package gitstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func findGit(t testing.TB) *Git {
	t.Helper()
	g, err := FindGit(context.Background())
	if err != nil {
		t.Skipf("skipping: needs git: %v", err)
	}
	return g
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(findGit(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// work is a git working copy that commits and pushes into a store.
type work struct {
	t   *testing.T
	g   *Git
	dir string
}

func newWork(t *testing.T, g *Git) *work {
	w := &work{t: t, g: g, dir: t.TempDir()}
	w.git("init", "--quiet", "-b", "main")
	return w
}

func (w *work) git(args ...string) string {
	w.t.Helper()
	cmd := w.g.command(testContext(w.t), w.dir, args...)
	cmd.Env = append(cmd.Env, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes size random bytes to name and commits; it returns the
// commit ID.
func (w *work) commit(name string, size int) string {
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

// push pushes HEAD to ref of the store's repository name.
func (w *work) push(s *Store, name, ref string) {
	w.t.Helper()
	dir, err := s.Init(testContext(w.t), name)
	if err != nil {
		w.t.Fatal(err)
	}
	w.git("push", "--quiet", dir, "HEAD:"+ref)
}

// storeWithOneCommit returns a store whose repository name has one
// commit on main.
func storeWithOneCommit(t *testing.T, name string) *Store {
	t.Helper()
	s := newStore(t)
	w := newWork(t, s.git)
	w.commit("a", 10)
	w.push(s, name, "refs/heads/main")
	return s
}

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// fetchPair runs ServeFetch on server and Fetch on client over an
// in-memory stream; wrap may alter the server's side.
func fetchPair(t *testing.T, server, client *Store, name string, wants []string, lim Limits, wrap func(net.Conn) net.Conn) (fetchErr, serveErr error, received int64) {
	t.Helper()
	ctx := testContext(t)
	cc, sc := net.Pipe()
	counted := &countingConn{Conn: cc}
	if wrap != nil {
		sc = wrap(sc)
	}
	served := make(chan error, 1)
	go func() { served <- server.ServeFetch(ctx, name, sc) }()
	fetchErr = client.Fetch(ctx, name, counted, wants, lim)
	return fetchErr, <-served, counted.n.Load()
}

func TestFetchHistoryThenOnlyWhatIsNew(t *testing.T) {
	server, client := newStore(t), newStore(t)
	w := newWork(t, server.git)
	var commits []string
	for i := range 20 {
		commits = append(commits, w.commit("f"+string(rune('a'+i%5)), 4<<10))
	}
	w.push(server, "r", "refs/heads/main")

	head := commits[len(commits)-1]
	fetchErr, serveErr, first := fetchPair(t, server, client, "r", []string{head}, Limits{}, nil)
	if fetchErr != nil || serveErr != nil {
		t.Fatalf("fetch: %v; serve: %v", fetchErr, serveErr)
	}
	for _, c := range commits {
		if ok, err := client.Has(testContext(t), "r", c); !ok || err != nil {
			t.Fatalf("Has(%s) = %v, %v after fetching the head", c, ok, err)
		}
	}
	if refs, err := client.Refs(testContext(t), "r"); err != nil || len(refs) != 0 {
		t.Errorf("Fetch changed refs: %v, %v", refs, err)
	}

	next := w.commit("new", 4<<10)
	w.push(server, "r", "refs/heads/main")
	// The client records what it fetched under a ref, as a node does, so
	// the next negotiation can name it.
	if err := client.SetRef(testContext(t), "r", "refs/heads/main", head, ""); err != nil {
		t.Fatal(err)
	}
	fetchErr, serveErr, second := fetchPair(t, server, client, "r", []string{next}, Limits{}, nil)
	if fetchErr != nil || serveErr != nil {
		t.Fatalf("second fetch: %v; serve: %v", fetchErr, serveErr)
	}
	if ok, _ := client.Has(testContext(t), "r", next); !ok {
		t.Fatal("new commit missing after the second fetch")
	}
	// 20 commits of 4 KiB random files against one: the second session
	// must not carry the history again.
	if second*5 > first {
		t.Errorf("second fetch moved %d bytes, first %d: the history was sent again", second, first)
	}
	t.Logf("first fetch %d bytes, one new commit %d bytes", first, second)
}

func TestServeRefusesUnreachableObjects(t *testing.T) {
	server, client := newStore(t), newStore(t)
	w := newWork(t, server.git)
	w.commit("a", 100)
	secret := w.commit("secret", 100) // never pushed under a ref
	w.git("reset", "--quiet", "--hard", "HEAD~1")
	w.push(server, "r", "refs/heads/main")
	dir, _ := server.Dir("r")
	// Put the secret commit's objects into the server without a ref.
	w.git("push", "--quiet", dir, secret+":refs/tmp/x")
	if _, err := server.git.run(testContext(t), dir, nil, "update-ref", "-d", "refs/tmp/x"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := server.Has(testContext(t), "r", secret); !ok {
		t.Fatal("setup: the server does not hold the unreferenced commit")
	}

	fetchErr, serveErr, _ := fetchPair(t, server, client, "r", []string{secret}, Limits{}, nil)
	if !errors.Is(serveErr, ErrRefused) {
		t.Errorf("serve error = %v, want ErrRefused", serveErr)
	}
	if fetchErr == nil || !strings.Contains(fetchErr.Error(), "not reachable") || errors.Is(fetchErr, ErrBadPack) {
		t.Errorf("fetch error = %v, want the server's refusal (not reachable)", fetchErr)
	}
	if ok, _ := client.Has(testContext(t), "r", secret); ok {
		t.Error("the client got an object no ref names")
	}
}

func TestFetchLimit(t *testing.T) {
	server, client := newStore(t), newStore(t)
	w := newWork(t, server.git)
	head := w.commit("big", 256<<10)
	w.push(server, "r", "refs/heads/main")

	fetchErr, _, _ := fetchPair(t, server, client, "r", []string{head}, Limits{MaxFetchBytes: 32 << 10}, nil)
	if !errors.Is(fetchErr, ErrTooLarge) {
		t.Fatalf("fetch error = %v, want ErrTooLarge", fetchErr)
	}
	if ok, _ := client.Has(testContext(t), "r", head); ok {
		t.Error("an over-limit fetch stored the commit")
	}
	fsck(t, client, "r")

	// The same fetch within the default limit succeeds.
	if fetchErr, serveErr, _ := fetchPair(t, server, client, "r", []string{head}, Limits{}, nil); fetchErr != nil || serveErr != nil {
		t.Fatalf("fetch after a cut one: %v; serve: %v", fetchErr, serveErr)
	}
}

// flipConn flips one byte of what the server writes, at offset at.
type flipConn struct {
	net.Conn
	at, off int64
}

func (c *flipConn) Write(p []byte) (int, error) {
	q := p
	if c.off <= c.at && c.at < c.off+int64(len(p)) {
		q = bytes.Clone(p)
		q[c.at-c.off] ^= 0x20
	}
	c.off += int64(len(p))
	return c.Conn.Write(q)
}

func TestFetchRejectsCorruptPack(t *testing.T) {
	server, client := newStore(t), newStore(t)
	w := newWork(t, server.git)
	head := w.commit("big", 128<<10)
	w.push(server, "r", "refs/heads/main")

	fetchErr, _, _ := fetchPair(t, server, client, "r", []string{head}, Limits{}, func(c net.Conn) net.Conn {
		return &flipConn{Conn: c, at: 64 << 10}
	})
	if fetchErr == nil {
		t.Fatal("a fetch whose pack was altered in flight succeeded")
	}
	if ok, _ := client.Has(testContext(t), "r", head); ok {
		t.Error("the commit of a corrupt pack was stored")
	}
	if !errors.Is(fetchErr, ErrBadPack) {
		t.Errorf("fetch error = %v, want ErrBadPack", fetchErr)
	}
	fsck(t, client, "r")
	t.Logf("corrupt pack: %v", fetchErr)
}

func fsck(t *testing.T, s *Store, name string) {
	t.Helper()
	dir, err := s.Dir(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.git.run(testContext(t), dir, nil, "fsck", "--no-dangling"); err != nil {
		t.Errorf("fsck: %v", err)
	}
}

func TestServeRefusesHostileRequests(t *testing.T) {
	server := storeWithOneCommit(t, "r")
	tests := map[string]struct {
		in   string
		want error
	}{
		"not pkt-lines":         {"hello world\n", ErrMalformed},
		"oversize length":       {"ffff", ErrMalformed},
		"object-info command":   {pktLine("command=object-info\n") + "0001" + pktLine("size\n") + "0000", ErrRefused},
		"unknown fetch arg":     {pktLine("command=fetch\n") + "0001" + pktLine("packfile-uris https\n") + "0000", ErrRefused},
		"want that is no oid":   {pktLine("command=fetch\n") + "0001" + pktLine("want HEAD\n") + "0000", ErrMalformed},
		"want of a missing oid": {pktLine("command=fetch\n") + "0001" + pktLine("want "+strings.Repeat("ab", 20)+"\n") + "0000", ErrRefused},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cc, sc := net.Pipe()
			served := make(chan error, 1)
			go func() { served <- server.ServeFetch(testContext(t), "r", sc) }()
			go func() { _, _ = io.WriteString(cc, tt.in) }()
			out, _ := io.ReadAll(cc)
			if err := <-served; !errors.Is(err, tt.want) {
				t.Errorf("ServeFetch(%q) = %v, want %v", tt.in, err, tt.want)
			}
			if !bytes.Contains(out, []byte("ERR ")) {
				t.Errorf("the peer was not told why (got %q)", out)
			}
		})
	}
}

func TestServePeerHangsUpInsideARequest(t *testing.T) {
	server := storeWithOneCommit(t, "r")
	cc, sc := net.Pipe()
	served := make(chan error, 1)
	go func() { served <- server.ServeFetch(testContext(t), "r", sc) }()
	go func() { _, _ = io.Copy(io.Discard, cc) }() // the advertisement
	_, _ = io.WriteString(cc, pktLine("command=ls-refs\n"))
	cc.Close()
	if err := <-served; !errors.Is(err, ErrMalformed) {
		t.Errorf("ServeFetch = %v, want ErrMalformed", err)
	}
}

func TestServeUnknownRepo(t *testing.T) {
	s := newStore(t)
	cc, sc := net.Pipe()
	defer cc.Close()
	if err := s.ServeFetch(testContext(t), "nope", sc); !errors.Is(err, ErrNoRepo) {
		t.Errorf("ServeFetch(unknown) = %v, want ErrNoRepo", err)
	}
}

func TestFindGitWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FindGit(context.Background())
	if !errors.Is(err, ErrNoGit) || !strings.Contains(err.Error(), "install git") {
		t.Errorf("FindGit without git = %v, want ErrNoGit telling to install git", err)
	}
}

func TestParseGitVersion(t *testing.T) {
	for in, want := range map[string][3]int{
		"git version 2.39.5\n":                 {2, 39, 5},
		"git version 2.45.1.windows.1":         {2, 45, 1},
		"git version 2.30.0 (Apple Git-130)\n": {2, 30, 0},
		"git version 3.0":                      {3, 0, 0},
	} {
		if v, ok := parseGitVersion(in); !ok || v != want {
			t.Errorf("parseGitVersion(%q) = %v, %v; want %v", in, v, ok, want)
		}
	}
	if _, ok := parseGitVersion("hub version 2"); ok {
		t.Error("parsed a version out of something that is not git")
	}
}

func TestDirRefusesPaths(t *testing.T) {
	s := &Store{root: t.TempDir()}
	for _, name := range []string{"", "..", "../x", "a/b", ".hidden", "x..y", strings.Repeat("a", 200)} {
		if _, err := s.Dir(name); err == nil {
			t.Errorf("Dir(%q) accepted", name)
		}
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(pktLine("command=fetch\n") + "0001" + pktLine("want "+strings.Repeat("ab", 20)+"\n") + "0000"))
	f.Add([]byte("0000"))
	f.Add([]byte("0004"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := readRequest(bufio.NewReader(bytes.NewReader(in)))
		if err == nil && !bytes.HasPrefix(in, req.raw) {
			t.Fatalf("request bytes %q are not a prefix of the input", req.raw)
		}
	})
}

func TestImportAndDeleteRef(t *testing.T) {
	s := newStore(t)
	w := newWork(t, s.git)
	c1 := w.commit("a", 100)
	c2 := w.commit("b", 100)
	ctx := testContext(t)
	if err := s.Import(ctx, "r", w.dir, []string{c2}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	for _, c := range []string{c1, c2} {
		if ok, err := s.Has(ctx, "r", c); !ok || err != nil {
			t.Fatalf("Has(%s) = %v, %v after Import", c, ok, err)
		}
	}
	if refs, _ := s.Refs(ctx, "r"); len(refs) != 0 {
		t.Errorf("Import set refs: %v", refs)
	}
	absent := strings.Repeat("cd", 20)
	have, err := s.HasAll(ctx, "r", []string{c1, absent, c2})
	if want := map[string]bool{c1: true, c2: true, absent: false}; err != nil || len(have) != 3 || !have[c1] || !have[c2] || have[absent] {
		t.Errorf("HasAll = %v, %v, want %v", have, err, want)
	}
	if err := s.Import(ctx, "r", w.dir, []string{strings.Repeat("ab", 20)}); err == nil {
		t.Error("Import of an object the source lacks succeeded")
	}
	if err := s.Import(ctx, "r", "relative", []string{c1}); err == nil {
		t.Error("Import from a relative path succeeded")
	}
	if err := s.SetRef(ctx, "r", "refs/heads/main", c2, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRef(ctx, "r", "refs/heads/main"); err != nil {
		t.Fatalf("DeleteRef: %v", err)
	}
	if err := s.DeleteRef(ctx, "r", "refs/heads/main"); err != nil {
		t.Errorf("DeleteRef of a missing ref: %v", err)
	}
	if refs, _ := s.Refs(ctx, "r"); len(refs) != 0 {
		t.Errorf("refs after DeleteRef: %v", refs)
	}
}

func TestIsAncestor(t *testing.T) {
	s := newStore(t)
	w := newWork(t, s.git)
	base := w.commit("a", 100)
	next := w.commit("b", 100)
	w.git("checkout", "--quiet", "-b", "side", base)
	side := w.commit("c", 100)
	ctx := testContext(t)
	if err := s.Import(ctx, "r", w.dir, []string{next, side}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		old, new string
		want     bool
	}{
		{base, next, true},
		{next, next, true},
		{next, base, false},
		{next, side, false},
		{base, side, true},
	} {
		if got, err := s.IsAncestor(ctx, "r", c.old, c.new); err != nil || got != c.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v, want %v", c.old, c.new, got, err, c.want)
		}
	}
	absent := strings.Repeat("cd", 20)
	if _, err := s.IsAncestor(ctx, "r", absent, next); !errors.Is(err, ErrMissing) {
		t.Errorf("IsAncestor of an absent commit: %v, want ErrMissing", err)
	}
	if _, err := s.IsAncestor(ctx, "r", "-v", next); err == nil {
		t.Error("IsAncestor of a non-ID succeeded")
	}
}
