package mesh

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkClone measures a fresh replica pulling a repo of 100,000 ops
// (about 100 bytes each, in chains) from one peer over loopback QUIC: the
// `clone` scenario. The design target is 3 s per clone.
func BenchmarkClone(b *testing.B) {
	const n = 100_000
	repo := testRepo("clone")
	src := newMemReplica(repo)
	var tip [32]byte
	for i := 0; i < n; i += 1000 {
		ids := src.writeChain(repo, uint64(i+1), 1000, fmt.Sprintf("op %08d payload padding to about one hundred bytes ........................", i), tip)
		tip = ids[len(ids)-1]
	}
	server := startNode(b, src, nil)
	var rep SyncReport
	for b.Loop() {
		b.StopTimer()
		dst := newMemReplica(repo)
		client := startNode(b, dst, nil)
		connect(b, client, server)
		b.StartTimer()
		var err error
		rep, err = client.SyncWith(testContextTB(b), server.ID(), repo)
		if err != nil || rep.Received != n || dst.count(repo) != n {
			b.Fatalf("clone: %+v, %v; replica holds %d", rep, err, dst.count(repo))
		}
		b.StopTimer()
		_ = client.Close()
		b.StartTimer()
	}
	b.ReportMetric(rep.RoundTrips, "round_trips")
	b.ReportMetric(float64(rep.OverheadBytes), "overhead_bytes")
}

// BenchmarkGossip32 measures how long a new op takes to reach every node
// of a 32-node cluster on loopback through push gossip alone (the
// `gossip` scenario, target p99 <= 1 s), and how many gossip copies of it
// each node receives. Each iteration announces one inline op.
func BenchmarkGossip32(b *testing.B) {
	if testing.Short() {
		b.Skip("32 nodes")
	}
	const size = 32
	repo := testRepo("gossip32")
	var (
		mu      sync.Mutex
		pending map[[32]byte]time.Time // op -> announce time
		lat     []time.Duration
		arrived = make(chan struct{}, size*4)
	)
	var reps []*memReplica
	var nodes []*Node
	for i := range size {
		r := newMemReplica(repo)
		if i > 0 {
			r.onStore = func(id [32]byte) {
				mu.Lock()
				if t0, ok := pending[id]; ok {
					lat = append(lat, time.Since(t0))
				}
				mu.Unlock()
				arrived <- struct{}{}
			}
		}
		reps = append(reps, r)
		nodes = append(nodes, startNode(b, r, func(c *NodeConfig) {
			d := DefaultNodeConfig()
			c.GossipInterval, c.ProbeInterval = d.GossipInterval, d.ProbeInterval
			c.PushPullInterval = time.Hour // gossip only
		}))
	}
	for _, n := range nodes[1:] {
		if _, err := n.Join(testContextTB(b), []string{nodes[0].Addr()}); err != nil {
			b.Fatalf("Join: %v", err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, n := range nodes {
		for n.numMembers() != size {
			if time.Now().After(deadline) {
				b.Fatalf("cluster did not form")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var received0 uint64
	for _, n := range nodes[1:] {
		received0 += n.Stats().GossipReceived
	}
	pending = make(map[[32]byte]time.Time)
	ops := 0
	for b.Loop() {
		id, op := reps[0].add(testOp{clock: uint64(ops + 1), repo: repo, payload: fmt.Appendf(nil, "gossip %d", ops)})
		ops++
		mu.Lock()
		pending[id] = time.Now()
		mu.Unlock()
		nodes[0].Announce(repo, op, id)
		for range size - 1 {
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				b.Fatalf("op did not reach every node")
			}
		}
	}
	b.StopTimer()
	var received uint64
	for _, n := range nodes[1:] {
		received += n.Stats().GossipReceived
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(lat[len(lat)*99/100].Seconds(), "p99_seconds")
		b.ReportMetric(lat[len(lat)/2].Seconds(), "p50_seconds")
	}
	// Gossip messages carry every queued op, so this counts copies of
	// all ops announced; memberlist also delivers some copies after the
	// iteration ended, which are not counted.
	b.ReportMetric(float64(received-received0)/float64(ops)/float64(size-1), "copies_per_node")
}
