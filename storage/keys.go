package storage

import (
	"encoding/binary"

	"murmur/crdt"
	"murmur/op"
)

// Key layout. Every key starts with a one-byte table tag. IDs are raw 32
// bytes; clocks are 8-byte big-endian so that byte order is clock order.
//
//	tag  key                                   value
//	0x00 "format"                              format version, uvarint
//	'o'  opID                                  uvarint(len(meta)) ‖ meta (meta.go) ‖ op bytes
//	'c'  repo ‖ clock ‖ opID                   empty: a repo's ops in (clock, ID) order
//	'h'  repo ‖ opID                           empty: the repo's DAG heads
//	'p'  opID                                  op bytes of an op waiting for dependencies
//	'w'  depID ‖ opID                          empty: pending op opID waits for depID
//	't'  clock ‖ opID                          empty: pending op parked until its clock
//	'r'  rolesID                               forge.Roles CBOR, or a delta on another (roles.go)
//	'R'  repo                                  forge.Repo CBOR (materialized)
//	'b'  objectID ‖ part                       one part of a forge.Object (materialized, without
//	                                           comments): part n is forge.Fields bit n; part 0 is
//	                                           the forge.ObjectHeader, the others the field's CBOR
//	'k'  objectID ‖ commentID                  forge.Comment CBOR (materialized)
//	's'  repo ‖ type ‖ state ‖ ^updated ‖      forge.Summary CBOR (listing index): an
//	     objectID                              object's summary, most recently updated first
//	                                           (^updated is the bitwise complement of its
//	                                           update clock), ties by ID (format 3; format 2
//	                                           had no ^updated)
//	'x'  token ‖ 0 ‖ objectID ‖ where ‖         empty: full-text posting (search.go)
//	     sourceID
//	'X'  sourceID ‖ where                      tokens indexed for one text (search.go)
//	'l'  name                                  local settings of this replica
//
// Tables 'o' and 'c' are the source of truth and are always written in the
// same batch; 'p', 'w', 't' hold ops not yet applied; 'l' is local; all
// others are derived and can be rebuilt from 'o' and 'c' (Store.Rebuild).
// The layout is stable within a format version; a change that old code
// would misread bumps FormatVersion.
const (
	tagFormat  = 0x00
	tagOp      = 'o'
	tagClock   = 'c'
	tagHead    = 'h'
	tagPending = 'p'
	tagWait    = 'w'
	tagParked  = 't'
	tagRoles   = 'r'
	tagRepo    = 'R'
	tagObject  = 'b'
	tagComment = 'k'
	tagSummary = 's'
	tagLocal   = 'l'
)

var formatKey = []byte{tagFormat, 'f', 'o', 'r', 'm', 'a', 't'}

func key1(tag byte, id []byte) []byte {
	k := make([]byte, 0, 1+len(id))
	k = append(k, tag)
	return append(k, id...)
}

func opKey(id op.ID) []byte { return key1(tagOp, id[:]) }

func clockKey(repo op.ID, clock crdt.Timestamp, id op.ID) []byte {
	k := make([]byte, 0, 1+32+8+32)
	k = append(k, tagClock)
	k = append(k, repo[:]...)
	k = binary.BigEndian.AppendUint64(k, uint64(clock))
	return append(k, id[:]...)
}

func headKey(repo, id op.ID) []byte {
	k := make([]byte, 0, 65)
	k = append(k, tagHead)
	k = append(k, repo[:]...)
	return append(k, id[:]...)
}

func waitKey(dep, id op.ID) []byte {
	k := make([]byte, 0, 65)
	k = append(k, tagWait)
	k = append(k, dep[:]...)
	return append(k, id[:]...)
}

func parkedKey(clock crdt.Timestamp, id op.ID) []byte {
	k := make([]byte, 0, 41)
	k = append(k, tagParked)
	k = binary.BigEndian.AppendUint64(k, uint64(clock))
	return append(k, id[:]...)
}

func summaryPrefix(repo op.ID, typ byte) []byte {
	k := make([]byte, 0, 34)
	k = append(k, tagSummary)
	k = append(k, repo[:]...)
	if typ != 0 {
		k = append(k, typ)
	}
	return k
}

// summaryKeyLen is the length of a summary key; summaryRankAt is where its
// ^updated ‖ objectID tail starts, which orders a listing.
const (
	summaryKeyLen = 1 + 32 + 1 + 1 + 8 + 32
	summaryRankAt = 1 + 32 + 1 + 1
)

func summaryKey(repo op.ID, typ, state byte, updated crdt.Timestamp, id op.ID) []byte {
	k := make([]byte, 0, summaryKeyLen)
	k = append(k, summaryPrefix(repo, typ)...)
	k = append(k, state)
	k = binary.BigEndian.AppendUint64(k, ^uint64(updated))
	return append(k, id[:]...)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

func commentKey(obj, id op.ID) []byte {
	k := make([]byte, 0, 65)
	k = append(k, tagComment)
	k = append(k, obj[:]...)
	return append(k, id[:]...)
}

func objectKey(id op.ID, part byte) []byte {
	k := make([]byte, 0, 34)
	k = append(k, tagObject)
	k = append(k, id[:]...)
	return append(k, part)
}
