package mesh

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flynn/noise"
	"github.com/quic-go/quic-go"

	"murmur/identity"
)

func TestEndpointHandshake(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	ctx := testContext(t)

	c, err := a.Dial(ctx, addrOf(b))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if c.Peer() != b.ID() || !c.Outbound() {
		t.Errorf("Dial: peer %s outbound %v, want %s outbound", c.Peer().Short(), c.Outbound(), b.ID().Short())
	}
	waitFor(t, "b to register a", func() bool { return b.Conn(a.ID()) != nil })
	if got := b.Conn(a.ID()); got.Peer() != a.ID() || got.Outbound() {
		t.Errorf("b's conn: peer %s outbound %v, want %s inbound", got.Peer().Short(), got.Outbound(), a.ID().Short())
	}

	// Dialing again, by address or by identity, reuses the connection.
	again, err := a.Dial(ctx, addrOf(b))
	if err != nil || again != c {
		t.Errorf("second Dial = %p, %v; want the existing conn %p", again, err, c)
	}
	byID, err := a.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil || byID != c {
		t.Errorf("DialPeer = %p, %v; want the existing conn %p", byID, err, c)
	}
	if s := b.Stats(); s.Conns != 1 || s.Peers != 1 || s.HandshakeFailures != 0 {
		t.Errorf("b.Stats() = %+v, want 1 conn, 1 peer, no failures", s)
	}
}

func TestConcurrentDialsShareOneConnection(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	ctx := testContext(t)
	const n = 8
	conns := make([]*Conn, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var c *Conn
			var err error
			if i%2 == 0 {
				c, err = a.DialPeer(ctx, addrOf(b), b.ID())
			} else {
				c, err = a.Dial(ctx, addrOf(b))
			}
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
			}
			conns[i] = c
		})
	}
	wg.Wait()
	for i, c := range conns {
		if c != conns[0] {
			t.Fatalf("dial %d returned a different conn", i)
		}
	}
	if s := a.Stats(); s.Conns != 1 {
		t.Errorf("a.Stats().Conns = %d, want 1", s.Conns)
	}
}

func TestStreamsOfEveryKindBothWays(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	kinds := []Kind{KindMemberlist, KindSync, KindFetch, 200}
	for _, e := range []*Endpoint{a, b} {
		for _, k := range kinds {
			k := k
			mustRegister(t, e, k, func(ctx context.Context, peer identity.PublicKey, s *Stream) {
				if s.Kind() != k || s.Peer() != peer {
					return
				}
				echoFrames(ctx, peer, s)
			})
		}
	}
	ctx := testContext(t)
	ab, err := a.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to register a", func() bool { return b.Conn(a.ID()) != nil })

	for _, k := range kinds {
		for _, dir := range []struct {
			name string
			from *Endpoint
			to   identity.PublicKey
		}{{"a to b", a, b.ID()}, {"b to a", b, a.ID()}} {
			t.Run(fmt.Sprintf("%s/kind %d", dir.name, k), func(t *testing.T) {
				s, err := dir.from.OpenStream(ctx, dir.to, k)
				if err != nil {
					t.Fatalf("OpenStream: %v", err)
				}
				defer s.Close()
				for _, msg := range [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{1}, 1024)} {
					if err := WriteFrame(s, msg); err != nil {
						t.Fatalf("WriteFrame: %v", err)
					}
					got, err := ReadFrame(s, 1024)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("echo of %d bytes = %d bytes, %v", len(msg), len(got), err)
					}
				}
				if s.Peer() != dir.to {
					t.Errorf("Stream.Peer() = %s, want %s", s.Peer().Short(), dir.to.Short())
				}
			})
		}
	}
	if _, err := a.OpenStream(ctx, newKey(t).Public(), KindSync); !errors.Is(err, ErrNotConnected) {
		t.Errorf("OpenStream to unknown peer = %v, want ErrNotConnected", err)
	}
	if _, err := ab.OpenStream(ctx, 0); !errors.Is(err, ErrUnsupportedKind) {
		t.Errorf("OpenStream(kind 0) = %v, want ErrUnsupportedKind", err)
	}
}

