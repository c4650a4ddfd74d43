package mesh

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestHandshakeVersions(t *testing.T) {
	_, a := newLocal(t)
	_, b := newLocal(t)
	p := bytes.Repeat([]byte{3}, exporterLen)
	future := Hello{Version: 3, MinVersion: 3, Caps: 1 << KindSync}

	t.Run("same release learns the peer's hello", func(t *testing.T) {
		c, s := pipeHandshake(t, a, b, p, p, nil)
		if c.err != nil || s.err != nil {
			t.Fatalf("client %v, server %v", c.err, s.err)
		}
		if c.hello != currentHello || s.hello != currentHello {
			t.Errorf("hellos learned: client %+v, server %+v; want %+v", c.hello, s.hello, currentHello)
		}
	})

	t.Run("version 1 handshake", func(t *testing.T) {
		c, s := pipeHandshakeVersions(t, a, b, currentHello, currentHello, alpnV1, p, p, nil)
		if c.err != nil || s.err != nil {
			t.Fatalf("client %v, server %v", c.err, s.err)
		}
		if c.hello != v1Hello || s.hello != v1Hello {
			t.Errorf("hellos learned: client %+v, server %+v; want %+v", c.hello, s.hello, v1Hello)
		}
	})

	// A newer peer that dropped our version: both ends refuse, and both
	// errors name both versions.
	for _, tc := range []struct {
		name           string
		client, server Hello
	}{
		{"newer responder", currentHello, future},
		{"newer initiator", future, currentHello},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := pipeHandshakeVersions(t, a, b, tc.client, tc.server, alpnV2, p, p, nil)
			for side, err := range map[string]error{"initiator": c.err, "responder": s.err} {
				var ve *VersionError
				if !errors.As(err, &ve) || !errors.Is(err, ErrVersion) || !errors.Is(err, ErrHandshake) {
					t.Fatalf("%s error = %v, want a *VersionError matching ErrVersion and ErrHandshake", side, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, "protocol 3") || !strings.Contains(msg, "protocol 2") {
					t.Errorf("%s error %q does not name both versions", side, msg)
				}
			}
		})
	}
}

func TestParseHelloBounds(t *testing.T) {
	good := appendHello(nil, currentHello)
	if h, err := parseHello(append(bytes.Clone(good), 1, 2, 3)); err != nil || h != currentHello {
		t.Errorf("hello with an extension = %+v, %v; want %+v (extensions ignored)", h, err, currentHello)
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"short":           good[:helloLen-1],
		"version 1 hello": appendHello(nil, Hello{Version: 1, MinVersion: 1}),
		"min above max":   appendHello(nil, Hello{Version: 2, MinVersion: 3}),
	} {
		if _, err := parseHello(b); err == nil {
			t.Errorf("%s: parseHello accepted %x", name, b)
		}
	}
}

// TestEndpointVersions runs releases that speak different protocol
// versions against this one over real QUIC connections.
func TestEndpointVersions(t *testing.T) {
	withVersions := func(h Hello) func(*Config) { return func(c *Config) { c.versions = h } }

	t.Run("a version 1 release connects", func(t *testing.T) {
		cur := newEndpoint(t)
		mustRegister(t, cur, KindFetch, echoFrames)
		old := newEndpoint(t, withVersions(Hello{Version: 1, MinVersion: 1}))
		mustRegister(t, old, KindFetch, echoFrames)
		ctx := testContext(t)
		c, err := cur.Dial(ctx, addrOf(old))
		if err != nil {
			t.Fatalf("dial old: %v", err)
		}
		if c.Hello() != v1Hello {
			t.Errorf("old peer's hello = %+v, want %+v", c.Hello(), v1Hello)
		}
		if _, err := old.Dial(ctx, addrOf(cur)); err != nil {
			t.Fatalf("old dials current: %v", err)
		}
		checkServes(t, cur, KindFetch)
	})

	t.Run("current releases advertise capabilities", func(t *testing.T) {
		a := newEndpoint(t)
		b := newEndpoint(t)
		mustRegister(t, b, KindFetch, echoFrames)
		c, err := a.Dial(testContext(t), addrOf(b))
		if err != nil {
			t.Fatal(err)
		}
		h := c.Hello()
		if h.Version != ProtocolVersion || !h.Caps.Has(KindFetch) || h.Caps.Has(KindSync) {
			t.Errorf("hello = %+v, want version %d serving fetch only", h, ProtocolVersion)
		}
	})

	t.Run("a release that dropped our version is refused on both sides", func(t *testing.T) {
		cur := newEndpoint(t)
		future := newEndpoint(t, withVersions(Hello{Version: 3, MinVersion: 3}))
		ctx := testContext(t)
		for name, dial := range map[string]func() error{
			"current dials future": func() error { _, err := cur.Dial(ctx, addrOf(future)); return err },
			"future dials current": func() error { _, err := future.Dial(ctx, addrOf(cur)); return err },
		} {
			err := dial()
			if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "protocol 3") || !strings.Contains(err.Error(), "protocol 2") {
				t.Errorf("%s: %v, want ErrVersion naming protocols 2 and 3", name, err)
			}
		}
		if len(cur.Peers()) != 0 || len(future.Peers()) != 0 {
			t.Errorf("peers after refusals: current %v, future %v", cur.Peers(), future.Peers())
		}
	})

	t.Run("no common ALPN is a version error", func(t *testing.T) {
		only2 := newEndpoint(t, withVersions(Hello{Version: 2, MinVersion: 2}))
		old := newEndpoint(t, withVersions(Hello{Version: 1, MinVersion: 1}))
		ctx := testContext(t)
		if _, err := only2.Dial(ctx, addrOf(old)); !errors.Is(err, ErrVersion) {
			t.Errorf("dial a version-1-only peer: %v, want ErrVersion", err)
		}
		if _, err := old.Dial(ctx, addrOf(only2)); !errors.Is(err, ErrVersion) {
			t.Errorf("version-1-only release dials: %v, want ErrVersion", err)
		}
	})
}

// FuzzPayload feeds arbitrary identity payloads, with and without a
// hello, to the parser the handshake runs on what a peer sends.
func FuzzPayload(f *testing.F) {
	k := mustKey(f)
	l, err := newLocalIdentity(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(l.payloadFor(alpnV2, currentHello), false)
	f.Add(l.payload, true)
	f.Add(appendHello(nil, currentHello), false)
	f.Fuzz(func(t *testing.T, p []byte, v1 bool) {
		proto := alpnV2
		if v1 {
			proto = alpnV1
		}
		id, h, err := verifyPayload(p, l.static.Public, proto)
		if err != nil {
			return
		}
		if id != k.Public() {
			t.Fatalf("payload verified for %s, only %s signed this static key", id.Short(), k.Public().Short())
		}
		if !v1 && (h.Version < 2 || h.MinVersion > h.Version) {
			t.Fatalf("accepted an impossible hello %+v", h)
		}
	})
}
