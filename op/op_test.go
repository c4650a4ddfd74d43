package op

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"murmur/crdt"
	"murmur/identity"
)

func testKey(t testing.TB, seed byte) *identity.Key {
	t.Helper()
	k, err := identity.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign(t testing.TB, k *identity.Key, u Unsigned) *Op {
	t.Helper()
	o, err := Sign(k, u)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func sampleOps(t testing.TB) (genesis, child *Op) {
	k := testKey(t, 1)
	body, err := EncodeBody(map[string]string{"name": "murmur"})
	if err != nil {
		t.Fatal(err)
	}
	genesis = mustSign(t, k, Unsigned{Clock: crdt.NewTimestamp(1_700_000_000_000, 0), Kind: "repo.create", Body: body})
	child = mustSign(t, k, Unsigned{
		Repo:    genesis.ID(),
		Parents: []ID{genesis.ID()},
		Clock:   genesis.Clock + 1,
		Kind:    "issue.open",
		Body:    body,
	})
	return genesis, child
}

func TestRoundTrip(t *testing.T) {
	g, c := sampleOps(t)
	for _, o := range []*Op{g, c} {
		d, err := DecodeVerified(o.Bytes())
		if err != nil {
			t.Fatalf("DecodeVerified(%s) = %v", o.Kind, err)
		}
		if d.ID() != o.ID() || !bytes.Equal(d.Bytes(), o.Bytes()) {
			t.Errorf("round trip of %s changed the op", o.Kind)
		}
		if d.ID() != ID(sha256.Sum256(o.Bytes())) {
			t.Errorf("ID is not the SHA-256 of the encoding")
		}
		if d.Kind != o.Kind || d.Clock != o.Clock || d.Author != o.Author || d.Repo != o.Repo || !bytes.Equal(d.Body, o.Body) {
			t.Errorf("fields differ after round trip: %+v vs %+v", d, o)
		}
	}
	if !g.IsGenesis() || g.RepoID() != g.ID() {
		t.Errorf("genesis op: IsGenesis=%v RepoID=%v", g.IsGenesis(), g.RepoID())
	}
	if c.IsGenesis() || c.RepoID() != g.ID() {
		t.Errorf("child op: IsGenesis=%v RepoID=%v", c.IsGenesis(), c.RepoID())
	}
}

func TestSigningMessageMatchesReencoding(t *testing.T) {
	g, c := sampleOps(t)
	for _, o := range []*Op{g, c} {
		var w wire
		if err := decMode.Unmarshal(o.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		w.Sig = nil
		want, err := encMode.Marshal(&w)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.SigningMessage(); !bytes.Equal(got, want) {
			t.Errorf("SigningMessage(%s) = %x, want %x", o.Kind, got, want)
		}
	}
}

func TestSignSortsParents(t *testing.T) {
	k := testKey(t, 2)
	a, b := ID{1}, ID{2}
	o := mustSign(t, k, Unsigned{Repo: ID{9}, Parents: []ID{b, a, b}, Clock: 5, Kind: "x"})
	if len(o.Parents) != 2 || o.Parents[0] != a || o.Parents[1] != b {
		t.Errorf("parents = %v, want [a b]", o.Parents)
	}
}

// reencode decodes raw into the wire form, lets f change it, and encodes it
// again (signature left as is).
func reencode(t *testing.T, raw []byte, f func(*wire)) []byte {
	t.Helper()
	var w wire
	if err := decMode.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	f(&w)
	b, err := encMode.Marshal(&w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	_, c := sampleOps(t)
	raw := c.Bytes()
	many := make([][]byte, MaxParents+1)
	for i := range many {
		many[i] = bytes.Repeat([]byte{byte(i + 1)}, 32)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"not a map", []byte{0x01}, ErrMalformed},
		{"trailing bytes", append(bytes.Clone(raw), 0x00), ErrTrailingBytes},
		{"truncated", raw[:len(raw)-1], ErrMalformed},
		{"too large", make([]byte, MaxSize+1), ErrTooLarge},
		{"unknown version", reencode(t, raw, func(w *wire) { w.V = 2 }), ErrUnknownVersion},
		{"short author", reencode(t, raw, func(w *wire) { w.Author = w.Author[:31] }), ErrMalformed},
		{"short signature", reencode(t, raw, func(w *wire) { w.Sig = w.Sig[:63] }), ErrMalformed},
		{"too many parents", reencode(t, raw, func(w *wire) { w.Parents = many[:MaxParents+1] }), ErrTooManyParents},
		{"unsorted parents", reencode(t, raw, func(w *wire) { w.Parents = [][]byte{many[1], many[0]} }), ErrUnsortedParents},
		{"duplicate parents", reencode(t, raw, func(w *wire) { w.Parents = [][]byte{many[0], many[0]} }), ErrUnsortedParents},
		{"no parents", reencode(t, raw, func(w *wire) { w.Parents = nil }), ErrMalformed},
		{"genesis with parents", reencode(t, raw, func(w *wire) { w.Repo = nil }), ErrInvalidGenesis},
		{"bad kind", reencode(t, raw, func(w *wire) { w.Kind = "Issue Open" }), ErrInvalidKind},
		{"empty kind", reencode(t, raw, func(w *wire) { w.Kind = "" }), ErrInvalidKind},
		// A non-shortest integer: clock encoded as uint64 (0x1b) although it
		// fits in fewer bytes is caught by the canonical re-encoding.
		{"non-canonical int", nonShortestVersion(raw), ErrNonCanonical},
		{"indefinite length", indefinite(raw), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Decode() = %v, want %v", err, tt.want)
			}
		})
	}
}

// nonShortestVersion rewrites "key 0: uint 1" (0x00 0x01) as a two-byte
// uint (0x00 0x18 0x01).
func nonShortestVersion(raw []byte) []byte {
	if raw[1] != 0x00 || raw[2] != 0x01 {
		panic("unexpected encoding")
	}
	out := []byte{raw[0], 0x00, 0x18, 0x01}
	return append(out, raw[3:]...)
}

// indefinite turns the outer map into an indefinite-length map.
func indefinite(raw []byte) []byte {
	out := []byte{0xbf}
	out = append(out, raw[1:]...)
	return append(out, 0xff)
}

func TestVerifyRejectsTampering(t *testing.T) {
	_, c := sampleOps(t)
	other := testKey(t, 3).Public()
	forged := reencode(t, c.Bytes(), func(w *wire) { w.Author = other[:] })
	o, err := Decode(forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(other author) = %v, want ErrBadSignature", err)
	}
	changed := reencode(t, c.Bytes(), func(w *wire) { w.Clock++ })
	if _, err := DecodeVerified(changed); !errors.Is(err, ErrBadSignature) {
		t.Errorf("DecodeVerified(changed clock) = %v, want ErrBadSignature", err)
	}
}

func TestVerifyBatch(t *testing.T) {
	k := testKey(t, 4)
	var ops []*Op
	for i := range 10 {
		ops = append(ops, mustSign(t, k, Unsigned{Repo: ID{1}, Parents: []ID{{2}}, Clock: crdt.Timestamp(i + 1), Kind: "comment.add"}))
	}
	bad, err := Decode(reencode(t, ops[3].Bytes(), func(w *wire) { w.Clock = 999 }))
	if err != nil {
		t.Fatal(err)
	}
	ops[3] = bad
	errs := VerifyBatch(ops)
	for i, e := range errs {
		if (i == 3) != (e != nil) {
			t.Errorf("VerifyBatch()[%d] = %v", i, e)
		}
	}
}

func TestBodyCanonical(t *testing.T) {
	type body struct {
		Title string `cbor:"1,keyasint"`
	}
	b, err := EncodeBody(body{Title: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	var got body
	if err := DecodeBody(b, &got); err != nil || got.Title != "hi" {
		t.Fatalf("DecodeBody = %v, %+v", err, got)
	}
	// Unknown field.
	extra, _ := EncodeBody(map[int]string{1: "hi", 2: "x"})
	if err := DecodeBody(extra, &got); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeBody(unknown field) = %v, want ErrMalformed", err)
	}
	// Non-canonical: string length in a two-byte header.
	nc := []byte{0xa1, 0x01, 0x78, 0x02, 'h', 'i'}
	if err := DecodeBody(nc, &got); !errors.Is(err, ErrNonCanonical) {
		t.Errorf("DecodeBody(non-canonical) = %v, want ErrNonCanonical", err)
	}
}

func FuzzDecode(f *testing.F) {
	g, c := sampleOps(f)
	f.Add(g.Bytes())
	f.Add(c.Bytes())
	f.Add([]byte{0xa0})
	f.Add([]byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes is canonical: it re-encodes to the same bytes and
		// decodes to the same ID.
		if !bytes.Equal(o.Bytes(), b) {
			t.Fatalf("decoded op does not keep its bytes")
		}
		o2, err := Decode(o.Bytes())
		if err != nil || o2.ID() != o.ID() {
			t.Fatalf("re-decode: %v", err)
		}
		_ = o.Verify()
	})
}

func BenchmarkDecodeVerify(b *testing.B) {
	_, c := sampleOps(b)
	raw := c.Bytes()
	for b.Loop() {
		if _, err := DecodeVerified(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	_, c := sampleOps(b)
	raw := c.Bytes()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
