// Package merkle summarizes one repository's op set and reconciles two such
// sets: it tells each of two peers exactly which op IDs it lacks.
//
// It is a leaf package: pure computation over bytes, no I/O, no goroutines,
// and no imports from murmur. storage keeps a [Tree] per repo up to date as
// ops are stored; mesh gossips [Root] values and, when they differ, drives a
// [Session] over a stream, passing its opaque messages back and forth.
//
// # Summary
//
// A Tree holds [Item] values (an op's packed hybrid logical clock and its
// ID) in (Clock, ID) order, in a B+tree whose inner nodes cache, per child,
// the number of items below it and the sum modulo 2^256 of their item
// hashes, SHA-256("murmur.merkle.item.v1\x00" || ID). Because the sum is
// commutative the summary is a function of the set alone, whatever the
// insertion order, and because it is a group operation the hash sum of any
// range [lo, hi) of the key order is the difference of two prefix sums, each
// found in O(log n). Insert is O(log n); Root is O(1).
//
// The Root is the whole set's count and hash sum, 41 bytes marshaled: what
// peers gossip so that "already in sync" costs no round trip.
//
// # Reconciliation
//
// Ordering by clock first keeps the ops written during offline work
// together at the end of the order, so the protocol looks there first.
// It is range-based set reconciliation (Meyer, "Range-Based Set
// Reconciliation", 2023; the negentropy protocol) with these choices:
//
//   - Opening. The initiator sends its root and fingerprints of ranges that
//     cover the whole key space, smallest at the newest end: going back in
//     time the ranges hold 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5, ...
//     items, each suffix about 5/4 of the previous one (52 ranges, about
//     710 bytes, for 100,000 items). If the roots are equal the responder
//     answers with a final message and the session ends after one round
//     trip.
//
//   - Runs. A side compares each received fingerprint with its own for the
//     same range and merges adjacent mismatches into runs. A run that is
//     small (<= 8 of our items) or dense (our items <= 4 x the differences
//     it surely holds: the count difference, or one per mismatched range)
//     is answered with a list of our items in it. When the d newest items
//     are missing on one side this is the case at once: the mismatches are
//     the newest ranges, at most 1.25 d items, listed in the second message.
//
//   - Splits. Otherwise each mismatched range is split at our items into
//     about 16 parts per difference it is estimated to hold (from the count
//     difference and from the share of the peer's ranges that mismatched),
//     so most parts hold none and the next step lists the few that do. For
//     100 differences scattered among 100,000 items this takes three
//     levels: about 1,600 fingerprints, then about 8 parts per mismatched
//     range, then lists.
//
//   - Lists. A list carries 8-byte ID prefixes, or full IDs when at least
//     half of ours are surely missing at the peer (it has at most half as
//     many items in the range). The answer to a list carries, in full, the
//     answering side's items the list lacks, and the positions in the list
//     of the entries it lacks; for a prefix list those are a request, which
//     the list's sender answers with the full IDs.
//
//   - End. A side whose reply asks nothing more of the peer knows both
//     differences. It verifies them (below), marks the reply final and is
//     done; the peer takes in the final message, verifies too, and is done.
//
// Messages are bounded (4 MiB by default, see [Options]); a side that
// cannot fit the answer to some range sends its own fingerprint of that
// range instead, which makes the peer reopen it in the next round. Room for
// those fingerprints is reserved first, so every message makes progress,
// and ranges too big to list are split, so the work per range shrinks.
// Sessions are bounded by [Options].MaxRoundTrips.
//
// Measured on 100,000 items per side (BenchmarkReconcile): the newest 1,
// 100 or 10,000 items missing take 1.5 round trips and about 0.8 KB, 4.1 KB
// and 324 KB (the lower bound for 10,000 IDs is 320 KB); 100 items
// missing at random take 2.5 to 3 round trips and about 42 KB.
//
// # Exactness
//
// Every ID a side records is a true difference: an ID in Need arrived in
// full from the peer for a range where we checked it against all our items
// (a prefix request is answered with the full ID, which must carry the
// requested prefix), and an item in Have is one of ours that the peer's
// complete list of that range did not contain. Only two things can make a
// difference go unnoticed: an 8-byte fingerprint prefix that matches
// although the ranges differ, or an 8-byte ID prefix shared by two
// different IDs in the same range. Both only ever hide differences.
//
// So before a side declares the session done it checks that its set plus
// Need equals the peer's set plus Have, as multisets compared by count and
// full 256-bit hash sum (it knows the peer's root from its first message).
// That equation holds if and only if Need and Have are complete, up to a
// collision of the full sums. If it fails, the side restarts the session in
// strict mode (flag bit 2: 32-byte fingerprints and full IDs only, no
// abbreviation left to collide) and the result is exact again; a failure in
// strict mode ends the session with [ErrVerify]. The receiver of a final
// message checks the same equation, so a lying peer yields ErrVerify, never
// a wrong answer.
//
// The sums are negentropy's: additive hashing is far stronger than XOR, but
// an attacker who can get tens of thousands of chosen ops accepted and spend
// billions of hash evaluations could build two sets with equal sums
// (Wagner's generalized birthday attack). The effect would be two peers that
// do not sync those ops by anti-entropy; push gossip is unaffected.
//
// # Message format, version 1
//
// Every message is:
//
//	version   1 byte   FormatVersion (1)
//	flags     1 byte   bit 0 final, bit 1 root present, bit 2 strict,
//	                   bit 3 restart; other bits must be zero
//	root      if bit 1: count (uvarint) and hash sum (32 bytes, big-endian)
//	records   until the end of the message
//
// A record covers the range [lo, hi) of the (Clock, ID) key space, where lo
// is the previous record's hi (the smallest key for the first record). It
// is a mode byte, the bound hi, and a payload:
//
//	0 skip         nothing to do in the range; no payload
//	1 fingerprint  count (uvarint); fingerprint (8 bytes, 32 if strict)
//	2 prefix list  n (uvarint); n 8-byte ID prefixes, in key order
//	3 full list    n (uvarint); n 32-byte IDs, in key order
//	4 prefix reply index set; m (uvarint); m 32-byte IDs
//	5 full reply   index set; m (uvarint); m 32-byte IDs
//	6 items        m (uvarint); m 32-byte IDs
//
// A fingerprint is the first bytes of SHA-256("murmur.merkle.fp.v1\x00" ||
// hash sum (32 bytes, big-endian) || count (8 bytes, big-endian)) over the
// sender's items in the range. A reply answers the list the receiver sent
// for exactly that range in its previous message: its index set gives the
// positions in that list the replier lacks (for a prefix list, a request
// for the full IDs, which come back as an items record for the same range),
// and its IDs are the replier's items in the range missing from the list.
// Space after the last record is skipped. Records requiring an answer
// (fingerprints, lists, prefix replies with a non-empty index set) never
// appear in a final message.
//
// A bound is encoded relative to the previous bound's clock (0 at first):
//
//	header    1 byte   0xFF: +infinity (the last record's hi only);
//	                   else bit 7 zero, bit 6 an ID prefix follows,
//	                   bits 0-5 tz
//	v         uvarint  clock = ((previous clock >> tz) + v) << tz
//	prefix    if bit 6: length L (1 byte, 1..32) and L bytes, the last one
//	                   non-zero; the bound's ID is the prefix padded with
//	                   zero bytes
//
// Senders choose bounds between two adjacent items with the fewest
// significant clock bits, so most take two or three bytes. Bounds must
// strictly increase.
//
// An index set over a list of n entries is a form byte and:
//
//	0 list         k (uvarint); k positions as gaps (uvarint, p[i]-p[i-1]-1)
//	1 complement   n (uvarint); k (uvarint); the k positions NOT in the set
//	2 bitmap       n (uvarint); ceil(n/8) bytes, bit i%8 of byte i/8
//
// All varints are in their shortest form. A decoder rejects a message over
// MaxMessageSize, more than MaxRecords records, a list or index set over
// MaxListLen entries, a count over 2^40, any length that exceeds the bytes
// left, and trailing bytes after a +infinity bound, before allocating for
// them; such errors are [*DecodeError] values wrapping [ErrMalformed],
// [ErrTooLarge] or [ErrVersion].
//
// The format is stable: version 1 will always decode as described here.
// A change to the layout, the hashes or their domain strings needs a new
// FormatVersion. The tuning constants (ladder growth, thresholds, fanout)
// are not part of it; peers with different values interoperate.
package merkle
