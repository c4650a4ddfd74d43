package crdt

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"
)

// encModes are the CBOR modes storage may use: the package default and Core
// Deterministic Encoding.
func encModes(t *testing.T) map[string]cbor.EncMode {
	t.Helper()
	det, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatalf("CoreDetEncOptions().EncMode() = %v", err)
	}
	def, err := cbor.EncOptions{}.EncMode()
	if err != nil {
		t.Fatalf("EncOptions{}.EncMode() = %v", err)
	}
	return map[string]cbor.EncMode{"default": def, "core deterministic": det}
}

func sampleLWW() *LWW[string] {
	var r LWW[string]
	r.Apply(wr(id1, NewTimestamp(testWall, 0), alice, "first"))
	r.Apply(Write[string]{Stamp: Stamp{Clock: NewTimestamp(testWall, 1), Author: bob, ID: id2}, Value: "empty prev", Prev: []ID{}})
	r.Apply(wr(id3, NewTimestamp(testWall+5, 0), carol, "edit", id1, id5)) // id5 not seen yet
	r.Apply(wr(hashID("x"), NewTimestamp(testWall+9, 2), alice, ""))
	return &r
}

func sampleORSet() *ORSet[string] {
	var s ORSet[string]
	s.Add(id1, "bug")
	s.Add(id2, "bug")
	s.Add(id3, "docs")
	s.Add(hashID("p0"), "p0")
	s.Remove(id3)
	s.Remove(id4) // its add has not arrived
	return &s
}

func TestCBORRoundTrip(t *testing.T) {
	for mode, em := range encModes(t) {
		t.Run(mode, func(t *testing.T) {
			t.Run("LWW", func(t *testing.T) {
				for name, in := range map[string]*LWW[string]{"populated": sampleLWW(), "zero": new(LWW[string])} {
					b, err := em.Marshal(in)
					if err != nil {
						t.Fatalf("Marshal(%s) = %v", name, err)
					}
					var out LWW[string]
					if err := cbor.Unmarshal(b, &out); err != nil {
						t.Fatalf("Unmarshal(%s) = %v", name, err)
					}
					if diff := cmp.Diff(in, &out); diff != "" {
						t.Errorf("%s: state after round trip (-want +got):\n%s", name, diff)
					}
					// A decoded register keeps working, nil maps included.
					out.Apply(wr(id4, NewTimestamp(testWall+20, 0), bob, "after decode", out.Heads()...))
					if v, _ := out.Get(); v != "after decode" || len(out.Heads()) != 1 {
						t.Errorf("%s: after decoding and applying a superseding write: Get() = %q, Heads() = %v", name, v, out.Heads())
					}
				}
			})
			t.Run("ORSet", func(t *testing.T) {
				for name, in := range map[string]*ORSet[string]{"populated": sampleORSet(), "zero": new(ORSet[string])} {
					b, err := em.Marshal(in)
					if err != nil {
						t.Fatalf("Marshal(%s) = %v", name, err)
					}
					var out ORSet[string]
					if err := cbor.Unmarshal(b, &out); err != nil {
						t.Fatalf("Unmarshal(%s) = %v", name, err)
					}
					if diff := cmp.Diff(in, &out); diff != "" {
						t.Errorf("%s: state after round trip (-want +got):\n%s", name, diff)
					}
					out.Add(id5, "wontfix")
					out.Remove(out.Tags("bug")...)
					if out.Contains("bug") || !out.Contains("wontfix") {
						t.Errorf("%s: after decoding, add and remove: Elements() = %v", name, out.Elements())
					}
				}
			})
		})
	}
}

func TestCBORDeterministic(t *testing.T) {
	em := encModes(t)["core deterministic"]
	// The same state built in two orders encodes to the same bytes.
	a, b := sampleLWW(), new(LWW[string])
	hist := a.History()
	for i := len(hist) - 1; i >= 0; i-- {
		b.Apply(hist[i])
	}
	ba, err := em.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := em.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ba, bb) {
		t.Errorf("equal LWW states encode differently:\n%x\n%x", ba, bb)
	}

	s1, s2 := sampleORSet(), new(ORSet[string])
	s2.Remove(id4, id3)
	s2.Merge(s1)
	b1, err := em.Marshal(s1)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := em.Marshal(s2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Errorf("equal ORSet states encode differently:\n%x\n%x", b1, b2)
	}
}

// TestCBORLayout pins the integer keys of the storage format.
func TestCBORLayout(t *testing.T) {
	w := wr(id2, 7, alice, "v", id1)
	b, err := cbor.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var m map[int]cbor.RawMessage
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatalf("Write does not encode as a map keyed by integers: %v", err)
	}
	want := map[int]any{1: uint64(7), 2: alice[:], 3: id2[:], 4: "v", 5: []any{id1[:]}}
	for k, v := range want {
		raw, ok := m[k]
		if !ok {
			t.Errorf("encoded Write lacks key %d: %x", k, b)
			continue
		}
		var got any
		if err := cbor.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Errorf("encoded Write key %d (-want +got):\n%s", k, diff)
		}
	}
	if len(m) != len(want) {
		t.Errorf("encoded Write has %d keys, want %d", len(m), len(want))
	}

	for name, v := range map[string]any{"LWW": sampleLWW(), "ORSet": sampleORSet()} {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var top map[int]cbor.RawMessage
		if err := cbor.Unmarshal(b, &top); err != nil {
			t.Fatalf("%s does not encode as a map keyed by integers: %v", name, err)
		}
		if _, ok1 := top[1]; !ok1 || len(top) != 2 {
			t.Errorf("%s encodes keys %v, want 1 and 2", name, top)
		}
	}
}

func TestIDText(t *testing.T) {
	id := hashID("op")
	s := id.String()
	if len(s) != 64 || s != string(bytes.ToLower([]byte(s))) {
		t.Fatalf("String() = %q, want 64 lowercase hex digits", s)
	}
	got, err := ParseID(s)
	if err != nil || got != id {
		t.Errorf("ParseID(%q) = %v, %v; want %v", s, got, err, id)
	}
	got, err = ParseID(string(bytes.ToUpper([]byte(s))))
	if err != nil || got != id {
		t.Errorf("ParseID(upper case) = %v, %v; want %v", got, err, id)
	}

	j, err := json.Marshal(map[ID]ID{id: id1})
	if err != nil {
		t.Fatal(err)
	}
	var back map[ID]ID
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", j, err)
	}
	if diff := cmp.Diff(map[ID]ID{id: id1}, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"", "abc", s[:63], s + "0", "zz" + s[2:]} {
		if _, err := ParseID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) error = %v, want %v", bad, err, ErrBadID)
		}
		var v ID
		if err := v.UnmarshalText([]byte(bad)); !errors.Is(err, ErrBadID) {
			t.Errorf("UnmarshalText(%q) error = %v, want %v", bad, err, ErrBadID)
		}
	}
}
