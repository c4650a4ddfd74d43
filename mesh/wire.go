package mesh

import (
	"encoding/binary"
	"errors"
	"fmt"

	"murmur/identity"
	"murmur/merkle"
)

// Wire formats of the replication layer (version 1). Each is documented at
// its encoder; all are stable within version 1, and a decoder rejects an
// unknown version byte. Every count and length is checked against the
// bytes left and against a limit before anything is allocated for it.

// replVersion is the version byte that starts every replication message.
const replVersion = 1

// ErrMalformed is wrapped by every decoding error of the replication wire
// formats: a peer sent bytes that do not parse, or exceed a limit.
var ErrMalformed = errors.New("mesh: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// wreader decodes a message without ever reading past its end.
type wreader struct{ b []byte }

func (r *wreader) byte() (byte, error) {
	if len(r.b) < 1 {
		return 0, malformed("truncated")
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *wreader) bytes(n int) ([]byte, error) {
	if n < 0 || len(r.b) < n {
		return nil, malformed("truncated: want %d bytes, have %d", n, len(r.b))
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p, nil
}

func (r *wreader) id() (id [32]byte, err error) {
	p, err := r.bytes(32)
	if err != nil {
		return id, err
	}
	copy(id[:], p)
	return id, nil
}

// count reads a uvarint that must be at most limit and whose elements of
// elemSize bytes each must fit in the bytes left.
func (r *wreader) count(limit, elemSize int, what string) (int, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, malformed("bad %s count", what)
	}
	r.b = r.b[n:]
	if v > uint64(limit) {
		return 0, malformed("%s count %d over limit %d", what, v, limit)
	}
	if elemSize > 0 && v > uint64(len(r.b)/elemSize) {
		return 0, malformed("%s count %d exceeds the %d bytes left", what, v, len(r.b))
	}
	return int(v), nil
}

func (r *wreader) version(what string) error {
	v, err := r.byte()
	if err != nil {
		return err
	}
	if v != replVersion {
		return malformed("%s version %d, want %d", what, v, replVersion)
	}
	return nil
}

// Gossip message, one memberlist user message:
//
//	version  1 byte   (1)
//	type     1 byte   1 inline (the op follows), 2 by ID (fetch it)
//	repo     32 bytes
//	op ID    32 bytes
//	relay    32 bytes Ed25519 key of the node that queued the broadcast
//	                  and can serve the op (and its parents) on KindFetch
//	op       type 1 only: the encoded op, to the end of the message
//
// The relay is not authenticated (memberlist does not tell a delegate who
// delivered a message); it is only ever used to decide whom to fetch from,
// and fetches are authenticated.
const (
	gossipInline byte = 1
	gossipByID   byte = 2

	gossipHeaderSize = 2 + 32 + 32 + 32
)

type gossipMsg struct {
	typ   byte
	repo  [32]byte
	id    [32]byte
	relay identity.PublicKey
	op    []byte // inline only
}

func (m *gossipMsg) encode() []byte {
	b := make([]byte, 0, gossipHeaderSize+len(m.op))
	b = append(b, replVersion, m.typ)
	b = append(b, m.repo[:]...)
	b = append(b, m.id[:]...)
	b = append(b, m.relay[:]...)
	return append(b, m.op...)
}

func decodeGossip(b []byte, maxOp int) (gossipMsg, error) {
	var m gossipMsg
	r := wreader{b}
	if err := r.version("gossip"); err != nil {
		return m, err
	}
	var err error
	if m.typ, err = r.byte(); err != nil {
		return m, err
	}
	if m.repo, err = r.id(); err != nil {
		return m, err
	}
	if m.id, err = r.id(); err != nil {
		return m, err
	}
	if m.relay, err = r.id(); err != nil {
		return m, err
	}
	switch m.typ {
	case gossipInline:
		if len(r.b) == 0 || len(r.b) > maxOp {
			return m, malformed("inline op of %d bytes (limit %d)", len(r.b), maxOp)
		}
		m.op = r.b
	case gossipByID:
		if len(r.b) != 0 {
			return m, malformed("%d trailing bytes after by-ID gossip", len(r.b))
		}
	default:
		return m, malformed("unknown gossip type %d", m.typ)
	}
	return m, nil
}

// Push-pull state (memberlist LocalState), sent on every push-pull and join:
//
//	version  1 byte   (1)
//	sender   32 bytes Ed25519 key of the node whose state this is
//	n        uvarint  number of repos, at most MaxStateRepos
//	n × 64 bytes:
//	  repo        32 bytes
//	  count       8 bytes  big-endian, merkle.Root.Count
//	  sum prefix 24 bytes  the first 24 bytes of merkle.Root.Sum
//
// So a repo costs 64 bytes, and two peers whose entries are equal are
// already in sync without any further round trip. A 192-bit sum prefix is
// ample for deciding whether to start a session; the session itself
// compares full sums. Like the relay of a gossip message the sender is
// self-declared: it decides only whom we try to sync with, and sync
// sessions are authenticated.
const (
	stateEntrySize = 64
	sumPrefixSize  = 24
)

// digest is the comparable part of a merkle.Root carried in state.
type digest struct {
	Count uint64
	Sum   [sumPrefixSize]byte
}

func digestOf(r merkle.Root) digest {
	d := digest{Count: r.Count}
	copy(d.Sum[:], r.Sum[:sumPrefixSize])
	return d
}

type repoDigest struct {
	repo [32]byte
	d    digest
}

type peerState struct {
	sender identity.PublicKey
	repos  []repoDigest
}

func (s *peerState) encode() []byte {
	b := make([]byte, 0, 1+32+binary.MaxVarintLen64+len(s.repos)*stateEntrySize)
	b = append(b, replVersion)
	b = append(b, s.sender[:]...)
	b = binary.AppendUvarint(b, uint64(len(s.repos)))
	for _, e := range s.repos {
		b = append(b, e.repo[:]...)
		b = binary.BigEndian.AppendUint64(b, e.d.Count)
		b = append(b, e.d.Sum[:]...)
	}
	return b
}

func decodeState(b []byte, maxRepos int) (peerState, error) {
	var s peerState
	r := wreader{b}
	if err := r.version("state"); err != nil {
		return s, err
	}
	var err error
	if s.sender, err = r.id(); err != nil {
		return s, err
	}
	n, err := r.count(maxRepos, stateEntrySize, "state repo")
	if err != nil {
		return s, err
	}
	s.repos = make([]repoDigest, n)
	for i := range s.repos {
		e := &s.repos[i]
		p, _ := r.bytes(stateEntrySize)
		copy(e.repo[:], p[:32])
		e.d.Count = binary.BigEndian.Uint64(p[32:40])
		copy(e.d.Sum[:], p[40:])
	}
	if len(r.b) != 0 {
		return s, malformed("%d trailing bytes after state", len(r.b))
	}
	return s, nil
}

// Op batch, one frame on a sync or fetch stream:
//
//	n   uvarint  number of ops, at least 1
//	n × (len uvarint, 1 to MaxOpSize; len bytes of encoded op)
//
// A zero-length frame ends a sequence of batches. Ops travel in the
// sender's (clock, ID) order, so parents come before children.

// appendOp appends one op to a batch body under construction.
func appendOp(b []byte, op []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(op)))
	return append(b, op...)
}

