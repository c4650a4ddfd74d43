package merkle_test

import (
	"crypto/sha256"
	"fmt"
	"log"

	"murmur/merkle"
)

// op stands in for a real op: its ID is a hash, its clock a packed hybrid
// logical clock (wall milliseconds << 16 | logical counter).
func op(i int) merkle.Item {
	return merkle.Item{
		Clock: uint64(1_700_000_000_000+i*1000) << 16,
		ID:    sha256.Sum256(fmt.Appendf(nil, "op %d", i)),
	}
}

// A laptop comes back online with three ops written while offline. The
// roots the two peers gossip differ, so one of them starts a session and a
// driver passes its messages back and forth until both sides are done.
func Example() {
	seed, laptop := merkle.New(), merkle.New()
	for i := range 1000 {
		seed.Insert(op(i))
		laptop.Insert(op(i))
	}
	for i := 1000; i < 1003; i++ {
		laptop.Insert(op(i))
	}
	fmt.Println("in sync:", seed.Root() == laptop.Root())

	initiator, msg, err := merkle.NewInitiator(seed, merkle.Options{})
	if err != nil {
		log.Fatal(err)
	}
	responder := merkle.NewResponder(laptop, merkle.Options{})
	for side, other := responder, initiator; msg != nil; side, other = other, side {
		// In the mesh, msg travels over a QUIC stream here.
		if msg, _, err = side.Receive(msg); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("seed needs:", len(initiator.Need()), "laptop needs:", len(responder.Need()))
	fmt.Println("round trips:", initiator.Stats().RoundTrips)
	// Output:
	// in sync: false
	// seed needs: 3 laptop needs: 0
	// round trips: 1.5
}
