package node

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/merkle"
	"murmur/mesh"
	"murmur/op"
	"murmur/storage"
)

// Local setting names of the follow set. A followed repo is recorded as
// followPrefix + its 64-hex ID (value "1"); followInit marks a store whose
// follow set has been initialized (stores written before follows existed
// follow every repo they hold).
const (
	followPrefix = "follow/"
	followInit   = "follow-init"
)

// FollowPrefix and FollowInit are those names, for a tool that rebuilds a
// store's local settings (package doctor): a store without FollowInit
// follows every repo it holds when the node opens it.
const (
	FollowPrefix = followPrefix
	FollowInit   = followInit
)

// replica is the node's data side for the mesh: the followed repos and a
// Merkle tree per followed repo over every stored op of it (accepted or
// rejected), kept up to date as ops are stored. It implements
// mesh.Replica.
type replica struct {
	n *Node

	// writeFailed is set while the store refuses writes (see storeWrote).
	writeFailed atomic.Bool

	// mu guards trees. A repo is followed exactly when it has a tree.
	mu    sync.Mutex
	trees map[op.ID]*merkle.Tree
}

var _ mesh.Replica = (*replica)(nil)

// openReplica loads the follow set and builds the trees from the store.
func openReplica(n *Node) (*replica, error) {
	r := &replica{n: n, trees: make(map[op.ID]*merkle.Tree)}
	init, err := n.store.Local(followInit)
	if err != nil {
		return nil, err
	}
	if init == nil {
		// A store from before follows: follow what it holds.
		repos, err := n.store.Repos()
		if err != nil {
			return nil, err
		}
		for _, rp := range repos {
			if err := n.store.SetLocal(followPrefix+rp.ID.String(), []byte("1")); err != nil {
				return nil, err
			}
		}
		if err := n.store.SetLocal(followInit, []byte("1")); err != nil {
			return nil, err
		}
	}
	var ids []op.ID
	err = n.store.LocalPrefix(followPrefix, func(name string, _ []byte) error {
		id, err := op.ParseID(strings.TrimPrefix(name, followPrefix))
		if err != nil {
			n.log.Warn("ignoring malformed follow entry", "key", name)
			return nil
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		t, err := r.build(id)
		if err != nil {
			return nil, err
		}
		r.trees[id] = t
	}
	return r, nil
}

// build makes repo's tree from the store.
func (r *replica) build(repo op.ID) (*merkle.Tree, error) {
	var items []merkle.Item
	err := r.n.store.ForEachOp(repo, func(c crdt.Timestamp, id op.ID) error {
		items = append(items, merkle.Item{Clock: uint64(c), ID: id})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: summarize repo %s: %w", repo.Short(), err)
	}
	items = append(items, r.n.pol.refusedItems(repo)...)
	return merkle.FromItems(items), nil
}

// insert adds items (refused ops) to repo's tree, if it is followed.
func (r *replica) insert(repo op.ID, items []merkle.Item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.trees[repo]; t != nil {
		for _, it := range items {
			t.Insert(it)
		}
	}
}

// rebuild makes repo's tree again from the store, if it is followed.
func (r *replica) rebuild(repo op.ID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trees[repo] == nil {
		return nil
	}
	t, err := r.build(repo)
	if err != nil {
		return err
	}
	r.trees[repo] = t
	return nil
}

// follow starts replicating repo: it is recorded durably and its tree is
// built. It reports whether repo was newly followed.
func (r *replica) follow(repo op.ID) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trees[repo] != nil {
		return false, nil
	}
	if err := r.n.store.SetLocal(followPrefix+repo.String(), []byte("1")); err != nil {
		return false, err
	}
	// Building under mu: an op stored meanwhile is inserted by added once
	// mu is free, or was stored before the scan and is found by it.
	t, err := r.build(repo)
	if err != nil {
		return false, err
	}
	r.trees[repo] = t
	return true, nil
}

// unfollow stops replicating repo; its ops stay in the store.
func (r *replica) unfollow(repo op.ID) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trees[repo] == nil {
		return false, nil
	}
	if err := r.n.store.SetLocal(followPrefix+repo.String(), nil); err != nil {
		return false, err
	}
	delete(r.trees, repo)
	return true, nil
}

// added inserts newly stored ops into the trees of their repos.
func (r *replica) added(applied []storage.Applied) {
	if len(applied) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range applied {
		if t := r.trees[a.Meta.Repo]; t != nil {
			t.Insert(merkle.Item{Clock: uint64(a.Meta.Clock), ID: a.ID})
		}
	}
}

// Followed implements mesh.Replica.
func (r *replica) Followed() [][32]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][32]byte, 0, len(r.trees))
	for id := range r.trees {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b [32]byte) int { return strings.Compare(string(a[:]), string(b[:])) })
	return out
}

