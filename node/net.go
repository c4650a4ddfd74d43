package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"murmur/identity"
	"murmur/mesh"
)

// MeshConfig turns on networking: the node joins the mesh and replicates
// its followed repos. The zero value listens on mesh.DefaultPort on every
// interface and joins only its address book.
type MeshConfig struct {
	// Listen is the UDP "host:port" to listen on. Default ":7788"
	// (mesh.DefaultPort on every interface); ":0" picks a free port.
	Listen string
	// Advertise is the "ip:port" peers should dial when it differs from
	// the listen address (NAT, port forwarding). Default: the listen
	// address, or a private interface address when listening on all.
	Advertise string
	// Join lists peers ("host:port", or "did:key:…/host:port" to insist
	// on an identity) joined at start and whenever the node finds itself
	// alone. Peers the node has met are remembered in its address book
	// and joined too.
	Join []string
	// SeedAll follows every repo a peer announces.
	SeedAll bool
	// PushPullInterval is how often the node compares Merkle roots with
	// a random peer (and syncs what differs). Default 30s.
	PushPullInterval time.Duration
	// GossipInterval is the gossip period. Default 100ms.
	GossipInterval time.Duration
	// LANDiscovery announces the node on the local network and joins the
	// murmur nodes it finds there (mDNS / DNS-SD, package discovery).
	LANDiscovery bool
	// Manual keeps the node from joining peers by itself (at start, and
	// when it finds itself alone); only Sync and Follow join. A node
	// started for one command uses it.
	Manual bool
	// Dial lists the peers ("host:port" or "did:key:…/host:port") a
	// Manual node is about to sync with: Open connects to them while
	// the store opens, so that the handshakes cost no time of their
	// own. Default none.
	Dial []string
}

// DefaultPort is the UDP port a node listens on unless told otherwise.
const DefaultPort = mesh.DefaultPort

// Timing of the node's maintenance loop.
const (
	releaseInterval  = 5 * time.Second  // hand parked ops back to the store
	bookInterval     = 30 * time.Second // save the address book
	healInterval     = 2 * time.Second  // look at memberlist's view for a cut-off node
	rejoinMin        = 2 * time.Second  // first backoff between rejoin attempts
	rejoinMax        = time.Minute      // backoff cap
	joinTimeout      = 15 * time.Second
	maxBookEntries   = 256
	bookPrefix       = "peer/"
	defaultSyncLimit = 30 * time.Second
)

// bookEntry is an address book record, stored as JSON under bookPrefix +
// the peer's did:key. Format version 1: {"addr": "ip:port", "seen": time,
// "lan": true} ("lan" only when LAN discovery found the peer).
type bookEntry struct {
	Addr string    `json:"addr"`
	Seen time.Time `json:"seen"`
	LAN  bool      `json:"lan,omitempty"` // found by LAN discovery
}

// startMesh starts networking with cfg.
func (n *Node) startMesh(ctx context.Context, cfg MeshConfig) error {
	key, err := n.signer()
	if err != nil {
		return fmt.Errorf("node: the mesh needs this node's identity: %w", err)
	}
	mc := mesh.NodeConfig{
		Key:              key,
		Transport:        meshTransport(cfg, n.log),
		Endpoint:         n.early.takeEndpoint(),
		Logger:           n.log,
		PushPullInterval: cfg.PushPullInterval,
		GossipInterval:   cfg.GossipInterval,
		// Anti-entropy runs on the push-pull period; a node started for
		// one command syncs once and needs no timer.
		AntiEntropyInterval: cfg.PushPullInterval,
	}
	if cfg.Manual {
		mc.AntiEntropyInterval = -1
	}
	mc.Admit = n.admitPeer
	mc.OnRepo = n.seedRepo(cfg.SeedAll)
	m, err := mesh.Start(ctx, mc, n.rep)
	if err != nil {
		return fmt.Errorf("node: start mesh on %s: %w", listenOrDefault(cfg.Listen), err)
	}
	n.mesh = m
	n.log.Info("mesh started", "listen", m.Endpoint().Addr().String(), "advertise", m.Addr(), "id", key.Public().DID())
	return nil
}

