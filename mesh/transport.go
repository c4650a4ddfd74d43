package mesh

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sockaddr "github.com/hashicorp/go-sockaddr"
	"github.com/quic-go/quic-go"

	"murmur/identity"
)

// Kind names the protocol carried by a stream or a datagram. It is the
// first byte of every stream opened after the handshake and of every
// datagram. Values are part of the wire protocol: they are never reused,
// and new protocols take new values. Kind 0 is reserved.
type Kind byte

// Assigned kinds.
const (
	// KindMemberlist streams and datagrams carry hashicorp/memberlist
	// traffic (see MemberlistTransport).
	KindMemberlist Kind = 1
	// KindSync streams carry anti-entropy sync sessions.
	KindSync Kind = 2
	// KindFetch streams carry requests for ops by ID.
	KindFetch Kind = 3
	// KindGit streams carry one git fetch session of one repo's objects
	// (git protocol version 2; see "Git streams" in the package doc).
	// The mesh does not serve it; a node that stores code registers it.
	KindGit Kind = 4
)

// MaxDatagramSize is the largest datagram payload (after the kind byte)
// that SendDatagram accepts. It fits one QUIC packet at the minimum QUIC
// packet size of 1200 bytes, so it never depends on path MTU discovery.
const MaxDatagramSize = 1152

// Handler serves one incoming stream of a registered kind; peer is the
// verified identity of the remote end. It runs on its own goroutine. ctx
// is done when the connection closes or the endpoint shuts down, and the
// handler must then return. The endpoint closes s when the handler
// returns, so a handler that hands s to another goroutine must wait for
// it (for instance on s.Done).
type Handler func(ctx context.Context, peer identity.PublicKey, s *Stream)

// DatagramHandler receives one datagram of a registered kind. It is
// called on the connection's receive goroutine and must not block: copy
// or queue, drop when full. payload is owned by the handler.
type DatagramHandler func(peer identity.PublicKey, from net.Addr, payload []byte)

// resetKeyDomain separates the signature that derives the QUIC stateless
// reset key from every other use of the identity key.
const resetKeyDomain = "murmur/mesh/quic-stateless-reset/v1"

// Endpoint is a QUIC endpoint on one UDP socket that dials and accepts
// Noise-authenticated connections. Every connection it hands out is bound
// to the verified identity of its peer. Upper layers register handlers
// per Kind and open typed streams to peers.
//
// Connection policy: there is at most one connection per peer and
// direction. A second inbound (or outbound) connection from the same peer
// replaces the first, which is closed: the peer restarted or lost it. When
// two peers dial each other at the same moment both connections survive
// (one inbound, one outbound); both are served, and new streams go to the
// most recently established one. Dials to an address or peer that is
// already connected return the existing connection, and concurrent dials
// to the same address share one attempt. Run one process per identity:
// two processes with the same key keep replacing each other's connections.
//
// All methods are safe for concurrent use. Close stops every goroutine
// the endpoint started, including running handlers (through their ctx).
type Endpoint struct {
	cfg       Config
	log       *slog.Logger
	local     *localIdentity
	udp       *net.UDPConn
	tr        *quic.Transport
	ln        *quic.Listener
	quicConf  *quic.Config
	clientTLS *tls.Config
	versions  Hello // this endpoint's version range (no capabilities)

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// hmu guards the handler tables.
	hmu              sync.RWMutex
	streamHandlers   map[Kind]Handler
	datagramHandlers map[Kind]DatagramHandler

	// admit, if set, checks every authenticated peer (SetAdmit).
	admit atomic.Pointer[func(identity.PublicKey) error]

	// mu guards the connection tables and closed.
	mu     sync.Mutex
	closed bool
	// slots counts connections charged against MaxConns: every tracked
	// QUIC connection plus dials that have not produced one yet.
	slots     int
	quicConns map[*quic.Conn]struct{} // every live QUIC conn, authenticated or not
	peers     map[identity.PublicKey]*peerConns
	byAddr    map[netip.AddrPort]*Conn     // newest authenticated conn per remote address
	dials     map[netip.AddrPort]*dialCall // attempts in flight, one per address
	seq       uint64                       // registration order of Conns
	// halfOpen holds the inbound connections whose handshake has not
	// finished; halfOpenByIP and halfOpenAnon count those from unknown
	// addresses, which MaxHalfOpen and MaxHalfOpenPerIP bound.
	halfOpen     map[*quic.Conn]halfOpenConn
	halfOpenByIP map[netip.Addr]int
	halfOpenAnon int
	halfOpenSeq  uint64
	// halfOpenKnown counts those from known addresses, at most
	// maxKnownHalfOpen each; more count as unknown.
	halfOpenKnown map[netip.AddrPort]int
	// known are addresses whose connections skip the half-open bounds:
	// peers that authenticated before and addresses membership named
	// (knowAddr). At most maxKnownAddrs.
	known map[netip.AddrPort]struct{}

	stats endpointCounters
}

