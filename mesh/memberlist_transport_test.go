package mesh

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"murmur/identity"
)

// msgDelegate records user messages memberlist delivers.
type msgDelegate struct {
	mu   sync.Mutex
	msgs []string
}

func (d *msgDelegate) NodeMeta(int) []byte { return nil }
func (d *msgDelegate) NotifyMsg(b []byte) {
	d.mu.Lock()
	d.msgs = append(d.msgs, string(b))
	d.mu.Unlock()
}
func (d *msgDelegate) GetBroadcasts(int, int) [][]byte { return nil }
func (d *msgDelegate) LocalState(bool) []byte          { return nil }
func (d *msgDelegate) MergeRemoteState([]byte, bool)   {}
func (d *msgDelegate) has(msg string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Contains(d.msgs, msg)
}

type mlNode struct {
	ep  *Endpoint
	tr  *MemberlistTransport
	ml  *memberlist.Memberlist
	msg *msgDelegate
}

// newMLNode starts an endpoint and a memberlist on it; tweak may adjust
// the memberlist config after Configure.
func newMLNode(t *testing.T, tweak func(*memberlist.Config)) *mlNode {
	t.Helper()
	ep := newEndpoint(t)
	tr, err := NewMemberlistTransport(ep, MemberlistTransportConfig{})
	if err != nil {
		t.Fatalf("NewMemberlistTransport: %v", err)
	}
	d := &msgDelegate{}
	c := memberlist.DefaultLocalConfig()
	c.LogOutput = io.Discard
	c.Delegate = d
	c.GossipInterval = 20 * time.Millisecond
	c.ProbeInterval = 200 * time.Millisecond
	// Joins dial and handshake within TCPTimeout; leave room for a
	// loaded machine running the race detector.
	c.TCPTimeout = waitTimeout / 2
	tr.Configure(c)
	if tweak != nil {
		tweak(c)
	}
	ml, err := memberlist.Create(c)
	if err != nil {
		t.Fatalf("memberlist.Create: %v", err)
	}
	t.Cleanup(func() {
		if err := ml.Shutdown(); err != nil {
			t.Errorf("memberlist Shutdown: %v", err)
		}
	})
	return &mlNode{ep: ep, tr: tr, ml: ml, msg: d}
}

