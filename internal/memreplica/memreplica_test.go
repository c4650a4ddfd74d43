package memreplica

import (
	"crypto/sha256"
	"errors"
	"testing"

	"murmur/identity"
)

func name(op []byte) (uint64, [32]byte, error) {
	if len(op) == 0 {
		return 0, [32]byte{}, errors.New("empty op")
	}
	return uint64(op[0]), sha256.Sum256(op), nil
}

func TestIngest(t *testing.T) {
	repo := sha256.Sum256([]byte("repo"))
	r := New(repo, name)
	var stored int
	r.OnStore = func([32]byte) { stored++ }
	res, err := r.Ingest(identity.PublicKey{}, repo, [][]byte{{1, 'a'}, {2, 'b'}, {1, 'a'}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 2 || res.Invalid != 1 || res.InvalidReason == nil || stored != 2 {
		t.Fatalf("Ingest = %+v, OnStore %d times; want 2 stored, 1 invalid", res, stored)
	}
	if root, ok := r.Root(repo); !ok || root.Count != 2 {
		t.Fatalf("Root = %+v, %v; want 2 ops", root, ok)
	}
	other := sha256.Sum256([]byte("other"))
	if res, _ := r.Ingest(identity.PublicKey{}, other, [][]byte{{3}}); res.Invalid != 1 {
		t.Fatalf("an op of another repo: %+v, want invalid", res)
	}
	got, _ := r.Get(repo, [][32]byte{sha256.Sum256([]byte{2, 'b'}), sha256.Sum256([]byte{9})})
	if len(got) != 1 || string(got[0]) != "\x02b" {
		t.Fatalf("Get = %q, want the one stored op", got)
	}
	if _, err := r.Tree(other); err == nil {
		t.Fatal("Tree of an unfollowed repo succeeded")
	}
}