// Follows implements mesh.Replica.
func (r *replica) Follows(repo [32]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.trees[repo] != nil
}

// Tree implements mesh.Replica.
func (r *replica) Tree(repo [32]byte) (*merkle.Tree, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.trees[repo]
	if t == nil {
		return nil, fmt.Errorf("node: repo %s is not followed", op.ID(repo).Short())
	}
	return t.Clone(), nil
}

// Root implements mesh.Replica.
func (r *replica) Root(repo [32]byte) (merkle.Root, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.trees[repo]
	if t == nil {
		return merkle.Root{}, false
	}
	return t.Root(), true
}

// Get implements mesh.Replica.
func (r *replica) Get(repo [32]byte, ids [][32]byte) ([][]byte, error) {
	want := make([]op.ID, len(ids))
	for i, id := range ids {
		want[i] = op.ID(id)
	}
	return r.n.store.OpsRaw(op.ID(repo), want)
}

// parallelVerifyMin is the batch size from which signatures are verified
// on several cores.
const parallelVerifyMin = 256

// verify checks the signatures of ops, in parallel for large batches.
func verify(ops []*op.Op) []error {
	workers := min(runtime.GOMAXPROCS(0), len(ops)/parallelVerifyMin)
	if workers <= 1 {
		return op.VerifyBatch(ops)
	}
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	chunk := (len(ops) + workers - 1) / workers
	for lo := 0; lo < len(ops); lo += chunk {
		hi := min(lo+chunk, len(ops))
		wg.Add(1)
		go func() {
			defer wg.Done()
			copy(errs[lo:hi], op.VerifyBatch(ops[lo:hi]))
		}()
	}
	wg.Wait()
	return errs
}

// ingestPart is how many ops Ingest stores at a time.
const ingestPart = 512

// preparedOps are ops decoded and verified for Ingest, and why the others
// were dropped.
type preparedOps struct {
	good []*op.Op
	bad  []error
}

// prepare decodes raws, keeps the ops of repo and verifies their
// signatures.
func prepare(repo [32]byte, raws [][]byte) preparedOps {
	var p preparedOps
	ops := make([]*op.Op, 0, len(raws))
	for _, b := range raws {
		o, err := op.Decode(b)
		if err != nil {
			p.bad = append(p.bad, err)
			continue
		}
		if o.RepoID() != repo {
			p.bad = append(p.bad, fmt.Errorf("op %s belongs to repo %s, not %s", o.ID().Short(), o.RepoID().Short(), op.ID(repo).Short()))
			continue
		}
		ops = append(ops, o)
	}
	for i, err := range verify(ops) {
		if err != nil {
			p.bad = append(p.bad, err)
			continue
		}
		p.good = append(p.good, ops[i])
	}
	return p
}

