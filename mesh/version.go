package mesh

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/quic-go/quic-go"
)

// Protocol versions. A node speaks every version from MinProtocolVersion
// to ProtocolVersion; two nodes talk when each one's version is at least
// the other's minimum.
//
// Version 1 is the handshake without a hello (ALPN "murmur/1"). From
// version 2 on, the ALPN is "murmur/2" and the identity payload carries a
// hello with the sender's version range and capabilities, so later
// versions are negotiated inside the handshake and keep that ALPN.
const (
	ProtocolVersion    uint16 = 2
	MinProtocolVersion uint16 = 1
)

const (
	alpnV1 = "murmur/1"
	alpnV2 = "murmur/2"

	// helloLen is the fixed part of the hello that follows the identity
	// payload from version 2 on: version, minimum version (uint16 each,
	// big-endian) and capabilities (uint64). Bytes after it are
	// extensions of later versions and are ignored.
	helloLen = 2 + 2 + 8
)

// Capabilities is the set of stream kinds a peer serves: bit k is set
// when it has a handler for Kind k. A peer may check a capability before
// opening a stream of a kind added after version 1.
type Capabilities uint64

// Has reports whether the peer serves streams of kind k.
func (c Capabilities) Has(k Kind) bool { return k < 64 && c&(1<<k) != 0 }

// Hello is what a peer says about its protocol in the handshake.
type Hello struct {
	Version    uint16 // the version it speaks best
	MinVersion uint16 // the oldest version it still speaks
	Caps       Capabilities
}

func (h Hello) String() string {
	if h.MinVersion == h.Version {
		return fmt.Sprintf("protocol %d", h.Version)
	}
	return fmt.Sprintf("protocol %d (accepts %d to %d)", h.Version, h.MinVersion, h.Version)
}

// compatible reports whether a node saying local can talk to one saying
// peer. Both ends compute the same answer.
func compatible(local, peer Hello) bool {
	return peer.Version >= local.MinVersion && local.Version >= peer.MinVersion
}

// ErrVersion is matched (errors.Is) by *VersionError.
var ErrVersion = errors.New("mesh: no common protocol version")

// VersionError reports a peer whose protocol versions do not overlap
// ours. It matches ErrVersion and ErrHandshake.
type VersionError struct {
	Local Hello
	Peer  Hello
	// PeerALPN lists what the peer offered when the versions did not
	// overlap at the TLS layer; then Peer is unknown (zero).
	PeerALPN []string
}

func (e *VersionError) Error() string {
	peer := e.Peer.String()
	if e.Peer == (Hello{}) {
		peer = "a protocol this node does not know"
		if len(e.PeerALPN) > 0 {
			peer = "only " + strings.Join(e.PeerALPN, ", ")
		}
	}
	advice := "upgrade the older of the two"
	if e.Peer.Version > e.Local.Version {
		advice = "upgrade this node"
	} else if e.Peer != (Hello{}) && e.Peer.Version < e.Local.MinVersion {
		advice = "the peer must upgrade"
	}
	return fmt.Sprintf("mesh: peer speaks %s; this node speaks %s: %s", peer, e.Local, advice)
}

// Is reports whether target is ErrVersion or ErrHandshake.
func (e *VersionError) Is(target error) bool { return target == ErrVersion || target == ErrHandshake }

// alpns returns the TLS application protocols that carry the versions
// of h, best first.
func alpns(h Hello) []string {
	var out []string
	if h.Version >= 2 {
		out = append(out, alpnV2)
	}
	if h.MinVersion <= 1 {
		out = append(out, alpnV1)
	}
	return out
}

// withALPN sets the application protocols of both TLS configurations.
// onMismatch is told what a dialer offered when none of it is ours, so
// the acceptor can log a refusal that TLS alone would leave silent.
func withALPN(server, client *tls.Config, local Hello, onMismatch func(offered []string)) {
	protos := alpns(local)
	client.NextProtos = protos
	server.NextProtos = protos
	server.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		for _, p := range chi.SupportedProtos {
			if slices.Contains(protos, p) {
				return nil, nil
			}
		}
		// TLS itself then refuses with no_application_protocol, which
		// the dialer reports as a VersionError.
		if onMismatch != nil {
			onMismatch(boundedProtos(chi.SupportedProtos))
		}
		return nil, nil
	}
}

// boundedProtos keeps a peer-supplied ALPN list small enough to log.
func boundedProtos(ps []string) []string {
	const maxN, maxLen = 8, 32
	out := make([]string, 0, min(len(ps), maxN))
	for _, p := range ps[:min(len(ps), maxN)] {
		if len(p) > maxLen {
			p = p[:maxLen] + "…"
		}
		out = append(out, fmt.Sprintf("%q", p))
	}
	return out
}

// isNoALPN reports whether a dial failed because the acceptor shares no
// application protocol with us (TLS alert no_application_protocol, 120,
// carried as QUIC CRYPTO_ERROR 0x100+120).
func isNoALPN(err error) bool {
	var te *quic.TransportError
	return errors.As(err, &te) && te.ErrorCode == quic.TransportErrorCode(0x100+120)
}

// appendHello appends the fixed part of a hello.
func appendHello(b []byte, h Hello) []byte {
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint16(b, h.MinVersion)
	return binary.BigEndian.AppendUint64(b, uint64(h.Caps))
}

// parseHello reads a hello; bytes after the fixed part are extensions
// of later versions and are ignored.
func parseHello(b []byte) (Hello, error) {
	if len(b) < helloLen {
		return Hello{}, fmt.Errorf("hello is %d bytes, want at least %d", len(b), helloLen)
	}
	h := Hello{
		Version:    binary.BigEndian.Uint16(b),
		MinVersion: binary.BigEndian.Uint16(b[2:]),
		Caps:       Capabilities(binary.BigEndian.Uint64(b[4:])),
	}
	if h.Version < 2 || h.MinVersion > h.Version {
		return Hello{}, fmt.Errorf("hello claims versions %d to %d", h.MinVersion, h.Version)
	}
	return h, nil
}
