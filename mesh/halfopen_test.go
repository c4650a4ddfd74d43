package mesh

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// halfOpenFlood opens ips × perIP QUIC connections to addr that finish
// TLS but never start the Noise handshake, from 127.0.0.(firstIP+i), two
// source ports per IP. It returns once every dial has returned, with the
// number that finished the QUIC handshake (and so reached the target's
// accept loop); the connections stay open (keep-alives) until the test
// ends or the target closes them.
func halfOpenFlood(t *testing.T, addr string, firstIP, ips, perIP int) int {
	t.Helper()
	_, client, err := tlsConfigs()
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conf := &quic.Config{KeepAlivePeriod: time.Second, MaxIdleTimeout: time.Minute, HandshakeIdleTimeout: waitTimeout}
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var dialed atomic.Int64
	// Few dials at a time, so that QUIC's own accept queue does not
	// turn any away: every connection reaches the endpoint's checks.
	inFlight := make(chan struct{}, 8)
	for i := range ips {
		ip := net.IPv4(127, 0, 0, byte(firstIP+i))
		for port := range 2 {
			udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
			if err != nil {
				t.Skipf("cannot bind %s (loopback addresses beyond 127.0.0.1 unavailable): %v", ip, err)
			}
			tr := &quic.Transport{Conn: udp}
			t.Cleanup(func() { _ = tr.Close(); _ = udp.Close() })
			n := perIP / 2
			if port == 0 {
				n += perIP % 2
			}
			for range n {
				wg.Add(1)
				inFlight <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-inFlight }()
					// Refused or evicted connections fail or close:
					// that is the point.
					if qc, err := tr.Dial(ctx, raddr, client, conf); err == nil {
						dialed.Add(1)
						t.Cleanup(func() { _ = qc.CloseWithError(0, "") })
					}
				}()
			}
		}
	}
	wg.Wait()
	return int(dialed.Load())
}

// An attacker holding hundreds of connections that never authenticate,
// from many addresses, does not keep a new honest peer from connecting
// and syncing.
func TestHalfOpenFloodLeavesRoomForPeers(t *testing.T) {
	repo := testRepo("a")
	ra, rb := newMemReplica(repo), newMemReplica(repo)
	ra.writeChain(repo, 1, 30, "a", [32]byte{})
	// A long handshake timeout keeps the flood's connections alive for
	// the whole test, whatever the machine's speed.
	b := startNode(t, rb, func(c *NodeConfig) { c.Transport.HandshakeTimeout = time.Minute })
	a := startNode(t, ra, nil)

	const ips, perIP = 30, 10
	dialed := halfOpenFlood(t, b.ep.Addr().String(), 2, ips, perIP)
	t.Logf("%d of %d flood connections finished the QUIC handshake", dialed, ips*perIP)
	waitFor(t, "the flood to be counted", func() bool {
		s := b.ep.Stats()
		return s.Conns+int(s.RefusedConns+s.EvictedConns) >= dialed
	})

	connect(t, a, b)
	rep, err := a.SyncWith(testContext(t), b.ID(), repo)
	if err != nil {
		t.Fatalf("SyncWith during the flood: %v", err)
	}
	if rep.Sent != 30 || !sameOps(ra, rb, repo) {
		t.Errorf("sync sent %d ops, replicas equal %v; want 30, true", rep.Sent, sameOps(ra, rb, repo))
	}
	s := b.ep.Stats()
	t.Logf("after the flood: %+v", s)
	if s.HalfOpen > b.ep.cfg.MaxHalfOpen {
		t.Errorf("%d half-open connections, want at most MaxHalfOpen %d", s.HalfOpen, b.ep.cfg.MaxHalfOpen)
	}
}

