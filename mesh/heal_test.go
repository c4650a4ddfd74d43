package mesh

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// TestAntiEntropyWithoutMembership: two nodes that never joined each
// other through memberlist still converge on the anti-entropy timer once
// one has connected to the other.
func TestAntiEntropyWithoutMembership(t *testing.T) {
	repo := testRepo("ae")
	ra, rb := newMemReplica(repo), newMemReplica(repo)
	ra.writeChain(repo, 1, 30, "a", [32]byte{})
	rb.writeChain(repo, 1000, 20, "b", [32]byte{})
	fast := func(c *NodeConfig) { c.AntiEntropyInterval = 100 * time.Millisecond }
	a := startNode(t, ra, func(c *NodeConfig) { c.AntiEntropyInterval = -1 })
	b := startNode(t, rb, fast)
	id, err := b.Connect(testContext(t), a.Addr())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if id != a.ID() {
		t.Fatalf("Connect reached %s, want %s", id.Short(), a.ID().Short())
	}
	if b.Stats().Members != 1 {
		t.Fatalf("b has %d members, want itself only", b.Stats().Members)
	}
	waitFor(t, "anti-entropy converges both replicas", func() bool {
		return sameOps(ra, rb, repo) && ra.count(repo) == 50
	})
	for _, p := range b.Peers() {
		if p.ID == a.ID() && (len(p.Repos) != 1 || !p.Repos[0].InSync) {
			t.Errorf("b's view of a after the session = %+v, want the repo in sync", p.Repos)
		}
	}
}

// TestJoinErrorNamesAddress: a join nobody answers fails with the address
// and its cause, not memberlist's error list.
func TestJoinErrorNamesAddress(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	silent := pc.LocalAddr().String()
	n := startNode(t, newMemReplica(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = n.Join(ctx, []string{silent})
	var je *JoinError
	if !errors.As(err, &je) || len(je.Addrs) != 1 || je.Addrs[0] != silent {
		t.Fatalf("Join = %v, want a *JoinError naming %s", err, silent)
	}
	if msg := err.Error(); strings.Contains(msg, "error occurred") || !strings.Contains(msg, silent) {
		t.Errorf("Join error %q, want the address and the cause on one line", msg)
	}
}

// TestStatelessResetEndsForgottenConnection: a peer that restarts on the
// same address and key, without closing its connections, makes the other
// side's stale connection fail at its next packet instead of swallowing
// streams until the idle timeout.
func TestStatelessResetEndsForgottenConnection(t *testing.T) {
	key := newKey(t)
	long := func(c *Config) { c.IdleTimeout, c.KeepAlivePeriod = 10*time.Minute, time.Minute }
	cfg := Config{ListenAddr: "127.0.0.1:0"}
	long(&cfg)
	b, err := Listen(key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustRegister(t, b, 9, echoFrames)
	addr := addrOf(b)
	a := newEndpoint(t, long)
	ctx := testContext(t)
	c, err := a.DialPeer(ctx, addr, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(ctx, c, 9, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	// b vanishes without a word (as a killed or long-suspended process
	// does) and comes back on the same port.
	_ = b.udp.Close()
	_ = b.Close() // fails on the closed socket; nothing reaches a
	b2 := newEndpointWithKey(t, key, func(c *Config) { long(c); c.ListenAddr = addr })
	mustRegister(t, b2, 9, echoFrames)
	// A packet to b2 is answered with a stateless reset, unless it is too
	// small to be told from one (QUIC never answers those); the message is
	// large enough that every attempt's packets are answered.
	_, err = roundTrip(ctx, c, 9, bytes.Repeat([]byte("again "), 50))
	var reset *quic.StatelessResetError
	if !errors.As(err, &reset) {
		t.Fatalf("round trip on the forgotten connection = %v, want a stateless reset", err)
	}
	waitFor(t, "the reset connection to close", func() bool { return a.Conn(key.Public()) == nil })
	c2, err := a.DialPeer(ctx, addr, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(ctx, c2, 9, []byte("fresh")); err != nil {
		t.Fatalf("round trip after redial: %v", err)
	}
}
