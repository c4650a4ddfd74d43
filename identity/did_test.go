package identity

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

// testKey returns the deterministic key for seed byte b.
func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	seed := make([]byte, SeedSize)
	for i := range seed {
		seed[i] = b
	}
	k, err := NewKeyFromSeed(seed)
	if err != nil {
		t.Fatalf("NewKeyFromSeed: %v", err)
	}
	return k
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// The example DID of the W3C did:key specification.
const w3cExampleDID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

func TestDIDKnownVectors(t *testing.T) {
	t.Run("w3c example", func(t *testing.T) {
		p, err := ParseDID(w3cExampleDID)
		if err != nil {
			t.Fatalf("ParseDID(%q): %v", w3cExampleDID, err)
		}
		want := mustHex(t, "2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6")
		if got := p[:]; string(got) != string(want) {
			t.Errorf("ParseDID(%q) = %x, want %x", w3cExampleDID, got, want)
		}
		if got := p.DID(); got != w3cExampleDID {
			t.Errorf("DID() = %q, want %q", got, w3cExampleDID)
		}
	})
	t.Run("seed to did", func(t *testing.T) {
		// A seed and its did:key published by the Decentralized Identity
		// Foundation's interoperability test data, derived independently.
		seed := mustHex(t, "7052adea8f9823817065456ecad5bf24dcd31a698f7bc9a0b5fc170849af4226")
		const want = "did:key:z6MkwJSaEMnE4u6LiqrZV1BJHSkc9x8S4mTm3ArNL1m19BZR"
		k, err := NewKeyFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Public().DID(); got != want {
			t.Errorf("NewKeyFromSeed(%x).Public().DID() = %q, want %q", seed, got, want)
		}
	})
}

func TestDIDRoundTrip(t *testing.T) {
	for _, b := range []byte{0, 1, 0x42, 0xff} {
		p := testKey(t, b).Public()
		did := p.DID()
		if !strings.HasPrefix(did, "did:key:z6Mk") || len(did) != 56 {
			t.Errorf("DID() = %q, want 56 characters starting did:key:z6Mk", did)
		}
		if p.String() != did {
			t.Errorf("String() = %q, want %q", p.String(), did)
		}
		for _, s := range []string{did, strings.TrimPrefix(did, "did:key:")} {
			got, err := ParseDID(s)
			if err != nil {
				t.Fatalf("ParseDID(%q): %v", s, err)
			}
			if got != p {
				t.Errorf("ParseDID(%q) = %x, want %x", s, got, p)
			}
		}
	}
	// Edge keys: all zero and all 0xff bytes.
	for _, p := range []PublicKey{{}, func() (p PublicKey) {
		for i := range p {
			p[i] = 0xff
		}
		return p
	}()} {
		got, err := ParseDID(p.DID())
		if len(p.DID()) != 56 {
			t.Errorf("len(%q) = %d, want 56", p.DID(), len(p.DID()))
		}
		if err != nil || got != p {
			t.Errorf("ParseDID(%q) = %x, %v; want %x", p.DID(), got, err, p)
		}
	}
}

// encodeRaw returns a did:key of a two-byte multicodec prefix and n key
// bytes.
func encodeRaw(c0, c1 byte, n int) string {
	raw := append([]byte{c0, c1}, make([]byte, n)...)
	for i := 2; i < len(raw); i++ {
		raw[i] = byte(i)
	}
	return "did:key:z" + base58.Encode(raw)
}

