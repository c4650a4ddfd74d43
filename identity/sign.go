package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

const (
	// SignatureSize is the size of a signature in bytes.
	SignatureSize = ed25519.SignatureSize

	// SeedSize is the size of a private key seed in bytes (RFC 8032).
	SeedSize = ed25519.SeedSize

	// MaxDomainLen is the longest domain Sign and Verify accept, in bytes.
	MaxDomainLen = 255

	// sigPrefix starts every signed message; see the package documentation.
	sigPrefix = "murmur-sig-v1\x00"
)

// verifyOptions selects ZIP-215 verification. Verify and BatchVerifier must
// use the same options so that they accept exactly the same signatures.
var verifyOptions = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// Key is a private identity key. The zero Key is not usable; obtain one from
// [Generate], [NewKeyFromSeed] or [Load]. A Key is safe for concurrent use.
//
// Formatting a Key with the fmt package prints only its public DID, never
// the private key.
type Key struct {
	priv ed25519.PrivateKey
	pub  PublicKey
}

// Generate returns a new random key from crypto/rand.
func Generate() (*Key, error) {
	return generate(rand.Reader)
}

func generate(r io.Reader) (*Key, error) {
	var seed [SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	k, err := NewKeyFromSeed(seed[:])
	clear(seed[:])
	return k, err
}

// NewKeyFromSeed returns the key for a 32-byte RFC 8032 seed. The same seed
// always gives the same key, which makes it useful for tests and
// benchmarks; real identities come from [Generate]. The seed is copied.
func NewKeyFromSeed(seed []byte) (*Key, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("identity: seed is %d bytes, want %d", len(seed), SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	k := &Key{priv: priv}
	copy(k.pub[:], priv[SeedSize:])
	return k, nil
}

// Public returns the public half of k.
func (k *Key) Public() PublicKey {
	return k.pub
}

// seed returns the RFC 8032 seed of k. The caller must not modify it.
func (k *Key) seed() []byte {
	return k.priv[:SeedSize]
}

// Sign signs msg for domain and returns a 64-byte Ed25519 signature over
// the domain-separated message described in the package documentation.
// Signing is deterministic. If domain is longer than [MaxDomainLen] bytes,
// or k is the zero Key, Sign returns nil, which no verifier accepts.
func (k *Key) Sign(domain string, msg []byte) []byte {
	if len(domain) > MaxDomainLen || len(k.priv) != ed25519.PrivateKeySize {
		return nil
	}
	return ed25519.Sign(k.priv, signedMessage(domain, msg))
}

// Verify reports whether sig is pub's signature of msg for domain. It
// returns false, and never panics, for a signature of the wrong length, a
// domain longer than [MaxDomainLen] or a public key that is not a curve
// point. Verification follows ZIP-215 and agrees with [BatchVerifier] on
// every input.
func Verify(pub PublicKey, domain string, msg, sig []byte) bool {
	if len(domain) > MaxDomainLen || len(sig) != SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(pub[:], signedMessage(domain, msg), sig, verifyOptions)
}

// signedMessage returns the domain-separated message for (domain, msg). The
// caller has checked len(domain) <= MaxDomainLen.
func signedMessage(domain string, msg []byte) []byte {
	return appendSignedMessage(make([]byte, 0, len(sigPrefix)+1+len(domain)+len(msg)), domain, msg)
}

// appendSignedMessage appends the domain-separated message for (domain,
// msg) to dst. The caller has checked len(domain) <= MaxDomainLen.
func appendSignedMessage(dst []byte, domain string, msg []byte) []byte {
	dst = append(dst, sigPrefix...)
	dst = append(dst, byte(len(domain)))
	dst = append(dst, domain...)
	return append(dst, msg...)
}

// String returns a description of k that names only its public key.
func (k Key) String() string {
	if k.priv == nil {
		return "identity.Key(zero)"
	}
	return "identity.Key(" + k.pub.DID() + ")"
}

// GoString is like String, so %#v does not print the private key either.
func (k Key) GoString() string {
	return k.String()
}

// Format implements [fmt.Formatter] so that no verb prints the private key.
func (k Key) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, k.String())
}
