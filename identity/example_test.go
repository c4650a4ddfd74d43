package identity_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"murmur/identity"
)

func Example() {
	// A deterministic key for the example; real identities use Generate.
	key, err := identity.NewKeyFromSeed(bytes.Repeat([]byte{1}, identity.SeedSize))
	if err != nil {
		panic(err)
	}
	pub := key.Public()
	fmt.Println(pub.DID())
	fmt.Println(pub.Short())

	// Signatures are bound to a domain.
	msg := []byte("issue.open: crash on start")
	sig := key.Sign("op", msg)
	fmt.Println(identity.Verify(pub, "op", msg, sig))
	fmt.Println(identity.Verify(pub, "mesh-handshake", msg, sig))

	// The DID text form parses back to the same key.
	parsed, err := identity.ParseDID(pub.DID())
	fmt.Println(parsed == pub, err)

	// Key files are written once, with mode 0600.
	dir, err := os.MkdirTemp("", "identity-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "identity.key")
	if err := identity.Save(path, key, nil); err != nil {
		panic(err)
	}
	loaded, err := identity.Load(path, nil)
	fmt.Println(loaded.Public() == pub, err)
	// Output:
	// did:key:z6Mkon3Necd6NkkyfoGoHxid2znGc59LU3K7mubaRcFbLfLX
	// z6Mk…FbLfLX
	// true
	// false
	// true <nil>
	// true <nil>
}

func ExampleBatchVerifier() {
	key, err := identity.NewKeyFromSeed(bytes.Repeat([]byte{2}, identity.SeedSize))
	if err != nil {
		panic(err)
	}
	b := identity.NewBatchVerifier()
	for i := range 4 {
		msg := fmt.Appendf(nil, "op %d", i)
		sig := key.Sign("op", msg)
		if i == 2 {
			msg = []byte("forged") // this entry no longer matches its signature
		}
		b.Add(key.Public(), "op", msg, sig)
	}
	allValid, valid := b.Verify()
	fmt.Println(allValid, valid)
	// Output:
	// false [true true false true]
}
