package node

import (
	"testing"
	"time"

	"murmur/api"
)

// TestCodeFetchCounters checks what status says of code fetches: a
// session that moves the history, then one for a single new commit, each
// two round trips (the stream's opening, answered by git's capability
// advertisement, and one fetch request, answered by the pack).
func TestCodeFetchCounters(t *testing.T) {
	w := newWorkCopy(t)
	w.commit("a", 4000)
	head := w.commit("b", 4000)
	ctx := testCtx(t)
	a, b := openMeshNode(t, t.TempDir()), openMeshNode(t, t.TempDir())
	repo, err := a.CreateRepo(ctx, api.NewRepo{Name: "code"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": head}}); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Status(ctx); err != nil || st.Code.Fetches != 0 || st.Code.LastFetch != nil {
		t.Fatalf("status code before any fetch = %+v, %v; want no fetches", st.Code, err)
	}
	if _, err := b.Follow(ctx, repo.ID, []string{a.Mesh().Addr()}); err != nil {
		t.Fatal(err)
	}
	waitRef(t, ctx, b, repo.ID, "refs/heads/main", func(r api.Ref) bool { return r.Objects && r.Commit == head })
	// last waits for a successful fetch after the prev-th and returns the
	// status: the objects show before the fetch session has ended.
	last := func(prev int64) api.CodeStatus {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, err := b.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f := st.Code.LastFetch
			if st.Code.Fetches > prev && f != nil && f.Error == "" {
				if f.Repo != repo.ID || f.Peer != a.Mesh().ID().DID() || f.Sent == 0 {
					t.Fatalf("last fetch = %+v, want one of %s from %s", f, repo.ID, a.Mesh().ID().DID())
				}
				if f.RoundTrips != 2 {
					t.Errorf("last fetch took %d round trips, want 2", f.RoundTrips)
				}
				return st.Code
			}
			if time.Now().After(deadline) {
				t.Fatalf("status code = %+v, last fetch %+v; want a successful fetch after %d", st.Code, f, prev)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	first := last(0)
	if first.LastFetch.Received < 8000 || first.FetchedBytes < first.LastFetch.Received {
		t.Errorf("first fetch: %+v, want at least the 8000 bytes of the two files", first)
	}

	next := w.commit("c", 1000)
	if _, err := a.PushRefs(ctx, repo.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/main": next}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync(ctx, api.SyncRequest{Peers: []string{b.Mesh().Addr()}}); err != nil {
		t.Fatal(err)
	}
	waitRef(t, ctx, b, repo.ID, "refs/heads/main", func(r api.Ref) bool { return r.Objects && r.Commit == next })
	second := last(first.Fetches)
	if second.Fetches != first.Fetches+1 || second.LastFetch.Commits != 1 {
		t.Errorf("after one new commit: %+v, want one more fetch, of one commit", second)
	}
	if got := second.LastFetch.Received; got >= first.LastFetch.Received || got < 1000 {
		t.Errorf("one new commit of 1000 bytes took %d bytes, the history %d", got, first.LastFetch.Received)
	}
	if second.FetchedBytes != first.FetchedBytes+second.LastFetch.Received {
		t.Errorf("fetched bytes %d, want %d + %d", second.FetchedBytes, first.FetchedBytes, second.LastFetch.Received)
	}
}
