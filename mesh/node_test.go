package mesh

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"murmur/identity"
)

func TestSyncWithMovesExactDifference(t *testing.T) {
	repo := testRepo("a")
	tests := []struct {
		name         string
		shared       int
		onlyA, onlyB int
	}{
		{"equal", 40, 0, 0},
		{"one side empty", 0, 120, 0},
		{"both wrote", 50, 30, 20},
		{"initiator behind", 10, 0, 70},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := newMemReplica(repo), newMemReplica(repo)
			base := ra.writeChain(repo, 1, tc.shared, "shared", [32]byte{})
			rb.writeChain(repo, 1, tc.shared, "shared", [32]byte{})
			var tip [32]byte
			if len(base) > 0 {
				tip = base[len(base)-1]
			}
			ra.writeChain(repo, 1000, tc.onlyA, "a", tip)
			rb.writeChain(repo, 2000, tc.onlyB, "b", tip)

			a, b := startNode(t, ra, nil), startNode(t, rb, nil)
			connect(t, a, b)
			rep, err := a.SyncWith(testContext(t), b.ID(), repo)
			if err != nil {
				t.Fatalf("SyncWith: %v", err)
			}
			if rep.Sent != tc.onlyA || rep.Received != tc.onlyB {
				t.Errorf("SyncWith sent %d, received %d; want %d, %d", rep.Sent, rep.Received, tc.onlyA, tc.onlyB)
			}
			if !sameOps(ra, rb, repo) {
				t.Errorf("roots differ after sync: %d vs %d ops", ra.count(repo), rb.count(repo))
			}
			if want := tc.shared + tc.onlyA + tc.onlyB; ra.count(repo) != want {
				t.Errorf("replica holds %d ops, want %d", ra.count(repo), want)
			}
			if rep.RoundTrips <= 0 || rep.OverheadBytes <= 0 {
				t.Errorf("report %+v lacks round trips or overhead", rep)
			}
		})
	}
}

func TestSyncAfterOffline(t *testing.T) {
	repo := testRepo("offline")
	ra, rb := newMemReplica(repo), newMemReplica(repo)
	ka, kb := newKey(t), newKey(t)
	a := startNodeKey(t, ka, ra, nil)
	b := startNodeKey(t, kb, rb, nil)
	base := ra.writeChain(repo, 1, 200, "base", [32]byte{})
	connect(t, b, a)
	if rep, err := b.SyncWith(testContext(t), a.ID(), repo); err != nil || rep.Received != 200 {
		t.Fatalf("clone: %+v, %v", rep, err)
	}

	// b goes offline; both sides keep writing on top of the shared history.
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	tip := base[len(base)-1]
	ra.writeChain(repo, 5000, 17, "a-offline", tip)
	rb.writeChain(repo, 5001, 23, "b-offline", tip)

	b2 := startNodeKey(t, kb, rb, nil)
	connect(t, b2, a)
	rep, err := b2.SyncWith(testContext(t), a.ID(), repo)
	if err != nil {
		t.Fatalf("SyncWith after restart: %v", err)
	}
	if rep.Sent != 23 || rep.Received != 17 {
		t.Errorf("after offline work sent %d, received %d; want 23, 17", rep.Sent, rep.Received)
	}
	if !sameOps(ra, rb, repo) || ra.count(repo) != 240 {
		t.Errorf("not converged: %d and %d ops", ra.count(repo), rb.count(repo))
	}
}

// joinAll joins every node to the first and waits for full membership.
func joinAll(t *testing.T, nodes []*Node) {
	t.Helper()
	for _, n := range nodes[1:] {
		if _, err := n.Join(testContext(t), []string{nodes[0].Addr()}); err != nil {
			t.Fatalf("Join: %v", err)
		}
	}
	for i, n := range nodes {
		waitFor(t, fmt.Sprintf("node %d to see all members", i), func() bool { return n.numMembers() == len(nodes) })
	}
}

