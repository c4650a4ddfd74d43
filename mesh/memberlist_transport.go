package mesh

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"murmur/identity"
)

// MemberlistPacketSize is the memberlist Config.UDPBufferSize to use with
// MemberlistTransport (Configure sets it). Memberlist packs gossip into
// packets of at most this size; each travels as one QUIC datagram, which
// carries at most MaxDatagramSize bytes. The margin covers memberlist's
// label header and, if enabled, its own encryption, which is redundant
// over QUIC and best left off.
const MemberlistPacketSize = 1100

// MemberlistTransportConfig configures a MemberlistTransport. Zero fields
// take the documented defaults.
type MemberlistTransportConfig struct {
	// PacketQueue is the capacity of PacketCh. Packets arriving while it
	// is full are dropped and counted. Default 512.
	PacketQueue int
	// StreamQueue is the capacity of StreamCh. Streams arriving while it
	// is full are reset and counted. Default 32.
	StreamQueue int
	// PacketDialWait bounds how long WriteTo waits for a connection to a
	// node it is not yet connected to. On expiry the packet is dropped
	// with an error; the dial continues, so later packets find the
	// connection. Default 1s.
	PacketDialWait time.Duration
}

// MemberlistTransport is a memberlist.NodeAwareTransport over an Endpoint:
// packets travel as QUIC datagrams of KindMemberlist and streams as QUIC
// streams of KindMemberlist, both on Noise-authenticated connections.
//
// Node names are did:key identities. Whenever memberlist addresses a node
// by name (probes, push-pull, user messages) the connection used must be
// authenticated as that identity, or the send fails with
// ErrPeerMismatch. As a memberlist.AliveDelegate (Configure installs it)
// the transport also rejects alive messages whose name is not a DID, or
// whose address belongs to a connection authenticated as someone else.
//
// Shutdown stops the transport but leaves the Endpoint open: the caller
// owns the Endpoint and closes it after memberlist has shut down.
type MemberlistTransport struct {
	ep       *Endpoint
	cfg      MemberlistTransportConfig
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	ctx      context.Context // canceled by Shutdown; bounds dials
	cancel   context.CancelFunc

	// mu guards closed (with shutdown) and wg.Add, so that no handler
	// starts waiting after Shutdown began waiting.
	mu       sync.Mutex
	closed   bool
	shutdown chan struct{}
	wg       sync.WaitGroup // stream handlers waiting for memberlist to finish a stream

	// advertise caches FinalAdvertiseAddr's answer for the alive check.
	advertise atomic.Pointer[netip.AddrPort]

	droppedPackets atomic.Uint64
	droppedStreams atomic.Uint64
	rejectedNodes  atomic.Uint64
}

var (
	_ memberlist.NodeAwareTransport = (*MemberlistTransport)(nil)
	_ memberlist.AliveDelegate      = (*MemberlistTransport)(nil)
)

// MemberlistStats is a snapshot of a MemberlistTransport's counters.
type MemberlistStats struct {
	DroppedPackets uint64 // incoming packets dropped because PacketCh was full
	DroppedStreams uint64 // incoming streams reset because StreamCh was full
	RejectedNodes  uint64 // alive messages rejected by NotifyAlive
}

// NewMemberlistTransport registers memberlist's stream and datagram
// handlers on ep. Only one MemberlistTransport can be live per Endpoint.
func NewMemberlistTransport(ep *Endpoint, cfg MemberlistTransportConfig) (*MemberlistTransport, error) {
	if cfg.PacketQueue <= 0 {
		cfg.PacketQueue = 512
	}
	if cfg.StreamQueue <= 0 {
		cfg.StreamQueue = 32
	}
	if cfg.PacketDialWait <= 0 {
		cfg.PacketDialWait = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &MemberlistTransport{
		ep:       ep,
		cfg:      cfg,
		packetCh: make(chan *memberlist.Packet, cfg.PacketQueue),
		streamCh: make(chan net.Conn, cfg.StreamQueue),
		ctx:      ctx,
		cancel:   cancel,
		shutdown: make(chan struct{}),
	}
	if err := ep.RegisterHandler(KindMemberlist, t.handleStream); err != nil {
		cancel()
		return nil, fmt.Errorf("mesh: memberlist transport: %w", err)
	}
	if err := ep.RegisterDatagramHandler(KindMemberlist, t.handlePacket); err != nil {
		ep.UnregisterHandler(KindMemberlist)
		cancel()
		return nil, fmt.Errorf("mesh: memberlist transport: %w", err)
	}
	return t, nil
}

// Configure points c at this transport: Transport, Name (the endpoint's
// DID), UDPBufferSize (MemberlistPacketSize), advertise address (left to
// the endpoint), BindPort (DefaultPort, used by Join for addresses without
// a port), and Alive (this transport, unless c already has one; a custom
// AliveDelegate should call NotifyAlive itself).
func (t *MemberlistTransport) Configure(c *memberlist.Config) {
	c.Transport = t
	c.Name = t.ep.ID().DID()
	c.UDPBufferSize = MemberlistPacketSize
	c.AdvertiseAddr = ""
	c.AdvertisePort = 0
	c.BindPort = DefaultPort
	if c.Alive == nil {
		c.Alive = t
	}
}

// Stats returns a snapshot of the transport's counters.
func (t *MemberlistTransport) Stats() MemberlistStats {
	return MemberlistStats{
		DroppedPackets: t.droppedPackets.Load(),
		DroppedStreams: t.droppedStreams.Load(),
		RejectedNodes:  t.rejectedNodes.Load(),
	}
}

// FinalAdvertiseAddr returns ip and port if ip is set, else the endpoint's
// advertise address (see Endpoint.AdvertiseAddr).
func (t *MemberlistTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	var ap netip.AddrPort
	if ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, 0, fmt.Errorf("mesh: memberlist advertise address %q: %w", ip, err)
		}
		if port <= 0 || port > 65535 {
			port = int(addrPortOf(t.ep.Addr()).Port())
		}
		ap = netip.AddrPortFrom(addr.Unmap(), uint16(port))
	} else {
		var err error
		if ap, err = t.ep.AdvertiseAddr(); err != nil {
			return nil, 0, err
		}
	}
	t.advertise.Store(&ap)
	return net.IP(ap.Addr().AsSlice()), int(ap.Port()), nil
}