func TestHalfOpenBounds(t *testing.T) {
	const maxHalfOpen, perIP = 12, 3
	b := newEndpoint(t, func(c *Config) {
		c.MaxConns = 32
		c.MaxHalfOpen = maxHalfOpen
		c.MaxHalfOpenPerIP = perIP
		c.HandshakeTimeout = time.Minute
	})
	mustRegister(t, b, KindSync, echoFrames)
	ctx := testContext(t)

	// A peer that authenticated once is known by its address.
	known := newEndpoint(t)
	c, err := known.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	waitFor(t, "the known peer to disconnect", func() bool { return b.Conn(known.ID()) == nil })

	t.Run("per IP", func(t *testing.T) {
		dialed := halfOpenFlood(t, addrOf(b), 2, 1, 20)
		waitFor(t, "the flood to be counted", func() bool {
			s := b.Stats()
			return s.HalfOpen+int(s.RefusedConns) >= dialed
		})
		if s := b.Stats(); dialed >= perIP && (s.HalfOpen != perIP || int(s.RefusedConns) != dialed-perIP) {
			t.Errorf("one IP: %d half-open, %d refused; want %d, %d", s.HalfOpen, s.RefusedConns, perIP, dialed-perIP)
		}
	})
	waitFor(t, "the first flood to close", func() bool { return b.Stats().HalfOpen == 0 })

	t.Run("global", func(t *testing.T) {
		// 8 IPs × 3 fill MaxHalfOpen; newcomers from busy IPs are refused
		// or evict, so the count never exceeds it.
		start := b.Stats()
		dialed := halfOpenFlood(t, addrOf(b), 10, 8, perIP)
		if dialed < maxHalfOpen+1 {
			t.Skipf("only %d of %d flood connections finished the QUIC handshake on this machine", dialed, 8*perIP)
		}
		// Each connection is half-open, refused or evicted.
		waitFor(t, "the flood to be counted", func() bool {
			s := b.Stats()
			return s.HalfOpen+int(s.RefusedConns+s.EvictedConns-start.RefusedConns-start.EvictedConns) == dialed
		})
		before := b.Stats()
		if before.HalfOpen != maxHalfOpen {
			t.Errorf("%d half-open after the flood, want MaxHalfOpen %d", before.HalfOpen, maxHalfOpen)
		}

		// The known peer gets in without displacing anyone.
		if _, err := known.DialPeer(ctx, addrOf(b), b.ID()); err != nil {
			t.Fatalf("known peer: %v", err)
		}
		if s := b.Stats(); s.EvictedConns != before.EvictedConns {
			t.Errorf("known peer evicted %d connections, want 0", s.EvictedConns-before.EvictedConns)
		}
		// A new peer from a quiet address evicts the oldest half-open
		// connection of the busiest one.
		fresh := newEndpoint(t)
		fc, err := fresh.DialPeer(ctx, addrOf(b), b.ID())
		if err != nil {
			t.Fatalf("new peer: %v", err)
		}
		if got, err := roundTrip(ctx, fc, KindSync, []byte("hello")); err != nil || string(got) != "hello" {
			t.Fatalf("round trip = %q, %v", got, err)
		}
		if s := b.Stats(); s.EvictedConns != before.EvictedConns+1 || s.HalfOpen > maxHalfOpen {
			t.Errorf("after new peer: %d evicted, %d half-open; want %d, at most %d",
				s.EvictedConns, s.HalfOpen, before.EvictedConns+1, maxHalfOpen)
		}
	})
}

func TestHalfOpenConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg         Config
		half, perIP int
	}{
		{Config{}, 64, 8},
		{Config{MaxConns: 1}, 1, 1},
		{Config{MaxConns: 20}, 5, 5},
		{Config{MaxHalfOpen: 100, MaxHalfOpenPerIP: 10}, 100, 10},
	} {
		got := tc.cfg.withDefaults()
		if got.MaxHalfOpen != tc.half || got.MaxHalfOpenPerIP != tc.perIP || got.validate() != nil {
			t.Errorf("withDefaults(%+v) = half-open %d, per IP %d, validate %v; want %d, %d, nil",
				tc.cfg, got.MaxHalfOpen, got.MaxHalfOpenPerIP, got.validate(), tc.half, tc.perIP)
		}
	}
	bad := Config{MaxHalfOpen: 300}.withDefaults()
	if err := bad.validate(); err == nil {
		t.Error("validate(MaxHalfOpen 300 > MaxConns 256) = nil, want an error")
	}
}
