package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"murmur/crdt"
	"murmur/forge"
	"murmur/identity"
	"murmur/op"
)

// An op's meta (forge.Meta) is stored in front of the op bytes in its 'o'
// value. Format 2 writes it in a fixed binary form, so that reading it
// costs no decoding and the repo sits at a fixed offset:
//
//	0     1  metaBinary
//	1     1  flags: 1 accepted, 2 has an object
//	2     8  clock, big-endian
//	10   32  repo
//	42   32  author
//	74   32  role state ID
//	106  32  object ID, only with flag 2
//	     …   uvarint len ‖ kind, uvarint len ‖ reason
//
// Stores of format 1 hold the meta as a CBOR map, which starts with a byte
// of major type 5 (0xa0–0xbf) and never with metaBinary; both are read.
const (
	metaBinary = 0x01

	metaAccepted  = 1
	metaHasObject = 2

	metaRepoOff  = 10
	metaFixedLen = 106
)

// metaLen is the length of m's binary form.
func metaLen(m *forge.Meta) int {
	n := metaFixedLen + uvarintLen(len(m.Kind)) + len(m.Kind) + uvarintLen(len(m.Reason)) + len(m.Reason)
	if !m.Object.IsZero() {
		n += 32
	}
	return n
}

func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

func appendMeta(b []byte, m *forge.Meta) []byte {
	var flags byte
	if m.Accepted {
		flags |= metaAccepted
	}
	if !m.Object.IsZero() {
		flags |= metaHasObject
	}
	b = append(b, metaBinary, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Clock))
	b = append(b, m.Repo[:]...)
	b = append(b, m.Author[:]...)
	b = append(b, m.Roles[:]...)
	if flags&metaHasObject != 0 {
		b = append(b, m.Object[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Kind)))
	b = append(b, m.Kind...)
	b = binary.AppendUvarint(b, uint64(len(m.Reason)))
	return append(b, m.Reason...)
}

var errMetaShort = errors.New("meta truncated")

// parseMeta decodes a meta of either format.
func parseMeta(b []byte) (forge.Meta, error) {
	var m forge.Meta
	if len(b) == 0 || b[0] != metaBinary {
		err := decMode.Unmarshal(b, &m)
		return m, err
	}
	if len(b) < metaFixedLen {
		return m, errMetaShort
	}
	flags := b[1]
	if flags&^(metaAccepted|metaHasObject) != 0 {
		return m, fmt.Errorf("unknown meta flags %#x", flags)
	}
	m.Accepted = flags&metaAccepted != 0
	m.Clock = crdt.Timestamp(binary.BigEndian.Uint64(b[2:10]))
	m.Repo = op.ID(b[10:42])
	m.Author = identity.PublicKey(b[42:74])
	m.Roles = forge.RolesID(b[74:106])
	rest := b[metaFixedLen:]
	if flags&metaHasObject != 0 {
		if len(rest) < 32 {
			return m, errMetaShort
		}
		m.Object = op.ID(rest[:32])
		if m.Object.IsZero() {
			return m, errors.New("meta names the zero object")
		}
		rest = rest[32:]
	}
	kind, rest, err := metaString(rest)
	if err != nil {
		return m, err
	}
	reason, rest, err := metaString(rest)
	if err != nil {
		return m, err
	}
	if len(rest) != 0 {
		return m, fmt.Errorf("%d bytes after meta", len(rest))
	}
	m.Kind, m.Reason = forge.InternKind(kind), string(reason)
	return m, nil
}

func metaString(b []byte) ([]byte, []byte, error) {
	s, rest, ok := cutPrefixed(b)
	if !ok {
		return nil, nil, errMetaShort
	}
	return s, rest, nil
}

// cutPrefixed splits b after a uvarint length and that many bytes.
func cutPrefixed(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// metaRepo returns the repo of a meta of either format.
func metaRepo(b []byte) (op.ID, error) {
	if len(b) >= metaFixedLen && b[0] == metaBinary {
		return op.ID(b[metaRepoOff : metaRepoOff+32]), nil
	}
	m, err := parseMeta(b)
	return m.Repo, err
}
