package crdt_test

import (
	"crypto/sha256"
	"fmt"

	"murmur/crdt"
)

func Example() {
	var (
		alice = [32]byte{0xa1} // authors' public keys
		bob   = [32]byte{0xb0}
		opID  = func(s string) crdt.ID { return sha256.Sum256([]byte(s)) }
	)
	clock := crdt.NewTimestamp(1_700_000_000_000, 0)

	// Alice and Bob retitle an issue concurrently, each on their own replica.
	var title crdt.LWW[string]
	title.Apply(crdt.Write[string]{
		Stamp: crdt.Stamp{Clock: clock, Author: alice, ID: opID("alice-1")},
		Value: "Crash on start",
	})
	title.Apply(crdt.Write[string]{
		Stamp: crdt.Stamp{Clock: clock + 1, Author: bob, ID: opID("bob-1")},
		Value: "Crash on startup with empty config",
	})
	v, _ := title.Get()
	fmt.Printf("title: %q\n", v)
	for _, w := range title.Concurrent() {
		fmt.Printf("also set concurrently: %q\n", w.Value)
	}

	// Alice, having seen both, settles it: her write supersedes the heads.
	title.Apply(crdt.Write[string]{
		Stamp: crdt.Stamp{Clock: clock + 2, Author: alice, ID: opID("alice-2")},
		Value: "Crash on startup",
		Prev:  title.Heads(),
	})
	v, _ = title.Get()
	fmt.Printf("title: %q, %d concurrent, %d writes kept\n", v, len(title.Concurrent()), title.Len())

	// Labels: Bob removes "bug" while Alice concurrently adds it again.
	var labels crdt.ORSet[string]
	labels.Add(opID("alice-3"), "bug")
	labels.Add(opID("alice-4"), "crash")
	bobsView := labels.Clone()
	bobsView.Remove(bobsView.Tags("bug")...) // names the add Bob observed
	labels.Add(opID("alice-5"), "bug")       // Alice, not having seen the remove
	labels.Merge(bobsView)
	fmt.Println("labels:", labels.Elements())

	// Output:
	// title: "Crash on startup with empty config"
	// also set concurrently: "Crash on start"
	// title: "Crash on startup", 0 concurrent, 3 writes kept
	// labels: [bug crash]
}
