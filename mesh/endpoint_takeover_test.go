package mesh

import (
	"context"
	"errors"
	"testing"
)

// TestStartTakesOverEndpoint checks that a node started on an endpoint
// that already listens, and has dialed, keeps its connections and offers
// its stream kinds there, and that an endpoint of another identity is
// refused and closed.
func TestStartTakesOverEndpoint(t *testing.T) {
	ctx := testContext(t)
	server := startNode(t, newMemReplica(), nil)
	key := newKey(t)
	ep, err := Listen(key, Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ep.DialPeer(ctx, server.Addr(), server.ID())
	if err != nil {
		t.Fatal(err)
	}
	n := startNodeKey(t, key, newMemReplica(), func(cfg *NodeConfig) { cfg.Endpoint = ep })
	if n.Endpoint() != ep || n.Endpoint().Conn(server.ID()) != c {
		t.Fatalf("the node does not use the endpoint and connection it was given")
	}
	if !ep.hello().Caps.Has(KindSync) {
		t.Errorf("the endpoint taken over does not offer sync sessions")
	}

	other, err := Listen(newKey(t), Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testNodeConfig(key)
	cfg.Endpoint = other
	if _, err := Start(context.Background(), cfg, newMemReplica()); err == nil {
		t.Fatal("Start on an endpoint of another identity succeeded")
	}
	if _, err := other.Dial(ctx, server.Addr()); !errors.Is(err, ErrClosed) {
		t.Errorf("Dial on the refused endpoint = %v, want ErrClosed (Start closes it)", err)
	}
}
