package node

import (
	"encoding/json"
	"net"
	"testing"
	"time"

	"murmur/api"
	"murmur/identity"
)

// TestDialWhileOpening checks that a node started for one command with
// peers to dial is connected to them when Open returns, that Sync uses
// that connection, and that a peer that never answers does not hold up
// Close.
func TestDialWhileOpening(t *testing.T) {
	ctx := testCtx(t)
	a := openMeshNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "early"})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	b := openMeshNode(t, home) // makes b's identity
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// b writes offline.
	b, err = Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateIssue(ctx, repo.ID, api.NewIssue{Title: "from b"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// A UDP socket that reads nothing: a dial to it never finishes.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	peers := []string{a.Mesh().Addr(), a.Mesh().ID().DID() + "/" + a.Mesh().Addr(), silent.LocalAddr().String()}
	b, err = Open(ctx, Config{Home: home, Mesh: &MeshConfig{Listen: "127.0.0.1:0", Manual: true, Dial: peers}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.early == nil {
		t.Fatal("Open did not dial early although the node has an identity and peers to dial")
	}
	deadline := time.Now().Add(10 * time.Second)
	conn := b.Mesh().Endpoint().Conn(a.Mesh().ID())
	for ; conn == nil; conn = b.Mesh().Endpoint().Conn(a.Mesh().ID()) {
		if time.Now().After(deadline) {
			t.Fatal("no connection to a after Open")
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, err := b.Sync(ctx, api.SyncRequest{Peers: peers[:1], Timeout: api.Duration(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !res[0].InSync || res[0].Sent != 1 {
		t.Fatalf("Sync = %+v, want the repo reconciled, one op sent", res)
	}
	if got := b.Mesh().Endpoint().Conn(a.Mesh().ID()); got != conn {
		t.Errorf("Sync used a new connection to a; want the one made while opening")
	}
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a dial that never finishes")
	}
}

// TestFollowWithoutMembership checks that a node started for one command
// fetches a followed repo over a direct connection: neither side sees the
// other join memberlist.
func TestFollowWithoutMembership(t *testing.T) {
	ctx := testCtx(t)
	a := openMeshNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	b := openMeshNode(t, t.TempDir())
	fr, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if fr.Name != "direct" || fr.Peers != 1 || fr.Ops != repo.Ops {
		t.Errorf("Follow = %+v, want the repo's %d ops from 1 peer", fr, repo.Ops)
	}
	for _, n := range []*Node{a, b} {
		for _, p := range n.Mesh().Peers() {
			if p.Member {
				t.Errorf("%s sees %s as a memberlist member; a one-shot follow must not join", n.Mesh().ID().Short(), p.ID.Short())
			}
		}
	}
	if len(b.book()) != 1 {
		t.Errorf("address book after Follow = %v, want a's address", b.book())
	}
}

// TestBookPeerSkipsFreshEntries checks that recording a peer that
// answered at the address already booked, within bookFresh, leaves the
// entry as it is, and that a new address or a stale entry is written.
func TestBookPeerSkipsFreshEntries(t *testing.T) {
	n, err := Open(testCtx(t), Config{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	key, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	id := key.Public()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := func() bookEntry {
		t.Helper()
		v, err := n.store.Local(bookPrefix + id.DID())
		var e bookEntry
		if err != nil || json.Unmarshal(v, &e) != nil {
			t.Fatalf("book entry %q: %v", v, err)
		}
		return e
	}
	for _, tc := range []struct {
		at   time.Time
		addr string
		want bookEntry
	}{
		{t0, "192.0.2.1:7788", bookEntry{Addr: "192.0.2.1:7788", Seen: t0}},
		{t0.Add(time.Minute), "192.0.2.1:7788", bookEntry{Addr: "192.0.2.1:7788", Seen: t0}},
		{t0.Add(2 * time.Minute), "192.0.2.2:7788", bookEntry{Addr: "192.0.2.2:7788", Seen: t0.Add(2 * time.Minute)}},
		{t0.Add(3 * time.Hour), "192.0.2.2:7788", bookEntry{Addr: "192.0.2.2:7788", Seen: t0.Add(3 * time.Hour)}},
	} {
		n.cfg.Now = func() time.Time { return tc.at }
		n.bookPeer(id, tc.addr)
		if got := seen(); got.Addr != tc.want.Addr || !got.Seen.Equal(tc.want.Seen) {
			t.Errorf("bookPeer(%s) at %v: entry %+v, want %+v", tc.addr, tc.at, got, tc.want)
		}
	}
}
