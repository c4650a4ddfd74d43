package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"murmur/node"
	"murmur/policy"
)

func init() {
	register("budget", "`murmur serve` with an ingest budget for unknown authors, flooded by 100,000 issues from fresh identities: what it stores, and `issue list` latency during the flood as a ratio to before it", budget)
}

// budget is the flood scenario against a node whose policy allows unknown
// authors 1,000 ops per peer and per repo per hour. While the flood's
// session runs, `murmur issue list -L 20` runs again and again; its median
// is reported as a ratio to the same command's median before the flood,
// measured in the same run.
func budget() ([]Result, error) {
	const base, spam, allowed = 1000, 100_000, 1000
	dir, bin, err := workspace("murmur-bench-budget-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")
	if err := fillStore(filepath.Join(home, node.StoreDir), base); err != nil {
		return nil, err
	}
	if err := policy.Save(home, &policy.Policy{Budget: policy.Budget{Window: "1h", UnknownOps: allowed}}); err != nil {
		return nil, err
	}
	sv, err := startServe(bin, home)
	if err != nil {
		return nil, err
	}
	defer sv.stop()
	ops, repo, err := spamOps(base, spam)
	if err != nil {
		return nil, err
	}
	ref, err := listTimes(bin, home, repo, 5)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	peer, target, err := floodPeer(ctx, ops, repo, sv.addr)
	if err != nil {
		return nil, err
	}
	defer peer.Close()

	// List while the session runs.
	done := make(chan struct{})
	var wg sync.WaitGroup
	var during []float64
	var listErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			t, err := listTimes(bin, home, repo, 1)
			if err != nil {
				listErr = err
				return
			}
			during = append(during, t...)
		}
	}()
	start := time.Now()
	_, serr := peer.SyncWith(ctx, target, repo)
	syncTime := time.Since(start)
	close(done)
	wg.Wait()
	if serr != nil {
		return nil, fmt.Errorf("flood sync: %w", serr)
	}
	if listErr != nil {
		return nil, listErr
	}
	if len(during) == 0 {
		return nil, fmt.Errorf("no issue list finished during the %v flood", syncTime)
	}
	out, err := exec.Command(bin, "--home", home, "repo", "view", repo.String(), "--json").Output()
	if err != nil {
		return nil, fmt.Errorf("murmur repo view: %w", err)
	}
	var rv struct {
		Ops int `json:"ops"`
	}
	if err := json.Unmarshal(out, &rv); err != nil {
		return nil, err
	}
	c := fmt.Sprintf("spam=%d unknown_ops=%d", spam, allowed)
	refMs, duringMs := median(ref), median(during)
	return []Result{
		{"budget", c, "sync_seconds", syncTime.Seconds(), "s"},
		{"budget", c, "stored_ops", float64(rv.Ops), "ops"},
		{"budget", c, "refused_notices", float64(peer.Stats().NoticesReceived), "notices"},
		{"budget", c, "list_ms_before", refMs, "ms"},
		{"budget", c, "list_ms_during", duringMs, "ms"},
		{"budget", c, "list_during_ratio", duringMs / refMs, "x"},
		{"budget", c, "lists_during", float64(len(during)), "runs"},
	}, nil
}