// Ingest implements mesh.Replica: decode, verify and store ops of repo
// sent by peer, update the tree, publish events, and report the missing
// dependencies of ops left waiting. Ops that forge rejects (an
// unauthorized action) are stored as rejected like on every replica; they
// are not invalid. Invalid are ops that do not decode, belong to another
// repo, carry a bad signature or break the DAG rules.
func (r *replica) Ingest(peer identity.PublicKey, repo [32]byte, raws [][]byte) (mesh.IngestResult, error) {
	var res mesh.IngestResult
	if !r.Follows(repo) {
		return res, fmt.Errorf("node: repo %s is not followed", op.ID(repo).Short())
	}
	bad := func(err error) {
		res.Invalid++
		if res.InvalidReason == nil {
			res.InvalidReason = err
		}
	}
	// Decode and verify the next part while the store applies and syncs
	// this one: a clone receives batches of thousands of ops, and the
	// store spends part of each waiting for its sync.
	parts := make(chan preparedOps, 1)
	go func() {
		defer close(parts)
		for lo := 0; lo < len(raws); lo += ingestPart {
			parts <- prepare(repo, raws[lo:min(lo+ingestPart, len(raws))])
		}
	}()
	var good []*op.Op
	var outcomes []storage.Outcome
	var errs []error
	var storeErr error
	// Each part syncs while the next one is applied; its ops are announced
	// once they are on disk.
	var syncing *storage.Syncing
	var unannounced []storage.Applied
	settle := func() {
		if err := syncing.Wait(); err != nil {
			if storeErr == nil {
				storeErr = fmt.Errorf("node: ingest from %s: %w", peer.Short(), err)
			}
		} else {
			r.stored(unannounced) // stored, even if a later part failed
		}
		syncing, unannounced = nil, nil
	}
	for p := range parts {
		for _, err := range p.bad {
			bad(err)
		}
		if storeErr != nil || len(p.good) == 0 {
			continue // drain the producer
		}
		kept, refused, why := r.n.screen(peer, repo, p.good)
		if refused > 0 {
			res.Refused += refused
			res.RefusedReason = why
		}
		p.good = kept
		if len(p.good) == 0 {
			continue
		}
		rep, next, err := r.n.store.IngestAsyncFrom(peer, p.good)
		if err != nil {
			storeErr = fmt.Errorf("node: ingest from %s: %w", peer.Short(), err)
			continue
		}
		settle()
		syncing, unannounced = next, rep.Applied
		res.Stored += len(rep.Applied)
		good = append(good, p.good...)
		outcomes = append(outcomes, rep.Outcomes...)
		errs = append(errs, rep.Errors...)
	}
	settle()
	r.storeWrote(storeErr)
	if storeErr != nil {
		return res, storeErr
	}
	if len(good) == 0 {
		return res, nil
	}
	rep := storage.Report{Outcomes: outcomes, Errors: errs}

	inBatch := make(map[op.ID]bool, len(good))
	for _, o := range good {
		inBatch[o.ID()] = true
	}
	missing := map[op.ID]bool{}
	for i, out := range rep.Outcomes {
		o := good[i]
		switch out {
		case storage.Invalid:
			bad(rep.Errors[i])
			continue
		case storage.Dropped:
			if errors.Is(rep.Errors[i], storage.ErrPeerQuota) {
				res.OverQuota++
			}
			continue
		case storage.Waiting:
		case storage.Duplicate:
			// Already pending from an earlier batch: its dependencies
			// may still be missing.
			if has, err := r.n.store.HasOp(o.ID()); err != nil || has {
				continue
			}
		default:
			continue
		}
		for _, d := range forge.Deps(o) {
			if inBatch[d] || missing[d] {
				continue
			}
			if has, err := r.n.store.HasOp(d); err == nil && !has {
				missing[d] = true
			}
		}
	}
	for id := range missing {
		res.Missing = append(res.Missing, id)
	}
	// Refused ops that stored or pending ops need are fetched and
	// admitted after all, so that those ops never wait forever.
	deps := make([]op.ID, 0, len(missing))
	for id := range missing {
		deps = append(deps, id)
	}
	r.n.pol.want(repo, deps)
	return res, nil
}

// stored records ops stored from elsewhere (ingest, released parked ops):
// trees, then events.
func (r *replica) stored(applied []storage.Applied) {
	r.added(applied)
	r.n.Published(applied)
}

// storeWrote logs, once per episode, that the store refuses writes because
// the disk failed them, and when it writes again. err is the result of a
// write to the store.
func (r *replica) storeWrote(err error) {
	switch {
	case errors.Is(err, storage.ErrWriteFailed):
		if !r.writeFailed.Swap(true) {
			r.n.log.Warn("the store cannot write; serving reads, and retrying writes until the disk takes them", "err", err)
		}
	case err == nil:
		if r.writeFailed.Swap(false) {
			r.n.log.Info("the store writes again")
		}
	}
}
