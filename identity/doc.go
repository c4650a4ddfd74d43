// Package identity owns murmur's notion of who someone is: Ed25519 identity
// keys, their did:key text form, domain-separated signatures, batch
// verification, and the on-disk key file.
//
// It is a leaf package: it imports nothing from murmur, so every other
// package (op, forge, mesh, storage, the CLI and the TUI) may depend on it.
//
// # Public keys and did:key
//
// A [PublicKey] is a raw 32-byte Ed25519 public key. Its text form is a
// did:key identifier (https://w3c-ccg.github.io/did-method-key/):
//
//	did:key:z<base58btc(0xed 0x01 || public key)>
//
// where 0xed 0x01 is the unsigned-varint multicodec prefix for ed25519-pub
// and 'z' is the multibase prefix for base58btc (Bitcoin alphabet). Every
// Ed25519 did:key therefore starts with "did:key:z6Mk". [ParseDID] also
// accepts the bare multibase form ("z6Mk…") and rejects anything else with
// an error wrapping [ErrMalformedDID]. [PublicKey.MarshalText] produces the
// DID form, so JSON shows DIDs; binary encoders (CBOR) see the 32 raw bytes.
//
// # Signatures
//
// [Key.Sign] and [Verify] never sign a caller's bytes directly. The signed
// message is
//
//	"murmur-sig-v1" 0x00 || len(domain) (1 byte) || domain || msg
//
// The domain names what is being signed (for example "op" or
// "mesh-handshake"), so a signature made for one purpose can never be
// replayed as another. A domain is at most [MaxDomainLen] (255) bytes; with a
// longer domain Sign returns nil and Verify reports false. This layout is a
// stable wire format: signatures stored in the op log depend on it, so it
// never changes; a new layout gets a new prefix ("murmur-sig-v2").
//
// Verification uses ZIP-215 semantics (cofactored equation, non-canonical
// point encodings and small-order points accepted, non-canonical S rejected)
// through github.com/oasisprotocol/curve25519-voi, for single checks
// ([Verify]) and batches ([BatchVerifier]) alike. ZIP-215 is defined so that
// batch and single verification agree on every input; replicas that check
// the same op in different ways therefore never disagree on its validity.
// Signatures themselves are ordinary RFC 8032 Ed25519 signatures.
//
// # Key files
//
// [Save] writes and [Load] reads a key file: a header line, then one JSON
// object.
//
//	murmur-key v1
//	{"did": "did:key:z6Mk…", "seed": "<base64, 32 bytes>"}
//
// or, when saved with a passphrase,
//
//	murmur-key v1
//	{"did": "did:key:z6Mk…",
//	 "kdf": {"alg": "argon2id", "t": 3, "m": 65536, "p": 4, "salt": "<base64, 16 bytes>"},
//	 "aead": "xchacha20-poly1305",
//	 "nonce": "<base64, 24 bytes>",
//	 "ciphertext": "<base64, 48 bytes>"}
//
// "seed" is the RFC 8032 private key seed. In an encrypted file the seed is
// sealed with XChaCha20-Poly1305 under a key derived by Argon2id from the
// passphrase (t = passes, m = memory in KiB, p = lanes, all stored in the
// file); the additional data is the header line "murmur-key v1", a 0x00 byte
// and the DID string. The DID is stored in clear in both forms so a node can
// show its identity before asking for the passphrase; Load checks that it
// matches the seed. Strings are base64 with padding (RFC 4648 section 4).
// Unknown fields are rejected. The v1 format is stable: readers accept it
// forever, and any change of layout bumps the header to "murmur-key v2".
//
// Key files are written atomically with mode 0600 and never overwritten.
// Load refuses files that other users can access ([ErrInsecurePermissions])
// and reports damaged files ([ErrCorruptKeyFile]), a wrong passphrase
// ([ErrWrongPassphrase]) and a missing one ([ErrPassphraseRequired]); every
// error names the file and says what to do.
package identity