// encodeBatch prefixes a batch body with its op count.
func encodeBatch(n int, body []byte) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(body))
	b = binary.AppendUvarint(b, uint64(n))
	return append(b, body...)
}

// decodeBatch splits a batch frame into ops; the ops alias b.
func decodeBatch(b []byte, maxOp int) ([][]byte, error) {
	r := wreader{b}
	// Every op takes at least two bytes (length and one byte of op).
	n, err := r.count(len(b)/2, 2, "batch op")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("empty batch")
	}
	ops := make([][]byte, n)
	for i := range ops {
		l, err := r.count(maxOp, 1, "op length")
		if err != nil {
			return nil, err
		}
		if l == 0 {
			return nil, malformed("empty op")
		}
		ops[i], _ = r.bytes(l)
	}
	if len(r.b) != 0 {
		return nil, malformed("%d trailing bytes after batch", len(r.b))
	}
	return ops, nil
}

// Fetch request, one frame on a KindFetch stream (the client may send
// several, one after the other's answer):
//
//	version  1 byte   (1)
//	repo     32 bytes
//	n        uvarint  1 to MaxFetchIDs
//	n × 32 bytes      op IDs
//
// The answer is zero or more op batches holding the requested ops the
// server has, in request order, then an empty frame.
type fetchRequest struct {
	repo [32]byte
	ids  [][32]byte
}

