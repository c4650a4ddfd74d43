package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"murmur/identity"
	"murmur/internal/memreplica"
	"murmur/mesh"
)

func init() {
	register("gossip", "a new op reaches every one of 32 mesh nodes on loopback (push gossip)", gossip)
}

// gossip starts 32 mesh nodes in this process, each with its own QUIC
// endpoint on loopback and a minimal in-memory replica (opaque ops, no
// storage or signature checks: this measures the mesh), announces ops on
// one node and records when each other node has stored each op.
// Anti-entropy is turned off (push-pull every hour), so only gossip
// counts.
func gossip() ([]Result, error) {
	const (
		size = 32
		ops  = 40
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	repo := sha256.Sum256([]byte("gossip"))
	var (
		mu      sync.Mutex
		sent    = map[[32]byte]time.Time{}
		lat     []time.Duration
		arrived = make(chan struct{}, size*ops)
	)
	onStore := func(id [32]byte) {
		mu.Lock()
		if t0, ok := sent[id]; ok {
			lat = append(lat, time.Since(t0))
		}
		mu.Unlock()
		arrived <- struct{}{}
	}
	var nodes []*mesh.Node
	defer func() {
		for _, n := range nodes {
			_ = n.Close()
		}
	}()
	var reps []*memreplica.Replica
	for i := range size {
		key, err := identity.Generate()
		if err != nil {
			return nil, err
		}
		r := memreplica.New(repo, opaqueOp)
		if i > 0 {
			r.OnStore = onStore
		}
		n, err := mesh.Start(ctx, mesh.NodeConfig{
			Key:              key,
			Transport:        mesh.Config{ListenAddr: "127.0.0.1:0"},
			PushPullInterval: time.Hour,
		}, r)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		reps = append(reps, r)
	}
	for _, n := range nodes[1:] {
		if _, err := n.Join(ctx, []string{nodes[0].Addr()}); err != nil {
			return nil, err
		}
	}
	for _, n := range nodes {
		for n.Stats().Members != size {
			if ctx.Err() != nil {
				return nil, errors.New("gossip: the cluster did not form")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var received0 uint64
	for _, n := range nodes[1:] {
		received0 += n.Stats().GossipReceived
	}
	for i := range ops {
		b := binary.BigEndian.AppendUint64(nil, uint64(i+1))
		b = append(b, fmt.Sprintf("gossiped op %d with a body of about a hundred bytes ..........................", i)...)
		id, _, err := reps[0].Add(b)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		nodes[0].Announce(repo, b, id)
		for range size - 1 {
			select {
			case <-arrived:
			case <-ctx.Done():
				return nil, fmt.Errorf("gossip: op %d did not reach every node", i)
			}
		}
	}
	var received uint64
	for _, n := range nodes[1:] {
		received += n.Stats().GossipReceived
	}
	slices.Sort(lat)
	c := fmt.Sprintf("nodes=%d", size)
	return []Result{
		{"gossip", c, "p99_seconds", lat[len(lat)*99/100].Seconds(), "s"},
		{"gossip", c, "p50_seconds", lat[len(lat)/2].Seconds(), "s"},
		// Gossip messages received per node per op announced (a message
		// may carry several ops; late copies after the last op are not
		// counted).
		{"gossip", c, "copies_per_node", float64(received-received0) / ops / (size - 1), "copies"},
	}, nil
}

// opaqueOp names the gossip scenario's ops: an 8-byte big-endian clock
// and a payload, named by its SHA-256.
func opaqueOp(op []byte) (uint64, [32]byte, error) {
	if len(op) < 8 {
		return 0, [32]byte{}, errors.New("gossip: op shorter than its clock")
	}
	return binary.BigEndian.Uint64(op), sha256.Sum256(op), nil
}