func TestConvergeThroughPushPull(t *testing.T) {
	repo, other := testRepo("shared"), testRepo("seeded")
	var reps []*memReplica
	var nodes []*Node
	for i := range 3 {
		r := newMemReplica(repo)
		r.writeChain(repo, uint64(100*i+1), 10+i, fmt.Sprintf("n%d", i), [32]byte{})
		reps = append(reps, r)
	}
	reps[2].follow(other)
	reps[2].writeChain(other, 1, 5, "seeded", [32]byte{})
	for i, r := range reps {
		nodes = append(nodes, startNode(t, r, func(c *NodeConfig) {
			c.PushPullInterval = 300 * time.Millisecond
			if i == 0 {
				// A seed: follows every repo it hears of.
				c.OnRepo = func(repo [32]byte, _ identity.PublicKey) bool { r.follow(repo); return true }
			}
		}))
	}
	joinAll(t, nodes)
	waitFor(t, "replicas to converge", func() bool {
		return reps[0].count(repo) == 10+11+12 && sameOps(reps[0], reps[1], repo) && sameOps(reps[0], reps[2], repo)
	})
	waitFor(t, "seed to replicate the repo it heard of", func() bool {
		return reps[0].Follows(other) && sameOps(reps[0], reps[2], other)
	})
	if reps[1].Follows(other) {
		t.Errorf("a node without OnRepo started following an announced repo")
	}

	// SyncAll finds everything in sync without sessions.
	reports, err := nodes[1].SyncAll(testContext(t))
	if err != nil {
		t.Fatalf("SyncAll: %v", err)
	}
	if len(reports) != 2 {
		t.Fatalf("SyncAll returned %d reports, want 2 (one per peer): %+v", len(reports), reports)
	}
	for _, r := range reports {
		if r.Err != nil || r.Sent != 0 || r.Received != 0 {
			t.Errorf("SyncAll report %+v, want an empty success", r)
		}
	}
	waitFor(t, "states of both peers", func() bool {
		for _, p := range nodes[1].Peers() {
			if len(p.Repos) == 0 {
				return false
			}
		}
		return true
	})
	peers := nodes[1].Peers()
	if len(peers) != 2 {
		t.Fatalf("Peers() = %d peers, want 2", len(peers))
	}
	for _, p := range peers {
		if !p.Member || p.ConnectedSince.IsZero() || p.Addr == "" || len(p.Repos) == 0 {
			t.Errorf("Peers() entry %+v incomplete", p)
		}
	}
}

func TestGossipReachesAll(t *testing.T) {
	const size = 8
	repo := testRepo("gossip")
	var reps []*memReplica
	var nodes []*Node
	for range size {
		r := newMemReplica(repo)
		reps = append(reps, r)
		// Gossip is best effort: on a loaded machine a node can miss every
		// offer of an op, and anti-entropy is what guarantees delivery.
		// A short push-pull interval lets it fill such a gap within the
		// wait; the gossip benchmark measures gossip alone.
		nodes = append(nodes, startNode(t, r, func(c *NodeConfig) { c.PushPullInterval = 2 * time.Second }))
	}
	joinAll(t, nodes)

	tests := []struct {
		name    string
		payload []byte
		parent  bool // the op's parent is stored at the origin but not announced
	}{
		{"inline", []byte("small op"), false},
		{"by id", bytes.Repeat([]byte("L"), 4000), false},
		{"missing parent", []byte("child"), true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			origin := reps[0]
			o := testOp{clock: uint64(100 + i), repo: repo, payload: tc.payload}
			var parentID [32]byte
			if tc.parent {
				parentID, _ = origin.add(testOp{clock: uint64(50 + i), repo: repo, payload: []byte("parent")})
				o.parents = [][32]byte{parentID}
			}
			id, b := origin.add(o)
			nodes[0].Announce(repo, b, id)
			for k, r := range reps {
				waitFor(t, fmt.Sprintf("node %d to receive the op", k), func() bool { return r.has(repo, id) })
				if tc.parent && !r.has(repo, parentID) {
					t.Errorf("node %d has the op but not its parent", k)
				}
			}
		})
	}
	var received uint64
	for _, n := range nodes[1:] {
		received += n.Stats().GossipReceived
	}
	if received == 0 {
		t.Errorf("no gossip received")
	}
}

