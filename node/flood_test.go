package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"murmur/api"
	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/internal/memreplica"
	"murmur/mesh"
	"murmur/op"
	"murmur/storage"
)

// nameOp names a murmur op for a memreplica.
func nameOp(b []byte) (uint64, [32]byte, error) {
	o, err := op.Decode(b)
	if err != nil {
		return 0, [32]byte{}, err
	}
	return uint64(o.Clock), o.ID(), nil
}

func signTestOp(t *testing.T, k *identity.Key, u op.Unsigned, body any) *op.Op {
	t.Helper()
	b, err := op.EncodeBody(body)
	if err != nil {
		t.Fatal(err)
	}
	u.Body = b
	o, err := op.Sign(k, u)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// startPeer starts a bare mesh node over a memreplica of repo holding ops,
// the way a modified client would run.
func startPeer(t *testing.T, repo op.ID, ops ...*op.Op) (*mesh.Node, *memreplica.Replica, *identity.Key) {
	t.Helper()
	k, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	r := memreplica.New(repo, nameOp)
	for _, o := range ops {
		if _, _, err := r.Add(o.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	n, err := mesh.Start(context.Background(), mesh.NodeConfig{
		Key:              k,
		Transport:        mesh.Config{ListenAddr: "127.0.0.1:0"},
		GossipInterval:   20 * time.Millisecond,
		PushPullInterval: time.Hour,
	}, r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n, r, k
}

// An identity that sends thousands of ops whose parents nobody has uses
// up its own share of the pending pool and is penalized; an honest peer's
// op that arrives before its parent still gets a place in the pool and is
// applied once the parent is fetched.
func TestOrphanFloodLeavesPoolForOthers(t *testing.T) {
	ctx := testCtx(t)
	const maxPending, flood = 1000, 1000
	v, err := Open(ctx, Config{
		Home:  t.TempDir(),
		Store: &storage.Options{MaxPending: maxPending},
		// No anti-entropy round during the test: what arrives by gossip
		// must be applied through the pending pool.
		Mesh: &MeshConfig{Listen: "127.0.0.1:0", Manual: true, PushPullInterval: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	r, err := v.CreateRepo(ctx, api.NewRepo{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	repo := mustID(t, r.ID)
	g, err := v.store.Op(repo)
	if err != nil {
		t.Fatal(err)
	}

	// The attacker's replica holds the genesis and ops whose parents it
	// made up; a sync session sends them all.
	attacker, ar, ak := startPeer(t, repo, g)
	for i := range flood {
		missing := op.ID(sha256.Sum256(fmt.Appendf(nil, "missing %d", i)))
		o := signTestOp(t, ak, op.Unsigned{Repo: repo, Parents: []op.ID{missing}, Clock: g.Clock + 1, Kind: forge.KindIssueOpen},
			forge.IssueOpen{Title: fmt.Sprintf("spam %d", i)})
		if _, _, err := ar.Add(o.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := attacker.Join(ctx, []string{v.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	_, _ = attacker.SyncWith(ctx, v.Mesh().ID(), repo) // cut short once penalized
	t.Logf("after the flood: %d ops pending, %d charged to the attacker", v.store.Pending(), v.store.PendingOf(ak.Public()))

	// An honest peer joins, writes an issue and a comment on it, and
	// gossips only the comment: it needs its parent from the pool.
	honest, hr, hk := startPeer(t, repo, g)
	if _, err := honest.Join(ctx, []string{v.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	now := crdt.NewTimestamp(time.Now().UnixMilli(), 0)
	issue := signTestOp(t, hk, op.Unsigned{Repo: repo, Parents: []op.ID{repo}, Clock: now, Kind: forge.KindIssueOpen},
		forge.IssueOpen{Title: "honest"})
	comment := signTestOp(t, hk, op.Unsigned{Repo: repo, Parents: []op.ID{issue.ID()}, Clock: now + 1, Kind: forge.KindCommentAdd, Target: issue.ID()},
		forge.CommentAdd{Body: "still here"})
	for _, o := range []*op.Op{issue, comment} {
		if _, _, err := hr.Add(o.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	honest.Announce(repo, comment.Bytes(), comment.ID())

	deadline := time.Now().Add(15 * time.Second)
	for {
		if ok, _ := v.store.HasOp(comment.ID()); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the honest comment was not applied: %d ops pending (limit %d), %d charged to the attacker",
				v.store.Pending(), maxPending, v.store.PendingOf(ak.Public()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := v.store.PendingOf(ak.Public()); n > maxPending/10 {
		t.Errorf("attacker holds %d pending ops, over its quota %d", n, maxPending/10)
	}
	penalized := false
	for _, p := range v.Mesh().Peers() {
		if p.ID == ak.Public() && !p.PenalizedUntil.IsZero() {
			penalized = true
			t.Logf("attacker penalized: %s", p.PenaltyReason)
		}
	}
	if !penalized {
		t.Error("the attacker was not penalized")
	}
}
