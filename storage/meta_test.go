package storage

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"murmur/crdt"
	"murmur/forge"
	"murmur/op"
)

func randomMeta(rng *rand.Rand) forge.Meta {
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	var m forge.Meta
	fill(m.Repo[:])
	fill(m.Author[:])
	fill(m.Roles[:])
	if rng.IntN(2) == 0 {
		fill(m.Object[:])
	}
	m.Clock = crdt.Timestamp(rng.Uint64())
	m.Accepted = rng.IntN(3) > 0
	m.Kind = []string{forge.KindCommentAdd, forge.KindTitle, "unknown.kind", ""}[rng.IntN(4)]
	if !m.Accepted {
		m.Reason = string(bytes.Repeat([]byte("why "), rng.IntN(80)))
	}
	return m
}

func TestMetaRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	raw := []byte("op bytes")
	for range 500 {
		m := randomMeta(rng)
		v := opValue(&m, raw)
		got, err := decodeMeta(op.ID{}, v)
		if err != nil {
			t.Fatalf("decodeMeta: %v", err)
		}
		if got != m {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
		}
		mb, rest, err := splitOpValue(v)
		if err != nil || !bytes.Equal(rest, raw) {
			t.Fatalf("splitOpValue = %q, %v; want the op bytes", rest, err)
		}
		if len(mb) != metaLen(&m) || len(v) != cap(v) {
			t.Fatalf("meta is %d bytes, metaLen says %d; value len %d cap %d", len(mb), metaLen(&m), len(v), cap(v))
		}
		if r, err := metaRepo(mb); err != nil || r != m.Repo {
			t.Fatalf("metaRepo = %v, %v; want %v", r, err, m.Repo)
		}
		// Every proper prefix of the meta is refused.
		for n := range len(mb) {
			if _, err := parseMeta(mb[:n]); err == nil {
				t.Fatalf("parseMeta accepted %d of %d bytes", n, len(mb))
			}
		}
		if _, err := parseMeta(append(bytes.Clone(mb), 0)); err == nil {
			t.Fatal("parseMeta accepted a trailing byte")
		}
	}
}

// Format 1 stores hold metas as CBOR; they still read.
func TestMetaReadsFormat1(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		m := randomMeta(rng)
		mb, err := encMode.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		if mb[0] == metaBinary {
			t.Fatalf("a CBOR meta starts with the binary marker")
		}
		got, err := parseMeta(mb)
		if err != nil || got != m {
			t.Fatalf("parseMeta(CBOR) = %+v, %v; want %+v", got, err, m)
		}
		if r, err := metaRepo(mb); err != nil || r != m.Repo {
			t.Fatalf("metaRepo(CBOR) = %v, %v", r, err)
		}
	}
}

func FuzzParseMeta(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 4 {
		m := randomMeta(rng)
		f.Add(appendMeta(nil, &m))
		cb, _ := encMode.Marshal(&m)
		f.Add(cb)
	}
	f.Add([]byte{metaBinary})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeta(b)
		if err != nil || len(b) == 0 || b[0] != metaBinary {
			return
		}
		// A binary meta that parses encodes back to the same bytes,
		// unless its uvarints were not minimal.
		if again := appendMeta(nil, &m); !bytes.Equal(again, b) && len(again) == len(b) {
			t.Fatalf("re-encoding changed the meta:\n%x\n%x", b, again)
		}
	})
}