func TestOversizeFrameRejected(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	errs := make(chan error, 1)
	mustRegister(t, b, KindSync, func(_ context.Context, _ identity.PublicKey, s *Stream) {
		_, err := ReadFrame(s, 64)
		errs <- err
	})
	mustRegister(t, b, KindFetch, echoFrames)
	ctx := testContext(t)
	c, err := a.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.OpenStream(ctx, KindSync)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := WriteFrame(s, make([]byte, 65)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Errorf("handler ReadFrame = %v, want ErrFrameTooLarge", err)
		}
	case <-ctx.Done():
		t.Fatal("handler never read the frame")
	}
	// The stream was closed by the endpoint when the handler returned;
	// the connection and endpoint keep working.
	if err := readUntilError(s); err == nil {
		t.Error("stream still open after handler returned")
	}
	got, err := roundTrip(ctx, c, KindFetch, []byte("after"))
	if err != nil || string(got) != "after" {
		t.Errorf("round trip after oversize frame = %q, %v", got, err)
	}
}

func TestDialPeerMismatch(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	ctx := testContext(t)
	want := newKey(t).Public()

	_, err := a.DialPeer(ctx, addrOf(b), want)
	var pm *PeerMismatchError
	if !errors.As(err, &pm) || !errors.Is(err, ErrPeerMismatch) {
		t.Fatalf("DialPeer(wrong id) = %v, want *PeerMismatchError", err)
	}
	if pm.Want != want || pm.Got != b.ID() {
		t.Errorf("mismatch = want %s got %s; want want %s got %s", pm.Want.Short(), pm.Got.Short(), want.Short(), b.ID().Short())
	}
	if s := a.Stats(); s.PeerMismatches != 1 || s.Conns != 0 || s.Peers != 0 {
		t.Errorf("a.Stats() = %+v, want 1 mismatch and no connection", s)
	}
	// b saw the connection close before learning who dialed.
	waitFor(t, "b to drop the connection", func() bool { s := b.Stats(); return s.Conns == 0 && s.HandshakeFailures == 1 })
	if len(b.Peers()) != 0 {
		t.Errorf("b.Peers() = %v, want none", b.Peers())
	}
	if _, err := a.DialPeer(ctx, addrOf(a), a.ID()); !errors.Is(err, ErrSelfDial) {
		t.Errorf("DialPeer(self) = %v, want ErrSelfDial", err)
	}

	// A mismatched dial leaves an existing, correct connection alone.
	good, err := a.Dial(ctx, addrOf(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.DialPeer(ctx, addrOf(b), want); !errors.Is(err, ErrPeerMismatch) {
		t.Errorf("DialPeer(wrong id) with a live conn = %v, want ErrPeerMismatch", err)
	}
	if a.Conn(b.ID()) != good || !good.alive() {
		t.Error("mismatched dial disturbed the existing connection")
	}
}

func TestEndpointRefusesBadIdentity(t *testing.T) {
	mKey := newKey(t)
	probe, err := newLocalIdentity(mKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range badPayloads(t, mKey, probe) {
		t.Run(name, func(t *testing.T) {
			b := newEndpoint(t)
			mustRegister(t, b, KindFetch, echoFrames)
			m := newEndpointWithKey(t, mKey)
			// Re-sign the case for this endpoint's own Noise key where the
			// case is about the signature, by substituting the static key.
			m.local.static = probe.static
			m.local.payload = payload
			ctx := testContext(t)

			if _, err := m.Dial(ctx, addrOf(b)); !isHandshakeErr(err) {
				t.Errorf("bad initiator: Dial = %v, want ErrHandshake", err)
			}
			if _, err := b.Dial(ctx, addrOf(m)); !isHandshakeErr(err) {
				t.Errorf("bad responder: Dial = %v, want ErrHandshake", err)
			}
			waitFor(t, "b to count both failures", func() bool { return b.Stats().HandshakeFailures == 2 })
			if len(b.Peers()) != 0 {
				t.Errorf("b accepted %v", b.Peers())
			}
			checkServes(t, b, KindFetch)
		})
	}
}

// TestManInTheMiddle relays the handshake bytes verbatim between two
// QUIC sessions; channel binding makes it fail on both sides.
func TestManInTheMiddle(t *testing.T) {
	a := newEndpoint(t)
	b := newEndpoint(t, func(c *Config) { c.HandshakeTimeout = 2 * time.Second })
	mustRegister(t, b, KindFetch, echoFrames)
	ctx := testContext(t)

	serverTLS, clientTLS, err := tlsConfigs()
	if err != nil {
		t.Fatal(err)
	}
	withALPN(serverTLS, clientTLS, Hello{Version: ProtocolVersion, MinVersion: MinProtocolVersion}, nil)
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	t.Cleanup(func() { tr.Close(); udp.Close() })
	ln, err := tr.Listen(serverTLS, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		fromA, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		defer fromA.CloseWithError(0, "")
		toB, err := tr.Dial(ctx, b.Addr(), clientTLS, &quic.Config{})
		if err != nil {
			return
		}
		defer toB.CloseWithError(0, "")
		sa, err := fromA.AcceptStream(ctx)
		if err != nil {
			return
		}
		sb, err := toB.OpenStreamSync(ctx)
		if err != nil {
			return
		}
		// Forward bytes verbatim; when either side hangs up, hang up
		// on the other, as a real relay would.
		go func() {
			_, _ = io.Copy(sb, sa)
			_ = toB.CloseWithError(0, "")
		}()
		_, _ = io.Copy(sa, sb)
	}()

	_, err = a.Dial(ctx, udp.LocalAddr().String())
	if !isHandshakeErr(err) || !strings.Contains(err.Error(), "decrypt message 2") {
		t.Fatalf("Dial through relay = %v, want ErrHandshake from decrypting message 2", err)
	}
	<-relayed
	waitFor(t, "b to fail the relayed handshake", func() bool { return b.Stats().HandshakeFailures == 1 })
	if len(a.Peers()) != 0 || len(b.Peers()) != 0 {
		t.Errorf("peers after relay: a %v, b %v; want none", a.Peers(), b.Peers())
	}
	checkServes(t, b, KindFetch)
}

func TestMalformedHandshakeOverQUIC(t *testing.T) {
	b := newEndpoint(t, func(c *Config) { c.HandshakeTimeout = 500 * time.Millisecond })
	mustRegister(t, b, KindFetch, echoFrames)
	msg := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(body))), body...)
	}
	validMsg1 := func(t *testing.T) []byte {
		hs, err := noise.NewHandshakeState(noise.Config{CipherSuite: cipherSuite, Pattern: noise.HandshakeXX, Initiator: true})
		if err != nil {
			t.Fatal(err)
		}
		m, _, _, err := hs.WriteMessage(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return msg(m)
	}
	tests := []struct {
		name  string
		input func(t *testing.T) []byte
	}{
		{"oversize length prefix", func(*testing.T) []byte { return append([]byte{0xff, 0xff}, make([]byte, 2000)...) }},
		{"zero length", func(*testing.T) []byte { return []byte{0, 0} }},
		{"short noise message", func(*testing.T) []byte { return msg([]byte{1, 2, 3}) }},
		{"garbage message 3", func(t *testing.T) []byte { return append(validMsg1(t), msg(bytes.Repeat([]byte{7}, 161))...) }},
		{"stream closed at once", func(*testing.T) []byte { return nil }},
		{"silence until timeout", func(*testing.T) []byte { return []byte{} }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			qc := rawDial(t, ctx, addrOf(b))
			s, err := qc.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			in := tt.input(t)
			switch {
			case in == nil:
				_ = s.Close()
			case len(in) == 0:
				// Open the stream on the wire without sending a message.
				_, _ = s.Write(nil)
			default:
				_, _ = s.Write(in)
			}
			select {
			case <-qc.Context().Done():
			case <-ctx.Done():
				t.Fatal("endpoint did not close the connection")
			}
			var appErr *quic.ApplicationError
			if err := context.Cause(qc.Context()); !errors.As(err, &appErr) || appErr.ErrorCode != codeHandshakeFailed {
				t.Errorf("close cause = %v, want application error %#x", err, codeHandshakeFailed)
			}
			waitFor(t, "failure to be counted", func() bool { return b.Stats().HandshakeFailures == uint64(i+1) })
			checkServes(t, b, KindFetch)
		})
	}
}

