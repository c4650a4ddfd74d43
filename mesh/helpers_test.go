package mesh

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"murmur/identity"
)

// waitTimeout bounds every poll in these tests. It is a safety net against
// hangs, not an assertion about speed.
const waitTimeout = 10 * time.Second

func newKey(t *testing.T) *identity.Key {
	t.Helper()
	k, err := identity.Generate()
	if err != nil {
		t.Fatalf("identity.Generate: %v", err)
	}
	return k
}

// newEndpoint starts an endpoint on a loopback port and closes it at the
// end of the test.
func newEndpoint(t *testing.T, opts ...func(*Config)) *Endpoint {
	t.Helper()
	return newEndpointWithKey(t, newKey(t), opts...)
}

func newEndpointWithKey(t *testing.T, key *identity.Key, opts ...func(*Config)) *Endpoint {
	t.Helper()
	cfg := Config{ListenAddr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := Listen(key, cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func addrOf(e *Endpoint) string { return e.Addr().String() }

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echoFrames is a handler that echoes frames of up to 1 KiB until EOF.
func echoFrames(_ context.Context, _ identity.PublicKey, s *Stream) {
	for {
		p, err := ReadFrame(s, 1024)
		if err != nil {
			return
		}
		if err := WriteFrame(s, p); err != nil {
			return
		}
	}
}

func mustRegister(t *testing.T, e *Endpoint, kind Kind, h Handler) {
	t.Helper()
	if err := e.RegisterHandler(kind, h); err != nil {
		t.Fatalf("RegisterHandler(%d): %v", kind, err)
	}
}

// roundTrip opens a stream of kind on c, sends msg as a frame and returns
// the frame sent back.
func roundTrip(ctx context.Context, c *Conn, kind Kind, msg []byte) ([]byte, error) {
	s, err := c.OpenStream(ctx, kind)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	if err := WriteFrame(s, msg); err != nil {
		return nil, err
	}
	return ReadFrame(s, 1024)
}

// checkServes asserts that e still completes a handshake and an echo
// round trip with a fresh endpoint.
func checkServes(t *testing.T, e *Endpoint, kind Kind) {
	t.Helper()
	ctx := testContext(t)
	probe := newEndpoint(t)
	c, err := probe.DialPeer(ctx, addrOf(e), e.ID())
	if err != nil {
		t.Fatalf("endpoint stopped serving: DialPeer: %v", err)
	}
	got, err := roundTrip(ctx, c, kind, []byte("still alive"))
	if err != nil || string(got) != "still alive" {
		t.Fatalf("endpoint stopped serving: round trip = %q, %v", got, err)
	}
}

// rawDial opens a bare QUIC connection (no Noise) to addr, speaking the
// murmur ALPN, for tests that misbehave on purpose.
func rawDial(t *testing.T, ctx context.Context, addr string) *quic.Conn {
	t.Helper()
	_, client, err := tlsConfigs()
	if err != nil {
		t.Fatal(err)
	}
	client.NextProtos = alpns(currentHello)
	qc, err := quic.DialAddr(ctx, addr, client, &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatalf("quic.DialAddr: %v", err)
	}
	t.Cleanup(func() { _ = qc.CloseWithError(0, "") })
	return qc
}

// readUntilError drains r and returns the error that ended it.
func readUntilError(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	if err == nil {
		return io.EOF
	}
	return err
}

func isHandshakeErr(err error) bool { return errors.Is(err, ErrHandshake) }