// halfOpenConn is an inbound connection that has not authenticated yet.
type halfOpenConn struct {
	addr  netip.AddrPort
	known bool   // from a known address: not counted against the bounds
	seq   uint64 // admission order, to evict the oldest
}

// maxKnownHalfOpen is how many half-open connections one known address
// may have outside the half-open bounds. An honest peer has at most one
// per direction; a known peer turned hostile gets no more than that.
const maxKnownHalfOpen = 2

// maxKnownAddrs bounds Endpoint.known; beyond it, arbitrary entries are
// forgotten.
const maxKnownAddrs = 4096

// peerConns holds the live authenticated connections to one peer.
type peerConns struct {
	in, out *Conn
}

// dialCall is one dial attempt to an address, shared by the callers that
// can use its result; conn and err are written before done is closed.
type dialCall struct {
	want *identity.PublicKey // identity the attempt requires, nil for any
	done chan struct{}
	conn *Conn
	err  error
}

type endpointCounters struct {
	handshakeFailures atomic.Uint64
	peerMismatches    atomic.Uint64
	refusedConns      atomic.Uint64
	evictedConns      atomic.Uint64
	refusedPeers      atomic.Uint64
	badStreams        atomic.Uint64
	droppedDatagrams  atomic.Uint64
}

// Stats is a snapshot of an endpoint's counters.
type Stats struct {
	Conns             int    // QUIC connections, including handshaking ones and dials in flight
	Peers             int    // peers with at least one authenticated connection
	HandshakeFailures uint64 // handshakes that failed, both directions (includes peer mismatches)
	PeerMismatches    uint64 // dials refused because the peer proved another identity
	HalfOpen          int    // inbound connections whose handshake has not finished
	RefusedConns      uint64 // inbound connections closed at once: MaxConns, MaxHalfOpen or MaxHalfOpenPerIP reached
	EvictedConns      uint64 // half-open connections closed to make room for a newcomer from a less busy address
	RefusedPeers      uint64 // connections closed because the admit check refused the peer (SetAdmit)
	BadStreams        uint64 // incoming streams reset: unknown kind or missing kind byte
	DroppedDatagrams  uint64 // datagrams dropped: empty or of an unregistered kind
}

