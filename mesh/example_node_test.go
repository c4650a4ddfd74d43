package mesh

import (
	"context"
	"fmt"
	"log"
	"time"

	"murmur/identity"
)

// Two nodes on loopback replicate one repo. A Node needs a Replica: here
// the in-memory one of this package's tests; murmur's is node's, over the
// store. The newcomer joins the other by address, and one anti-entropy
// session moves exactly what each side lacks, both ways.
func ExampleNode() {
	repo := testRepo("example")
	start := func(r Replica) *Node {
		key, err := identity.Generate()
		if err != nil {
			log.Fatal(err)
		}
		n, err := Start(context.Background(), NodeConfig{
			Key:       key,
			Transport: Config{ListenAddr: "127.0.0.1:0"},
			// Sessions are started by hand below, not by push-pull.
			PushPullInterval: time.Hour,
		}, r)
		if err != nil {
			log.Fatal(err)
		}
		return n
	}
	seedData, laptopData := newMemReplica(repo), newMemReplica(repo)
	seedData.writeChain(repo, 1, 1000, "seed", [32]byte{})
	laptopData.writeChain(repo, 5000, 20, "offline", [32]byte{})
	seed, laptop := start(seedData), start(laptopData)
	defer seed.Close()
	defer laptop.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := laptop.Join(ctx, []string{seed.Addr()}); err != nil {
		log.Fatal(err)
	}
	// Joining already started a session (the laptop is behind); SyncWith
	// waits for it rather than starting a second one.
	if _, err := laptop.SyncWith(ctx, seed.ID(), repo); err != nil {
		log.Fatal(err)
	}
	fmt.Println("seed holds", seedData.count(repo), "ops, laptop holds", laptopData.count(repo))
	fmt.Println("ops received in all:", seed.Stats().OpsReceived+laptop.Stats().OpsReceived)
	// Output:
	// seed holds 1020 ops, laptop holds 1020
	// ops received in all: 1020
}