func TestGarbageStreams(t *testing.T) {
	a := newEndpoint(t)
	b := newEndpoint(t, func(c *Config) { c.StreamHeaderTimeout = 500 * time.Millisecond })
	frameErrs := make(chan error, 1)
	mustRegister(t, b, KindSync, func(_ context.Context, _ identity.PublicKey, s *Stream) {
		_, err := ReadFrame(s, 1<<20)
		frameErrs <- err
	})
	mustRegister(t, b, KindFetch, echoFrames)
	ctx := testContext(t)
	c, err := a.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("unknown kind", func(t *testing.T) {
		s, err := c.OpenStream(ctx, 99)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := readUntilError(s); !errors.Is(err, ErrUnsupportedKind) {
			t.Errorf("read on unknown kind = %v, want ErrUnsupportedKind", err)
		}
	})
	t.Run("no kind byte", func(t *testing.T) {
		before := b.Stats().BadStreams
		qs, err := c.qc.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_ = qs.Close() // FIN without a kind byte
		waitFor(t, "reset to be counted", func() bool { return b.Stats().BadStreams == before+1 })
	})
	t.Run("garbage frame prefix", func(t *testing.T) {
		s, err := c.OpenStream(ctx, KindSync)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Write(bytes.Repeat([]byte{0xff}, 11)); err != nil {
			t.Fatal(err)
		}
		if err := <-frameErrs; !errors.Is(err, ErrMalformedFrame) {
			t.Errorf("handler ReadFrame = %v, want ErrMalformedFrame", err)
		}
	})
	got, err := roundTrip(ctx, c, KindFetch, []byte("ok"))
	if err != nil || string(got) != "ok" {
		t.Errorf("round trip after garbage = %q, %v", got, err)
	}
}