// Listen binds cfg.ListenAddr and starts accepting connections that prove
// their identity with a Noise handshake; key is this node's identity. The
// caller must Close the endpoint.
func Listen(key *identity.Key, cfg Config) (*Endpoint, error) {
	if key == nil {
		return nil, errors.New("mesh: listen: nil identity key")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	local, err := newLocalIdentity(key)
	if err != nil {
		return nil, err
	}
	serverTLS, clientTLS, err := tlsConfigs()
	if err != nil {
		return nil, err
	}
	versions := Hello{Version: ProtocolVersion, MinVersion: MinProtocolVersion}
	if cfg.versions != (Hello{}) {
		versions = cfg.versions
	}
	logger := cfg.Logger.With("component", "mesh")
	withALPN(serverTLS, clientTLS, versions, func(offered []string) {
		logger.Warn("refused a peer with no protocol version in common",
			"err", &VersionError{Local: versions, PeerALPN: offered})
	})
	laddr, err := net.ResolveUDPAddr("udp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("mesh: listen address %q: %w", cfg.ListenAddr, err)
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("mesh: listen: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = udp.Close()
		}
	}()

	quicConf := &quic.Config{
		HandshakeIdleTimeout:       cfg.HandshakeTimeout,
		MaxIdleTimeout:             cfg.IdleTimeout,
		KeepAlivePeriod:            cfg.KeepAlivePeriod,
		MaxIncomingStreams:         int64(cfg.MaxIncomingStreams),
		MaxIncomingUniStreams:      -1,
		MaxStreamReceiveWindow:     uint64(cfg.MaxStreamReceiveWindow),
		MaxConnectionReceiveWindow: uint64(cfg.MaxConnReceiveWindow),
		EnableDatagrams:            true,
	}
	// A stateless reset key that survives restarts: a peer that kept a
	// connection this endpoint has forgotten (it slept through the idle
	// timeout, or this process restarted) is told at its next packet,
	// instead of sending into a dead connection until its own idle
	// timeout, which its keep-alives keep pushing back.
	resetKey := quic.StatelessResetKey(sha256.Sum256(key.Sign(resetKeyDomain, nil)))
	tr := &quic.Transport{Conn: udp, StatelessResetKey: &resetKey}
	ln, err := tr.Listen(serverTLS, quicConf)
	if err != nil {
		_ = tr.Close()
		return nil, fmt.Errorf("mesh: listen: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	e := &Endpoint{
		cfg:              cfg,
		log:              logger,
		local:            local,
		versions:         versions,
		udp:              udp,
		tr:               tr,
		ln:               ln,
		quicConf:         quicConf,
		clientTLS:        clientTLS,
		ctx:              ctx,
		cancel:           cancel,
		streamHandlers:   make(map[Kind]Handler),
		datagramHandlers: make(map[Kind]DatagramHandler),
		quicConns:        make(map[*quic.Conn]struct{}),
		peers:            make(map[identity.PublicKey]*peerConns),
		byAddr:           make(map[netip.AddrPort]*Conn),
		dials:            make(map[netip.AddrPort]*dialCall),
		halfOpen:         make(map[*quic.Conn]halfOpenConn),
		halfOpenByIP:     make(map[netip.Addr]int),
		halfOpenKnown:    make(map[netip.AddrPort]int),
		known:            make(map[netip.AddrPort]struct{}),
	}
	e.wg.Add(1)
	go e.acceptLoop()
	ok = true
	return e, nil
}

// ID returns this endpoint's identity.
func (e *Endpoint) ID() identity.PublicKey { return e.local.id }

// Addr returns the bound UDP address.
func (e *Endpoint) Addr() net.Addr { return e.udp.LocalAddr() }

// AdvertiseAddr returns the address peers should dial: Config.AdvertiseAddr
// if set, else the bound address, with a private interface address in
// place of an unspecified IP.
func (e *Endpoint) AdvertiseAddr() (netip.AddrPort, error) {
	if e.cfg.AdvertiseAddr != "" {
		return netip.ParseAddrPort(e.cfg.AdvertiseAddr)
	}
	bound := addrPortOf(e.udp.LocalAddr())
	if !bound.Addr().IsUnspecified() {
		return bound, nil
	}
	ip, err := sockaddr.GetPrivateIP()
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("mesh: find a private address to advertise: %w", err)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("mesh: no private address to advertise; set Config.AdvertiseAddr")
	}
	return netip.AddrPortFrom(addr, bound.Port()), nil
}

// RegisterHandler routes incoming streams of kind to h. It fails for the
// reserved kind 0 and for a kind that already has a handler.
func (e *Endpoint) RegisterHandler(kind Kind, h Handler) error {
	if kind == 0 || h == nil {
		return fmt.Errorf("%w: cannot register kind %d", ErrUnsupportedKind, kind)
	}
	e.hmu.Lock()
	defer e.hmu.Unlock()
	if _, dup := e.streamHandlers[kind]; dup {
		return fmt.Errorf("mesh: stream kind %d already has a handler", kind)
	}
	e.streamHandlers[kind] = h
	return nil
}

// UnregisterHandler removes the stream handler of kind; later streams of
// that kind are reset. Running handlers are not interrupted.
func (e *Endpoint) UnregisterHandler(kind Kind) {
	e.hmu.Lock()
	delete(e.streamHandlers, kind)
	e.hmu.Unlock()
}

// RegisterDatagramHandler routes incoming datagrams of kind to h.
func (e *Endpoint) RegisterDatagramHandler(kind Kind, h DatagramHandler) error {
	if kind == 0 || h == nil {
		return fmt.Errorf("%w: cannot register datagram kind %d", ErrUnsupportedKind, kind)
	}
	e.hmu.Lock()
	defer e.hmu.Unlock()
	if _, dup := e.datagramHandlers[kind]; dup {
		return fmt.Errorf("mesh: datagram kind %d already has a handler", kind)
	}
	e.datagramHandlers[kind] = h
	return nil
}

// UnregisterDatagramHandler removes the datagram handler of kind; later
// datagrams of that kind are dropped.
func (e *Endpoint) UnregisterDatagramHandler(kind Kind) {
	e.hmu.Lock()
	delete(e.datagramHandlers, kind)
	e.hmu.Unlock()
}

// Dial returns an authenticated connection to whichever peer answers at
// addr ("host:port"), reusing a live connection to that address.
func (e *Endpoint) Dial(ctx context.Context, addr string) (*Conn, error) {
	return e.dial(ctx, addr, nil)
}

// DialPeer returns an authenticated connection to peer, reusing any live
// connection to it; otherwise it dials addr and requires the remote end to
// prove peer's identity, failing with a *PeerMismatchError (and closing
// the connection) if it proves another. Our own identity is not revealed
// to a mismatched peer.
func (e *Endpoint) DialPeer(ctx context.Context, addr string, peer identity.PublicKey) (*Conn, error) {
	if peer == e.local.id {
		return nil, ErrSelfDial
	}
	if c := e.Conn(peer); c != nil {
		return c, nil
	}
	return e.dial(ctx, addr, &peer)
}

// OpenStream opens a stream of kind on the live connection to peer. It
// does not dial: without a connection it fails with ErrNotConnected.
func (e *Endpoint) OpenStream(ctx context.Context, peer identity.PublicKey, kind Kind) (*Stream, error) {
	c := e.Conn(peer)
	if c == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotConnected, peer.Short())
	}
	return c.OpenStream(ctx, kind)
}

// Conn returns the live authenticated connection to peer, or nil. With a
// connection in each direction it returns the newer one.
func (e *Endpoint) Conn(peer identity.PublicKey) *Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	pc := e.peers[peer]
	if pc == nil {
		return nil
	}
	var best *Conn
	for _, c := range []*Conn{pc.in, pc.out} {
		if c != nil && c.alive() && (best == nil || c.seq > best.seq) {
			best = c
		}
	}
	return best
}

