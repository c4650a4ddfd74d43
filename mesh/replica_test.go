package mesh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"murmur/identity"
	"murmur/merkle"
)

// memReplica is an in-memory Replica for tests. An op is
//
//	clock (8 bytes, big-endian) | repo (32) | n parents (1) | n × 32 | payload
//
// and its ID is the SHA-256 of those bytes. An op is invalid if it does
// not parse, names another repo, or its payload starts with "bad". An op
// whose parents are not all stored waits in a pending pool and its
// missing parents are reported.
type memReplica struct {
	mu    sync.Mutex
	repos map[[32]byte]*memRepo
	// ingestedFrom counts ops stored per delivering peer.
	ingestedFrom map[identity.PublicKey]int
	// onStore, if set, is called (with mu held) for every op stored.
	onStore func(id [32]byte)
	// slowIngest, if set, is how long each Ingest call sleeps first.
	slowIngest time.Duration
}

type memRepo struct {
	tree    *merkle.Tree
	ops     map[[32]byte][]byte
	pending map[[32]byte][]byte
	waiting map[[32]byte][][32]byte // missing parent -> pending children
}

var _ Replica = (*memReplica)(nil)

func newMemReplica(repos ...[32]byte) *memReplica {
	r := &memReplica{repos: make(map[[32]byte]*memRepo), ingestedFrom: make(map[identity.PublicKey]int)}
	for _, repo := range repos {
		r.follow(repo)
	}
	return r
}

func (r *memReplica) follow(repo [32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.repos[repo] == nil {
		r.repos[repo] = &memRepo{
			tree: merkle.New(), ops: make(map[[32]byte][]byte),
			pending: make(map[[32]byte][]byte), waiting: make(map[[32]byte][][32]byte),
		}
	}
}

type testOp struct {
	clock   uint64
	repo    [32]byte
	parents [][32]byte
	payload []byte
}

func (o testOp) encode() ([32]byte, []byte) {
	b := binary.BigEndian.AppendUint64(nil, o.clock)
	b = append(b, o.repo[:]...)
	b = append(b, byte(len(o.parents)))
	for _, p := range o.parents {
		b = append(b, p[:]...)
	}
	b = append(b, o.payload...)
	return sha256.Sum256(b), b
}

var errBadOp = errors.New("bad op")

func decodeTestOp(b []byte) (testOp, error) {
	if len(b) < 41 {
		return testOp{}, fmt.Errorf("%w: %d bytes", errBadOp, len(b))
	}
	o := testOp{clock: binary.BigEndian.Uint64(b), payload: nil}
	copy(o.repo[:], b[8:40])
	np := int(b[40])
	rest := b[41:]
	if len(rest) < 32*np {
		return testOp{}, fmt.Errorf("%w: truncated parents", errBadOp)
	}
	for i := range np {
		var p [32]byte
		copy(p[:], rest[32*i:])
		o.parents = append(o.parents, p)
	}
	o.payload = rest[32*np:]
	if bytes.HasPrefix(o.payload, []byte("bad")) {
		return testOp{}, fmt.Errorf("%w: payload says so", errBadOp)
	}
	return o, nil
}

func (r *memReplica) Followed() [][32]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][32]byte, 0, len(r.repos))
	for id := range r.repos {
		out = append(out, id)
	}
	return out
}

func (r *memReplica) Follows(repo [32]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repos[repo] != nil
}

func (r *memReplica) Tree(repo [32]byte) (*merkle.Tree, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.repos[repo]
	if rp == nil {
		return nil, errors.New("not followed")
	}
	return rp.tree.Clone(), nil
}

func (r *memReplica) Root(repo [32]byte) (merkle.Root, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.repos[repo]
	if rp == nil {
		return merkle.Root{}, false
	}
	return rp.tree.Root(), true
}

func (r *memReplica) Get(repo [32]byte, ids [][32]byte) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.repos[repo]
	if rp == nil {
		return nil, nil
	}
	var out [][]byte
	for _, id := range ids {
		if op, ok := rp.ops[id]; ok {
			out = append(out, bytes.Clone(op))
		}
	}
	return out, nil
}

