package mesh

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/flynn/noise"

	"murmur/identity"
)

// Handshake parameters. They are part of the wire protocol (see the
// package documentation).
const (
	// exporterLabel and exporterLen select the TLS exporter value
	// (RFC 5705 / RFC 8446 §7.5) used as the Noise prologue.
	exporterLabel = "murmur noise binding"
	exporterLen   = 32

	// StaticKeyDomain is the identity.Sign domain of the signature, in the
	// handshake payload, over the Noise static public key.
	StaticKeyDomain = "murmur/noise-static"

	// maxHandshakeMsg bounds one handshake message. The largest message
	// of the pattern (message 2) is 193 bytes.
	maxHandshakeMsg = 1024

	// payloadVersion is the first byte of the identity payload.
	payloadVersion = 1
	sigLen         = 64
	payloadLen     = 1 + identity.PublicKeySize + sigLen
)

var cipherSuite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2b)

// localIdentity is what an endpoint proves in every handshake: a Noise
// static key generated per process and the identity key's signature over
// it.
type localIdentity struct {
	id      identity.PublicKey
	static  noise.DHKey
	payload []byte
}

func newLocalIdentity(key *identity.Key) (*localIdentity, error) {
	static, err := noise.DH25519.GenerateKeypair(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mesh: generate noise static key: %w", err)
	}
	id := key.Public()
	return &localIdentity{
		id:      id,
		static:  static,
		payload: encodePayload(id, key.Sign(StaticKeyDomain, static.Public)),
	}, nil
}

// encodePayload returns the identity payload:
//
//	version (1 byte, = 1) || Ed25519 public key (32) || signature (64)
//
// where signature = identity.Sign(StaticKeyDomain, noise static public key).
func encodePayload(id identity.PublicKey, sig []byte) []byte {
	p := make([]byte, 0, payloadLen)
	p = append(p, payloadVersion)
	p = append(p, id[:]...)
	return append(p, sig...)
}

// payloadFor returns the payload this node sends under the negotiated
// ALPN: the identity payload, followed from "murmur/2" on by the hello.
func (l *localIdentity) payloadFor(proto string, hello Hello) []byte {
	if proto == alpnV1 {
		return l.payload
	}
	return appendHello(bytes.Clone(l.payload), hello)
}

// v1Hello is what a peer speaking only version 1 implies: it serves the
// stream kinds of version 1.
var v1Hello = Hello{Version: 1, MinVersion: 1, Caps: 1<<KindMemberlist | 1<<KindSync | 1<<KindFetch}

// verifyPayload parses the payload a peer sent under the negotiated ALPN
// and checks its signature over the peer's Noise static key.
func verifyPayload(p, peerStatic []byte, proto string) (identity.PublicKey, Hello, error) {
	if proto == alpnV1 {
		id, err := verifyIdentity(p, peerStatic)
		return id, v1Hello, err
	}
	if len(p) < payloadLen {
		return identity.PublicKey{}, Hello{}, fmt.Errorf("payload is %d bytes, want at least %d", len(p), payloadLen+helloLen)
	}
	hello, err := parseHello(p[payloadLen:])
	if err != nil {
		return identity.PublicKey{}, Hello{}, err
	}
	id, err := verifyIdentity(p[:payloadLen], peerStatic)
	return id, hello, err
}

// verifyIdentity parses an identity payload and checks its signature
// over the peer's Noise static key.
func verifyIdentity(p, peerStatic []byte) (identity.PublicKey, error) {
	var id identity.PublicKey
	if len(p) != payloadLen {
		return id, fmt.Errorf("identity payload is %d bytes, want %d", len(p), payloadLen)
	}
	if p[0] != payloadVersion {
		return id, fmt.Errorf("identity payload version %d, want %d", p[0], payloadVersion)
	}
	copy(id[:], p[1:1+identity.PublicKeySize])
	if id == (identity.PublicKey{}) {
		return id, errors.New("identity payload carries the zero key")
	}
	if len(peerStatic) != noise.DH25519.DHLen() {
		return id, errors.New("peer sent no static key")
	}
	if !identity.Verify(id, StaticKeyDomain, peerStatic, p[1+identity.PublicKeySize:]) {
		return id, fmt.Errorf("identity %s: signature over noise static key does not verify", id.Short())
	}
	return id, nil
}

// handshakeError wraps a cause so that it matches ErrHandshake.
func handshakeError(format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrHandshake, fmt.Errorf(format, args...))
}

