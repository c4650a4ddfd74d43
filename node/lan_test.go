package node

import (
	"context"
	"testing"
)

// A node bound to loopback cannot be dialed from the network, so it does
// not announce itself there.
func TestLANDiscoveryOffOnLoopback(t *testing.T) {
	n, err := Open(context.Background(), Config{Home: t.TempDir(), Mesh: &MeshConfig{Listen: "127.0.0.1:0", LANDiscovery: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.lan != nil {
		t.Error("a node listening on loopback started LAN discovery")
	}
}
