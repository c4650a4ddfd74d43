package identity

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// notAPoint returns a public key encoding that is not a curve point.
func notAPoint(t testing.TB) PublicKey {
	t.Helper()
	for y := byte(2); y < 255; y++ {
		p := PublicKey{y}
		if _, err := voi.NewExpandedPublicKey(p[:]); err != nil {
			return p
		}
	}
	t.Fatal("no invalid point encoding found")
	return PublicKey{}
}

func TestBatchReportsExactlyTheInvalid(t *testing.T) {
	keys := []*Key{testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4)}
	// Sizes on both sides of the point where the underlying verifier
	// stops precomputing public keys.
	for _, n := range []int{1, 2, 64, 100, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			bad := map[int]bool{0: true, n / 2: true, n - 1: true, n / 3: true}
			b := NewBatchVerifier()
			want := make([]bool, n)
			for i := range n {
				k := keys[i%len(keys)]
				msg := fmt.Appendf(nil, "op %d", i)
				sig := k.Sign("op", msg)
				want[i] = !bad[i]
				switch {
				case !bad[i]:
				case i%4 == 0:
					sig[5] ^= 1 // tampered signature
				case i%4 == 1:
					msg = append(msg, '!') // tampered message
				case i%4 == 2:
					k = keys[(i+1)%len(keys)] // wrong key
				default:
					b.Add(notAPoint(t), "op", msg, sig)
					continue
				}
				b.Add(k.Public(), "op", msg, sig)
			}
			all, valid := b.Verify()
			if all {
				t.Errorf("Verify() all = true, want false")
			}
			if !slices.Equal(valid, want) {
				t.Errorf("Verify() valid = %v, want %v", invalidIndexes(valid), invalidIndexes(want))
			}
		})
	}
}

// invalidIndexes lists the false entries, for readable failures.
func invalidIndexes(valid []bool) string {
	var out []string
	for i, v := range valid {
		if !v {
			out = append(out, fmt.Sprint(i))
		}
	}
	return fmt.Sprintf("%d entries, invalid at [%s]", len(valid), strings.Join(out, " "))
}

func TestBatchAllValidAndReset(t *testing.T) {
	k := testKey(t, 1)
	var b BatchVerifier // the zero value is usable
	if all, valid := b.Verify(); !all || len(valid) != 0 {
		t.Errorf("empty Verify() = %v, %v; want true, []", all, valid)
	}
	b.Reset()

	for round := range 3 {
		n := 10 + round
		for i := range n {
			msg := fmt.Appendf(nil, "%d/%d", round, i)
			b.Add(k.Public(), "op", msg, k.Sign("op", msg))
		}
		all, valid := b.Verify()
		if !all || len(valid) != n || slices.Contains(valid, false) {
			t.Errorf("round %d: Verify() = %v, %s; want true, all %d valid", round, all, invalidIndexes(valid), n)
		}
		b.Reset()
	}
	if all, valid := b.Verify(); !all || len(valid) != 0 {
		t.Errorf("Verify() after Reset = %v, %v; want true, []", all, valid)
	}
}

// TestBatchDoesNotRetainBuffers checks the documented contract that Add
// does not keep msg or sig: the caller overwrites them after every Add.
func TestBatchDoesNotRetainBuffers(t *testing.T) {
	k := testKey(t, 1)
	b := NewBatchVerifier()
	msg := make([]byte, 16)
	sig := make([]byte, SignatureSize)
	const n = 20
	for i := range n {
		copy(msg, fmt.Sprintf("message %08d", i))
		copy(sig, k.Sign("op", msg))
		b.Add(k.Public(), "op", msg, sig)
	}
	clear(msg)
	clear(sig)
	if all, valid := b.Verify(); !all {
		t.Errorf("Verify() = false, %s; want true", invalidIndexes(valid))
	}
}

func TestBatchDomainTooLong(t *testing.T) {
	k := testKey(t, 1)
	long := strings.Repeat("x", MaxDomainLen+1)
	b := NewBatchVerifier()
	b.Add(k.Public(), "op", []byte("a"), k.Sign("op", []byte("a")))
	b.Add(k.Public(), long, []byte("b"), k.Sign("op", []byte("b")))
	b.Add(k.Public(), "op", []byte("c"), k.Sign("op", []byte("c")))
	all, valid := b.Verify()
	if want := []bool{true, false, true}; all || !slices.Equal(valid, want) {
		t.Errorf("Verify() = %v, %v; want false, %v", all, valid, want)
	}
}

// TestBatchKeyCacheBounded runs more distinct authors through one verifier
// than it caches and checks that results stay right and the cache bounded.
func TestBatchKeyCacheBounded(t *testing.T) {
	const authors = maxExpandedKeys + 100
	b := NewBatchVerifier()
	msg := []byte("op")
	for start := 0; start < authors; start += 50 {
		b.Reset()
		n := 0
		for i := start; i < authors && i < start+50; i++ {
			seed := make([]byte, SeedSize)
			seed[0], seed[1] = byte(i), byte(i>>8)
			k, err := NewKeyFromSeed(seed)
			if err != nil {
				t.Fatal(err)
			}
			b.Add(k.Public(), "op", msg, k.Sign("op", msg))
			n++
		}
		if all, valid := b.Verify(); !all || len(valid) != n {
			t.Fatalf("batch from author %d: Verify() = %v, %s; want all %d valid", start, all, invalidIndexes(valid), n)
		}
		if len(b.expanded) > maxExpandedKeys {
			t.Fatalf("key cache holds %d keys, want at most %d", len(b.expanded), maxExpandedKeys)
		}
	}
}