// connByAddr returns the newest live authenticated connection whose remote
// address is ap, or nil.
func (e *Endpoint) connByAddr(ap netip.AddrPort) *Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.byAddr[ap]; c != nil && c.alive() {
		return c
	}
	return nil
}

// Peers returns the identities with a live authenticated connection.
func (e *Endpoint) Peers() []identity.PublicKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]identity.PublicKey, 0, len(e.peers))
	for id := range e.peers {
		out = append(out, id)
	}
	return out
}

// Stats returns a snapshot of the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	e.mu.Lock()
	s := Stats{Conns: e.slots, Peers: len(e.peers), HalfOpen: len(e.halfOpen)}
	e.mu.Unlock()
	s.HandshakeFailures = e.stats.handshakeFailures.Load()
	s.PeerMismatches = e.stats.peerMismatches.Load()
	s.RefusedConns = e.stats.refusedConns.Load()
	s.EvictedConns = e.stats.evictedConns.Load()
	s.RefusedPeers = e.stats.refusedPeers.Load()
	s.BadStreams = e.stats.badStreams.Load()
	s.DroppedDatagrams = e.stats.droppedDatagrams.Load()
	return s
}

// Close closes every connection, stops accepting, and waits for every
// goroutine the endpoint started, including running handlers. It is safe
// to call more than once.
// SetAdmit sets a check run on every peer once its handshake has proved
// its identity, inbound or outbound, before the connection is used. A
// peer it returns an error for is disconnected with the error as reason;
// a dial to it fails with that error. Node uses it to keep penalized peers
// out. nil removes the check.
func (e *Endpoint) SetAdmit(f func(peer identity.PublicKey) error) {
	if f == nil {
		e.admit.Store(nil)
		return
	}
	e.admit.Store(&f)
}

// admitPeer runs the admit check, closing qc if it refuses peer.
func (e *Endpoint) admitPeer(qc *quic.Conn, peer identity.PublicKey) error {
	f := e.admit.Load()
	if f == nil {
		return nil
	}
	err := (*f)(peer)
	if err != nil {
		e.stats.refusedPeers.Add(1)
		e.log.Debug("peer refused", "peer", peer.Short(), "remote", qc.RemoteAddr(), "err", err)
		_ = qc.CloseWithError(codeRefused, err.Error())
	}
	return err
}

func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		conns := make([]*quic.Conn, 0, len(e.quicConns))
		for qc := range e.quicConns {
			conns = append(conns, qc)
		}
		e.mu.Unlock()

		e.cancel()
		lnErr := e.ln.Close()
		for _, qc := range conns {
			_ = qc.CloseWithError(codeShutdown, "shutting down")
		}
		e.wg.Wait()
		e.closeErr = errors.Join(lnErr, e.tr.Close(), e.udp.Close())
		if e.closeErr != nil {
			e.closeErr = fmt.Errorf("mesh: close: %w", e.closeErr)
		}
	})
	return e.closeErr
}

func (e *Endpoint) acceptLoop() {
	defer e.wg.Done()
	for {
		qc, err := e.ln.Accept(e.ctx)
		if err != nil {
			return
		}
		victim, err := e.admitInbound(qc)
		if err != nil {
			if errors.Is(err, ErrClosed) {
				_ = qc.CloseWithError(codeShutdown, "shutting down")
				return
			}
			e.stats.refusedConns.Add(1)
			e.log.Debug("refusing connection", "remote", qc.RemoteAddr(), "err", err)
			_ = qc.CloseWithError(codeBusy, err.Error())
			continue
		}
		if victim != nil {
			e.stats.evictedConns.Add(1)
			e.log.Debug("evicting unauthenticated connection", "remote", victim.RemoteAddr())
			_ = victim.CloseWithError(codeBusy, "too many unauthenticated connections")
		}
		e.wg.Add(1)
		go e.serveInbound(qc)
	}
}

// errHalfOpen is why an inbound connection from an unknown address is
// refused while too many others have not authenticated.
var errHalfOpen = errors.New("too many unauthenticated connections")

// admitInbound charges a new inbound connection against MaxConns and, if
// it comes from an unknown address, against the half-open bounds, and
// tracks it. When MaxHalfOpen is reached it picks the oldest half-open
// connection of the busiest source IP as victim, if that IP has more
// half-open connections than qc's; the caller closes the victim, whose
// own goroutine then releases its slot.
func (e *Endpoint) admitInbound(qc *quic.Conn) (victim *quic.Conn, err error) {
	remote := addrPortOf(qc.RemoteAddr())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if e.slots >= e.cfg.MaxConns {
		return nil, fmt.Errorf("%w (limit %d)", ErrTooManyConns, e.cfg.MaxConns)
	}
	_, known := e.known[remote]
	h := halfOpenConn{addr: remote, known: known && e.halfOpenKnown[remote] < maxKnownHalfOpen}
	if h.known {
		e.halfOpenKnown[remote]++
	} else {
		ip := remote.Addr()
		n := e.halfOpenByIP[ip]
		if n >= e.cfg.MaxHalfOpenPerIP {
			return nil, fmt.Errorf("%w from %s (limit %d)", errHalfOpen, ip, e.cfg.MaxHalfOpenPerIP)
		}
		if e.halfOpenAnon >= e.cfg.MaxHalfOpen {
			victim = e.halfOpenVictimLocked(n)
			if victim == nil {
				return nil, fmt.Errorf("%w (limit %d)", errHalfOpen, e.cfg.MaxHalfOpen)
			}
			e.forgetHalfOpenLocked(victim)
		}
		e.halfOpenByIP[ip] = n + 1
		e.halfOpenAnon++
	}
	e.halfOpenSeq++
	h.seq = e.halfOpenSeq
	e.halfOpen[qc] = h
	e.quicConns[qc] = struct{}{}
	e.slots++
	return victim, nil
}

