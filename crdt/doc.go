// Package crdt holds murmur's conflict-free replicated data types: the
// hybrid logical clock that stamps every op (Timestamp, Clock), the
// last-writer-wins register that keeps its history and its concurrent losers
// (LWW), and the add-wins observed-remove set (ORSet).
//
// These are pure data structures. They do no I/O, start no goroutines and
// import nothing of murmur, so every other package may depend on them. The
// forge layer decides which ops are valid and feeds their effects in as
// updates (a Write, an add tag, a set of removed tags), each named by the ID
// of the op that made it.
//
// # Merge laws
//
// Each type's state is a join of grow-only sets, so its operations are
// idempotent (applying an update or merging a state twice changes nothing),
// commutative (order does not matter) and associative (grouping does not
// matter). Replicas that have received the same updates therefore hold the
// same state, however the updates travelled: one by one in any order, with
// duplicates, or as whole states merged in any grouping. Updates need not
// arrive in causal order: a write or remove may name an update that has not
// arrived yet, and it takes effect when that update does. The package tests
// check these laws on random histories of concurrent authors and under a
// fuzzer.
//
// # Ordering
//
// Updates are ordered by Stamp: by HLC Timestamp, then by author key
// bytewise, then by op ID bytewise. The order is total and the same on every
// replica, independent of arrival order and of the receiver's clock. Among
// concurrent writes to a register the greatest Stamp wins; a write that names
// earlier writes in its Prev supersedes them whatever their Stamps, so a
// causally later edit always replaces what its author saw.
//
// # Encoding
//
// LWW, ORSet, Write and Stamp carry fxamacker/cbor struct tags with small
// integer keys, so storage can persist their state directly; with a
// deterministic encoding mode, equal states encode to equal bytes. The keys
// are part of the storage format and must not change.
package crdt
