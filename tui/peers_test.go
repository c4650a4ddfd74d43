package tui

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

func TestPeersActions(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 100, 30)
	h.press("p", "s")
	golden(t, "peers_synced", h.screen())
	if bar := lastLine(h.screen()); !strings.Contains(bar, "synced 1 of 2 repos: sent 2, received 5") {
		t.Errorf("bar after sync: %q", bar)
	}
	h.press("a")
	h.typeText("10.0.0.3:7411")
	golden(t, "peers_add", h.screen())
	h.press("enter")
	h.press("f")
	h.typeText("abcd")
	h.press("enter")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "following garden (7 ops here)") {
		t.Errorf("bar after follow: %q", bar)
	}
	h.press("u")
	h.typeText("dotfiles")
	h.press("enter")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "no longer following dotfiles") {
		t.Errorf("bar after unfollow: %q", bar)
	}
	h.press("u", "esc")
	if h.m.top().Capturing() || len(f.follows) != 2 {
		t.Errorf("esc should close the input without acting: follows %v", f.follows)
	}
	wantSyncs := []api.SyncRequest{{Timeout: api.Duration(syncTimeout)}, {Peers: []string{"10.0.0.3:7411"}, Timeout: api.Duration(syncTimeout)}}
	if diff := cmp.Diff(wantSyncs, f.syncs); diff != "" {
		t.Errorf("syncs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"follow abcd", "unfollow dotfiles"}, f.follows); diff != "" {
		t.Errorf("follows (-want +got):\n%s", diff)
	}
}

func TestPeersSyncOffline(t *testing.T) {
	f := newFake()
	f.failWith["Sync"] = api.Errorf(api.CodeOffline, "the node runs offline; start `murmur serve` to sync")
	h := newHarness(t, f, 120, 30)
	h.press("p", "s")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "offline") {
		t.Errorf("bar %q, want the offline error", bar)
	}
	if strings.Contains(h.screen(), "syncing with peers") {
		t.Error("still shows a sync running after it failed")
	}
	f.failWith["Follow"] = errors.New("not a repo ID")
	h.press("f")
	h.typeText("zz")
	h.press("enter")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "not a repo ID") {
		t.Errorf("bar %q, want the follow error", bar)
	}
}
