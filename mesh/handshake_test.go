package mesh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"murmur/identity"
)

func newLocal(t *testing.T) (*identity.Key, *localIdentity) {
	t.Helper()
	k := newKey(t)
	l, err := newLocalIdentity(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, l
}

type handshakeOutcome struct {
	peer  identity.PublicKey
	hello Hello
	err   error
}

// currentHello is what an endpoint of this release says.
var currentHello = Hello{Version: ProtocolVersion, MinVersion: MinProtocolVersion, Caps: 1<<KindSync | 1<<KindFetch}

// pipeHandshake runs both sides of the handshake over an in-memory pipe;
// each side closes its end when done, as a QUIC stream would be.
func pipeHandshake(t *testing.T, client, server *localIdentity, clientPrologue, serverPrologue []byte, want *identity.PublicKey) (c, s handshakeOutcome) {
	t.Helper()
	return pipeHandshakeVersions(t, client, server, currentHello, currentHello, alpnV2, clientPrologue, serverPrologue, want)
}

// pipeHandshakeVersions is pipeHandshake with each side's hello and the
// negotiated ALPN given.
func pipeHandshakeVersions(t *testing.T, client, server *localIdentity, clientHello, serverHello Hello, proto string, clientPrologue, serverPrologue []byte, want *identity.PublicKey) (c, s handshakeOutcome) {
	t.Helper()
	cc, sc := net.Pipe()
	deadline := time.Now().Add(waitTimeout)
	_ = cc.SetDeadline(deadline)
	_ = sc.SetDeadline(deadline)
	done := make(chan handshakeOutcome, 1)
	go func() {
		defer sc.Close()
		p, h, err := serverHandshake(sc, serverPrologue, server, serverHello, proto)
		done <- handshakeOutcome{p, h, err}
	}()
	p, h, err := clientHandshake(cc, clientPrologue, client, clientHello, proto, want)
	cc.Close()
	return handshakeOutcome{p, h, err}, <-done
}

func TestHandshakeOverPipe(t *testing.T) {
	_, a := newLocal(t)
	_, b := newLocal(t)
	prologue := bytes.Repeat([]byte{7}, exporterLen)

	c, s := pipeHandshake(t, a, b, prologue, prologue, &b.id)
	if c.err != nil || s.err != nil {
		t.Fatalf("handshake errors: client %v, server %v", c.err, s.err)
	}
	if c.peer != b.id || s.peer != a.id {
		t.Errorf("client learned %s (want %s), server learned %s (want %s)",
			c.peer.Short(), b.id.Short(), s.peer.Short(), a.id.Short())
	}
}

func TestHandshakeChannelBindingMismatch(t *testing.T) {
	_, a := newLocal(t)
	_, b := newLocal(t)
	c, s := pipeHandshake(t, a, b, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), nil)
	if !isHandshakeErr(c.err) || !isHandshakeErr(s.err) {
		t.Errorf("different prologues: client %v, server %v; want ErrHandshake on both", c.err, s.err)
	}
}

func TestHandshakeWantMismatch(t *testing.T) {
	_, a := newLocal(t)
	_, b := newLocal(t)
	_, other := newLocal(t)
	p := make([]byte, 32)
	c, s := pipeHandshake(t, a, b, p, p, &other.id)
	var pm *PeerMismatchError
	if !errors.As(c.err, &pm) || pm.Got != b.id || pm.Want != other.id {
		t.Fatalf("client error = %v, want *PeerMismatchError{Want: other, Got: b}", c.err)
	}
	if !errors.Is(c.err, ErrPeerMismatch) {
		t.Errorf("errors.Is(%v, ErrPeerMismatch) = false", c.err)
	}
	// The initiator stops before message 3, so the responder never
	// learns who dialed.
	if s.err == nil || s.peer != (identity.PublicKey{}) {
		t.Errorf("server = %s, %v; want failure without learning the client", s.peer.Short(), s.err)
	}
}

func TestHandshakeSelf(t *testing.T) {
	k, a := newLocal(t)
	a2, err := newLocalIdentity(k) // same identity, another process
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 32)
	c, _ := pipeHandshake(t, a, a2, p, p, nil)
	if !errors.Is(c.err, ErrSelfDial) {
		t.Errorf("client error = %v, want ErrSelfDial", c.err)
	}
}

