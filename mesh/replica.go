package mesh

import (
	"errors"
	"fmt"

	"murmur/identity"
	"murmur/merkle"
)

// Replica is the data side of a Node: the ops of the repos this node
// replicates, their Merkle summaries, and the verification and storage of
// ops that peers send. The node package implements it on top of storage;
// mesh sees ops only as opaque encoded bytes named by 32-byte IDs.
//
// All methods may be called concurrently, from network goroutines and
// memberlist callbacks; Followed, Follows and Root are called on
// memberlist's push-pull path and must be cheap and must not block on I/O.
// Slices passed in are owned by the callee only for the duration of the
// call (copy to retain); slices returned are owned by the caller.
type Replica interface {
	// Followed returns the IDs of the repos this node replicates.
	Followed() [][32]byte

	// Follows reports whether this node replicates repo.
	Follows(repo [32]byte) bool

	// Tree returns a snapshot of repo's Merkle tree (for instance
	// merkle.Tree.Clone) that stays valid and unchanged while the
	// replica keeps ingesting. A repo that is followed but empty has an
	// empty tree.
	Tree(repo [32]byte) (*merkle.Tree, error)

	// Root returns repo's current Merkle root, and false if repo is not
	// followed.
	Root(repo [32]byte) (merkle.Root, bool)

	// Get returns the encoded ops of repo with the given IDs, in the
	// order asked, skipping IDs it does not have.
	Get(repo [32]byte, ids [][32]byte) ([][]byte, error)

	// Ingest decodes, verifies and stores ops of repo received from
	// peer over an authenticated stream, or from inline gossip, whose
	// sender is unknown, with the zero peer. Ops already stored are skipped. It must not fail as a whole
	// because of bad ops: those are counted in IngestResult.Invalid and
	// dropped; the error is for local failures (storage). Ops whose
	// dependencies are missing may be kept pending; their missing
	// dependencies are reported so that mesh can fetch them.
	Ingest(peer identity.PublicKey, repo [32]byte, ops [][]byte) (IngestResult, error)
}

// IngestResult is what Replica.Ingest did with a batch of ops.
type IngestResult struct {
	// Stored counts ops newly stored (now or, released by this batch,
	// from the pending pool).
	Stored int
	// Invalid counts ops dropped as invalid: malformed, of another
	// repo, a bad signature, or breaking the data model's rules. Any
	// makes mesh penalize the peer that sent them.
	Invalid int
	// InvalidReason describes the first invalid op, for the log.
	InvalidReason error
	// Missing lists IDs of dependencies (parents, targets) that ops of
	// this batch still wait for and that the replica does not have.
	Missing [][32]byte
	// OverQuota counts ops dropped because the peer that sent them
	// already holds its share of the replica's pending pool: ops whose
	// dependencies it never supplied or whose clocks are far ahead. An
	// honest peer, which sends only ops it has stored, never gets there;
	// any makes mesh penalize the peer.
	OverQuota int
	// Refused counts ops the replica refused by its local policy (a
	// blocked author, an ingest budget): valid ops it chose not to
	// store. They are not the peer's fault; mesh tells the peer why
	// (a KindNotice stream), so the sender's log shows it.
	Refused int
	// RefusedReason describes the last refusal.
	RefusedReason error
}

var (
	// ErrPenalized is returned for operations with a peer that sent
	// invalid data recently and is being ignored (see
	// NodeConfig.PenaltyDuration).
	ErrPenalized = errors.New("mesh: peer is penalized")

	// ErrUnknownPeer is returned when a peer has no connection and no
	// address known from membership.
	ErrUnknownPeer = errors.New("mesh: unknown peer")

	// ErrRefused is matched (errors.Is) by *RefusedError.
	ErrRefused = errors.New("mesh: sync refused")

	// ErrFlood marks a peer penalized for sending more ops that cannot be
	// applied (missing dependencies, clocks far ahead) than its share of
	// the pending pool.
	ErrFlood = errors.New("mesh: peer floods the pending pool")

	// ErrProtocol marks a peer that broke the replication protocol: a
	// malformed or oversize frame, a failed reconciliation, more ops
	// than asked for, or invalid ops. The peer is penalized.
	ErrProtocol = errors.New("mesh: peer violated the protocol")
)

// RefusedError reports that a peer declined a sync session.
type RefusedError struct {
	Peer   identity.PublicKey
	Repo   [32]byte
	Status SyncStatus
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("mesh: sync of repo %x refused by %s: %s", e.Repo[:6], e.Peer.Short(), e.Status)
}

// Is reports whether target is ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
