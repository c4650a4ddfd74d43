package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"murmur/internal/workload"
	"murmur/node"
	"murmur/op"
	"murmur/storage"
)

func init() {
	register("clone", "a fresh replica pulls 100,000 signed ops from a real node over loopback QUIC", clone)
}

// clone measures `murmur repo follow ID --peer ADDR` between two real
// nodes (storage, replica, mesh) on loopback: the time from the follow
// until all 100,000 ops are verified, applied and persisted on the new
// replica.
func clone() ([]Result, error) {
	const n = 100_000
	ctx := context.Background()
	raw, err := workload.Ops(n, 1)
	if err != nil {
		return nil, err
	}
	first, err := op.Decode(raw[0])
	if err != nil {
		return nil, err
	}
	repo := first.ID()
	dir, err := os.MkdirTemp("", "murmur-bench-clone-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srcHome, dstHome := filepath.Join(dir, "src"), filepath.Join(dir, "dst")

	// Seed the source store, then run it as a node.
	st, err := storage.Open(filepath.Join(srcHome, node.StoreDir), nil)
	if err != nil {
		return nil, err
	}
	if err := workload.IngestPipeline(st, raw, 1000); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	mc := func() *node.MeshConfig {
		return &node.MeshConfig{Listen: "127.0.0.1:0", Manual: true, PushPullInterval: time.Hour}
	}
	src, err := node.Open(ctx, node.Config{Home: srcHome, Mesh: mc()})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := node.Open(ctx, node.Config{Home: dstHome, Mesh: mc()})
	if err != nil {
		return nil, err
	}
	defer dst.Close()

	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := dst.Follow(fctx, repo.String(), []string{src.Mesh().Addr()})
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	got, err := dst.Store().OpCount(repo)
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, fmt.Errorf("clone: %d of %d ops stored (follow: %+v)", got, n, res)
	}
	c := fmt.Sprintf("n=%d", n)
	return []Result{
		{"clone", c, "seconds", elapsed.Seconds(), "s"},
		{"clone", c, "ops_per_s", float64(n) / elapsed.Seconds(), "ops/s"},
	}, nil
}