func TestParseDIDRejects(t *testing.T) {
	valid := testKey(t, 7).Public().DID()
	mb := strings.TrimPrefix(valid, "did:key:")
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", "empty"},
		{"prefix only", "did:key:", "missing key"},
		{"other method", "did:web:example.com", "unsupported DID method"},
		{"wrong case method", "DID:KEY:" + mb, "multibase prefix"},
		{"wrong multibase", "did:key:f" + mb[1:], "multibase prefix"},
		{"multibase only", "did:key:z", "base58"},
		{"bad base58 char 0", "did:key:z6Mk0" + mb[5:], "base58"},
		{"bad base58 char l", "did:key:z6Mkl" + mb[5:], "base58"},
		{"space", "did:key:" + mb + " ", "base58"},
		{"x25519 multicodec", encodeRaw(0xec, 0x01, 32), "multicodec 0xec01 is not ed25519-pub"},
		{"secp256k1 multicodec", encodeRaw(0xe7, 0x01, 33), "another key type"},
		{"no multicodec", "did:key:z" + base58.Encode(make([]byte, 32)), "another key type"},
		{"short key", "did:key:zTjsVPtY", "3 bytes"},
		{"31-byte key", encodeRaw(0xed, 0x01, 31), "31 bytes"},
		{"33-byte key", encodeRaw(0xed, 0x01, 33), "33 bytes"},
		// Base58 digits are not aligned to bytes: dropping or adding one
		// changes every byte.
		{"truncated", valid[:len(valid)-1], "46 base58 digits, an Ed25519 did:key has 47"},
		{"extra char", valid + "1", "48 base58 digits"},
		{"too long", "did:key:z" + strings.Repeat("6", 200), "too long"},
		{"leading zero digit", "did:key:z1" + mb[1:], "another key type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDID(tt.in)
			if err == nil {
				t.Fatalf("ParseDID(%q) = %x, want error", tt.in, got)
			}
			if !errors.Is(err, ErrMalformedDID) {
				t.Errorf("ParseDID(%q) error %v does not wrap ErrMalformedDID", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("ParseDID(%q) error %q does not mention %q", tt.in, err, tt.reason)
			}
			if got != (PublicKey{}) {
				t.Errorf("ParseDID(%q) returned non-zero key %x with an error", tt.in, got)
			}
		})
	}
}

func TestShort(t *testing.T) {
	p, err := ParseDID(w3cExampleDID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Short(), "z6Mk…ta2doK"; got != want {
		t.Errorf("Short() = %q, want %q", got, want)
	}
}

func TestPublicKeyJSON(t *testing.T) {
	type doc struct {
		Author PublicKey         `json:"author"`
		Votes  map[PublicKey]int `json:"votes"`
	}
	p := testKey(t, 3).Public()
	in := doc{Author: p, Votes: map[PublicKey]int{p: 1}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"author":"` + p.DID() + `","votes":{"` + p.DID() + `":1}}`
	if string(data) != want {
		t.Errorf("json.Marshal = %s, want %s", data, want)
	}
	var out doc
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Author != p || out.Votes[p] != 1 {
		t.Errorf("json round trip = %+v, want %+v", out, in)
	}
	err = json.Unmarshal([]byte(`{"author":"did:key:zzz"}`), &out)
	if !errors.Is(err, ErrMalformedDID) {
		t.Errorf("json.Unmarshal of a bad DID: error %v, want ErrMalformedDID", err)
	}
}

func TestCompare(t *testing.T) {
	a, b := PublicKey{1}, PublicKey{2}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Errorf("Compare is not a byte order: %d %d %d", a.Compare(b), b.Compare(a), a.Compare(a))
	}
}

func FuzzParseDID(f *testing.F) {
	f.Add(w3cExampleDID)
	f.Add(strings.TrimPrefix(w3cExampleDID, "did:key:"))
	f.Add(PublicKey{}.DID())
	f.Add(encodeRaw(0xec, 0x01, 32))
	f.Add(encodeRaw(0xed, 0x01, 31))
	f.Add("did:key:z")
	f.Add("did:key:")
	f.Add("")
	f.Add("did:key:z111111111111111111111111111111111111111111111111")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseDID(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedDID) {
				t.Fatalf("ParseDID(%q) error %v does not wrap ErrMalformedDID", s, err)
			}
			return
		}
		// Accepted input is canonical: it round-trips exactly.
		if want := strings.TrimPrefix(p.DID(), "did:key:"); strings.TrimPrefix(s, "did:key:") != want {
			t.Fatalf("ParseDID(%q) accepted a non-canonical form of %q", s, p.DID())
		}
		q, err := ParseDID(p.DID())
		if err != nil || q != p {
			t.Fatalf("ParseDID(%q) = %x, %v; want %x", p.DID(), q, err, p)
		}
	})
}