func TestInvalidOpPenalizesSender(t *testing.T) {
	repo := testRepo("bad")
	t.Run("sync", func(t *testing.T) {
		rgood, rbad := newMemReplica(repo), newMemReplica(repo)
		rbad.writeChain(repo, 1, 5, "ok", [32]byte{})
		rbad.add(testOp{clock: 10, repo: repo, payload: []byte("bad op")})
		good, bad := startNode(t, rgood, nil), startNode(t, rbad, nil)
		connect(t, good, bad)
		_, err := good.SyncWith(testContext(t), bad.ID(), repo)
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("SyncWith with a peer serving a bad op: err = %v, want ErrProtocol", err)
		}
		checkPenalized(t, good, bad)
		if _, err := good.SyncWith(testContext(t), bad.ID(), repo); !errors.Is(err, ErrPenalized) {
			t.Errorf("second SyncWith err = %v, want ErrPenalized", err)
		}
		// The penalized peer cannot come back by reconnecting, and the
		// node does not dial it either.
		waitFor(t, "the penalized peer to see its connection closed", func() bool { return bad.ep.Conn(good.ID()) == nil })
		refused := good.ep.Stats().RefusedPeers
		if c, err := bad.ep.DialPeer(testContext(t), addrOf(good.ep), good.ID()); err == nil {
			waitFor(t, "the reconnection to be closed", func() bool {
				select {
				case <-c.qc.Context().Done():
					return true
				default:
					return false
				}
			})
		}
		if got := good.ep.Stats().RefusedPeers; got != refused+1 {
			t.Errorf("RefusedPeers = %d after the penalized peer reconnected, want %d", got, refused+1)
		}
		if _, err := good.ep.DialPeer(testContext(t), addrOf(bad.ep), bad.ID()); !errors.Is(err, ErrPenalized) {
			t.Errorf("dialing the penalized peer: err = %v, want ErrPenalized", err)
		}
	})
	t.Run("gossip", func(t *testing.T) {
		rgood, rbad := newMemReplica(repo), newMemReplica(repo)
		good, bad := startNode(t, rgood, nil), startNode(t, rbad, nil)
		joinAll(t, []*Node{good, bad})
		id, b := rbad.add(testOp{clock: 10, repo: repo, payload: []byte("bad gossip")})
		bad.Announce(repo, b, id)
		waitFor(t, "the bad relay to be penalized", func() bool { return good.penalized(bad.ID()) })
		if rgood.has(repo, id) {
			t.Errorf("invalid op was stored")
		}
		checkPenalized(t, good, bad)
	})
}

func checkPenalized(t *testing.T, n, culprit *Node) {
	t.Helper()
	if got := n.Stats().Penalties; got == 0 {
		t.Errorf("Stats().Penalties = 0, want > 0")
	}
	for _, p := range n.Peers() {
		if p.ID == culprit.ID() {
			if p.PenalizedUntil.IsZero() || p.PenaltyReason == "" {
				t.Errorf("Peers() shows culprit unpenalized: %+v", p)
			}
			return
		}
	}
	t.Errorf("culprit missing from Peers()")
}