func (f *fetchRequest) encode() []byte {
	b := make([]byte, 0, 1+32+binary.MaxVarintLen64+32*len(f.ids))
	b = append(b, replVersion)
	b = append(b, f.repo[:]...)
	b = binary.AppendUvarint(b, uint64(len(f.ids)))
	for _, id := range f.ids {
		b = append(b, id[:]...)
	}
	return b
}

func decodeFetchRequest(b []byte, maxIDs int) (fetchRequest, error) {
	var f fetchRequest
	r := wreader{b}
	if err := r.version("fetch request"); err != nil {
		return f, err
	}
	var err error
	if f.repo, err = r.id(); err != nil {
		return f, err
	}
	n, err := r.count(maxIDs, 32, "fetch ID")
	if err != nil {
		return f, err
	}
	if n == 0 {
		return f, malformed("empty fetch request")
	}
	f.ids = make([][32]byte, n)
	for i := range f.ids {
		f.ids[i], _ = r.id()
	}
	if len(r.b) != 0 {
		return f, malformed("%d trailing bytes after fetch request", len(r.b))
	}
	return f, nil
}

// Sync session, on a KindSync stream:
//
//	initiator -> responder  hello: version (1 byte, 1) | repo (32 bytes)
//	initiator -> responder  merkle opening message
//	responder -> initiator  status: 1 byte, a SyncStatus (0 accepted)
//	then merkle messages alternate, responder first, until the session
//	is done on both sides (the last one carries merkle's final flag);
//	then each side sends the ops the other lacks as op batches, ended by
//	an empty frame; once it has stored the ops it received (fetching
//	missing dependencies on a KindFetch stream) it sends an
//	acknowledgment, one frame of one byte 0, and closes its write
//	direction. A session is complete for a side when it has read the
//	peer's acknowledgment.
//
// Every element is one frame (see WriteFrame). Merkle messages are at most
// merkle.MaxMessageSize bytes and batches at most the receiver's
// MaxBatchBytes; a refused session ends after the status.
const helloSize = 1 + 32

// SyncStatus is the responder's answer to a sync hello. Values are part of
// the wire format.
type SyncStatus byte

// Sync statuses.
const (
	SyncAccepted    SyncStatus = 0
	SyncNotFollowed SyncStatus = 1 // the responder does not replicate the repo
	SyncBusy        SyncStatus = 2 // too many sessions in progress
	SyncRateLimited SyncStatus = 3 // the initiator opened sessions too fast
	SyncBadRequest  SyncStatus = 4 // malformed hello
	// SyncCrossed: the responder is itself running a session with the
	// initiator for the same repo, which moves everything both ways; the
	// initiator waits for that one instead (the lower peer ID keeps its
	// session).
	SyncCrossed SyncStatus = 5
)

func (s SyncStatus) String() string {
	switch s {
	case SyncAccepted:
		return "accepted"
	case SyncNotFollowed:
		return "repo not followed"
	case SyncBusy:
		return "busy"
	case SyncRateLimited:
		return "rate limited"
	case SyncBadRequest:
		return "bad request"
	case SyncCrossed:
		return "crossed by the peer's own session"
	}
	return fmt.Sprintf("status %d", byte(s))
}
