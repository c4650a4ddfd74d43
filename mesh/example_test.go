package mesh_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hashicorp/memberlist"

	"murmur/identity"
	"murmur/mesh"
)

// Two endpoints on loopback: the server answers fetch streams, the client
// dials it by identity and sends one framed request.
func ExampleEndpoint() {
	serverKey, _ := identity.Generate()
	clientKey, _ := identity.Generate()

	server, err := mesh.Listen(serverKey, mesh.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	err = server.RegisterHandler(mesh.KindFetch, func(ctx context.Context, peer identity.PublicKey, s *mesh.Stream) {
		req, err := mesh.ReadFrame(s, 1024)
		if err != nil {
			return
		}
		verified := peer == clientKey.Public()
		_ = mesh.WriteFrame(s, fmt.Appendf(nil, "got %q from a verified client: %v", req, verified))
	})
	if err != nil {
		log.Fatal(err)
	}

	client, err := mesh.Listen(clientKey, mesh.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.DialPeer(ctx, server.Addr().String(), server.ID())
	if err != nil {
		log.Fatal(err)
	}
	s, err := conn.OpenStream(ctx, mesh.KindFetch)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := mesh.WriteFrame(s, []byte("op 1234")); err != nil {
		log.Fatal(err)
	}
	reply, err := mesh.ReadFrame(s, 1024)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply))
	// Output: got "op 1234" from a verified client: true
}

// A memberlist node whose name is its DID and whose traffic runs over the
// endpoint's authenticated QUIC connections.
func ExampleMemberlistTransport() {
	key, _ := identity.Generate()
	ep, err := mesh.Listen(key, mesh.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer ep.Close() // after memberlist has shut down

	tr, err := mesh.NewMemberlistTransport(ep, mesh.MemberlistTransportConfig{})
	if err != nil {
		log.Fatal(err)
	}
	cfg := memberlist.DefaultLANConfig()
	tr.Configure(cfg) // Name = DID, Transport, UDPBufferSize, Alive check
	ml, err := memberlist.Create(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer ml.Shutdown()

	// Join a seed, requiring it to prove its identity.
	seed := "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK/192.0.2.1:7788"
	if _, err := ml.Join([]string{seed}); err != nil {
		log.Printf("join: %v", err)
	}
}
