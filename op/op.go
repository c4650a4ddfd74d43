// Package op defines murmur's operation: the signed, content-addressed record
// that carries every change to a repository (refs, issues, patches, reviews,
// roles). It owns the canonical encoding, the op ID and the signature check.
// It knows nothing about what a kind means; package forge does.
//
// # Format (version 1)
//
// An op is a CBOR map with small integer keys, encoded in RFC 8949 §4.2.1
// core deterministic form (shortest integer forms, definite lengths, map keys
// sorted bytewise, no tags, no floats):
//
//	key  field    CBOR type       meaning
//	0    v        uint            format version, always 1
//	1    repo     bstr(32)        repo ID; absent in a repo's genesis op
//	2    parents  [+ bstr(32)]    repo DAG heads the author had seen, sorted
//	                              ascending, no duplicates, 1..MaxParents;
//	                              absent in a genesis op
//	3    clock    uint            hybrid logical clock (crdt.Timestamp)
//	4    author   bstr(32)        Ed25519 public key
//	5    kind     tstr            e.g. "issue.open"; 1..MaxKindLen of [a-z0-9._]
//	6    target   bstr(32)        ID of the object the op changes; optional
//	7    body     bstr            kind-specific canonical CBOR; optional
//	8    sig      bstr(64)        Ed25519 signature
//
// The signature is made with identity's domain separation (domain
// SignatureDomain) over the encoding of the same map without key 8. The op ID
// is the SHA-256 of the complete encoding. Since the encoding is canonical and
// Decode rejects every other byte form, an op has exactly one ID.
//
// An encoded op is at most MaxSize bytes. This format is stable: a change that
// alters the bytes of an existing op needs a new version number, and version
// 1 ops stay valid forever.
package op

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/fxamacker/cbor/v2"

	"murmur/crdt"
	"murmur/identity"
)

// Version is the op format version this package writes and accepts.
const Version = 1

// Limits enforced by Decode and Sign.
const (
	// MaxSize bounds the whole encoded op, signature included.
	MaxSize = 64 << 10
	// MaxParents bounds the parents list. An author with more DAG heads names
	// MaxParents of them; later ops merge the rest.
	MaxParents = 32
	// MaxKindLen bounds the kind string.
	MaxKindLen = 64
)

// SignatureDomain separates op signatures from every other use of a key.
const SignatureDomain = "murmur/op"

// ID is the SHA-256 of an op's encoding. The zero ID means "none".
type ID [32]byte

// String returns the lowercase hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex digits, for display.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText encodes id as hex, so JSON shows it as a string.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the hex form.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseID parses a full 64-digit hex op ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("op: id %q: want 64 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("op: id %q is not hex", s)
	}
	return id, nil
}

// Op is a decoded, immutable operation. Create ops with Sign or Decode; the
// zero value is not a valid op. An *Op is safe for concurrent reads.
type Op struct {
	Repo    ID // zero in a genesis op
	Parents []ID
	Clock   crdt.Timestamp
	Author  identity.PublicKey
	Kind    string
	Target  ID     // zero when the op targets no object
	Body    []byte // kind-specific canonical CBOR, may be empty
	Sig     [64]byte

	id   ID
	raw  []byte
	memo atomic.Pointer[memo]
}

type memo struct {
	v   any
	err error
}

// Memo returns compute(o), computing it at most once per decoded op (racing
// callers may both compute; one result is kept). Package forge keeps the
// decoded body here, so that finding an op's dependencies and applying it
// decode the body once. There is one slot: a second, different compute
// function would get the first one's result.
func (o *Op) Memo(compute func(*Op) (any, error)) (any, error) {
	if m := o.memo.Load(); m != nil {
		return m.v, m.err
	}
	v, err := compute(o)
	o.memo.CompareAndSwap(nil, &memo{v, err})
	m := o.memo.Load()
	return m.v, m.err
}

// ID returns the op's content address.
func (o *Op) ID() ID { return o.id }

// Bytes returns the canonical encoding. The caller must not modify it.
func (o *Op) Bytes() []byte { return o.raw }

// IsGenesis reports whether o creates a repo (its ID is the repo ID).
func (o *Op) IsGenesis() bool { return o.Repo.IsZero() }

// RepoID returns the ID of the repo o belongs to: o's own ID for a genesis op.
func (o *Op) RepoID() ID {
	if o.IsGenesis() {
		return o.id
	}
	return o.Repo
}

// Unsigned holds the fields an author chooses; Sign fills in the rest.
type Unsigned struct {
	Repo    ID
	Parents []ID // need not be sorted; Sign sorts and deduplicates
	Clock   crdt.Timestamp
	Kind    string
	Target  ID
	Body    []byte
}