// clientHandshake runs the initiator side of Noise XX over rw (the first
// stream of a connection we dialed) and returns the peer's verified
// identity. prologue is the connection's TLS exporter value. If want is
// non-nil the responder must prove exactly that identity; this is checked
// before we reveal our own identity in message 3.
//
//	-> e                                   message 1, empty payload
//	<- e, ee, s, es    + responder payload message 2
//	-> s, se           + initiator payload message 3
//	<- confirmation                        AEAD of the empty string
//
// proto is the negotiated ALPN: from "murmur/2" on, both identity
// payloads carry a hello and the initiator checks the versions after
// message 2. On a mismatch it still sends message 3, so that the
// responder can name both versions too, and waits for the responder's
// refusal before reporting a *VersionError.
func clientHandshake(rw io.ReadWriter, prologue []byte, local *localIdentity, hello Hello, proto string, want *identity.PublicKey) (identity.PublicKey, Hello, error) {
	var peer identity.PublicKey
	var peerHello Hello
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   cipherSuite,
		Pattern:       noise.HandshakeXX,
		Initiator:     true,
		Prologue:      prologue,
		StaticKeypair: local.static,
	})
	if err != nil {
		return peer, peerHello, handshakeError("init: %w", err)
	}

	msg1, _, _, err := hs.WriteMessage(nil, nil)
	if err != nil {
		return peer, peerHello, handshakeError("write message 1: %w", err)
	}
	if err := writeHandshakeMsg(rw, msg1); err != nil {
		return peer, peerHello, handshakeError("send message 1: %w", err)
	}

	msg2, err := readHandshakeMsg(rw)
	if err != nil {
		return peer, peerHello, handshakeError("receive message 2: %w", err)
	}
	payload, _, _, err := hs.ReadMessage(nil, msg2)
	if err != nil {
		return peer, peerHello, handshakeError("decrypt message 2: %w", err)
	}
	peer, peerHello, err = verifyPayload(payload, hs.PeerStatic(), proto)
	if err != nil {
		return peer, peerHello, handshakeError("responder: %w", err)
	}
	if peer == local.id {
		return peer, peerHello, ErrSelfDial
	}
	if want != nil && peer != *want {
		return peer, peerHello, &PeerMismatchError{Want: *want, Got: peer}
	}
	var versionErr error
	if !compatible(hello, peerHello) {
		versionErr = &VersionError{Local: hello, Peer: peerHello}
	}

	msg3, _, fromResponder, err := hs.WriteMessage(nil, local.payloadFor(proto, hello))
	if err != nil {
		return peer, peerHello, handshakeError("write message 3: %w", err)
	}
	if err := writeHandshakeMsg(rw, msg3); err != nil {
		return peer, peerHello, handshakeError("send message 3: %w", err)
	}

	confirm, err := readHandshakeMsg(rw)
	if versionErr != nil {
		return peer, peerHello, versionErr
	}
	if err != nil {
		return peer, peerHello, handshakeError("receive confirmation (peer rejected us?): %w", err)
	}
	if pt, err := fromResponder.Decrypt(nil, nil, confirm); err != nil || len(pt) != 0 {
		return peer, peerHello, handshakeError("invalid confirmation")
	}
	return peer, peerHello, nil
}

// serverHandshake runs the responder side of Noise XX over rw and returns
// the initiator's verified identity and hello. On a version mismatch it
// sends no confirmation and returns a *VersionError.
func serverHandshake(rw io.ReadWriter, prologue []byte, local *localIdentity, hello Hello, proto string) (identity.PublicKey, Hello, error) {
	var peer identity.PublicKey
	var peerHello Hello
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   cipherSuite,
		Pattern:       noise.HandshakeXX,
		Initiator:     false,
		Prologue:      prologue,
		StaticKeypair: local.static,
	})
	if err != nil {
		return peer, peerHello, handshakeError("init: %w", err)
	}

	msg1, err := readHandshakeMsg(rw)
	if err != nil {
		return peer, peerHello, handshakeError("receive message 1: %w", err)
	}
	payload, _, _, err := hs.ReadMessage(nil, msg1)
	if err != nil {
		return peer, peerHello, handshakeError("read message 1: %w", err)
	}
	if len(payload) != 0 {
		return peer, peerHello, handshakeError("message 1 carries a %d-byte payload, want none", len(payload))
	}

	msg2, _, _, err := hs.WriteMessage(nil, local.payloadFor(proto, hello))
	if err != nil {
		return peer, peerHello, handshakeError("write message 2: %w", err)
	}
	if err := writeHandshakeMsg(rw, msg2); err != nil {
		return peer, peerHello, handshakeError("send message 2: %w", err)
	}

	msg3, err := readHandshakeMsg(rw)
	if err != nil {
		return peer, peerHello, handshakeError("receive message 3: %w", err)
	}
	payload, _, toInitiator, err := hs.ReadMessage(nil, msg3)
	if err != nil {
		return peer, peerHello, handshakeError("decrypt message 3: %w", err)
	}
	peer, peerHello, err = verifyPayload(payload, hs.PeerStatic(), proto)
	if err != nil {
		return peer, peerHello, handshakeError("initiator: %w", err)
	}
	if peer == local.id {
		return peer, peerHello, ErrSelfDial
	}
	if !compatible(hello, peerHello) {
		return peer, peerHello, &VersionError{Local: hello, Peer: peerHello}
	}

	confirm, err := toInitiator.Encrypt(nil, nil, nil)
	if err != nil {
		return peer, peerHello, handshakeError("encrypt confirmation: %w", err)
	}
	if err := writeHandshakeMsg(rw, confirm); err != nil {
		return peer, peerHello, handshakeError("send confirmation: %w", err)
	}
	return peer, peerHello, nil
}

// writeHandshakeMsg writes uint16-be(len(msg)) || msg in one Write.
func writeHandshakeMsg(w io.Writer, msg []byte) error {
	if len(msg) == 0 || len(msg) > maxHandshakeMsg {
		return fmt.Errorf("message of %d bytes outside 1..%d", len(msg), maxHandshakeMsg)
	}
	buf := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(buf, uint16(len(msg)))
	copy(buf[2:], msg)
	_, err := w.Write(buf)
	return err
}

// readHandshakeMsg reads one message written by writeHandshakeMsg,
// checking the length before allocating.
func readHandshakeMsg(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > maxHandshakeMsg {
		return nil, fmt.Errorf("message length %d outside 1..%d", n, maxHandshakeMsg)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}
