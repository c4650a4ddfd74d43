package mesh

import (
	"context"
	"io"
	"testing"

	"murmur/identity"
)

// BenchmarkHandshakeCPU measures both sides of the Noise handshake with
// identity verification, without network.
func BenchmarkHandshakeCPU(b *testing.B) {
	a, err := newLocalIdentity(mustKey(b))
	if err != nil {
		b.Fatal(err)
	}
	c, err := newLocalIdentity(mustKey(b))
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, exporterLen)
	b.ReportAllocs()
	for b.Loop() {
		cl, sv := pipeHandshakeB(a, c, p)
		if cl != nil || sv != nil {
			b.Fatal(cl, sv)
		}
	}
}

// BenchmarkConnect measures a full QUIC + Noise connection on loopback.
func BenchmarkConnect(b *testing.B) {
	srv, err := Listen(mustKey(b), Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	for b.Loop() {
		cl, err := Listen(mustKey(b), Config{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cl.DialPeer(ctx, srv.Addr().String(), srv.ID()); err != nil {
			b.Fatal(err)
		}
		_ = cl.Close()
	}
}

// BenchmarkStreamRoundTrip measures opening a stream and echoing one
// small frame on an established connection.
func BenchmarkStreamRoundTrip(b *testing.B) {
	srv, cl, c := benchPair(b)
	defer srv.Close()
	defer cl.Close()
	ctx := context.Background()
	msg := []byte("0123456789abcdef")
	for b.Loop() {
		if _, err := roundTrip(ctx, c, KindFetch, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamThroughput measures bulk transfer on one stream.
func BenchmarkStreamThroughput(b *testing.B) {
	srv, cl, c := benchPair(b)
	defer srv.Close()
	defer cl.Close()
	s, err := c.OpenStream(context.Background(), KindSync)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	chunk := make([]byte, 64<<10)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := s.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPair(b *testing.B) (srv, cl *Endpoint, c *Conn) {
	b.Helper()
	srv, err := Listen(mustKey(b), Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.RegisterHandler(KindFetch, echoFrames); err != nil {
		b.Fatal(err)
	}
	if err := srv.RegisterHandler(KindSync, func(_ context.Context, _ identity.PublicKey, s *Stream) {
		_, _ = io.Copy(io.Discard, s)
	}); err != nil {
		b.Fatal(err)
	}
	cl, err = Listen(mustKey(b), Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	c, err = cl.DialPeer(context.Background(), srv.Addr().String(), srv.ID())
	if err != nil {
		b.Fatal(err)
	}
	return srv, cl, c
}

func mustKey(b testing.TB) *identity.Key {
	b.Helper()
	k, err := identity.Generate()
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func pipeHandshakeB(client, server *localIdentity, prologue []byte) (clientErr, serverErr error) {
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, _, err := serverHandshake(rwPair{sr, sw}, prologue, server, currentHello, alpnV2)
		sw.Close()
		done <- err
	}()
	_, _, clientErr = clientHandshake(rwPair{cr, cw}, prologue, client, currentHello, alpnV2, nil)
	cw.Close()
	return clientErr, <-done
}

type rwPair struct {
	io.Reader
	io.Writer
}
