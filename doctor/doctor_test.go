package doctor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"murmur/api"
	"murmur/doctor"
	"murmur/node"
)

// home makes a data directory with a repo of n issues, written through a
// real node, and returns it with the repo's ID.
func home(t *testing.T, n int) (string, string) {
	t.Helper()
	ctx := context.Background()
	h := t.TempDir()
	nd, err := node.Open(ctx, node.Config{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	r, err := nd.CreateRepo(ctx, api.NewRepo{Name: "r"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := nd.CreateIssue(ctx, r.ID, api.NewIssue{Title: fmt.Sprintf("issue %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nd.Store().Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nd.Close(); err != nil {
		t.Fatal(err)
	}
	return h, r.ID
}

func issues(t *testing.T, h, repo string) int {
	t.Helper()
	ctx := context.Background()
	nd, err := node.Open(ctx, node.Config{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	is, err := nd.Issues(ctx, repo, api.ListFilter{State: "all"})
	if err != nil {
		t.Fatal(err)
	}
	return len(is)
}

func TestCheckClean(t *testing.T) {
	h, _ := home(t, 10)
	rep, err := doctor.Check(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean || rep.Ops != 11 {
		t.Fatalf("Check = %+v, want clean with 11 ops", rep)
	}
}

// TestRepairWithoutMarker: a store that lost its marker is refused, found
// damaged, and repaired from its own files with every op and setting.
func TestRepairWithoutMarker(t *testing.T) {
	h, repo := home(t, 10)
	store := filepath.Join(h, node.StoreDir)
	ms, _ := filepath.Glob(filepath.Join(store, "marker.manifest.*"))
	for _, m := range ms {
		os.Remove(m)
	}
	rep, err := doctor.Check(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean || len(rep.Findings) == 0 {
		t.Fatalf("Check of a store without its marker = %+v, want findings", rep)
	}
	rep, err = doctor.Repair(context.Background(), h, doctor.Options{Listen: "127.0.0.1:0", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean || rep.Ops != 11 || rep.Repaired == nil || rep.Repaired.MovedAside == "" {
		t.Fatalf("Repair = %+v (%+v), want clean with 11 ops and the old store moved aside", rep, rep.Repaired)
	}
	if _, err := os.Stat(rep.Repaired.MovedAside); err != nil {
		t.Errorf("moved-aside store: %v", err)
	}
	if got := issues(t, h, repo); got != 10 {
		t.Errorf("issues after repair = %d, want 10", got)
	}
}
