package node

import (
	"encoding/json"
	"errors"
	"net"
	"sync"
	"time"

	"murmur/discovery"
	"murmur/identity"
)

// lanRetry is the least time between two joins of one discovered peer
// that is not a member yet.
const lanRetry = time.Minute

// lan runs LAN discovery for a node: peers found are recorded in the
// address book, marked as LAN peers, and joined.
type lan struct {
	d *discovery.Discovery

	// mu guards tried: when each discovered peer was last joined.
	mu    sync.Mutex
	tried map[identity.PublicKey]time.Time
}

// startLAN starts discovery when the configuration asks for it. A
// network without multicast leaves the node as it was, with a log line.
func (n *Node) startLAN(cfg MeshConfig) {
	if !cfg.LANDiscovery || n.mesh == nil || cfg.Manual {
		return
	}
	ua, ok := n.mesh.Endpoint().Addr().(*net.UDPAddr)
	if !ok {
		return
	}
	if ua.IP.IsLoopback() {
		// Nobody on the network could dial a node bound to loopback.
		n.log.Info("lan discovery off: the node listens on loopback only", "listen", ua.String())
		return
	}
	port := ua.Port
	l := &lan{tried: map[identity.PublicKey]time.Time{}}
	d, err := discovery.Start(discovery.Config{ID: n.mesh.ID(), Port: port, Logger: n.log}, func(p discovery.Peer) {
		n.lanFound(l, p)
	})
	if err != nil {
		if errors.Is(err, discovery.ErrNoNetwork) {
			n.log.Info("lan discovery off: no network interface carries multicast")
		} else {
			n.log.Warn("lan discovery off", "err", err)
		}
		return
	}
	l.d = d
	n.lan = l
	n.log.Info("lan discovery on", "service", discovery.ServiceType, "port", port)
}

// stopLAN stops discovery; it runs before the mesh closes.
func (n *Node) stopLAN() {
	if n.lan != nil && n.lan.d != nil {
		_ = n.lan.d.Close()
	}
}

// lanFound records a discovered peer and joins it unless it is a member
// already or was tried within lanRetry. The join proves its identity.
func (n *Node) lanFound(l *lan, p discovery.Peer) {
	for _, m := range n.mesh.Peers() {
		if m.ID == p.ID && m.Member {
			return
		}
	}
	now := n.cfg.Now()
	l.mu.Lock()
	if t, ok := l.tried[p.ID]; ok && now.Sub(t) < lanRetry {
		l.mu.Unlock()
		return
	}
	l.tried[p.ID] = now
	l.mu.Unlock()

	addr := p.ID.DID() + "/" + p.Addr.String()
	n.log.Info("found a peer on the local network", "peer", p.ID.Short(), "addr", p.Addr.String())
	b, _ := json.Marshal(bookEntry{Addr: p.Addr.String(), Seen: now, LAN: true})
	if err := n.store.SetLocal(bookPrefix+p.ID.DID(), b); err != nil {
		n.log.Warn("save address book", "err", err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.joinKnown(n.stopCtx, []string{addr}, joinTimeout)
	}()
}
