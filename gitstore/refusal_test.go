package gitstore

import (
	"errors"
	"strings"
	"testing"
)

// TestFetchOfAnObjectThePeerLacks: a peer that does not hold a wanted
// object refuses, and that refusal is not a bad pack (whose sender is
// penalized), even though git's message for it says "bad object".
func TestFetchOfAnObjectThePeerLacks(t *testing.T) {
	server := storeWithOneCommit(t, "r")
	client := newStore(t)
	absent := strings.Repeat("ab", 20)
	fetchErr, serveErr, _ := fetchPair(t, server, client, "r", []string{absent}, Limits{}, nil)
	if !errors.Is(serveErr, ErrRefused) {
		t.Errorf("serve error = %v, want ErrRefused", serveErr)
	}
	if fetchErr == nil || errors.Is(fetchErr, ErrBadPack) {
		t.Errorf("fetch error = %v, want the peer's refusal, not ErrBadPack", fetchErr)
	}
}
