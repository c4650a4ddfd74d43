package mesh

import (
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"

	"murmur/identity"
)

var (
	// ErrHandshake marks every failure of the Noise handshake: malformed
	// or oversize messages, failed decryption (including a channel
	// binding mismatch caused by a relay), an invalid identity payload,
	// a timeout, or a peer that rejected us.
	ErrHandshake = errors.New("mesh: handshake failed")

	// ErrPeerMismatch is matched (errors.Is) by *PeerMismatchError.
	ErrPeerMismatch = errors.New("mesh: peer identity mismatch")

	// ErrSelfDial is returned when the remote end proves our own
	// identity key: a node does not connect to itself.
	ErrSelfDial = errors.New("mesh: connected to self")

	// ErrTooManyConns is returned by a dial when Config.MaxConns
	// connections already exist.
	ErrTooManyConns = errors.New("mesh: too many connections")

	// ErrNotConnected is returned when an operation names a peer that
	// has no live authenticated connection.
	ErrNotConnected = errors.New("mesh: peer not connected")

	// ErrClosed is returned by operations on a closed Endpoint or
	// MemberlistTransport.
	ErrClosed = errors.New("mesh: closed")

	// ErrFrameTooLarge is returned by ReadFrame when a frame's declared
	// length exceeds the caller's bound; nothing is allocated for it.
	ErrFrameTooLarge = errors.New("mesh: frame too large")

	// ErrMalformedFrame is returned by ReadFrame for a length prefix that
	// is not a valid uvarint.
	ErrMalformedFrame = errors.New("mesh: malformed frame")

	// ErrUnsupportedKind is returned when a stream is opened with a kind
	// the peer has no handler for (the peer resets it), and by
	// registration calls given a reserved kind.
	ErrUnsupportedKind = errors.New("mesh: unsupported stream kind")

	// ErrPacketTooLarge is returned when a datagram does not fit
	// MaxDatagramSize.
	ErrPacketTooLarge = errors.New("mesh: packet too large")
)

// PeerMismatchError reports that the remote end of a connection proved a
// different identity than the caller required. It matches ErrPeerMismatch.
type PeerMismatchError struct {
	Want identity.PublicKey // the identity the caller asked for
	Got  identity.PublicKey // the identity the peer proved
}

func (e *PeerMismatchError) Error() string {
	return fmt.Sprintf("mesh: peer identity mismatch: want %s, peer proved %s", e.Want.Short(), e.Got.Short())
}

// Is reports whether target is ErrPeerMismatch.
func (e *PeerMismatchError) Is(target error) bool { return target == ErrPeerMismatch }

// QUIC application error codes used when this package closes a
// connection. They are part of the wire protocol: a peer may log or act
// on them. Values are fixed; new codes get new numbers.
const (
	codeHandshakeFailed quic.ApplicationErrorCode = 0x100
	codePeerMismatch    quic.ApplicationErrorCode = 0x101
	codeBusy            quic.ApplicationErrorCode = 0x102
	codeReplaced        quic.ApplicationErrorCode = 0x103
	codeShutdown        quic.ApplicationErrorCode = 0x104
	codeSelf            quic.ApplicationErrorCode = 0x105
	codeClosedByApp     quic.ApplicationErrorCode = 0x106
	codeRefused         quic.ApplicationErrorCode = 0x107 // the admit check refused the peer
	codeVersion         quic.ApplicationErrorCode = 0x108 // no common protocol version
)

// QUIC stream error codes used when this package resets a stream.
const (
	streamCodeClosed      quic.StreamErrorCode = 0x0
	streamCodeUnknownKind quic.StreamErrorCode = 0x1
	streamCodeBadHeader   quic.StreamErrorCode = 0x2
)
