package mesh

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"time"
)

// DefaultPort is the UDP port a node listens on when Config.ListenAddr is
// left empty. It is fixed so that peers can be named by host alone.
const DefaultPort = 7788

// Config configures an Endpoint. The zero value of every field means "use
// the default" documented on the field, so Config{} is a valid
// configuration; DefaultConfig returns the same values spelled out.
type Config struct {
	// ListenAddr is the UDP address the endpoint binds, as "host:port".
	// Dials and accepts share this one socket. Default ":7788"
	// (DefaultPort on every interface). Use "127.0.0.1:0" in tests.
	ListenAddr string

	// AdvertiseAddr is the "host:port" other peers should use to reach
	// this endpoint, when it differs from the bound address (NAT, port
	// forwarding). Default: the bound address, or a private interface
	// address when bound to an unspecified IP.
	AdvertiseAddr string

	// MaxConns bounds the number of QUIC connections, authenticated or
	// still handshaking, inbound and outbound together. Inbound
	// connections above the bound are closed at once; dials fail with
	// ErrTooManyConns. Default 256.
	MaxConns int

	// MaxHalfOpen bounds the inbound connections from unknown addresses
	// whose Noise handshake has not finished. It keeps the rest of
	// MaxConns for authenticated peers, so connections that never
	// authenticate cannot lock honest peers out. When it is reached, a
	// newcomer from an address with fewer half-open connections than
	// the busiest one evicts that address's oldest; otherwise it is
	// refused. Connections from known addresses (peers that
	// authenticated before, or that membership named) are not counted.
	// Default MaxConns/4, at least 1.
	MaxHalfOpen int

	// MaxHalfOpenPerIP bounds the half-open connections from unknown
	// addresses of one source IP; more are refused. Default 8, at most
	// MaxHalfOpen.
	MaxHalfOpenPerIP int

	// MaxIncomingStreams bounds the concurrent bidirectional streams a
	// peer may open on one connection (a QUIC transport parameter), and
	// therefore the handler goroutines one connection can cause.
	// Default 64.
	MaxIncomingStreams int

	// HandshakeTimeout bounds the Noise handshake of an accepted
	// connection, and is QUIC's handshake idle timeout. (Outbound
	// connections are bounded as a whole by DialTimeout.) The handshake
	// takes two round trips, so the default is short, to free the slot
	// of a connection that never authenticates soon. Default 5s.
	HandshakeTimeout time.Duration

	// DialTimeout bounds one outbound connection attempt (address
	// resolution, QUIC and Noise). Callers waiting on a dial may give up
	// earlier through their context; the attempt itself continues so
	// that concurrent callers can share it. Default 10s.
	DialTimeout time.Duration

	// IdleTimeout closes a connection after this long without any
	// packet from the peer. Default 30s.
	IdleTimeout time.Duration

	// KeepAlivePeriod is how often an idle connection sends a keep-alive
	// packet; it must be below IdleTimeout. Default 10s.
	KeepAlivePeriod time.Duration

	// StreamHeaderTimeout bounds how long an incoming stream may take to
	// deliver its kind byte before it is reset. Default 10s.
	StreamHeaderTimeout time.Duration

	// MaxStreamReceiveWindow and MaxConnReceiveWindow bound the QUIC
	// flow-control windows, and so the memory one stream or one
	// connection can pin in receive buffers. Defaults 4 MiB and 8 MiB.
	MaxStreamReceiveWindow int
	MaxConnReceiveWindow   int

	// Logger receives operational events (handshake failures, refused
	// connections) at debug and warn levels. Default: discard.
	Logger *slog.Logger

	// versions overrides the protocol versions this endpoint speaks
	// (zero: ProtocolVersion and MinProtocolVersion). Tests use it to
	// stand in for older and newer releases.
	versions Hello
}