// halfOpenVictimLocked returns the oldest half-open connection from an
// unknown address of the IP with the most of them, if that IP has more
// than mine; nil otherwise. e.mu must be held. The scans are bounded by
// MaxHalfOpen.
func (e *Endpoint) halfOpenVictimLocked(mine int) *quic.Conn {
	var busiest netip.Addr
	most := mine
	for ip, n := range e.halfOpenByIP {
		if n > most {
			busiest, most = ip, n
		}
	}
	if most == mine {
		return nil
	}
	var victim *quic.Conn
	var oldest uint64
	for qc, h := range e.halfOpen {
		if !h.known && h.addr.Addr() == busiest && (victim == nil || h.seq < oldest) {
			victim, oldest = qc, h.seq
		}
	}
	return victim
}

// forgetHalfOpenLocked stops counting qc as half-open; it does nothing
// for a connection that is not. e.mu must be held.
func (e *Endpoint) forgetHalfOpenLocked(qc *quic.Conn) {
	h, ok := e.halfOpen[qc]
	if !ok {
		return
	}
	delete(e.halfOpen, qc)
	if h.known {
		decrement(e.halfOpenKnown, h.addr)
		return
	}
	e.halfOpenAnon--
	decrement(e.halfOpenByIP, h.addr.Addr())
}

// decrement lowers m[k] by one, deleting it at zero.
func decrement[K comparable](m map[K]int, k K) {
	if n := m[k] - 1; n > 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// handshakeDone stops counting qc as half-open.
func (e *Endpoint) handshakeDone(qc *quic.Conn) {
	e.mu.Lock()
	e.forgetHalfOpenLocked(qc)
	e.mu.Unlock()
}

// knowAddr marks ap as the address of a known peer: its inbound
// connections skip the half-open bounds.
func (e *Endpoint) knowAddr(ap netip.AddrPort) {
	if !ap.IsValid() {
		return
	}
	e.mu.Lock()
	e.knowAddrLocked(ap)
	e.mu.Unlock()
}

func (e *Endpoint) knowAddrLocked(ap netip.AddrPort) {
	if _, ok := e.known[ap]; ok {
		return
	}
	for old := range e.known {
		if len(e.known) < maxKnownAddrs {
			break
		}
		delete(e.known, old)
	}
	e.known[ap] = struct{}{}
}

// acquireSlot charges one connection against MaxConns.
func (e *Endpoint) acquireSlot() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.slots >= e.cfg.MaxConns {
		return fmt.Errorf("%w (limit %d)", ErrTooManyConns, e.cfg.MaxConns)
	}
	e.slots++
	return nil
}

// track records qc so that Close can close it; it reports false if the
// endpoint is already closed.
func (e *Endpoint) track(qc *quic.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.quicConns[qc] = struct{}{}
	return true
}

// releaseSlot undoes acquireSlot (or admitInbound) and, if qc is not
// nil, track.
func (e *Endpoint) releaseSlot(qc *quic.Conn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if qc != nil {
		delete(e.quicConns, qc)
		e.forgetHalfOpenLocked(qc)
	}
	e.slots--
}

func (e *Endpoint) serveInbound(qc *quic.Conn) {
	defer e.wg.Done()
	defer e.releaseSlot(qc)
	peer, hello, err := e.acceptHandshake(qc)
	e.handshakeDone(qc)
	if err != nil {
		e.handshakeFailed(qc, err)
		return
	}
	if e.admitPeer(qc, peer) != nil {
		return
	}
	c, err := e.register(qc, peer, hello, false)
	if err != nil {
		return
	}
	e.serveConn(c)
}

