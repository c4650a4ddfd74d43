// Package memlimit sets the Go runtime's soft memory limit of a
// long-running murmur process (murmur serve) from the size of its replica.
//
// Without a limit, the heap goal after a burst of ingest (a flood of spam,
// a clone) stays at twice the burst's peak, and an idle process keeps that
// memory resident. With one, the collector works harder near the limit and
// the runtime returns the rest to the operating system. The limit grows
// with the ops stored, so a large replica is never made to collect
// continuously. It bounds the Go heap only: Pebble's block cache and
// memtables are sized by storage.Options. GOMEMLIMIT in the environment
// wins. The package imports nothing of murmur's.
package memlimit

import (
	"context"
	"os"
	"runtime/debug"
	"time"
)

const (
	// Floor is the smallest limit set, whatever the replica's size.
	Floor = 96 << 20
	// PerOp is the Go heap budgeted per stored op: about 61 MiB per
	// 100,000 ops.
	PerOp = 640
)

// Budget returns the soft memory limit for a replica of ops stored ops.
func Budget(ops int) int64 { return max(Floor, int64(ops)*PerOp) }

// Apply sets the soft memory limit to Budget(ops) and returns it, unless
// GOMEMLIMIT is set, in which case it changes nothing and returns 0.
func Apply(ops int) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	b := Budget(ops)
	debug.SetMemoryLimit(b)
	return b
}

// Follow applies the budget for count() now and then every interval
// until ctx is done, so that the limit grows with the replica.
func Follow(ctx context.Context, count func() int, interval time.Duration) {
	if Apply(count()) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			Apply(count())
		}
	}
}