// TestMalformedStreams sends broken frames on sync and fetch streams from
// a bare endpoint; the node must survive, penalize the sender, and keep
// serving others.
func TestMalformedStreams(t *testing.T) {
	repo := testRepo("frames")
	r := newMemReplica(repo)
	r.writeChain(repo, 1, 20, "x", [32]byte{})
	n := startNode(t, r, nil)

	hello := append([]byte{replVersion}, repo[:]...)
	huge := binary.AppendUvarint(nil, 1<<40)
	tests := []struct {
		name     string
		kind     Kind
		send     [][]byte // raw writes
		penalize bool
	}{
		{"sync oversize hello", KindSync, [][]byte{huge}, true},
		{"sync overlong varint", KindSync, [][]byte{bytes.Repeat([]byte{0xff}, 11)}, true},
		{"sync bad version", KindSync, [][]byte{frame(append([]byte{9}, repo[:]...))}, true},
		{"sync garbage merkle", KindSync, [][]byte{frame(hello), frame([]byte("not a merkle message"))}, true},
		{"sync oversize merkle", KindSync, [][]byte{frame(hello), binary.AppendUvarint(nil, 64<<20)}, true},
		{"sync truncated", KindSync, [][]byte{frame(hello)[:5]}, false},
		{"fetch oversize", KindFetch, [][]byte{huge}, true},
		{"fetch garbage", KindFetch, [][]byte{frame([]byte{1, 2, 3})}, true},
		{"fetch count lies", KindFetch, [][]byte{frame(append(append([]byte{replVersion}, repo[:]...), 0xff, 0xff, 0x03))}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			ep := newEndpoint(t)
			c, err := ep.DialPeer(ctx, n.ep.Addr().String(), n.ID())
			if err != nil {
				t.Fatalf("DialPeer: %v", err)
			}
			s, err := c.OpenStream(ctx, tc.kind)
			if err != nil {
				t.Fatalf("OpenStream: %v", err)
			}
			_ = s.SetDeadline(time.Now().Add(waitTimeout))
			for _, w := range tc.send {
				if _, err := s.Write(w); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			_ = s.CloseWrite()
			_ = readUntilError(s)
			s.Close()
			if tc.penalize {
				waitFor(t, "sender to be penalized", func() bool { return n.penalized(ep.ID()) })
			} else if n.penalized(ep.ID()) {
				t.Errorf("sender penalized for a truncated stream")
			}
		})
	}
	// The node still serves a well-behaved peer.
	r2 := newMemReplica(repo)
	other := startNode(t, r2, nil)
	connect(t, other, n)
	rep, err := other.SyncWith(testContext(t), n.ID(), repo)
	if err != nil || rep.Received != 20 {
		t.Fatalf("after malformed streams SyncWith = %+v, %v", rep, err)
	}
}

func frame(p []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(p))), p...)
}

func TestSyncRefusesUnfollowedRepo(t *testing.T) {
	repo := testRepo("mine")
	a, b := startNode(t, newMemReplica(repo), nil), startNode(t, newMemReplica(), nil)
	connect(t, a, b)
	_, err := a.SyncWith(testContext(t), b.ID(), repo)
	var re *RefusedError
	if !errors.As(err, &re) || re.Status != SyncNotFollowed {
		t.Fatalf("SyncWith of a repo the peer does not follow: err = %v, want RefusedError(not followed)", err)
	}
	if a.penalized(b.ID()) || b.penalized(a.ID()) {
		t.Errorf("a refusal penalized someone")
	}
}