// acceptHandshake runs the responder side of the handshake on the first
// stream the dialer opens.
func (e *Endpoint) acceptHandshake(qc *quic.Conn) (identity.PublicKey, Hello, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.HandshakeTimeout)
	defer cancel()
	qs, err := qc.AcceptStream(ctx)
	if err != nil {
		return identity.PublicKey{}, Hello{}, handshakeError("accept handshake stream: %w", err)
	}
	defer closeQUICStream(qs)
	if qs.StreamID() != 0 {
		return identity.PublicKey{}, Hello{}, handshakeError("first stream has id %d, want 0", qs.StreamID())
	}
	deadline, _ := ctx.Deadline()
	if err := qs.SetDeadline(deadline); err != nil {
		return identity.PublicKey{}, Hello{}, handshakeError("set deadline: %w", err)
	}
	prologue, err := exporterValue(qc)
	if err != nil {
		return identity.PublicKey{}, Hello{}, err
	}
	return serverHandshake(qs, prologue, e.local, e.hello(), qc.ConnectionState().TLS.NegotiatedProtocol)
}

// dialHandshake runs the initiator side of the handshake on a new stream.
func (e *Endpoint) dialHandshake(ctx context.Context, qc *quic.Conn, want *identity.PublicKey) (identity.PublicKey, Hello, error) {
	qs, err := qc.OpenStreamSync(ctx)
	if err != nil {
		return identity.PublicKey{}, Hello{}, handshakeError("open handshake stream: %w", err)
	}
	defer closeQUICStream(qs)
	if deadline, ok := ctx.Deadline(); ok {
		if err := qs.SetDeadline(deadline); err != nil {
			return identity.PublicKey{}, Hello{}, handshakeError("set deadline: %w", err)
		}
	}
	prologue, err := exporterValue(qc)
	if err != nil {
		return identity.PublicKey{}, Hello{}, err
	}
	return clientHandshake(qs, prologue, e.local, e.hello(), qc.ConnectionState().TLS.NegotiatedProtocol, want)
}

// hello is what this endpoint says in a handshake: its version range and
// the stream kinds it serves now.
func (e *Endpoint) hello() Hello {
	h := e.versions
	e.hmu.RLock()
	for k := range e.streamHandlers {
		if k < 64 {
			h.Caps |= 1 << k
		}
	}
	e.hmu.RUnlock()
	return h
}

// exporterValue is the channel binding of qc: both ends of one TLS session
// compute the same value, two sessions never do.
func exporterValue(qc *quic.Conn) ([]byte, error) {
	st := qc.ConnectionState().TLS
	v, err := st.ExportKeyingMaterial(exporterLabel, nil, exporterLen)
	if err != nil {
		return nil, handshakeError("tls exporter: %w", err)
	}
	return v, nil
}

// handshakeFailed counts, logs and closes a connection whose handshake
// failed, with an error code that tells the peer why.
func (e *Endpoint) handshakeFailed(qc *quic.Conn, err error) {
	e.stats.handshakeFailures.Add(1)
	code, reason := codeHandshakeFailed, "handshake failed"
	switch {
	case errors.Is(err, ErrVersion):
		code, reason = codeVersion, "no common protocol version"
		e.log.Warn("refused a peer with no protocol version in common", "remote", qc.RemoteAddr(), "err", err)
	case errors.Is(err, ErrPeerMismatch):
		e.stats.peerMismatches.Add(1)
		code, reason = codePeerMismatch, "peer identity mismatch"
	case errors.Is(err, ErrSelfDial):
		code, reason = codeSelf, "connected to self"
	case errors.Is(err, ErrClosed) || e.ctx.Err() != nil:
		code, reason = codeShutdown, "shutting down"
	}
	e.log.Debug("handshake failed", "remote", qc.RemoteAddr(), "err", err)
	_ = qc.CloseWithError(code, reason)
}

func (e *Endpoint) dial(ctx context.Context, addr string, want *identity.PublicKey) (*Conn, error) {
	ap, err := resolveAddrPort(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("mesh: dial %s: %w", addr, err)
	}
	for {
		if want == nil {
			if c := e.connByAddr(ap); c != nil {
				return c, nil
			}
		} else if c := e.Conn(*want); c != nil {
			return c, nil
		}

		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, ErrClosed
		}
		call := e.dials[ap]
		if call == nil {
			call = &dialCall{done: make(chan struct{}), want: want}
			e.dials[ap] = call
			e.wg.Add(1)
			go e.runDial(ap, call)
		}
		e.mu.Unlock()

		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("mesh: dial %s: %w", addr, ctx.Err())
		}
		// An attempt that expected a different identity tells us nothing
		// about ours: look again, and dial ourselves if still needed.
		if call.want != nil && (want == nil || *call.want != *want) {
			continue
		}
		if call.err != nil {
			return nil, call.err
		}
		if want != nil && call.conn.peer != *want {
			// The shared attempt accepted any identity; the connection
			// stays for the callers that wanted it.
			e.stats.peerMismatches.Add(1)
			return nil, fmt.Errorf("mesh: dial %s: %w", addr, &PeerMismatchError{Want: *want, Got: call.conn.peer})
		}
		return call.conn, nil
	}
}

