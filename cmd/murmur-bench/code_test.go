package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestCodeScenarioSmall runs the code scenario on a repo of 60 commits:
// git daemon, two real `murmur serve` processes and the murmur binary
// built from this tree.
func TestCodeScenarioSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short: builds murmur and runs two nodes and git daemon")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping: git is not installed, and the scenario clones with it")
	}
	t.Setenv("MURMUR_LAN_DISCOVERY", "0")
	dir := t.TempDir()
	bin := filepath.Join(dir, "murmur")
	build := exec.Command("go", "build", "-o", bin, "murmur/cmd/murmur")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build murmur: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	results, err := codeBench(ctx, bin, dir, 60)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range results {
		got[r.Metric] = r.Value
		t.Logf("%s %s = %v %s", r.Case, r.Metric, r.Value, r.Unit)
	}
	for _, m := range []string{"git_clone_seconds", "murmur_clone_seconds", "clone_time_per_git",
		"murmur_clone_received_bytes", "murmur_one_commit_received_bytes", "murmur_one_commit_round_trips",
		"serve_peak_rss_bytes", "serve_with_git_peak_rss_bytes"} {
		if got[m] <= 0 {
			t.Errorf("%s = %v, want a positive figure", m, got[m])
		}
	}
	if got["murmur_one_commit_received_bytes"] >= got["murmur_clone_received_bytes"] {
		t.Errorf("one new commit took %v bytes, the clone of 60 commits %v", got["murmur_one_commit_received_bytes"], got["murmur_clone_received_bytes"])
	}
	if _, ok := got["git_one_commit_round_trips"]; !ok {
		t.Skip("git daemon did not run: git's fetch was not measured")
	}
	if got["murmur_one_commit_round_trips"] > got["git_one_commit_round_trips"] {
		t.Errorf("one new commit: murmur took %v round trips, git %v", got["murmur_one_commit_round_trips"], got["git_one_commit_round_trips"])
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) == 0 {
		t.Errorf("workspace %s: %v, %v", dir, ents, err)
	}
}