func TestWireDecoders(t *testing.T) {
	var k identity.PublicKey
	k[0] = 7
	st := peerState{sender: k, repos: []repoDigest{{repo: testRepo("x"), d: digest{Count: 3}}}}
	enc := st.encode()
	if len(enc) != 1+32+1+stateEntrySize {
		t.Errorf("state of one repo is %d bytes, want %d", len(enc), 1+32+1+stateEntrySize)
	}
	got, err := decodeState(enc, 10)
	if err != nil || got.sender != k || len(got.repos) != 1 || got.repos[0] != st.repos[0] {
		t.Errorf("decodeState(encode) = %+v, %v", got, err)
	}
	bad := [][]byte{nil, {2}, enc[:len(enc)-1], append(enc, 0)}
	for i, b := range bad {
		if _, err := decodeState(b, 10); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeState(bad %d) err = %v, want ErrMalformed", i, err)
		}
	}
	if _, err := decodeState(enc, 0); !errors.Is(err, ErrMalformed) {
		t.Errorf("decodeState over the repo limit: err = %v", err)
	}
	for i, b := range [][]byte{{}, {0}, {1, 0}, {2, 1, 1}, {1, 5, 1}, {200, 1}} {
		if _, err := decodeBatch(b, 100); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeBatch(%v) case %d err = %v, want ErrMalformed", b, i, err)
		}
	}
	ops, err := decodeBatch(encodeBatch(2, appendOp(appendOp(nil, []byte("ab")), []byte("c"))), 100)
	if err != nil || len(ops) != 2 || string(ops[0]) != "ab" || string(ops[1]) != "c" {
		t.Errorf("decodeBatch round trip = %q, %v", ops, err)
	}
}

func FuzzDecoders(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add((&gossipMsg{typ: gossipInline, op: []byte("x")}).encode())
	f.Add((&fetchRequest{ids: make([][32]byte, 2)}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeGossip(b, 1000)
		_, _ = decodeState(b, 100)
		_, _ = decodeBatch(b, 1000)
		_, _ = decodeFetchRequest(b, 100)
	})
}

// testContextTB is testContext for benchmarks too.
func testContextTB(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// Two nodes that start a session with each other for the same repo at the
// same time run one of them: the lower ID refuses the other as crossed,
// or the later caller joins the session already being served. Either way
// every op crosses the wire once and both callers get the same counts.
func TestCrossedSessionsMoveOpsOnce(t *testing.T) {
	repo := testRepo("a")
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ra, rb := newMemReplica(repo), newMemReplica(repo)
			ra.writeChain(repo, 1000, 300, "a", [32]byte{})
			rb.writeChain(repo, 2000, 200, "b", [32]byte{})
			ra.slowIngest, rb.slowIngest = 50*time.Millisecond, 50*time.Millisecond
			lo, hi := startNode(t, ra, nil), startNode(t, rb, nil)
			if lo.ID().Compare(hi.ID()) > 0 {
				lo, hi = hi, lo
			}
			connect(t, lo, hi)
			connect(t, hi, lo)
			ctx := testContext(t)
			first, second := lo, hi
			if i%2 == 1 {
				first, second = hi, lo
			}
			type result struct {
				rep SyncReport
				err error
			}
			res := make(chan result, 1)
			go func() {
				rep, err := first.SyncWith(ctx, second.ID(), repo)
				res <- result{rep, err}
			}()
			waitFor(t, "the first session to start", func() bool {
				first.mu.Lock()
				defer first.mu.Unlock()
				c := first.calls[pairKey{second.ID(), repo}]
				return c != nil && c.started
			})
			rep2, err := second.SyncWith(ctx, first.ID(), repo)
			if err != nil {
				t.Fatalf("second SyncWith: %v", err)
			}
			r1 := <-res
			if r1.err != nil {
				t.Fatalf("first SyncWith: %v", r1.err)
			}
			if !sameOps(ra, rb, repo) || ra.count(repo) != 500 {
				t.Fatalf("replicas differ: %d and %d ops", ra.count(repo), rb.count(repo))
			}
			if got := lo.Stats().OpsReceived + hi.Stats().OpsReceived; got != 500 {
				t.Errorf("%d ops received in all, want 500: a session ran twice", got)
			}
			for _, c := range []struct {
				n   *Node
				rep SyncReport
			}{{first, r1.rep}, {second, rep2}} {
				want := 300
				if c.n.r == Replica(rb) {
					want = 200
				}
				if c.rep.Sent != want || c.rep.Sent+c.rep.Received != 500 || c.rep.OverheadBytes <= 0 {
					t.Errorf("report %+v: want %d sent, %d received", c.rep, want, 500-want)
				}
			}
		})
	}
}
