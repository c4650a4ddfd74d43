package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"murmur/internal/workload"
	"murmur/storage"
)

func init() {
	register("ingest", "ops from a peer: decode + verify + authorize + apply + persist in Pebble", ingest)
}

// ingest measures the path of ops received from a peer into a store on
// disk: decode, batch signature verification across cores, authorization,
// apply and persist, with one sync per batch of 1,000.
func ingest() ([]Result, error) {
	const n = 100_000
	const batch = 1000
	raw, err := workload.Ops(n, 1)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "murmur-bench-ingest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := storage.Open(dir, nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := workload.IngestPipeline(st, raw, batch); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	input := 0
	for _, r := range raw {
		input += len(r)
	}
	if err := st.Flush(); err != nil {
		return nil, err
	}
	got := 0
	repos, err := st.Repos()
	if err != nil {
		return nil, err
	}
	for _, r := range repos {
		c, err := st.OpCount(r.ID)
		if err != nil {
			return nil, err
		}
		got += c
	}
	if got != len(raw) {
		return nil, fmt.Errorf("stored %d of %d ops", got, len(raw))
	}
	c := fmt.Sprintf("n=%d,batch=%d", n, batch)
	return []Result{
		{"ingest", c, "ops_per_s", float64(n) / elapsed.Seconds(), "ops/s"},
		{"ingest", c, "disk_bytes_per_op", float64(st.DiskUsage()) / n, "bytes"},
		// Bytes allocated on the heap per op over the whole ingest
		// (TotalAlloc), a measure of garbage produced per op.
		{"ingest", c, "heap_bytes_per_op", float64(after.TotalAlloc-before.TotalAlloc) / n, "bytes"},
		// Live heap after ingest and a GC, less the encoded input this
		// benchmark itself holds: the store's caches and Pebble's
		// memtables and block cache.
		{"ingest", c, "live_heap_after_bytes", float64(live.HeapAlloc) - float64(input), "bytes"},
	}, nil
}
