// Package mesh connects murmur nodes: a QUIC transport on one UDP socket,
// a Noise handshake that binds every connection to a verified identity,
// and membership through hashicorp/memberlist. Gossip and sync sessions
// build on it through stream kinds. Of murmur's packages mesh imports only
// identity and merkle: ops are opaque bytes named by 32-byte IDs, and the
// data side is a Replica the caller implements. It may be imported by node
// and by tests; never by tui, storage, forge or lower packages.
//
// # Layers
//
// Transport: an Endpoint owns one UDP socket (Config.ListenAddr, default
// port DefaultPort) on which it both dials and accepts QUIC connections.
// Connections, streams per connection, handshake time and idle time are
// bounded by Config. After the handshake each connection is a Conn bound
// to its peer's identity.PublicKey; upper layers open typed streams on it
// (Conn.OpenStream, Endpoint.OpenStream) and receive them through handlers
// registered per Kind (Endpoint.RegisterHandler). WriteFrame and ReadFrame
// provide bounded length-prefixed framing inside a stream.
//
// Handshake: TLS inside QUIC uses throwaway self-signed certificates and
// does not authenticate. The dialer opens the connection's first stream
// and runs Noise XX on it, with the connection's TLS exporter value as the
// prologue. Each side sends its Ed25519 identity key and a signature by it
// over its Noise static key, and each side verifies the other's. Because
// the prologue differs between two TLS sessions, a relay that terminates
// QUIC on both sides and forwards the handshake bytes makes the handshake
// fail on both sides. A dialer that names the peer it wants (DialPeer)
// refuses any other identity with ErrPeerMismatch before revealing its own.
//
// Membership: MemberlistTransport implements memberlist.NodeAwareTransport
// over an Endpoint. Node names are did:key strings; packets are QUIC
// datagrams and streams are QUIC streams of KindMemberlist on the
// authenticated connection, and a node addressed by name must prove that
// identity.
//
// Replication: a Node (Start) runs all of the above for a Replica. New
// local ops are announced (Node.Announce) through memberlist's piggybacked
// broadcasts, inline up to NodeConfig.MaxInlineOp bytes and by ID above;
// a receiver ingests or fetches the op (KindFetch) from the node that
// relayed it, fetches missing dependencies from it too, and broadcasts
// the op again itself, so gossip spreads epidemically. Memberlist's
// push-pull state carries, per followed repo, its ID and Merkle root
// digest (64 bytes), so peers already in sync spend nothing more; on a
// mismatch the peer with the lower key (or the one behind) opens a sync
// session (KindSync) that runs merkle reconciliation and then transfers
// exactly the missing ops both ways, in (clock, ID) order, in bounded
// batches. Node.SyncWith and Node.SyncAll run sessions on demand.
// NodeConfig.OnRepo lets a seed follow every repo it hears of.
//
// Limits: every length read from a peer is checked before allocation;
// sessions and fetches are rate-limited per peer (x/time/rate); the
// gossip queue, broadcast queue, peer table and concurrent sessions are
// bounded. A peer that sends a malformed or oversize frame, fails
// reconciliation, sends more ops than asked for, sends ops the Replica
// rejects, or sends more ops that cannot be applied (dependencies it
// does not supply, clocks far ahead) than its share of the Replica's
// pending pool (IngestResult.OverQuota) is penalized: its connections
// are closed and, for
// NodeConfig.PenaltyDuration, its streams are refused and nothing is
// asked of it; the log says why (warn level). Gossip does not say who
// delivered a message, so an invalid op received by gossip is checked by
// fetching it from the relay it names over an authenticated stream; the
// relay is penalized only if it serves the invalid op itself; an op
// received inline is charged to no peer (the Replica charges its author).
//
// Before the handshake, inbound connections from unknown addresses are
// bounded per source IP and in total (Config.MaxHalfOpen,
// MaxHalfOpenPerIP); addresses of members and of peers that
// authenticated before skip those bounds.
//
// # Wire format
//
// Connections are QUIC version 1 with TLS 1.3 and the datagram extension
// (RFC 9221) enabled. The ALPN selects the handshake: "murmur/2" (from
// protocol version 2 on) or "murmur/1" (version 1). A node offers and
// accepts both while it still speaks version 1 (MinProtocolVersion), best
// first; a dialer that shares no ALPN with the acceptor gets TLS alert
// no_application_protocol, reported as a *VersionError.
//
// Handshake. The dialer opens bidirectional stream 0. Each handshake
// message is framed as a big-endian uint16 length (1 to 1024) followed by
// that many bytes. The protocol is Noise_XX_25519_ChaChaPoly_BLAKE2b with
// prologue = TLS-Exporter("murmur noise binding", no context, 32 bytes):
//
//	dialer -> acceptor   message 1: e                  (empty payload)
//	acceptor -> dialer   message 2: e, ee, s, es       + identity payload
//	dialer -> acceptor   message 3: s, se              + identity payload
//	acceptor -> dialer   confirmation: ChaChaPoly encryption of the empty
//	                     string under the acceptor-to-dialer cipher state
//
// The identity payload is 97 bytes: version (1 byte, value 1), the
// Ed25519 public key (32 bytes), and the 64-byte signature
// identity.Sign(StaticKeyDomain, sender's Noise static public key).
// Under "murmur/2" a hello follows it: the protocol version the sender
// speaks best and the oldest it still speaks (big-endian uint16 each) and
// its capabilities (uint64; bit k set when it serves stream kind k).
// Bytes after the hello are extensions of later versions and are ignored,
// so later versions are negotiated here and keep the ALPN. Two nodes talk
// when each one's version is at least the other's oldest. The dialer
// checks after message 2 and, on a mismatch, still sends message 3 and
// waits for the acceptor, which checks after message 3 and closes with
// code 0x108; both report a *VersionError naming both versions. Both
// ends then close stream 0. The Noise transport keys are not used after
// the confirmation; QUIC's encryption protects the connection.
//
// Streams. Every later bidirectional stream starts with one Kind byte,
// followed by the kind's own protocol: 1 memberlist, 2 sync session,
// 3 op fetch, 4 git fetch, 5 refusal notice. The replication formats (gossip messages, push-pull state,
// sync sessions, fetch requests, op batches) are documented in wire.go. Kind 0 is reserved. A stream of an unknown kind, or one
// whose kind byte does not arrive within Config.StreamHeaderTimeout, is
// reset with stream error code 1 or 2 respectively; code 0 means closed.
// Unidirectional streams are not allowed.
//
// Git streams (kind 4) are served by nodes that store code, and only
// those set bit 4 in their hello; a node checks it before opening one.
// After the kind byte the fetching side sends the 32-byte repo ID; the
// serving side reads it within 10 seconds and
// resets the stream unless it follows that repo and holds its code.
// Then the stream carries one git protocol v2 fetch session exactly as
// package gitstore documents it: the fetcher's requests, upload-pack's
// answers, and only objects reachable from the server's refs. The
// fetcher bounds what it reads (a fetch size limit) and penalizes a
// peer whose pack git's fsck rejects or that exceeds the limit.
//
// Notice streams (kind 5) carry one frame: the 32-byte repo ID, the
// number of ops refused (uvarint) and a UTF-8 reason of at most 512
// bytes. A node that refused valid ops by its local policy (a blocked
// author, an ingest budget) sends one to the peer that delivered them,
// at most one a second per peer, if that peer sets bit 5 in its hello;
// the receiver logs it and answers nothing.
//
// Datagrams. Each datagram is one Kind byte followed by at most
// MaxDatagramSize bytes. Datagrams of unknown kind are dropped.
//
// Connection close codes: 0x100 handshake failed, 0x101 peer identity
// mismatch, 0x102 too many connections, 0x103 replaced by a newer
// connection, 0x104 shutting down, 0x105 connected to self, 0x106 closed
// by the application, 0x107 refused by the admit check, 0x108 no common
// protocol version.
//
// This format is stable. An incompatible change takes a new protocol
// version, negotiated in the hello; new stream and datagram kinds may be
// added within a version, since peers reset or drop kinds they do not
// know, and the capabilities say which kinds a peer serves.
package mesh