// meshTransport is the endpoint configuration of cfg.
func meshTransport(cfg MeshConfig, log *slog.Logger) mesh.Config {
	return mesh.Config{ListenAddr: cfg.Listen, AdvertiseAddr: cfg.Advertise, Logger: log}
}

// earlyDial connects a node started for one command to the peers it will
// sync with while its store opens (MeshConfig.Dial): it loads the
// identity, listens, and dials each peer. Sync then finds the
// connections made (mesh.Endpoint.Dial shares attempts in flight and
// reuses live connections), and the node's mesh takes the endpoint over.
type earlyDial struct {
	done   chan struct{} // closed once key, keyErr and ep are set
	key    *identity.Key
	keyErr error
	ep     *mesh.Endpoint // nil when it could not listen; startMesh listens then
	cancel context.CancelFunc
	wg     sync.WaitGroup // the dials
}

// startEarlyDial starts the dials of cfg.Mesh.Dial, or returns nil when
// there is nothing to dial early: the node is not Manual, no peer is
// named, a peer address is malformed (Sync reports it) or the node has no
// identity yet (it is created when the mesh starts).
func startEarlyDial(cfg Config) *earlyDial {
	mc := cfg.Mesh
	if mc == nil || !mc.Manual || len(mc.Dial) == 0 {
		return nil
	}
	addrs, err := normalizePeers(mc.Dial)
	if err != nil {
		return nil
	}
	path := filepath.Join(cfg.Home, KeyFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	e := &earlyDial{done: make(chan struct{}), cancel: cancel}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(e.done)
		e.key, e.keyErr = identity.Load(path, cfg.Passphrase)
		if e.keyErr != nil {
			return
		}
		ep, err := mesh.Listen(e.key, meshTransport(*mc, cfg.Logger))
		if err != nil {
			return
		}
		e.ep = ep
		for _, a := range dedupe(addrs) {
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				did, hostport, hasDID := strings.Cut(a, "/")
				if !hasDID {
					_, _ = ep.Dial(ctx, a)
					return
				}
				if want, err := identity.ParseDID(did); err == nil {
					_, _ = ep.DialPeer(ctx, hostport, want)
				}
			}()
		}
	}()
	return e
}

// loadedKey waits for the identity the early dial loaded.
func (e *earlyDial) loadedKey() (*identity.Key, error) {
	<-e.done
	return e.key, e.keyErr
}

// takeEndpoint hands the listening endpoint over (nil if none); the
// caller closes it from then on.
func (e *earlyDial) takeEndpoint() *mesh.Endpoint {
	if e == nil {
		return nil
	}
	<-e.done
	ep := e.ep
	e.ep = nil
	return ep
}

// stop ends the dials and closes the endpoint unless it was taken over.
func (e *earlyDial) stop() {
	if e == nil {
		return
	}
	e.cancel()
	<-e.done
	if e.ep != nil {
		_ = e.ep.Close()
		e.ep = nil
	}
	e.wg.Wait()
}

func listenOrDefault(s string) string {
	if s == "" {
		return mesh.DefaultConfig().ListenAddr
	}
	return s
}

// Mesh returns the node's mesh, nil when it runs offline.
func (n *Node) Mesh() *mesh.Node { return n.mesh }

// loop runs periodic maintenance until n.stop is closed: parked ops are
// released and the address book is saved.
func (n *Node) loop() {
	defer n.wg.Done()
	release := time.NewTicker(releaseInterval)
	defer release.Stop()
	book := time.NewTicker(bookInterval)
	defer book.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-release.C:
			n.release()
			n.expireRefusals(n.cfg.Now())
		case <-book.C:
			if n.mesh == nil {
				continue
			}
			n.saveBook()
		}
	}
}

