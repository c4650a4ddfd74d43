package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"murmur/api"
)

// TestBareRepoHeadFollowsTheDefaultBranch: the bare repository a clone
// is served from has HEAD on the repo's default branch, and Repo names
// that repository.
func TestBareRepoHeadFollowsTheDefaultBranch(t *testing.T) {
	w := newWorkCopy(t)
	c := w.commit("a", 10)
	ctx := context.Background()
	home := t.TempDir()
	n, err := Open(ctx, Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	r, err := n.CreateRepo(ctx, api.NewRepo{Name: "p", DefaultBranch: "trunk"})
	if err != nil {
		t.Fatal(err)
	}
	head := func() string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(home, CodeDir, r.ID+".git", "HEAD"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if _, err := n.PushRefs(ctx, r.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/trunk": c}}); err != nil {
		t.Fatal(err)
	}
	if got := head(); got != "ref: refs/heads/trunk" {
		t.Errorf("HEAD = %q, want ref: refs/heads/trunk", got)
	}
	got, err := n.Repo(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, CodeDir, r.ID+".git"); got.GitDir != want {
		t.Errorf("Repo().GitDir = %q, want %q", got.GitDir, want)
	}
	dev := "dev"
	if _, err := n.EditRepo(ctx, r.ID, api.RepoEdit{DefaultBranch: &dev}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.PushRefs(ctx, r.ID, api.RefPush{Dir: w.dir, Refs: map[string]string{"refs/heads/dev": c}}); err != nil {
		t.Fatal(err)
	}
	if got := head(); got != "ref: refs/heads/dev" {
		t.Errorf("HEAD after the default branch moved = %q, want ref: refs/heads/dev", got)
	}
}