// runDial performs one shared dial attempt and then, on success, serves
// the connection for its lifetime. On failure the connection slot is
// released before waiting callers are woken, so they observe the final
// state.
func (e *Endpoint) runDial(ap netip.AddrPort, call *dialCall) {
	defer e.wg.Done()
	finish := func(c *Conn, err error) {
		if err != nil {
			err = fmt.Errorf("mesh: dial %s: %w", ap, err)
		}
		call.conn, call.err = c, err
		e.mu.Lock()
		delete(e.dials, ap)
		e.mu.Unlock()
		close(call.done)
	}
	if err := e.acquireSlot(); err != nil {
		finish(nil, err)
		return
	}
	c, err := e.connect(ap, call.want)
	if err != nil {
		finish(nil, err)
		return
	}
	finish(c, nil)
	e.serveConn(c)
	e.releaseSlot(c.qc)
}

// connect dials ap and runs the handshake, using a slot the caller
// acquired; on failure it releases the slot.
func (e *Endpoint) connect(ap netip.AddrPort, want *identity.PublicKey) (*Conn, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.DialTimeout)
	defer cancel()
	qc, err := e.tr.Dial(ctx, net.UDPAddrFromAddrPort(ap), e.clientTLS, e.quicConf)
	if err != nil && isNoALPN(err) {
		err = &VersionError{Local: e.versions}
	}
	if err != nil {
		e.releaseSlot(nil)
		if e.ctx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, err
	}
	if !e.track(qc) {
		_ = qc.CloseWithError(codeShutdown, "shutting down")
		e.releaseSlot(nil)
		return nil, ErrClosed
	}
	peer, hello, err := e.dialHandshake(ctx, qc, want)
	if err != nil {
		e.handshakeFailed(qc, err)
		e.releaseSlot(qc)
		return nil, err
	}
	if err := e.admitPeer(qc, peer); err != nil {
		e.releaseSlot(qc)
		return nil, err
	}
	c, err := e.register(qc, peer, hello, true)
	if err != nil {
		e.releaseSlot(qc)
		return nil, err
	}
	return c, nil
}

// register binds an authenticated QUIC connection to its peer, replacing
// (and closing) an older connection in the same direction.
func (e *Endpoint) register(qc *quic.Conn, peer identity.PublicKey, hello Hello, outbound bool) (*Conn, error) {
	c := &Conn{e: e, qc: qc, peer: peer, hello: hello, outbound: outbound, remote: addrPortOf(qc.RemoteAddr())}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = qc.CloseWithError(codeShutdown, "shutting down")
		return nil, ErrClosed
	}
	e.seq++
	c.seq = e.seq
	pc := e.peers[peer]
	if pc == nil {
		pc = &peerConns{}
		e.peers[peer] = pc
	}
	var old *Conn
	if outbound {
		old, pc.out = pc.out, c
	} else {
		old, pc.in = pc.in, c
	}
	e.byAddr[c.remote] = c
	e.knowAddrLocked(c.remote)
	e.mu.Unlock()

	if old != nil {
		_ = old.qc.CloseWithError(codeReplaced, "replaced by a newer connection")
	}
	e.log.Debug("peer connected", "peer", peer.Short(), "remote", c.remote, "outbound", outbound)
	return c, nil
}

func (e *Endpoint) unregister(c *Conn) {
	e.mu.Lock()
	if pc := e.peers[c.peer]; pc != nil {
		if pc.in == c {
			pc.in = nil
		}
		if pc.out == c {
			pc.out = nil
		}
		if pc.in == nil && pc.out == nil {
			delete(e.peers, c.peer)
		}
	}
	if e.byAddr[c.remote] == c {
		delete(e.byAddr, c.remote)
	}
	e.mu.Unlock()
	e.log.Debug("peer disconnected", "peer", c.peer.Short(), "remote", c.remote)
}

// serveConn accepts streams on an authenticated connection until it
// closes, then unregisters it.
func (e *Endpoint) serveConn(c *Conn) {
	defer e.unregister(c)
	e.wg.Add(1)
	go e.readDatagrams(c)
	ctx := c.qc.Context()
	for {
		qs, err := c.qc.AcceptStream(ctx)
		if err != nil {
			return
		}
		e.wg.Add(1)
		go e.serveStream(c, qs)
	}
}

// serveStream reads the kind byte of an incoming stream and runs its
// handler; streams of unknown kind are reset.
func (e *Endpoint) serveStream(c *Conn, qs *quic.Stream) {
	defer e.wg.Done()
	var hdr [1]byte
	_ = qs.SetReadDeadline(time.Now().Add(e.cfg.StreamHeaderTimeout))
	if _, err := io.ReadFull(qs, hdr[:]); err != nil {
		e.stats.badStreams.Add(1)
		resetQUICStream(qs, streamCodeBadHeader)
		return
	}
	_ = qs.SetReadDeadline(time.Time{})
	kind := Kind(hdr[0])
	e.hmu.RLock()
	h := e.streamHandlers[kind]
	e.hmu.RUnlock()
	if h == nil {
		e.stats.badStreams.Add(1)
		e.log.Debug("reset stream of unknown kind", "peer", c.peer.Short(), "kind", kind)
		resetQUICStream(qs, streamCodeUnknownKind)
		return
	}
	s := newStream(c, qs, kind)
	defer s.Close()
	h(c.qc.Context(), c.peer, s)
}