// WriteTo sends b to whichever node answers at addr.
func (t *MemberlistTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends b as one datagram to the node at a; if a.Name is
// set the connection must be authenticated as that DID. Without a live
// connection it dials, waiting at most PacketDialWait.
func (t *MemberlistTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if len(b) > MaxDatagramSize {
		return time.Time{}, fmt.Errorf("%w: memberlist packet of %d bytes, limit %d (UDPBufferSize must be at most %d)",
			ErrPacketTooLarge, len(b), MaxDatagramSize, MemberlistPacketSize)
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.PacketDialWait)
	defer cancel()
	c, err := t.connect(ctx, a)
	if err != nil {
		return time.Time{}, err
	}
	if err := c.SendDatagram(KindMemberlist, b); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// PacketCh delivers incoming packets. Buf is owned by the receiver.
func (t *MemberlistTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// DialTimeout opens a stream to whichever node answers at addr.
func (t *MemberlistTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a memberlist stream to the node at a, dialing
// if needed; if a.Name is set the connection must be authenticated as
// that DID. The returned conn is a *Stream.
func (t *MemberlistTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	c, err := t.connect(ctx, a)
	if err != nil {
		return nil, err
	}
	return c.OpenStream(ctx, KindMemberlist)
}

// StreamCh delivers incoming streams; each is a *Stream that memberlist
// must Close.
func (t *MemberlistTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown unregisters the transport's handlers, resets streams not yet
// taken from StreamCh, and waits for its handlers to return. The Endpoint
// stays open.
func (t *MemberlistTransport) Shutdown() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.shutdown)
	t.mu.Unlock()

	t.ep.UnregisterHandler(KindMemberlist)
	t.ep.UnregisterDatagramHandler(KindMemberlist)
	t.cancel()
	t.wg.Wait()
	return nil
}

// NotifyAlive implements memberlist.AliveDelegate: it rejects a node whose
// name is not a did:key, and a node whose address is that of a live
// connection authenticated as a different identity (or of this node).
// Nodes at addresses without a connection pass; probing them by name then
// fails until memberlist declares them dead.
func (t *MemberlistTransport) NotifyAlive(n *memberlist.Node) error {
	if err := t.checkNode(n); err != nil {
		t.rejectedNodes.Add(1)
		return err
	}
	return nil
}

func (t *MemberlistTransport) checkNode(n *memberlist.Node) error {
	peer, err := identity.ParseDID(n.Name)
	if err != nil {
		return fmt.Errorf("mesh: memberlist node name %q is not a did:key: %w", n.Name, err)
	}
	ip, ok := netip.AddrFromSlice(n.Addr)
	if !ok {
		return fmt.Errorf("mesh: memberlist node %s has invalid address %v", peer.Short(), n.Addr)
	}
	ap := netip.AddrPortFrom(ip.Unmap(), n.Port)
	if own := t.advertise.Load(); own != nil && *own == ap && peer != t.ep.ID() {
		return fmt.Errorf("mesh: memberlist node %s claims this node's address %s: %w",
			peer.Short(), ap, &PeerMismatchError{Want: peer, Got: t.ep.ID()})
	}
	if c := t.ep.connByAddr(ap); c != nil && c.Peer() != peer {
		return fmt.Errorf("mesh: memberlist node %s at %s: %w", peer.Short(), ap, &PeerMismatchError{Want: peer, Got: c.Peer()})
	}
	return nil
}

// connect returns a connection to a, authenticated as a.Name if set.
func (t *MemberlistTransport) connect(ctx context.Context, a memberlist.Address) (*Conn, error) {
	if t.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if a.Name == "" {
		return t.ep.Dial(ctx, a.Addr)
	}
	peer, err := identity.ParseDID(a.Name)
	if err != nil {
		return nil, fmt.Errorf("mesh: memberlist node name %q is not a did:key: %w", a.Name, err)
	}
	return t.ep.DialPeer(ctx, a.Addr, peer)
}

// handleStream hands an incoming stream to memberlist and keeps the
// endpoint's handler alive until memberlist closes it.
func (t *MemberlistTransport) handleStream(ctx context.Context, _ identity.PublicKey, s *Stream) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.wg.Add(1)
	t.mu.Unlock()
	defer t.wg.Done()

	select {
	case t.streamCh <- s:
	default:
		t.droppedStreams.Add(1)
		return
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
	case <-t.shutdown:
	}
}

// handlePacket queues an incoming datagram for memberlist without
// blocking the connection's receive loop.
func (t *MemberlistTransport) handlePacket(_ identity.PublicKey, from net.Addr, payload []byte) {
	p := &memberlist.Packet{Buf: payload, From: from, Timestamp: time.Now()}
	select {
	case t.packetCh <- p:
	default:
		t.droppedPackets.Add(1)
	}
}
