package identity

import (
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

const (
	// maxExpandedKeys bounds the expanded public keys a BatchVerifier keeps
	// (about 1.5 KiB each).
	maxExpandedKeys = 1024

	// precomputedBatchLimit is the batch size from which the underlying
	// verifier stops using expanded keys for the batch equation (it switches
	// to Pippenger's method). Beyond it, expanding a key that is not cached
	// already costs more than it saves.
	precomputedBatchLimit = 94
)

// BatchVerifier checks many signatures at once, which is cheaper per
// signature than calling [Verify] for each when (as during ingest) nearly
// all of them are valid.
//
// It accepts exactly the signatures [Verify] accepts: both use ZIP-215
// verification, and when a batch fails every entry is checked on its own, so
// the per-entry results are the same as calling Verify for each.
//
// A BatchVerifier keeps the expanded (precomputed) form of up to 1024
// recently seen public keys, about 1.5 MiB at most, across [BatchVerifier.Reset]:
// ops mostly come from a few recurring authors, and an expanded key makes
// each of their signatures cheaper to check. Reuse one BatchVerifier per
// ingest loop rather than making one per batch.
//
// The zero BatchVerifier is empty and ready to use. A BatchVerifier is not
// safe for concurrent use.
type BatchVerifier struct {
	v *voi.BatchVerifier
	// expanded caches precomputed public keys; it never holds more than
	// maxExpandedKeys entries.
	expanded map[PublicKey]*voi.ExpandedPublicKey
	// n counts the entries added since the last Reset.
	n int
	// scratch holds the domain-separated message of the entry being added.
	// The underlying verifier hashes the message within Add, so the buffer
	// is reused.
	scratch []byte
}

// NewBatchVerifier returns an empty BatchVerifier.
func NewBatchVerifier() *BatchVerifier {
	return &BatchVerifier{}
}

// Add queues sig, pub's signature of msg for domain, for verification.
// Entries are numbered in the order they are added. An entry with a domain
// longer than [MaxDomainLen], a signature of the wrong length or a public
// key that is not a curve point is recorded as invalid. Add does not retain
// msg or sig; the caller may reuse them once Add returns.
func (b *BatchVerifier) Add(pub PublicKey, domain string, msg, sig []byte) {
	if b.v == nil {
		b.v = voi.NewBatchVerifier()
	}
	var x *voi.ExpandedPublicKey
	if len(domain) > MaxDomainLen {
		// A nil signature makes the entry invalid while keeping its index.
		msg, sig = nil, nil
	} else {
		b.scratch = appendSignedMessage(b.scratch[:0], domain, msg)
		msg = b.scratch
		x = b.expand(pub)
	}
	b.n++
	if x != nil {
		b.v.AddExpandedWithOptions(x, msg, sig, verifyOptions)
		return
	}
	// The entry is checked the same way, without precomputation; a key that
	// is not a curve point makes it invalid.
	b.v.ForceNoPublicKeyExpansion().AddWithOptions(pub[:], msg, sig, verifyOptions)
}

// expand returns the expanded form of pub if it is cached or worth
// computing, and nil otherwise or if pub is not a curve point.
func (b *BatchVerifier) expand(pub PublicKey) *voi.ExpandedPublicKey {
	if x, ok := b.expanded[pub]; ok {
		return x
	}
	if b.n >= precomputedBatchLimit {
		return nil
	}
	x, err := voi.NewExpandedPublicKey(pub[:])
	if err != nil {
		return nil
	}
	if b.expanded == nil {
		b.expanded = make(map[PublicKey]*voi.ExpandedPublicKey)
	}
	if len(b.expanded) >= maxExpandedKeys {
		for k := range b.expanded { // evict an arbitrary entry
			delete(b.expanded, k)
			break
		}
	}
	b.expanded[pub] = x
	return x
}

// Verify checks every queued entry. allValid reports whether all of them
// are valid; valid[i] reports on the i-th entry added since the last Reset.
// When the batch equation fails, Verify falls back to checking each entry on
// its own to find the invalid ones. An empty batch is valid. Verify does not
// clear the batch; call Reset before reusing it.
func (b *BatchVerifier) Verify() (allValid bool, valid []bool) {
	if b.v == nil {
		return true, []bool{}
	}
	allValid, valid = b.v.Verify(nil)
	if valid == nil {
		// The underlying verifier reports an empty batch as a failure.
		return true, []bool{}
	}
	return allValid, valid
}

// Reset empties the batch, keeping its allocations and expanded keys for
// reuse.
func (b *BatchVerifier) Reset() {
	if b.v != nil {
		b.v.Reset()
	}
	b.n = 0
}