func TestDatagrams(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	got := make(chan []byte, 16)
	if err := b.RegisterDatagramHandler(KindMemberlist, func(peer identity.PublicKey, _ net.Addr, p []byte) {
		if peer == a.ID() {
			select {
			case got <- p:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	c, err := a.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to register a", func() bool { return b.Conn(a.ID()) != nil })

	payload := bytes.Repeat([]byte{0x5a}, MaxDatagramSize)
	// Datagrams are unreliable; resend until one arrives.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for received := false; !received; {
		if err := c.SendDatagram(KindMemberlist, payload); err != nil {
			t.Fatalf("SendDatagram(%d bytes): %v", len(payload), err)
		}
		select {
		case p := <-got:
			if !bytes.Equal(p, payload) {
				t.Fatalf("received %d bytes, want the %d sent", len(p), len(payload))
			}
			received = true
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("no datagram arrived")
		}
	}
	if err := c.SendDatagram(KindMemberlist, make([]byte, MaxDatagramSize+1)); !errors.Is(err, ErrPacketTooLarge) {
		t.Errorf("SendDatagram(too large) = %v, want ErrPacketTooLarge", err)
	}
	if err := c.SendDatagram(0, nil); !errors.Is(err, ErrUnsupportedKind) {
		t.Errorf("SendDatagram(kind 0) = %v, want ErrUnsupportedKind", err)
	}
	before := b.Stats().DroppedDatagrams
	_ = c.SendDatagram(KindSync, []byte("nobody listens"))
	waitFor(t, "unhandled datagram to be dropped", func() bool { return b.Stats().DroppedDatagrams > before })
}

func TestMaxConns(t *testing.T) {
	b := newEndpoint(t, func(c *Config) { c.MaxConns = 1 })
	a1, a2 := newEndpoint(t), newEndpoint(t)
	ctx := testContext(t)
	if _, err := a1.DialPeer(ctx, addrOf(b), b.ID()); err != nil {
		t.Fatalf("first dial: %v", err)
	}
	if _, err := a2.DialPeer(ctx, addrOf(b), b.ID()); err == nil {
		t.Fatal("second dial succeeded over MaxConns")
	}
	if s := b.Stats(); s.RefusedConns != 1 || s.Conns != 1 {
		t.Errorf("b.Stats() = %+v, want 1 refused, 1 conn", s)
	}
	a3 := newEndpoint(t, func(c *Config) { c.MaxConns = 1 })
	if _, err := a3.Dial(ctx, addrOf(a1)); err != nil {
		t.Fatal(err)
	}
	if _, err := a3.Dial(ctx, addrOf(a2)); !errors.Is(err, ErrTooManyConns) {
		t.Errorf("dial over own MaxConns = %v, want ErrTooManyConns", err)
	}
}

func TestReconnectReplacesConnection(t *testing.T) {
	aKey := newKey(t)
	b := newEndpoint(t)
	mustRegister(t, b, KindFetch, echoFrames)
	ctx := testContext(t)

	a1 := newEndpointWithKey(t, aKey)
	if _, err := a1.DialPeer(ctx, addrOf(b), b.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to register a1", func() bool { return b.Conn(aKey.Public()) != nil })
	old := b.Conn(aKey.Public())

	// The same identity comes back from a new process without closing
	// the old connection (a crash): b replaces it.
	a2 := newEndpointWithKey(t, aKey)
	c2, err := a2.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "old connection to close", func() bool {
		select {
		case <-old.Done():
			return true
		default:
			return false
		}
	})
	if cur := b.Conn(aKey.Public()); cur == nil || cur == old {
		t.Fatalf("b.Conn(a) = %v, want the new connection", cur)
	}
	got, err := roundTrip(ctx, c2, KindFetch, []byte("x"))
	if err != nil || string(got) != "x" {
		t.Errorf("round trip on new conn = %q, %v", got, err)
	}
	// A holder of the replaced *Conn is handed over to the new one.
	mustRegister(t, a2, KindFetch, echoFrames)
	got, err = roundTrip(ctx, old, KindFetch, []byte("y"))
	if err != nil || string(got) != "y" {
		t.Errorf("round trip on replaced conn = %q, %v", got, err)
	}
}

func TestSimultaneousDial(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	mustRegister(t, a, KindFetch, echoFrames)
	mustRegister(t, b, KindFetch, echoFrames)
	ctx := testContext(t)
	var wg sync.WaitGroup
	var ab, ba *Conn
	var errAB, errBA error
	wg.Go(func() { ab, errAB = a.DialPeer(ctx, addrOf(b), b.ID()) })
	wg.Go(func() { ba, errBA = b.DialPeer(ctx, addrOf(a), a.ID()) })
	wg.Wait()
	if errAB != nil || errBA != nil {
		t.Fatalf("dials: %v, %v", errAB, errBA)
	}
	for _, c := range []*Conn{ab, ba} {
		got, err := roundTrip(ctx, c, KindFetch, []byte("both"))
		if err != nil || string(got) != "both" {
			t.Errorf("round trip = %q, %v", got, err)
		}
	}
	if n := a.Stats().Conns; n > 2 {
		t.Errorf("a has %d connections, want at most 2", n)
	}
}

func TestCloseStopsHandlers(t *testing.T) {
	a, b := newEndpoint(t), newEndpoint(t)
	started := make(chan struct{})
	stopped := make(chan struct{})
	mustRegister(t, b, KindSync, func(ctx context.Context, _ identity.PublicKey, s *Stream) {
		close(started)
		<-ctx.Done()
		close(stopped)
	})
	ctx := testContext(t)
	c, err := a.DialPeer(ctx, addrOf(b), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.OpenStream(ctx, KindSync)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-started
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned while a handler was still running")
	}
	if _, err := b.Dial(ctx, addrOf(a)); !errors.Is(err, ErrClosed) {
		t.Errorf("Dial after Close = %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Error("peer's connection did not close")
	}
}

func TestRegisterHandler(t *testing.T) {
	e := newEndpoint(t)
	h := func(context.Context, identity.PublicKey, *Stream) {}
	if err := e.RegisterHandler(0, h); !errors.Is(err, ErrUnsupportedKind) {
		t.Errorf("RegisterHandler(0) = %v, want ErrUnsupportedKind", err)
	}
	if err := e.RegisterHandler(KindSync, h); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterHandler(KindSync, h); err == nil {
		t.Error("duplicate RegisterHandler succeeded")
	}
	e.UnregisterHandler(KindSync)
	if err := e.RegisterHandler(KindSync, h); err != nil {
		t.Errorf("RegisterHandler after Unregister: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultConfig().validate(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
	if got := (Config{}).withDefaults(); got.ListenAddr != ":7788" || got.MaxConns != 256 {
		t.Errorf("Config{}.withDefaults() = %+v", got)
	}
	bad := []struct {
		name string
		mod  func(*Config)
	}{
		{"negative MaxConns", func(c *Config) { c.MaxConns = -1 }},
		{"keepalive above idle", func(c *Config) { c.KeepAlivePeriod = time.Minute; c.IdleTimeout = time.Second }},
		{"negative timeout", func(c *Config) { c.DialTimeout = -time.Second }},
		{"tiny windows", func(c *Config) { c.MaxStreamReceiveWindow = 10 }},
		{"bad advertise address", func(c *Config) { c.AdvertiseAddr = "example.com" }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{ListenAddr: "127.0.0.1:0"}
			tt.mod(&cfg)
			if _, err := Listen(newKey(t), cfg); err == nil {
				t.Errorf("Listen accepted %s", tt.name)
			}
		})
	}
}