// Errors returned by Decode, Verify and Sign. Each is wrapped with detail;
// test with errors.Is.
var (
	ErrMalformed       = errors.New("malformed op")
	ErrNonCanonical    = errors.New("op encoding is not canonical")
	ErrTrailingBytes   = errors.New("trailing bytes after op")
	ErrUnknownVersion  = errors.New("unknown op format version")
	ErrTooLarge        = errors.New("op too large")
	ErrTooManyParents  = errors.New("op has too many parents")
	ErrBadSignature    = errors.New("op signature does not verify")
	ErrInvalidKind     = errors.New("invalid op kind")
	ErrInvalidGenesis  = errors.New("invalid genesis op")
	ErrUnsortedParents = errors.New("op parents not sorted and unique")
)

// wire is the CBOR form. Byte strings are slices so that lengths can be
// checked before conversion to arrays.
type wire struct {
	V       uint64   `cbor:"0,keyasint"`
	Repo    []byte   `cbor:"1,keyasint,omitempty"`
	Parents [][]byte `cbor:"2,keyasint,omitempty"`
	Clock   uint64   `cbor:"3,keyasint"`
	Author  []byte   `cbor:"4,keyasint"`
	Kind    string   `cbor:"5,keyasint"`
	Target  []byte   `cbor:"6,keyasint,omitempty"`
	Body    []byte   `cbor:"7,keyasint,omitempty"`
	Sig     []byte   `cbor:"8,keyasint,omitempty"`
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   4,
		MaxArrayElements:  2048,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Sign validates u, signs it with key and returns the op.
func Sign(key *identity.Key, u Unsigned) (*Op, error) {
	parents := slices.Clone(u.Parents)
	slices.SortFunc(parents, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })
	parents = slices.Compact(parents)
	w := wire{
		V:      Version,
		Clock:  uint64(u.Clock),
		Author: nil,
		Kind:   u.Kind,
		Body:   u.Body,
	}
	pub := key.Public()
	w.Author = pub[:]
	if !u.Repo.IsZero() {
		w.Repo = u.Repo[:]
	}
	for i := range parents {
		w.Parents = append(w.Parents, parents[i][:])
	}
	if !u.Target.IsZero() {
		w.Target = u.Target[:]
	}
	if len(w.Body) == 0 {
		w.Body = nil
	}
	unsigned, err := encMode.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("op: encode: %w", err)
	}
	w.Sig = key.Sign(SignatureDomain, unsigned)
	raw, err := encMode.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("op: encode: %w", err)
	}
	o, err := fromWire(&w, raw)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Decode parses an encoded op and checks its structure: canonical form,
// version, sizes, field lengths and parent order. It does not check the
// signature; call Verify (or verify in batches with identity.BatchVerifier
// over SigningMessage). The returned op keeps its own copy of b.
func Decode(b []byte) (*Op, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("op: %d bytes, limit %d: %w", len(b), MaxSize, ErrTooLarge)
	}
	var w wire
	rest, err := decMode.UnmarshalFirst(b, &w)
	if err != nil {
		return nil, fmt.Errorf("op: decode: %v: %w", err, ErrMalformed)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("op: %d bytes after the op: %w", len(rest), ErrTrailingBytes)
	}
	if w.V != Version {
		return nil, fmt.Errorf("op: version %d (this build reads %d; upgrade murmur): %w", w.V, Version, ErrUnknownVersion)
	}
	again, err := encMode.Marshal(&w)
	if err != nil || !bytes.Equal(again, b) {
		return nil, fmt.Errorf("op: %w", ErrNonCanonical)
	}
	return fromWire(&w, bytes.Clone(b))
}

// fromWire checks field-level rules and builds the Op. raw must be the
// canonical encoding of w.
func fromWire(w *wire, raw []byte) (*Op, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("op: %d bytes, limit %d: %w", len(raw), MaxSize, ErrTooLarge)
	}
	o := &Op{Clock: crdt.Timestamp(w.Clock), Kind: w.Kind, raw: raw}
	if err := checkKind(w.Kind); err != nil {
		return nil, err
	}
	if err := copy32("author", o.Author[:], w.Author, true); err != nil {
		return nil, err
	}
	if err := copy32("repo", o.Repo[:], w.Repo, false); err != nil {
		return nil, err
	}
	if err := copy32("target", o.Target[:], w.Target, false); err != nil {
		return nil, err
	}
	if len(w.Sig) != 64 {
		return nil, fmt.Errorf("op: signature is %d bytes, want 64: %w", len(w.Sig), ErrMalformed)
	}
	copy(o.Sig[:], w.Sig)
	if len(w.Parents) > MaxParents {
		return nil, fmt.Errorf("op: %d parents, limit %d: %w", len(w.Parents), MaxParents, ErrTooManyParents)
	}
	o.Parents = make([]ID, len(w.Parents))
	for i, p := range w.Parents {
		if err := copy32("parent", o.Parents[i][:], p, true); err != nil {
			return nil, err
		}
		if i > 0 && bytes.Compare(o.Parents[i-1][:], o.Parents[i][:]) >= 0 {
			return nil, fmt.Errorf("op: %w", ErrUnsortedParents)
		}
	}
	if o.IsGenesis() {
		if len(o.Parents) != 0 || !o.Target.IsZero() {
			return nil, fmt.Errorf("op: genesis op with parents or target: %w", ErrInvalidGenesis)
		}
	} else if len(o.Parents) == 0 {
		return nil, fmt.Errorf("op: non-genesis op without parents: %w", ErrMalformed)
	}
	if len(w.Body) > 0 {
		o.Body = w.Body
	}
	o.id = sha256.Sum256(raw)
	return o, nil
}

