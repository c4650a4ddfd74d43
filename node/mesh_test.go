package node

import (
	"context"
	"testing"
	"time"

	"murmur/api"
	"murmur/identity"
	"murmur/op"
)

func openMeshNode(t *testing.T, home string) *Node {
	t.Helper()
	n, err := Open(context.Background(), Config{Home: home, Mesh: &MeshConfig{Listen: "127.0.0.1:0", Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFollowAndSync(t *testing.T) {
	ctx := testCtx(t)
	a, b := openMeshNode(t, t.TempDir()), openMeshNode(t, t.TempDir())
	// The mesh made an identity at start; give it an alias.
	if _, err := a.SetAlias(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if !repo.Following {
		t.Errorf("a repo created here is not followed: %+v", repo)
	}
	if _, err := a.CreateIssue(ctx, "", api.NewIssue{Title: "from a"}); err != nil {
		t.Fatal(err)
	}
	fr, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()})
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	if !fr.Following || fr.Name != "shared" || fr.Peers != 1 || fr.Ops != repo.Ops+1 {
		t.Errorf("Follow = %+v, want the repo with %d ops from 1 peer", fr, repo.Ops+1)
	}
	if got, err := b.Issues(ctx, "", api.ListFilter{}); err != nil || len(got) != 1 || got[0].Title != "from a" {
		t.Fatalf("issues on b = %+v, %v", got, err)
	}

	// b writes; a sync sends it over.
	if _, err := b.CreateIssue(ctx, "", api.NewIssue{Title: "from b"}); err != nil {
		t.Fatal(err)
	}
	res, err := b.Sync(ctx, api.SyncRequest{Peers: []string{a.Mesh().Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !res[0].InSync || res[0].Peers != 1 {
		t.Fatalf("Sync = %+v, want one repo reconciled with one peer", res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := a.Issues(ctx, "", api.ListFilter{})
		if len(got) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a has %d issues, want 2 (sync %+v)", len(got), res)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := a.Status(ctx)
	if !st.Online || st.Listen == "" || len(st.Repos) != 1 || st.Repos[0].MerkleRoot == "" {
		t.Errorf("status = %+v", st)
	}
	if st.Repos[0].MerkleRoot != ra.Repos[0].MerkleRoot || st.Repos[0].Ops != ra.Repos[0].Ops {
		t.Errorf("roots differ after sync: a %+v, b %+v", ra.Repos, st.Repos)
	}
	if len(st.Peers) != 1 || st.Peers[0].Alias != "alice" {
		t.Errorf("peers = %+v, want alice", st.Peers)
	}

	if _, err := b.Unfollow(ctx, repo.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unfollow(ctx, repo.ID); code(err) != api.CodeNotFound {
		t.Errorf("second Unfollow = %v, want not_found", err)
	}
	if r, _ := b.Repo(ctx, repo.ID); r.Following {
		t.Errorf("repo still followed after Unfollow")
	}
}

func TestOffline(t *testing.T) {
	ctx := testCtx(t)
	n := openNode(t, t.TempDir())
	if _, err := n.Sync(ctx, api.SyncRequest{}); code(err) != api.CodeOffline {
		t.Errorf("Sync offline = %v, want %s", err, api.CodeOffline)
	}
	if _, err := n.Follow(ctx, "abc", nil); code(err) != api.CodeInvalid {
		t.Errorf("Follow(abc) = %v, want invalid", err)
	}
	id := op.ID{1, 2, 3}
	fr, err := n.Follow(ctx, id.String(), nil)
	if err != nil || !fr.Following || fr.Name != "" {
		t.Errorf("Follow offline = %+v, %v; want recorded", fr, err)
	}
	if _, err := n.Follow(ctx, id.String(), []string{"127.0.0.1:1"}); code(err) != api.CodeOffline {
		t.Errorf("Follow with peers offline = %v, want %s", err, api.CodeOffline)
	}
	st, _ := n.Status(ctx)
	if st.Online || len(st.Repos) != 1 {
		t.Errorf("status = %+v, want offline with the followed repo", st)
	}
}

func TestFollowPersists(t *testing.T) {
	home := t.TempDir()
	ctx := testCtx(t)
	n, err := Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	r, err := n.CreateRepo(ctx, api.NewRepo{Name: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := n.rep.Root(mustID(t, r.ID))
	n.Close()
	n = openNode(t, home)
	got, ok := n.rep.Root(mustID(t, r.ID))
	if !ok || got != root || got.Count == 0 {
		t.Errorf("after reopen root = %v (followed %v), want %v", got, ok, root)
	}
}

func mustID(t *testing.T, s string) op.ID {
	t.Helper()
	id, err := op.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestIngestInvalid(t *testing.T) {
	ctx := testCtx(t)
	n := openNode(t, t.TempDir())
	r, err := n.CreateRepo(ctx, api.NewRepo{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := n.CreateRepo(ctx, api.NewRepo{Name: "y"})
	if err != nil {
		t.Fatal(err)
	}
	otherOp, err := n.store.Op(mustID(t, other.ID))
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), otherOp.Bytes()...)
	tampered[len(tampered)-1] ^= 1
	peer := identity.PublicKey{}
	tests := []struct {
		name string
		ops  [][]byte
	}{
		{"garbage", [][]byte{[]byte("not an op")}},
		{"other repo", [][]byte{otherOp.Bytes()}},
		{"bad signature", [][]byte{tampered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := n.rep.Ingest(peer, mustID(t, r.ID), tt.ops)
			if err != nil {
				t.Fatal(err)
			}
			if res.Invalid != 1 || res.InvalidReason == nil || res.Stored != 0 {
				t.Errorf("Ingest = %+v, want one invalid op", res)
			}
		})
	}
}