// readDatagrams dispatches the connection's datagrams until it closes.
func (e *Endpoint) readDatagrams(c *Conn) {
	defer e.wg.Done()
	ctx := c.qc.Context()
	from := c.qc.RemoteAddr()
	for {
		b, err := c.qc.ReceiveDatagram(ctx)
		if err != nil {
			return
		}
		if len(b) == 0 {
			e.stats.droppedDatagrams.Add(1)
			continue
		}
		e.hmu.RLock()
		h := e.datagramHandlers[Kind(b[0])]
		e.hmu.RUnlock()
		if h == nil {
			e.stats.droppedDatagrams.Add(1)
			continue
		}
		h(c.peer, from, b[1:])
	}
}

// Conn is an authenticated QUIC connection bound to a verified peer.
type Conn struct {
	e        *Endpoint
	qc       *quic.Conn
	peer     identity.PublicKey
	hello    Hello // the peer's protocol versions and capabilities
	outbound bool
	remote   netip.AddrPort
	seq      uint64 // registration order; guarded by Endpoint.mu after register
}

// Peer returns the verified identity of the remote end.
func (c *Conn) Peer() identity.PublicKey { return c.peer }

// Hello returns what the peer said in the handshake: its protocol
// versions and the stream kinds it serves.
func (c *Conn) Hello() Hello { return c.hello }

// RemoteAddr returns the peer's UDP address.
func (c *Conn) RemoteAddr() net.Addr { return c.qc.RemoteAddr() }

// LocalAddr returns the endpoint's UDP address.
func (c *Conn) LocalAddr() net.Addr { return c.qc.LocalAddr() }

// Outbound reports whether this endpoint dialed the connection.
func (c *Conn) Outbound() bool { return c.outbound }

// Done is closed when the connection closes.
func (c *Conn) Done() <-chan struct{} { return c.qc.Context().Done() }

func (c *Conn) alive() bool { return c.qc.Context().Err() == nil }

// Close closes the connection, for instance to drop a misbehaving peer.
func (c *Conn) Close() error {
	return c.qc.CloseWithError(codeClosedByApp, "closed")
}

// OpenStream opens a stream of kind to the peer; it blocks while the peer's
// stream limit is reached, until ctx is done. If c has closed but a newer
// connection to the same peer exists, the stream opens on that one. The
// caller must Close the stream.
func (c *Conn) OpenStream(ctx context.Context, kind Kind) (*Stream, error) {
	if kind == 0 {
		return nil, fmt.Errorf("%w: kind 0 is reserved", ErrUnsupportedKind)
	}
	if !c.alive() {
		// A connection replaced by a newer one to the same peer hands
		// over to it, so holders of the old *Conn keep working.
		if newer := c.e.Conn(c.peer); newer != nil {
			c = newer
		}
	}
	qs, err := c.qc.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("mesh: open stream to %s: %w", c.peer.Short(), err)
	}
	if _, err := qs.Write([]byte{byte(kind)}); err != nil {
		resetQUICStream(qs, streamCodeClosed)
		return nil, fmt.Errorf("mesh: open stream to %s: %w", c.peer.Short(), err)
	}
	return newStream(c, qs, kind), nil
}

// SendDatagram sends payload to the peer as one unreliable QUIC datagram
// of kind. payload is copied; it must not exceed MaxDatagramSize.
func (c *Conn) SendDatagram(kind Kind, payload []byte) error {
	if kind == 0 {
		return fmt.Errorf("%w: kind 0 is reserved", ErrUnsupportedKind)
	}
	if len(payload) > MaxDatagramSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrPacketTooLarge, len(payload), MaxDatagramSize)
	}
	buf := make([]byte, 1+len(payload))
	buf[0] = byte(kind)
	copy(buf[1:], payload)
	if err := c.qc.SendDatagram(buf); err != nil {
		var tooLarge *quic.DatagramTooLargeError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("%w: %d bytes, path allows %d", ErrPacketTooLarge, len(payload), tooLarge.MaxDatagramPayloadSize-1)
		}
		return fmt.Errorf("mesh: send datagram to %s: %w", c.peer.Short(), err)
	}
	return nil
}

// closeQUICStream closes both directions of qs.
func closeQUICStream(qs *quic.Stream) {
	_ = qs.Close()
	qs.CancelRead(streamCodeClosed)
}

// resetQUICStream aborts both directions of qs with code.
func resetQUICStream(qs *quic.Stream, code quic.StreamErrorCode) {
	qs.CancelRead(code)
	qs.CancelWrite(code)
}

// resolveAddrPort resolves "host:port" to one address, preferring IPv4.
func resolveAddrPort(ctx context.Context, addr string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("invalid port %q", portStr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("no address for %q", host)
	}
	best := ips[0]
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			best = ip
			break
		}
	}
	return netip.AddrPortFrom(best.Unmap(), uint16(port)), nil
}

// addrPortOf converts a UDP net.Addr to a normalized netip.AddrPort.
func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