// badPayloads returns identity payloads that must be refused, for a
// sender whose real identity is k and Noise static key is l.static.
func badPayloads(t *testing.T, k *identity.Key, l *localIdentity) map[string][]byte {
	t.Helper()
	other := newKey(t)
	_, otherLocal := newLocal(t)
	good := encodePayload(k.Public(), k.Sign(StaticKeyDomain, l.static.Public))
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-1] ^= 1
	badVersion := bytes.Clone(good)
	badVersion[0] = 2
	return map[string][]byte{
		"signed by a different key":          encodePayload(k.Public(), other.Sign(StaticKeyDomain, l.static.Public)),
		"claims another identity":            encodePayload(other.Public(), k.Sign(StaticKeyDomain, l.static.Public)),
		"signature over another static key":  encodePayload(k.Public(), k.Sign(StaticKeyDomain, otherLocal.static.Public)),
		"signature in another domain":        encodePayload(k.Public(), k.Sign("murmur/other", l.static.Public)),
		"corrupted signature":                corrupt,
		"unknown payload version":            badVersion,
		"zero identity key":                  encodePayload(identity.PublicKey{}, make([]byte, sigLen)),
		"truncated payload":                  good[:payloadLen-1],
		"payload with trailing byte":         append(bytes.Clone(good), 0),
		"empty payload":                      {},
		"replayed payload of another sender": otherLocal.payload,
	}
}

func TestHandshakeRefusesBadPayload(t *testing.T) {
	k, m := newLocal(t)
	_, honest := newLocal(t)
	p := make([]byte, 32)
	for name, payload := range badPayloads(t, k, m) {
		t.Run(name, func(t *testing.T) {
			bad := *m
			bad.payload = payload

			// Misbehaving initiator: the responder refuses message 3.
			c, s := pipeHandshake(t, &bad, honest, p, p, nil)
			if !isHandshakeErr(s.err) {
				t.Errorf("responder error = %v, want ErrHandshake", s.err)
			}
			if c.err == nil {
				t.Errorf("initiator succeeded although responder refused")
			}

			// Misbehaving responder: the initiator refuses message 2.
			c, _ = pipeHandshake(t, honest, &bad, p, p, nil)
			if !isHandshakeErr(c.err) {
				t.Errorf("initiator error = %v, want ErrHandshake", c.err)
			}
		})
	}
}

func TestReadHandshakeMsgBounds(t *testing.T) {
	frame := func(n int, body int) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(n))
		return append(b, make([]byte, body)...)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"max size", frame(maxHandshakeMsg, maxHandshakeMsg), false},
		{"zero length", frame(0, 0), true},
		{"over limit", frame(maxHandshakeMsg+1, maxHandshakeMsg+1), true},
		{"max uint16", frame(0xffff, 0), true},
		{"truncated body", frame(10, 3), true},
		{"truncated header", []byte{1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readHandshakeMsg(bytes.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Errorf("readHandshakeMsg error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestServerHandshakeMalformedMessages(t *testing.T) {
	_, b := newLocal(t)
	p := make([]byte, 32)
	msg := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(body))), body...)
	}
	tests := map[string][]byte{
		"short message 1":           msg([]byte{1, 2, 3}),
		"message 1 with payload":    msg(make([]byte, 40)),
		"oversize length":           {0xff, 0xff},
		"garbage message 3":         append(msg(make([]byte, 32)), msg(bytes.Repeat([]byte{9}, 161))...),
		"message 3 too short":       append(msg(make([]byte, 32)), msg(make([]byte, 10))...),
		"end of stream mid-message": {0, 32, 1, 2},
	}
	for name, input := range tests {
		t.Run(name, func(t *testing.T) {
			rw := &scriptedConn{in: bytes.NewReader(input)}
			_, _, err := serverHandshake(rw, p, b, currentHello, alpnV2)
			if !isHandshakeErr(err) {
				t.Errorf("serverHandshake error = %v, want ErrHandshake", err)
			}
		})
	}
}

// scriptedConn reads a fixed script and discards writes.
type scriptedConn struct {
	in *bytes.Reader
}

func (c *scriptedConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *scriptedConn) Write(p []byte) (int, error) { return len(p), nil }