// DefaultConfig returns the configuration used for zero-valued fields.
func DefaultConfig() Config {
	return Config{
		ListenAddr:             ":" + strconv.Itoa(DefaultPort),
		MaxConns:               256,
		MaxHalfOpen:            64,
		MaxHalfOpenPerIP:       8,
		MaxIncomingStreams:     64,
		HandshakeTimeout:       5 * time.Second,
		DialTimeout:            10 * time.Second,
		IdleTimeout:            30 * time.Second,
		KeepAlivePeriod:        10 * time.Second,
		StreamHeaderTimeout:    10 * time.Second,
		MaxStreamReceiveWindow: 4 << 20,
		MaxConnReceiveWindow:   8 << 20,
		Logger:                 slog.New(slog.DiscardHandler),
	}
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ListenAddr == "" {
		c.ListenAddr = d.ListenAddr
	}
	if c.MaxConns == 0 {
		c.MaxConns = d.MaxConns
	}
	if c.MaxHalfOpen == 0 {
		c.MaxHalfOpen = max(1, c.MaxConns/4)
	}
	if c.MaxHalfOpenPerIP == 0 {
		c.MaxHalfOpenPerIP = min(8, c.MaxHalfOpen)
	}
	if c.MaxIncomingStreams == 0 {
		c.MaxIncomingStreams = d.MaxIncomingStreams
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = d.HandshakeTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.KeepAlivePeriod == 0 {
		c.KeepAlivePeriod = d.KeepAlivePeriod
	}
	if c.StreamHeaderTimeout == 0 {
		c.StreamHeaderTimeout = d.StreamHeaderTimeout
	}
	if c.MaxStreamReceiveWindow == 0 {
		c.MaxStreamReceiveWindow = d.MaxStreamReceiveWindow
	}
	if c.MaxConnReceiveWindow == 0 {
		c.MaxConnReceiveWindow = d.MaxConnReceiveWindow
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// validate reports the first field of c (after defaults) that is out of
// range, with a message that names the field.
func (c Config) validate() error {
	var errs []error
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("MaxConns %d must be at least 1", c.MaxConns))
	}
	if c.MaxHalfOpen < 1 || c.MaxHalfOpen > c.MaxConns {
		errs = append(errs, fmt.Errorf("MaxHalfOpen %d must be between 1 and MaxConns %d", c.MaxHalfOpen, c.MaxConns))
	}
	if c.MaxHalfOpenPerIP < 1 || c.MaxHalfOpenPerIP > c.MaxHalfOpen {
		errs = append(errs, fmt.Errorf("MaxHalfOpenPerIP %d must be between 1 and MaxHalfOpen %d", c.MaxHalfOpenPerIP, c.MaxHalfOpen))
	}
	if c.MaxIncomingStreams < 1 {
		errs = append(errs, fmt.Errorf("MaxIncomingStreams %d must be at least 1", c.MaxIncomingStreams))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"HandshakeTimeout", c.HandshakeTimeout},
		{"DialTimeout", c.DialTimeout},
		{"IdleTimeout", c.IdleTimeout},
		{"KeepAlivePeriod", c.KeepAlivePeriod},
		{"StreamHeaderTimeout", c.StreamHeaderTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v must not be negative", d.name, d.v))
		}
	}
	if c.KeepAlivePeriod >= c.IdleTimeout {
		errs = append(errs, fmt.Errorf("KeepAlivePeriod %v must be shorter than IdleTimeout %v", c.KeepAlivePeriod, c.IdleTimeout))
	}
	if c.MaxStreamReceiveWindow < 64<<10 || c.MaxConnReceiveWindow < c.MaxStreamReceiveWindow {
		errs = append(errs, fmt.Errorf("receive windows (stream %d, conn %d) must be at least 64 KiB and conn >= stream",
			c.MaxStreamReceiveWindow, c.MaxConnReceiveWindow))
	}
	if c.AdvertiseAddr != "" {
		if _, err := netip.ParseAddrPort(c.AdvertiseAddr); err != nil {
			errs = append(errs, fmt.Errorf("AdvertiseAddr %q must be an IP:port: %w", c.AdvertiseAddr, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mesh: invalid config: %w", err)
	}
	return nil
}
