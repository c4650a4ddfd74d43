package identity

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
)

// PublicKeySize is the size of a raw Ed25519 public key in bytes.
const PublicKeySize = 32

// PublicKey is a raw Ed25519 public key. It is comparable and can be used as
// a map key. Its text form is a did:key identifier; see [PublicKey.DID].
type PublicKey [PublicKeySize]byte

const (
	didPrefix       = "did:key:"
	multibaseBase58 = 'z'

	// multicodecEd25519Pub is the unsigned-varint encoding of the ed25519-pub
	// multicodec (0xed).
	multicodecEd25519Pub = "\xed\x01"

	// base58Digits is the length of every Ed25519 did:key after "did:key:z":
	// 0xed01 followed by 32 bytes always takes 47 base58 digits.
	base58Digits = 47

	// maxDIDLen bounds the input ParseDID decodes. An Ed25519 did:key is 56
	// characters; anything much longer is rejected before decoding.
	maxDIDLen = 128
)

// ErrMalformedDID reports a string that is not an Ed25519 did:key.
var ErrMalformedDID = errors.New("malformed did:key")

// DID returns the did:key form of p: "did:key:z6Mk…".
func (p PublicKey) DID() string {
	return didPrefix + p.multibase()
}

// String returns the did:key form of p, like [PublicKey.DID].
func (p PublicKey) String() string {
	return p.DID()
}

// Short returns a compact display form of p: the first 4 and the last 6
// characters of its multibase form, joined by an ellipsis ("z6Mk…a1b2c3").
// It is for people, not for parsing: distinct keys may share a short form.
func (p PublicKey) Short() string {
	mb := p.multibase()
	return mb[:4] + "…" + mb[len(mb)-6:]
}

// Compare returns -1, 0 or +1 as p sorts before, equal to or after q in
// byte order. It is the tie-breaking order of keys wherever murmur needs a
// total order over authors.
func (p PublicKey) Compare(q PublicKey) int {
	return bytes.Compare(p[:], q[:])
}

// MarshalText implements [encoding.TextMarshaler] with the did:key form.
func (p PublicKey) MarshalText() ([]byte, error) {
	return []byte(p.DID()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts what
// [ParseDID] accepts.
func (p *PublicKey) UnmarshalText(text []byte) error {
	k, err := ParseDID(string(text))
	if err != nil {
		return err
	}
	*p = k
	return nil
}

func (p PublicKey) multibase() string {
	var raw [len(multicodecEd25519Pub) + PublicKeySize]byte
	copy(raw[:], multicodecEd25519Pub)
	copy(raw[len(multicodecEd25519Pub):], p[:])
	return string(multibaseBase58) + base58.Encode(raw[:])
}

// ParseDID parses an Ed25519 did:key ("did:key:z6Mk…") or its bare multibase
// form ("z6Mk…"). Only the canonical encoding is accepted, so
// ParseDID(s).DID() == s for every s it accepts in the did:key form. Errors
// wrap [ErrMalformedDID].
//
// ParseDID checks the encoding only; whether the bytes are a valid curve
// point is decided by signature verification.
func ParseDID(s string) (PublicKey, error) {
	var p PublicKey
	if s == "" {
		return p, malformed(s, "empty string; expected did:key:z6Mk…")
	}
	if len(s) > maxDIDLen {
		return p, malformed(s, fmt.Sprintf("too long (%d characters); an Ed25519 did:key has 56", len(s)))
	}
	mb, hasPrefix := strings.CutPrefix(s, didPrefix)
	if !hasPrefix && strings.HasPrefix(s, "did:") {
		return p, malformed(s, "unsupported DID method; only did:key is supported")
	}
	if mb == "" {
		return p, malformed(s, "missing key after did:key:")
	}
	if mb[0] != multibaseBase58 {
		return p, malformed(s, fmt.Sprintf("multibase prefix %q is not 'z' (base58btc)", mb[0]))
	}
	raw, err := base58.Decode(mb[1:])
	if err != nil || len(mb) == 1 {
		return p, malformed(s, "invalid base58btc encoding")
	}
	const wantLen = len(multicodecEd25519Pub) + PublicKeySize
	switch hasCodec := bytes.HasPrefix(raw, []byte(multicodecEd25519Pub)); {
	case hasCodec && len(raw) != wantLen:
		return p, malformed(s, fmt.Sprintf("key is %d bytes, want %d", len(raw)-len(multicodecEd25519Pub), PublicKeySize))
	case hasCodec:
	case len(mb)-1 != base58Digits:
		return p, malformed(s, fmt.Sprintf("%d base58 digits, an Ed25519 did:key has %d; is it truncated, mistyped or another key type?", len(mb)-1, base58Digits))
	case len(raw) == wantLen:
		return p, malformed(s, fmt.Sprintf("multicodec 0x%x is not ed25519-pub (0xed01)", raw[:2]))
	default:
		return p, malformed(s, "not an Ed25519 key")
	}
	copy(p[:], raw[len(multicodecEd25519Pub):])
	if p.multibase() != mb {
		return PublicKey{}, malformed(s, "non-canonical base58btc encoding")
	}
	return p, nil
}

// malformed builds a ParseDID error that quotes (a bounded prefix of) the
// input and says what is wrong with it.
func malformed(s, reason string) error {
	const maxQuoted = 64
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "…"
	}
	return fmt.Errorf("identity: parse %q: %s: %w", s, reason, ErrMalformedDID)
}

// MarshalBinary returns the raw 32 bytes. CBOR encodes it as a byte
// string, exactly as it would the array, without per-byte reflection.
func (p PublicKey) MarshalBinary() ([]byte, error) { return append([]byte(nil), p[:]...), nil }

// UnmarshalBinary accepts exactly 32 bytes.
func (p *PublicKey) UnmarshalBinary(b []byte) error {
	if len(b) != len(p) {
		return fmt.Errorf("identity: public key is %d bytes, want %d", len(b), len(p))
	}
	copy(p[:], b)
	return nil
}
