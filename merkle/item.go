package merkle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
)

// Item is one element of a summarized set: an op's packed hybrid logical
// clock and its ID. Items are ordered by (Clock, ID); see [Item.Compare].
//
// An op's ID is the SHA-256 of its encoding, which includes its clock, so an
// ID never occurs with two clocks. The summary relies on that: an item's
// contribution to a fingerprint depends on its ID alone, and reconciliation
// reports IDs.
type Item struct {
	Clock uint64
	ID    [32]byte
}

// Compare orders items by Clock, then by ID bytes. It returns -1, 0 or +1.
func (a Item) Compare(b Item) int {
	switch {
	case a.Clock < b.Clock:
		return -1
	case a.Clock > b.Clock:
		return 1
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

func (a Item) less(b Item) bool { return a.Compare(b) < 0 }

// String returns the clock and a short ID prefix, for logs and test output.
func (a Item) String() string {
	return fmt.Sprintf("%d/%s", a.Clock, hex.EncodeToString(a.ID[:6]))
}

// Domain-separation prefixes for the two hashes the package defines. Both
// are part of the wire format: changing either changes every Root and
// fingerprint and needs a new FormatVersion.
const (
	itemDomain        = "murmur.merkle.item.v1\x00"
	fingerprintDomain = "murmur.merkle.fp.v1\x00"
)

// fpSum is a 256-bit integer, least significant limb first. Fingerprints
// are sums of item hashes modulo 2^256, so a range's sum is the difference
// of two prefix sums.
type fpSum [4]uint64

func (s *fpSum) add(o *fpSum) {
	var c uint64
	s[0], c = bits.Add64(s[0], o[0], 0)
	s[1], c = bits.Add64(s[1], o[1], c)
	s[2], c = bits.Add64(s[2], o[2], c)
	s[3], _ = bits.Add64(s[3], o[3], c)
}

func (s *fpSum) sub(o *fpSum) {
	var b uint64
	s[0], b = bits.Sub64(s[0], o[0], 0)
	s[1], b = bits.Sub64(s[1], o[1], b)
	s[2], b = bits.Sub64(s[2], o[2], b)
	s[3], _ = bits.Sub64(s[3], o[3], b)
}

// bytes returns s as 32 big-endian bytes.
func (s fpSum) bytes() [32]byte {
	var b [32]byte
	binary.BigEndian.PutUint64(b[0:], s[3])
	binary.BigEndian.PutUint64(b[8:], s[2])
	binary.BigEndian.PutUint64(b[16:], s[1])
	binary.BigEndian.PutUint64(b[24:], s[0])
	return b
}

func sumFromBytes(b *[32]byte) fpSum {
	return fpSum{
		binary.BigEndian.Uint64(b[24:]),
		binary.BigEndian.Uint64(b[16:]),
		binary.BigEndian.Uint64(b[8:]),
		binary.BigEndian.Uint64(b[0:]),
	}
}

// itemHash is an item's contribution to fingerprints:
// SHA-256(itemDomain || ID) read as a big-endian 256-bit integer.
func itemHash(id *[32]byte) fpSum {
	var buf [len(itemDomain) + 32]byte
	copy(buf[:], itemDomain)
	copy(buf[len(itemDomain):], id[:])
	d := sha256.Sum256(buf[:])
	return sumFromBytes(&d)
}

// fingerprint condenses a range's item count and hash sum:
// SHA-256(fingerprintDomain || sum (32 bytes, big-endian) || count (8 bytes,
// big-endian)). Messages carry a prefix of it.
func fingerprint(count uint64, sum *fpSum) [32]byte {
	var buf [len(fingerprintDomain) + 32 + 8]byte
	n := copy(buf[:], fingerprintDomain)
	b := sum.bytes()
	n += copy(buf[n:], b[:])
	binary.BigEndian.PutUint64(buf[n:], count)
	return sha256.Sum256(buf[:])
}

// RootSize is the length of a marshaled Root.
const RootSize = 1 + 8 + 32

// rootVersion is the first byte of a marshaled Root.
const rootVersion = 1

// Root is the compact summary of a whole set: how many items it holds and
// the sum, modulo 2^256, of their item hashes. Two trees hold the same set
// exactly when their Roots are equal (up to the collision resistance
// discussed in the package documentation), whatever order the items were
// inserted in. Root is comparable with ==.
//
// The marshaled form is RootSize (41) bytes:
//
//	version (1 byte, = 1) | count (8 bytes, big-endian) | sum (32 bytes, big-endian)
//
// It is meant for gossip (push-pull state) and is stable: a change would use
// a new version byte.
type Root struct {
	Count uint64
	Sum   [32]byte
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (r Root) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, RootSize))
}

// AppendBinary implements encoding.BinaryAppender.
func (r Root) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, rootVersion)
	b = binary.BigEndian.AppendUint64(b, r.Count)
	return append(b, r.Sum[:]...), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It rejects input of
// the wrong length or an unknown version.
func (r *Root) UnmarshalBinary(b []byte) error {
	if len(b) != RootSize {
		return fmt.Errorf("merkle: root is %d bytes, want %d: %w", len(b), RootSize, ErrMalformed)
	}
	if b[0] != rootVersion {
		return fmt.Errorf("merkle: root version %d: %w", b[0], ErrVersion)
	}
	r.Count = binary.BigEndian.Uint64(b[1:])
	copy(r.Sum[:], b[9:])
	return nil
}

// String returns the count and a short prefix of the sum.
func (r Root) String() string {
	return fmt.Sprintf("%d items, sum %s", r.Count, hex.EncodeToString(r.Sum[:8]))
}

// bound is a point in the (Clock, ID) key space that separates ranges. A
// range [lo, hi) holds the items it with lo <= it < hi. A bound's ID is
// usually a short prefix padded with zero bytes; inf is above every item.
type bound struct {
	clock uint64
	id    [32]byte
	inf   bool
}

var (
	minBound = bound{}
	infBound = bound{inf: true}
)

func (b bound) compare(o bound) int {
	switch {
	case b.inf && o.inf:
		return 0
	case b.inf:
		return 1
	case o.inf:
		return -1
	case b.clock < o.clock:
		return -1
	case b.clock > o.clock:
		return 1
	}
	return bytes.Compare(b.id[:], o.id[:])
}

// before reports whether it < b, that is, it lies in ranges ending at b.
func (it Item) before(b bound) bool {
	switch {
	case b.inf:
		return true
	case it.Clock != b.clock:
		return it.Clock < b.clock
	}
	return bytes.Compare(it.ID[:], b.id[:]) < 0
}

// prefixLen is the number of ID bytes a bound needs on the wire: everything
// up to its last non-zero byte.
func (b bound) prefixLen() int {
	for i := len(b.id) - 1; i >= 0; i-- {
		if b.id[i] != 0 {
			return i + 1
		}
	}
	return 0
}

// boundBetween returns the bound with the shortest encoding that separates
// prev from next (prev < next): prev < b <= next. When the clocks differ it
// is a clock alone, with as many trailing zero bits as fit, so it encodes in
// few bytes; when they are equal it is next's clock and the shortest ID
// prefix that exceeds prev's ID.
func boundBetween(prev, next Item) bound {
	if prev.Clock != next.Clock {
		k := bits.Len64(prev.Clock^next.Clock) - 1
		return bound{clock: next.Clock >> k << k}
	}
	b := bound{clock: next.Clock}
	for i := range next.ID {
		b.id[i] = next.ID[i]
		if next.ID[i] != prev.ID[i] {
			break
		}
	}
	return b
}