func (r *memReplica) Ingest(peer identity.PublicKey, repo [32]byte, ops [][]byte) (IngestResult, error) {
	time.Sleep(r.slowIngest)
	r.mu.Lock()
	defer r.mu.Unlock()
	var res IngestResult
	rp := r.repos[repo]
	if rp == nil {
		return res, errors.New("not followed")
	}
	for _, b := range ops {
		o, err := decodeTestOp(b)
		if err == nil && o.repo != repo {
			err = fmt.Errorf("%w: op of another repo", errBadOp)
		}
		if err != nil {
			if res.Invalid == 0 {
				res.InvalidReason = err
			}
			res.Invalid++
			continue
		}
		id := sha256.Sum256(b)
		if _, ok := rp.ops[id]; ok {
			continue
		}
		if _, ok := rp.pending[id]; ok {
			continue
		}
		b = bytes.Clone(b)
		var missing [][32]byte
		for _, p := range o.parents {
			if _, ok := rp.ops[p]; !ok {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			rp.pending[id] = b
			for _, p := range missing {
				rp.waiting[p] = append(rp.waiting[p], id)
				if _, ok := rp.pending[p]; !ok {
					res.Missing = append(res.Missing, p)
				}
			}
			continue
		}
		res.Stored += r.storeLocked(rp, id, o.clock, b)
		r.ingestedFrom[peer]++
	}
	return res, nil
}

// storeLocked stores an op whose parents are present, then the pending
// ops it completes; it returns how many it stored.
func (r *memReplica) storeLocked(rp *memRepo, id [32]byte, clock uint64, b []byte) int {
	rp.ops[id] = b
	rp.tree.Insert(merkle.Item{Clock: clock, ID: id})
	if r.onStore != nil {
		r.onStore(id)
	}
	stored := 1
	kids := rp.waiting[id]
	delete(rp.waiting, id)
	for _, kid := range kids {
		kb, ok := rp.pending[kid]
		if !ok {
			continue
		}
		o, _ := decodeTestOp(kb)
		ready := true
		for _, p := range o.parents {
			if _, ok := rp.ops[p]; !ok {
				ready = false
			}
		}
		if ready {
			delete(rp.pending, kid)
			stored += r.storeLocked(rp, kid, o.clock, kb)
		}
	}
	return stored
}

// add stores an op directly, without validation (so bad ops can be
// planted), and returns its ID and encoding.
func (r *memReplica) add(o testOp) ([32]byte, []byte) {
	id, b := o.encode()
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.repos[o.repo]
	rp.ops[id] = b
	rp.tree.Insert(merkle.Item{Clock: o.clock, ID: id})
	return id, b
}

func (r *memReplica) has(repo, id [32]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.repos[repo].ops[id]
	return ok
}

func (r *memReplica) count(repo [32]byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.repos[repo].ops)
}

// writeChain adds n ops to repo, each the child of the previous one
// (starting from parent, if not zero), with clocks from clock0, and
// returns their IDs.
func (r *memReplica) writeChain(repo [32]byte, clock0 uint64, n int, tag string, parent [32]byte) [][32]byte {
	var ids [][32]byte
	for i := range n {
		o := testOp{clock: clock0 + uint64(i), repo: repo, payload: fmt.Appendf(nil, "%s-%d", tag, i)}
		if parent != ([32]byte{}) {
			o.parents = [][32]byte{parent}
		}
		id, _ := r.add(o)
		ids = append(ids, id)
		parent = id
	}
	return ids
}

func testRepo(name string) [32]byte { return sha256.Sum256([]byte("repo " + name)) }

// testNodeConfig is a configuration for fast tests on loopback.
func testNodeConfig(key *identity.Key) NodeConfig {
	return NodeConfig{
		Key:              key,
		Transport:        Config{ListenAddr: "127.0.0.1:0"},
		GossipInterval:   20 * time.Millisecond,
		ProbeInterval:    200 * time.Millisecond,
		PushPullInterval: time.Minute,
		SyncTimeout:      waitTimeout,
		FetchTimeout:     waitTimeout / 2,
	}
}

// startNode starts a node on r and closes it at the end of the test.
func startNode(t testing.TB, r Replica, tweak func(*NodeConfig)) *Node {
	t.Helper()
	k, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return startNodeKey(t, k, r, tweak)
}

func startNodeKey(t testing.TB, k *identity.Key, r Replica, tweak func(*NodeConfig)) *Node {
	t.Helper()
	cfg := testNodeConfig(k)
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := Start(context.Background(), cfg, r)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// connect makes a dial b directly, without memberlist, so that sessions
// can be started and no automatic one is.
func connect(t testing.TB, a, b *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if _, err := a.ep.DialPeer(ctx, b.ep.Addr().String(), b.ID()); err != nil {
		t.Fatalf("DialPeer: %v", err)
	}
}

// sameOps reports whether two replicas hold the same ops of repo.
func sameOps(a, b *memReplica, repo [32]byte) bool {
	ra, _ := a.Root(repo)
	rb, _ := b.Root(repo)
	return ra == rb
}
