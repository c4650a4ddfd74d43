package node

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// TestRejoinWhenAlone: a node left alone in memberlist's view (its one
// peer left) rejoins by itself when a node is up at the configured
// address again, well before the address book's 30 s save period.
func TestRejoinWhenAlone(t *testing.T) {
	ctx := testCtx(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	openAt := func() *Node {
		n, err := Open(ctx, Config{Home: t.TempDir(), Daemon: true, Mesh: &MeshConfig{Listen: addr, PushPullInterval: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	first := openAt()
	a := openDaemonNode(t, t.TempDir(), addr)
	members := func(want int) func() string {
		return func() string {
			if got := a.Mesh().Stats().Members; got != want {
				return fmt.Sprintf("a sees %d members, want %d", got, want)
			}
			return ""
		}
	}
	waitFor(t, "a joins the first node", members(2))
	first.Close()
	waitFor(t, "a is alone", members(1))
	openAt() // a new node, which does not know a, at the same address
	waitFor(t, "a rejoins", members(2))
}
