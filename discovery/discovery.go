// Package discovery finds murmur peers on the local network with
// multicast DNS service discovery (mDNS, RFC 6762; DNS-SD, RFC 6763),
// through github.com/hashicorp/mdns.
//
// A node announces the service _murmur._udp. The announcement carries
// only what a peer needs to dial it: the node's identity key (TXT
// "id=did:key:…") and its mesh UDP port, at its interface addresses. The
// instance and host names are random per process, so the announcement
// does not carry the machine's name. A discovered peer is only an
// address: the mesh handshake proves its key before anything is
// exchanged, so a false announcement costs a failed dial and nothing
// else.
//
// Privacy: anyone on the same network learns that a murmur node with
// this identity key runs at this address. Nodes that must not be seen
// turn discovery off (Config in the caller: --lan-discovery=false).
//
// This package depends only on identity.
package discovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/mdns"

	"murmur/identity"
)

// ServiceType is the DNS-SD service type murmur nodes announce.
const ServiceType = "_murmur._udp"

// Format of the TXT record: "v=1" and "id=<did:key>".
const (
	txtVersion = "v=1"
	txtIDKey   = "id="
	maxDIDLen  = 128 // a did:key of an Ed25519 key is 56 characters
)

// Peer is a node found on the local network.
type Peer struct {
	ID   identity.PublicKey
	Addr netip.AddrPort
}

// Config configures discovery.
type Config struct {
	// ID is this node's identity key, announced and used to skip
	// ourselves.
	ID identity.PublicKey
	// Port is this node's mesh UDP port.
	Port int
	// Interval is how often the network is browsed; the first browse
	// runs at once. Default 30s.
	Interval time.Duration
	// QueryTimeout bounds one browse. Default 2s.
	QueryTimeout time.Duration
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

// Discovery announces this node and browses for others until Close.
type Discovery struct {
	cfg    Config
	server *mdns.Server
	found  func(Peer)
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ErrNoNetwork is returned by Start when no interface can carry
// multicast: discovery has nothing to do.
var ErrNoNetwork = errors.New("discovery: no network interface with multicast")

// quiet discards the mdns library's own log lines.
var quiet = log.New(io.Discard, "", 0)

// Start announces this node and browses the network every
// Config.Interval, calling found (from one goroutine, never
// concurrently) for every other node it sees, again on each browse.
func Start(cfg Config, found func(Peer)) (*Discovery, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("discovery: port %d out of range", cfg.Port)
	}
	ifaces, ips := lanInterfaces()
	if len(ifaces) == 0 {
		return nil, ErrNoNetwork
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	instance := "murmur-" + hex.EncodeToString(r[:])
	svc, err := mdns.NewMDNSService(instance, ServiceType, "", instance+".local.", cfg.Port, ips,
		[]string{txtVersion, txtIDKey + cfg.ID.DID()})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	server, err := mdns.NewServer(&mdns.Config{Zone: svc, Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("discovery: announce: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Discovery{cfg: cfg, server: server, found: found, cancel: cancel}
	d.wg.Add(1)
	go d.browseLoop(ctx, ifaces)
	return d, nil
}

// Close stops announcing and browsing.
func (d *Discovery) Close() error {
	d.cancel()
	d.wg.Wait()
	return d.server.Shutdown()
}

// retryMin is the first wait after a browse that failed (an interface
// still coming up, say); it doubles up to Config.Interval.
const retryMin = 2 * time.Second

func (d *Discovery) browseLoop(ctx context.Context, ifaces []lanIface) {
	defer d.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	retry := retryMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		failed := false
		for i := range ifaces {
			if err := d.browse(ctx, ifaces[i]); err != nil {
				failed = true
			}
		}
		if failed {
			t.Reset(min(retry, d.cfg.Interval))
			retry *= 2
			continue
		}
		retry = retryMin
		t.Reset(d.cfg.Interval)
	}
}

// browse asks one interface's network for murmur nodes, over IPv4 where
// the interface has an IPv4 address (every node on the link answers
// there) and over IPv6 otherwise.
func (d *Discovery) browse(ctx context.Context, li lanIface) error {
	iface := &li.Interface
	entries := make(chan *mdns.ServiceEntry, 32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range entries {
			if p, ok := parseEntry(e); ok && p.ID != d.cfg.ID {
				d.found(p)
			}
		}
	}()
	qctx, cancel := context.WithTimeout(ctx, d.cfg.QueryTimeout)
	err := mdns.QueryContext(qctx, &mdns.QueryParam{
		Service:     ServiceType,
		Domain:      "local",
		Timeout:     d.cfg.QueryTimeout,
		Interface:   iface,
		Entries:     entries,
		Logger:      quiet,
		DisableIPv6: li.v4,
		DisableIPv4: !li.v4,
	})
	cancel()
	close(entries)
	<-done
	if err != nil && ctx.Err() == nil {
		d.cfg.Logger.Debug("lan discovery: browse", "iface", iface.Name, "err", err)
		return err
	}
	return nil
}

// parseEntry reads a peer from an answer: the identity from the TXT
// record, the address from the A (else AAAA) record and the port.
func parseEntry(e *mdns.ServiceEntry) (Peer, bool) {
	var p Peer
	if e == nil || e.Port <= 0 || e.Port > 65535 {
		return p, false
	}
	idOK := false
	for _, f := range e.InfoFields {
		did, ok := strings.CutPrefix(f, txtIDKey)
		if !ok || len(did) > maxDIDLen {
			continue
		}
		id, err := identity.ParseDID(did)
		if err != nil {
			return p, false
		}
		p.ID, idOK = id, true
	}
	if !idOK {
		return p, false
	}
	var ip net.IP
	switch {
	case e.AddrV4 != nil:
		ip = e.AddrV4
	case e.AddrV6 != nil:
		ip = e.AddrV6
	default:
		return p, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	addr = addr.Unmap()
	if !ok || addr.IsUnspecified() || addr.IsMulticast() {
		return p, false
	}
	p.Addr = netip.AddrPortFrom(addr, uint16(e.Port))
	return p, true
}

// lanIface is an interface discovery browses on.
type lanIface struct {
	net.Interface
	v4 bool // it has an IPv4 address
}

// lanInterfaces returns the interfaces that are up, not loopback and
// carry multicast, with their unicast addresses.
func lanInterfaces() ([]lanIface, []net.IP) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, nil
	}
	var ifaces []lanIface
	var ips []net.IP
	for _, ifc := range all {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || ifc.Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		li := lanIface{Interface: ifc}
		has := false
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsLoopback() {
				continue
			}
			ips = append(ips, ipn.IP)
			has = true
			li.v4 = li.v4 || ipn.IP.To4() != nil
		}
		if has {
			ifaces = append(ifaces, li)
		}
	}
	return ifaces, ips
}