// heal rejoins until n.stop is closed whenever memberlist's view shows the
// node cut off (see rejoinTargets). Attempts back off, jittered, from
// rejoinMin to rejoinMax while the condition lasts, and start over once
// it clears. Memberlist alone would not recover: a node that slept
// through its peers' failure detection is dead to them and they to it,
// and neither side probes or push-pulls a dead member again. Data
// converges meanwhile through the mesh's own anti-entropy timer.
func (n *Node) heal() {
	defer n.wg.Done()
	tick := time.NewTicker(healInterval)
	defer tick.Stop()
	var (
		backoff time.Duration
		next    time.Time
	)
	for {
		select {
		case <-n.stop:
			return
		case <-n.stopCtx.Done():
			return
		case <-tick.C:
		}
		targets := n.rejoinTargets()
		if len(targets) == 0 {
			backoff = 0
			continue
		}
		if time.Now().Before(next) {
			continue
		}
		joined, _ := n.joinKnown(n.stopCtx, targets, joinTimeout)
		backoff = min(max(2*backoff, rejoinMin), rejoinMax)
		next = time.Now().Add(mesh.Jitter(backoff))
		n.log.Info("rejoining the mesh", "tried", len(targets), "answered", joined, "next_in", backoff)
	}
}

// rejoinTargets returns the addresses to rejoin, none when memberlist's
// view needs no repair: the node is alone though it knows peers (the
// configured ones and its address book are returned), or a peer that
// memberlist declared dead talks to it again over QUIC (those peers are
// returned).
func (n *Node) rejoinTargets() []string {
	members := 0
	var back []string
	for _, p := range n.mesh.Peers() {
		if p.Member {
			members++
		}
		if p.Failed && p.Connected && p.Addr != "" && p.PenalizedUntil.IsZero() {
			back = append(back, p.ID.DID()+"/"+p.Addr)
		}
	}
	if members == 0 {
		return n.knownAddrs()
	}
	return back
}

// release hands parked ops whose time has come back to the store.
func (n *Node) release() {
	rep, err := n.store.Release()
	if err != nil {
		n.log.Warn("release parked ops", "err", err)
		return
	}
	n.rep.stored(rep.Applied)
}

// saveBook records the addresses of live peers in the address book.
func (n *Node) saveBook() {
	if n.mesh == nil {
		return
	}
	now := n.cfg.Now()
	for _, p := range n.mesh.Peers() {
		if !p.Member || p.Addr == "" {
			continue
		}
		b, _ := json.Marshal(bookEntry{Addr: p.Addr, Seen: now})
		if err := n.store.SetLocal(bookPrefix+p.ID.DID(), b); err != nil {
			n.log.Warn("save address book", "err", err)
			return
		}
	}
	n.pruneBook()
}

// book returns the address book, most recently seen first.
func (n *Node) book() []string {
	type rec struct {
		did string
		e   bookEntry
	}
	var recs []rec
	_ = n.store.LocalPrefix(bookPrefix, func(name string, v []byte) error {
		var e bookEntry
		if json.Unmarshal(v, &e) != nil || e.Addr == "" {
			return nil
		}
		recs = append(recs, rec{strings.TrimPrefix(name, bookPrefix), e})
		return nil
	})
	slices.SortFunc(recs, func(a, b rec) int { return b.e.Seen.Compare(a.e.Seen) })
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.did+"/"+r.e.Addr)
	}
	return out
}

// pruneBook keeps the maxBookEntries most recently seen peers.
func (n *Node) pruneBook() {
	all := n.book()
	for _, e := range all[min(len(all), maxBookEntries):] {
		did, _, _ := strings.Cut(e, "/")
		_ = n.store.SetLocal(bookPrefix+did, nil)
	}
}