func memberNames(ml *memberlist.Memberlist) []string {
	var names []string
	for _, m := range ml.Members() {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}

func TestMemberlistCluster(t *testing.T) {
	nodes := []*mlNode{newMLNode(t, nil), newMLNode(t, nil), newMLNode(t, nil)}
	var want []string
	for _, n := range nodes {
		want = append(want, n.ep.ID().DID())
	}
	slices.Sort(want)

	seed := addrOf(nodes[0].ep)
	for _, n := range nodes[1:] {
		// Join by "name/address": the seed must prove its identity.
		if _, err := n.ml.Join([]string{nodes[0].ep.ID().DID() + "/" + seed}); err != nil {
			t.Fatalf("Join: %v", err)
		}
	}
	for i, n := range nodes {
		waitFor(t, "node to see all members", func() bool { return n.ml.NumMembers() == len(nodes) })
		if got := memberNames(n.ml); !slices.Equal(got, want) {
			t.Errorf("node %d members = %v, want %v", i, got, want)
		}
		for _, m := range n.ml.Members() {
			if _, err := identity.ParseDID(m.Name); err != nil {
				t.Errorf("member name %q is not a DID: %v", m.Name, err)
			}
		}
	}

	// Both of memberlist's paths carry user messages: streams
	// (SendReliable) and datagrams (SendBestEffort).
	to := nodes[2].ml.LocalNode()
	if err := nodes[1].ml.SendReliable(to, []byte("over a stream")); err != nil {
		t.Fatalf("SendReliable: %v", err)
	}
	waitFor(t, "reliable message", func() bool { return nodes[2].msg.has("over a stream") })
	deadline := time.Now().Add(waitTimeout)
	for !nodes[2].msg.has("over a datagram") {
		if time.Now().After(deadline) {
			t.Fatal("best-effort message never arrived")
		}
		if err := nodes[1].ml.SendBestEffort(to, []byte("over a datagram")); err != nil {
			t.Fatalf("SendBestEffort: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, n := range nodes {
		if s := n.tr.Stats(); s.RejectedNodes != 0 {
			t.Errorf("node %d rejected %d honest nodes", i, s.RejectedNodes)
		}
	}
}

func TestMemberlistRefusesMismatchedName(t *testing.T) {
	a := newMLNode(t, nil)
	b := newMLNode(t, nil)
	if _, err := b.ml.Join([]string{addrOf(a.ep)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "honest cluster", func() bool { return a.ml.NumMembers() == 2 })

	// c runs memberlist under someone else's DID, and does not check
	// others.
	victim := newKey(t).Public().DID()
	c := newMLNode(t, func(cfg *memberlist.Config) {
		cfg.Name = victim
		cfg.Alive = nil
	})

	t.Run("joining under a false name", func(t *testing.T) {
		if _, err := c.ml.Join([]string{addrOf(a.ep)}); err != nil {
			t.Logf("Join: %v", err)
		}
		waitFor(t, "a to reject c's claim", func() bool { return a.tr.Stats().RejectedNodes > 0 })
		if names := memberNames(a.ml); slices.Contains(names, victim) {
			t.Errorf("a's members %v include the impersonated name", names)
		}
		if a.ml.NumMembers() != 2 {
			t.Errorf("a has %d members, want 2", a.ml.NumMembers())
		}
	})

	t.Run("dialing by the false name", func(t *testing.T) {
		before := a.ep.Stats().PeerMismatches
		_, err := a.ml.Join([]string{victim + "/" + addrOf(c.ep)})
		if err == nil {
			t.Fatal("Join by false name succeeded")
		}
		if got := a.ep.Stats().PeerMismatches; got <= before {
			t.Errorf("PeerMismatches = %d, want > %d", got, before)
		}
		if _, err := a.tr.DialAddressTimeout(memberlist.Address{Addr: addrOf(c.ep), Name: victim}, waitTimeout); !errors.Is(err, ErrPeerMismatch) {
			t.Errorf("DialAddressTimeout = %v, want ErrPeerMismatch", err)
		}
		if _, err := a.tr.WriteToAddress([]byte("ping"), memberlist.Address{Addr: addrOf(c.ep), Name: victim}); !errors.Is(err, ErrPeerMismatch) {
			t.Errorf("WriteToAddress = %v, want ErrPeerMismatch", err)
		}
		if _, err := a.tr.WriteToAddress([]byte("ping"), memberlist.Address{Addr: addrOf(c.ep), Name: "node-1"}); err == nil || !strings.Contains(err.Error(), "not a did:key") {
			t.Errorf("WriteToAddress(non-DID name) = %v, want a did:key error", err)
		}
	})
}

func TestMemberlistTransportEdges(t *testing.T) {
	ep := newEndpoint(t)
	tr, err := NewMemberlistTransport(ep, MemberlistTransportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMemberlistTransport(ep, MemberlistTransportConfig{}); err == nil {
		t.Error("second transport on one endpoint succeeded")
	}

	ip, port, err := tr.FinalAdvertiseAddr("", 7946)
	bound := ep.Addr().(*net.UDPAddr)
	if err != nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) || port != bound.Port {
		t.Errorf("FinalAdvertiseAddr = %v, %d, %v; want 127.0.0.1, %d", ip, port, err, bound.Port)
	}
	if ip, port, err := tr.FinalAdvertiseAddr("192.0.2.7", 9000); err != nil || !ip.Equal(net.ParseIP("192.0.2.7")) || port != 9000 {
		t.Errorf("FinalAdvertiseAddr(explicit) = %v, %d, %v", ip, port, err)
	}

	if _, err := tr.WriteTo(make([]byte, MaxDatagramSize+1), "127.0.0.1:1"); !errors.Is(err, ErrPacketTooLarge) {
		t.Errorf("WriteTo(oversize) = %v, want ErrPacketTooLarge", err)
	}

	for _, tt := range []struct {
		name string
		node memberlist.Node
		ok   bool
	}{
		{"valid DID, unknown address", memberlist.Node{Name: newKey(t).Public().DID(), Addr: net.IPv4(10, 0, 0, 1), Port: 7788}, true},
		{"not a DID", memberlist.Node{Name: "node-1", Addr: net.IPv4(10, 0, 0, 1), Port: 7788}, false},
		{"own DID at own address", memberlist.Node{Name: ep.ID().DID(), Addr: ip, Port: uint16(port)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tr.NotifyAlive(&tt.node); (err == nil) != tt.ok {
				t.Errorf("NotifyAlive(%s) = %v, want ok=%v", tt.node.Name, err, tt.ok)
			}
		})
	}

	if err := tr.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if _, err := tr.DialTimeout("127.0.0.1:1", time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("DialTimeout after Shutdown = %v, want ErrClosed", err)
	}
	// The endpoint outlives the transport and can host a new one.
	if _, err := NewMemberlistTransport(ep, MemberlistTransportConfig{}); err != nil {
		t.Errorf("new transport after Shutdown: %v", err)
	}
}
