package node

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// openDaemonNode opens a node that networks by itself, as `murmur serve`
// does, with a push-pull period long enough never to run in a test.
func openDaemonNode(t *testing.T, home string, join ...string) *Node {
	t.Helper()
	n, err := Open(context.Background(), Config{Home: home, Daemon: true, Mesh: &MeshConfig{
		Listen: "127.0.0.1:0", Join: join, PushPullInterval: time.Hour,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// waitFor retries f until it returns "" or 20 s pass.
func waitFor(t *testing.T, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatusInSyncAfterGossip: after an op spreads by gossip both nodes
// hold the same root, and status says so at once rather than after the
// next push-pull (an hour away here).
func TestStatusInSyncAfterGossip(t *testing.T) {
	ctx := testCtx(t)
	a := openDaemonNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	b := openDaemonNode(t, t.TempDir(), a.Mesh().Addr())
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "gossiped"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the op reaches b by gossip", func() string {
		if got, _ := b.Issues(ctx, repo.ID, api.ListFilter{}); len(got) != 1 {
			return "b has no issue yet"
		}
		return ""
	})
	for _, n := range []*Node{a, b} {
		st, err := n.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Repos) != 1 || !st.Repos[0].InSync || st.Repos[0].Peers != 1 {
			t.Errorf("status on %s: repos %+v, want in sync with its one peer", n.cfg.Home, st.Repos)
		}
	}
}

// TestStatusRepoNobodyFollows: a repo no connected peer follows is
// reported with no followers, not as out of sync.
func TestStatusRepoNobodyFollows(t *testing.T) {
	ctx := testCtx(t)
	a := openDaemonNode(t, t.TempDir())
	b := openDaemonNode(t, t.TempDir(), a.Mesh().Addr())
	if _, err := a.CreateRepo(ctx, api.NewRepo{Name: "mine alone"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b joins a", func() string {
		if st, _ := a.Status(ctx); len(st.Peers) != 1 || !st.Peers[0].Connected {
			return "a has no connected peer"
		}
		return ""
	})
	_ = b
	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Repos) != 1 || st.Repos[0].Peers != 0 || st.Repos[0].InSync {
		t.Errorf("repos %+v, want one repo followed by no peer", st.Repos)
	}
}

// TestStatusOfflineListsAddressBook: a node without networking reports the
// peers of its address book, the ones `murmur sync` would use.
func TestStatusOfflineListsAddressBook(t *testing.T) {
	ctx := testCtx(t)
	a := openDaemonNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	b := openMeshNode(t, home)
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Sync(ctx, api.SyncRequest{Peers: []string{a.Mesh().Addr()}}); err != nil || len(res) != 1 || !res[0].InSync {
		t.Fatalf("Sync = %+v, %v", res, err)
	}
	b.Close()
	off := openNode(t, home)
	st, err := off.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	aID, _ := a.Identity(ctx)
	if st.Online || len(st.Peers) != 1 || st.Peers[0].ID != aID.Person.ID || st.Peers[0].Addr != a.Mesh().Addr() || st.Peers[0].Connected {
		t.Errorf("offline status peers = %+v, want %s at %s, not connected", st.Peers, aID.Person.ID, a.Mesh().Addr())
	}
}

// TestJoinErrorNamesAddressAndCause: a peer that does not answer is named
// with the cause, not memberlist's error list.
func TestJoinErrorNamesAddressAndCause(t *testing.T) {
	ctx := testCtx(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close() // a UDP port where nobody answers QUIC
	silent := pc.LocalAddr().String()
	for _, n := range []*Node{openDaemonNode(t, t.TempDir()), openMeshNode(t, t.TempDir())} {
		if _, err := n.CreateRepo(ctx, api.NewRepo{Name: "r"}); err != nil {
			t.Fatal(err)
		}
		res, err := n.Sync(ctx, api.SyncRequest{Peers: []string{silent}, Timeout: api.Duration(3 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].InSync {
			t.Fatalf("Sync = %+v, want a failure", res)
		}
		msg := res[0].Err
		if !strings.Contains(msg, "peer "+silent+" did not answer") || strings.Contains(msg, "error occurred") ||
			strings.Contains(msg, "failed to join") || strings.Contains(msg, "mesh:") {
			t.Errorf("daemon %v: error %q, want the address and the cause in plain words", n.cfg.Daemon, msg)
		}
	}
}
