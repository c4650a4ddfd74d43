package policy_test

import (
	"fmt"
	"time"

	"murmur/identity"
	"murmur/policy"
)

func ExampleLedger() {
	key, _ := identity.NewKeyFromSeed(make([]byte, 32))
	l := policy.NewLedger()
	b := policy.Budget{Window: "1h", AuthorOps: 2}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		err := l.Admit(b, policy.Charge{Author: key.Public(), Known: true, Bytes: 100}, now)
		fmt.Println(i, err == nil)
	}
	// Output:
	// 0 true
	// 1 true
	// 2 false
}