func copy32(field string, dst, src []byte, required bool) error {
	if len(src) == 0 && !required {
		return nil
	}
	if len(src) != 32 {
		return fmt.Errorf("op: %s is %d bytes, want 32: %w", field, len(src), ErrMalformed)
	}
	copy(dst, src)
	return nil
}

func checkKind(k string) error {
	if len(k) == 0 || len(k) > MaxKindLen {
		return fmt.Errorf("op: kind length %d not in 1..%d: %w", len(k), MaxKindLen, ErrInvalidKind)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return fmt.Errorf("op: kind %q: %w", k, ErrInvalidKind)
		}
	}
	return nil
}

// SigningMessage returns the bytes the signature covers (before identity's
// domain separation): the encoding without the signature field.
func (o *Op) SigningMessage() []byte {
	// In canonical form the signature is the last map entry: key 8 (0x08),
	// then a 64-byte string header (0x58 0x40) and the 64 bytes. The map has
	// fewer than 24 entries, so its header is the single byte 0xa0|count.
	// The unsigned encoding is therefore the raw bytes minus that entry with
	// the count decremented.
	const sigEntry = 3 + 64
	raw := o.raw
	msg := make([]byte, 0, len(raw)-sigEntry)
	msg = append(msg, raw[0]-1)
	return append(msg, raw[1:len(raw)-sigEntry]...)
}

// Verify checks the signature.
func (o *Op) Verify() error {
	if !identity.Verify(o.Author, SignatureDomain, o.SigningMessage(), o.Sig[:]) {
		return fmt.Errorf("op %s: %w", o.id.Short(), ErrBadSignature)
	}
	return nil
}

// DecodeVerified decodes b and checks its signature.
func DecodeVerified(b []byte) (*Op, error) {
	o, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if err := o.Verify(); err != nil {
		return nil, err
	}
	return o, nil
}

// VerifyBatch checks the signatures of ops, using batch verification. It
// returns one error per op (nil when valid).
func VerifyBatch(ops []*Op) []error {
	errs := make([]error, len(ops))
	if len(ops) == 0 {
		return errs
	}
	bv := identity.NewBatchVerifier()
	for _, o := range ops {
		bv.Add(o.Author, SignatureDomain, o.SigningMessage(), o.Sig[:])
	}
	ok, valid := bv.Verify()
	if ok {
		return errs
	}
	for i, v := range valid {
		if !v {
			errs[i] = fmt.Errorf("op %s: %w", ops[i].id.Short(), ErrBadSignature)
		}
	}
	return errs
}

// Trusted rebuilds an op from bytes that were verified before they were
// stored. It skips the signature check but still checks the structure, so a
// damaged store surfaces as an error rather than a wrong op.
func Trusted(b []byte) (*Op, error) { return Decode(b) }

// EncodeBody encodes a kind's body in canonical CBOR.
func EncodeBody(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("op: encode body: %w", err)
	}
	return b, nil
}

// bodyDecMode decodes op bodies strictly: unknown fields are an error.
var bodyDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   8,
		MaxArrayElements:  1024,
		MaxMapPairs:       64,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// DecodeBody decodes a body into v and checks that b is v's canonical
// encoding, so a body too has one byte form.
func DecodeBody(b []byte, v any) error {
	if err := bodyDecMode.Unmarshal(b, v); err != nil {
		return fmt.Errorf("op: body: %v: %w", err, ErrMalformed)
	}
	again, err := encMode.Marshal(v)
	if err != nil || !bytes.Equal(again, b) {
		return fmt.Errorf("op: body: %w", ErrNonCanonical)
	}
	return nil
}

// MarshalBinary returns the raw 32 bytes. CBOR encodes it as a byte
// string, exactly as it would the array, without per-byte reflection.
func (id ID) MarshalBinary() ([]byte, error) { return append([]byte(nil), id[:]...), nil }

// UnmarshalBinary accepts exactly 32 bytes.
func (id *ID) UnmarshalBinary(b []byte) error {
	if len(b) != len(id) {
		return fmt.Errorf("op: id is %d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return nil
}
