package crdt

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
)

// ID names the op that produced an update (a SHA-256 op ID).
//
// IDs are compared bytewise. The text form (String, MarshalText) is 64
// lowercase hex digits. ID deliberately does not implement
// encoding.BinaryMarshaler, so CBOR encodes it as a plain 32-byte string.
type ID [32]byte

// ErrBadID reports text that is not 64 hex digits; ParseID and
// UnmarshalText wrap it.
var ErrBadID = errors.New("crdt: malformed id")

// ParseID parses the text form of an ID: 64 hex digits, either case.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return ID{}, fmt.Errorf("parse id: got %d characters, want %d: %w", len(s), 2*len(id), ErrBadID)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("parse id %q: not hex: %w", s, ErrBadID)
	}
	return id, nil
}

// String returns id as 64 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Compare returns -1, 0 or +1 as id sorts bytewise before, equal to or
// after o.
func (id ID) Compare(o ID) int { return bytes.Compare(id[:], o[:]) }

// MarshalText implements encoding.TextMarshaler with the String form, so
// IDs read as hex in JSON, including as map keys.
func (id ID) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(id)))
	hex.Encode(b, id[:])
	return b, nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// ParseID accepts.
func (id *ID) UnmarshalText(text []byte) error {
	if len(text) != hex.EncodedLen(len(id)) {
		return fmt.Errorf("parse id: got %d characters, want %d: %w", len(text), hex.EncodedLen(len(id)), ErrBadID)
	}
	var v ID
	if _, err := hex.Decode(v[:], text); err != nil {
		return fmt.Errorf("parse id: not hex: %w", ErrBadID)
	}
	*id = v
	return nil
}

// Stamp orders updates: by Clock, then Author (bytewise), then ID
// (bytewise). The order is total and the same on every replica, so every
// replica picks the same winner among concurrent writes.
//
// Author is the writer's Ed25519 public key. Two distinct updates never share
// an ID, so no two distinct updates compare equal.
type Stamp struct {
	Clock  Timestamp `cbor:"1,keyasint"`
	Author [32]byte  `cbor:"2,keyasint"`
	ID     ID        `cbor:"3,keyasint"`
}

// Compare returns -1, 0 or +1 as a orders before, equal to or after b.
func (a Stamp) Compare(b Stamp) int {
	if c := cmp.Compare(a.Clock, b.Clock); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Author[:], b.Author[:]); c != 0 {
		return c
	}
	return a.ID.Compare(b.ID)
}

// Less reports whether a orders before b.
func (a Stamp) Less(b Stamp) bool { return a.Compare(b) < 0 }

// MarshalBinary returns the raw 32 bytes. CBOR encodes it as a byte
// string, exactly as it would the array, without per-byte reflection.
func (id ID) MarshalBinary() ([]byte, error) { return append([]byte(nil), id[:]...), nil }

// UnmarshalBinary accepts exactly 32 bytes.
func (id *ID) UnmarshalBinary(b []byte) error {
	if len(b) != len(id) {
		return fmt.Errorf("crdt: id is %d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return nil
}