// joinKnown joins addrs, or when addrs is empty the configured peers and
// the address book, all at once, each bounded by timeout. It returns how
// many answered and the errors of those that did not.
func (n *Node) joinKnown(ctx context.Context, addrs []string, timeout time.Duration) (int, []error) {
	if n.mesh == nil {
		return 0, nil
	}
	if len(addrs) == 0 && n.cfg.Mesh != nil {
		addrs = n.knownAddrs()
	}
	var joined atomic.Int32
	errs := eachPeer(ctx, addrs, timeout, func(ctx context.Context, a string) error {
		if _, err := n.mesh.Join(ctx, []string{a}); err != nil {
			return err
		}
		joined.Add(1)
		return nil
	})
	if joined.Load() > 0 {
		n.saveBook()
	}
	for _, err := range errs {
		n.log.Debug("join failed", "err", err)
	}
	return int(joined.Load()), errs
}

// eachPeer runs reach for every one of addrs (deduplicated) at once, each
// bounded by timeout, and returns why those that failed did not answer.
func eachPeer(ctx context.Context, addrs []string, timeout time.Duration, reach func(ctx context.Context, addr string) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, a := range dedupe(addrs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := reach(rctx, a); err != nil {
				mu.Lock()
				errs = append(errs, peerError(a, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// peerError says why the peer at addr did not answer, naming the address
// and the cause in words a user can act on, not as memberlist's or QUIC's
// error chain.
func peerError(addr string, err error) error {
	var je *mesh.JoinError
	if errors.As(err, &je) && len(je.Causes) == 1 {
		err = je.Causes[0]
	}
	var mismatch *mesh.PeerMismatchError
	msg := err.Error()
	switch {
	case errors.As(err, &mismatch):
		return fmt.Errorf("peer %s is not the identity asked for: %v", addr, mismatch)
	case errors.Is(err, mesh.ErrPenalized):
		return fmt.Errorf("peer %s is ignored for now: %v", addr, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		strings.Contains(msg, "no recent network activity"), strings.Contains(msg, "deadline exceeded"),
		strings.Contains(msg, "timeout"):
		return fmt.Errorf("peer %s did not answer: check that `murmur serve` runs there and that UDP to that port is not blocked", addr)
	case strings.Contains(msg, "connection refused"):
		return fmt.Errorf("peer %s refused the connection: nothing listens on that UDP port", addr)
	}
	for {
		rest, ok := strings.CutPrefix(msg, "mesh: ")
		if !ok {
			break
		}
		msg = rest
	}
	return fmt.Errorf("peer %s: %s", addr, strings.ReplaceAll(msg, "\n", "; "))
}

// joinErrorText joins the errors of peerError into one line.
func joinErrorText(errs []error) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// knownAddrs returns the configured peers and the address book, most
// recently seen first, without repeats.
func (n *Node) knownAddrs() []string {
	return dedupe(append(slices.Clone(n.cfg.Mesh.Join), n.book()...))
}

// dedupe drops repeated addresses and, of a "did/addr" and a bare "addr"
// naming the same address, keeps the first.
func dedupe(addrs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		bare := a
		if i := strings.LastIndex(a, "/"); i >= 0 {
			bare = a[i+1:]
		}
		if a == "" || seen[bare] {
			continue
		}
		seen[bare] = true
		out = append(out, a)
	}
	return out
}

// NormalizePeerAddr checks a peer address as users type it, "host",
// "host:port" or "did:key:…/host:port", and returns it with the port
// (mesh.DefaultPort when none is given).
func NormalizePeerAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	prefix, addr := "", s
	if strings.HasPrefix(s, "did:key:") {
		did, rest, ok := strings.Cut(s, "/")
		if !ok {
			return "", fmt.Errorf("peer %q: want did:key:…/host:port", s)
		}
		if _, err := identity.ParseDID(did); err != nil {
			return "", fmt.Errorf("peer %q: %w", s, err)
		}
		prefix, addr = did+"/", rest
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// No port: a bare host or IPv6 address.
		host, port = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), strconv.Itoa(mesh.DefaultPort)
	}
	if p, perr := strconv.ParseUint(port, 10, 16); host == "" || perr != nil || p == 0 || strings.ContainsAny(host, " /") {
		return "", fmt.Errorf("peer %q is not host:port (for example 192.0.2.7:%d)", s, mesh.DefaultPort)
	}
	return prefix + net.JoinHostPort(host, port), nil
}
