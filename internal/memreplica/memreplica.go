// Package memreplica is a mesh.Replica of one repo held in memory, for
// benchmarks and tests that run mesh nodes without a store. It keeps every
// op it is given, with no validation beyond what its Namer checks.
package memreplica

import (
	"fmt"
	"slices"
	"sync"

	"murmur/identity"
	"murmur/merkle"
	"murmur/mesh"
)

// Namer returns an op's clock and ID, or an error for an op the replica
// must count as invalid.
type Namer func(op []byte) (clock uint64, id [32]byte, err error)

// Replica is one repo's ops in memory.
type Replica struct {
	repo [32]byte
	name Namer
	// OnStore, if set, is called for every op Ingest stores, without the
	// replica's lock held. Set it before the replica is used.
	OnStore func(id [32]byte)

	// mu guards tree and ops.
	mu   sync.Mutex
	tree *merkle.Tree
	ops  map[[32]byte][]byte
}

var _ mesh.Replica = (*Replica)(nil)

// New returns an empty replica of repo whose ops are named by name.
func New(repo [32]byte, name Namer) *Replica {
	return &Replica{repo: repo, name: name, tree: merkle.New(), ops: map[[32]byte][]byte{}}
}

// Add stores op and reports its ID and whether it was new.
func (r *Replica) Add(op []byte) ([32]byte, bool, error) {
	clock, id, err := r.name(op)
	if err != nil {
		return id, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.ops[id]; ok {
		return id, false, nil
	}
	r.ops[id] = slices.Clone(op)
	r.tree.Insert(merkle.Item{Clock: clock, ID: id})
	return id, true, nil
}

// Followed implements mesh.Replica.
func (r *Replica) Followed() [][32]byte { return [][32]byte{r.repo} }

// Follows implements mesh.Replica.
func (r *Replica) Follows(repo [32]byte) bool { return repo == r.repo }

// Tree implements mesh.Replica.
func (r *Replica) Tree(repo [32]byte) (*merkle.Tree, error) {
	if repo != r.repo {
		return nil, fmt.Errorf("memreplica: repo %x is not followed", repo[:6])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tree.Clone(), nil
}

// Root implements mesh.Replica.
func (r *Replica) Root(repo [32]byte) (merkle.Root, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tree.Root(), repo == r.repo
}

// Get implements mesh.Replica.
func (r *Replica) Get(repo [32]byte, ids [][32]byte) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, id := range ids {
		if b, ok := r.ops[id]; ok && repo == r.repo {
			out = append(out, b)
		}
	}
	return out, nil
}

// Ingest implements mesh.Replica: every op its Namer accepts is stored.
func (r *Replica) Ingest(_ identity.PublicKey, repo [32]byte, ops [][]byte) (mesh.IngestResult, error) {
	var res mesh.IngestResult
	for _, b := range ops {
		var (
			id  [32]byte
			ok  bool
			err error
		)
		if repo != r.repo {
			err = fmt.Errorf("memreplica: op of repo %x, not followed", repo[:6])
		} else {
			id, ok, err = r.Add(b)
		}
		if err != nil {
			if res.Invalid == 0 {
				res.InvalidReason = err
			}
			res.Invalid++
			continue
		}
		if ok {
			res.Stored++
			if r.OnStore != nil {
				r.OnStore(id)
			}
		}
	}
	return res, nil
}
