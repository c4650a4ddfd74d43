package merkle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// recordSession runs a session between a and b and returns every message
// exchanged, in order.
func recordSession(t testing.TB, a, b *Tree, ao, bo Options) [][]byte {
	t.Helper()
	sa, msg, err := NewInitiator(a, ao)
	if err != nil {
		t.Fatal(err)
	}
	sb := NewResponder(b, bo)
	msgs := [][]byte{msg}
	cur, other := sb, sa
	for range 1000 {
		reply, _, err := cur.Receive(msg)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if reply == nil {
			return msgs
		}
		msgs = append(msgs, reply)
		msg = reply
		cur, other = other, cur
	}
	t.Fatal("session did not end")
	return nil
}

// sampleMessages returns messages of every mode from a few real sessions.
func sampleMessages(t testing.TB) [][]byte {
	t.Helper()
	all := newItemGen(20).items(3000)
	var msgs [][]byte
	msgs = append(msgs, recordSession(t, FromItems(all), FromItems(all[:2900]), Options{}, Options{})...)
	msgs = append(msgs, recordSession(t, FromItems(all[100:]), FromItems(all[:2950]), Options{}, Options{})...)
	var scattered []Item
	for i, it := range all {
		if i%97 != 0 {
			scattered = append(scattered, it)
		}
	}
	msgs = append(msgs, recordSession(t, FromItems(scattered), FromItems(all), Options{}, Options{})...)
	msgs = append(msgs, recordSession(t, FromItems(all[:10]), FromItems(all[5:20]), Options{Strict: true}, Options{})...)
	msgs = append(msgs, recordSession(t, New(), FromItems(all[:5]), Options{}, Options{})...)
	return msgs
}

func TestDecodeSessionMessages(t *testing.T) {
	modes := make(map[byte]bool)
	for i, msg := range sampleMessages(t) {
		m, err := decodeMessage(msg)
		if err != nil {
			t.Fatalf("message %d: decodeMessage: %v", i, err)
		}
		for _, r := range m.recs {
			modes[r.mode] = true
		}
		again, err := decodeMessage(encodeMessage(m))
		if err != nil {
			t.Fatalf("message %d: decode(encode(decode)): %v", i, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("message %d: decode(encode(m)) != m", i)
		}
	}
	for mode := byte(0); mode <= maxMode; mode++ {
		if !modes[mode] {
			t.Errorf("sample sessions never used record mode %d", mode)
		}
	}
}

func TestIndexSetForms(t *testing.T) {
	tests := []struct {
		name     string
		universe int
		members  []int
		form     byte
	}{
		{"empty", 10, nil, idxList},
		{"few", 1000, []int{3, 500, 999}, idxList},
		{"all but one", 1000, allBut(1000, 17), idxComplement},
		{"half", 64, evens(64), idxBitmap},
		{"all", 5, []int{0, 1, 2, 3, 4}, idxComplement},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := appendIndexSet(nil, tc.universe, tc.members)
			if buf[0] != tc.form {
				t.Errorf("form = %d, want %d", buf[0], tc.form)
			}
			r := &reader{b: buf}
			x, err := r.indexSet()
			if err != nil {
				t.Fatalf("indexSet: %v", err)
			}
			if r.off != len(buf) {
				t.Fatalf("decoded %d of %d bytes", r.off, len(buf))
			}
			var got []int
			if err := x.members(tc.universe, func(i int) { got = append(got, i) }); err != nil {
				t.Fatalf("members: %v", err)
			}
			if !reflect.DeepEqual(got, tc.members) {
				t.Errorf("members = %v, want %v", got, tc.members)
			}
			if tc.universe > 0 {
				if err := x.members(tc.universe-1, func(int) {}); err == nil && len(tc.members) > 0 && tc.members[len(tc.members)-1] == tc.universe-1 {
					t.Errorf("members accepted a position past a shorter list")
				}
			}
		})
	}
}

func allBut(n, skip int) []int {
	var out []int
	for i := range n {
		if i != skip {
			out = append(out, i)
		}
	}
	return out
}

func evens(n int) []int {
	var out []int
	for i := 0; i < n; i += 2 {
		out = append(out, i)
	}
	return out
}

func TestDecodeRejects(t *testing.T) {
	hdr := func(flags byte) []byte { return []byte{FormatVersion, flags} }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	uv := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	fp := make([]byte, shortFPSize)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"version only", []byte{FormatVersion}, ErrMalformed},
		{"unknown version", []byte{2, 0}, ErrVersion},
		{"unknown flag", hdr(0x10), ErrMalformed},
		{"truncated root", cat(hdr(flagRoot), uv(5), make([]byte, 31)), ErrMalformed},
		{"unknown mode", cat(hdr(0), []byte{7, 0, 1}), ErrMalformed},
		{"bound does not increase", cat(hdr(0), []byte{modeSkip, 0, 0}), ErrMalformed},
		{"bound decreases", cat(hdr(0), []byte{modeSkip, 0, 5, modeSkip, 0, 0}), ErrMalformed},
		{"bad bound header", cat(hdr(0), []byte{modeSkip, 0x80, 1}), ErrMalformed},
		{"bound clock overflow", cat(hdr(0), []byte{modeSkip, 63, 2}), ErrMalformed},
		{"bound prefix length 0", cat(hdr(0), []byte{modeSkip, boundPrefix, 1, 0}), ErrMalformed},
		{"bound prefix length 33", cat(hdr(0), []byte{modeSkip, boundPrefix, 1, 33}), ErrMalformed},
		{"bound prefix ends in zero", cat(hdr(0), []byte{modeSkip, boundPrefix, 1, 2, 5, 0}), ErrMalformed},
		{"non-minimal varint", cat(hdr(0), []byte{modeSkip, 0, 0x81, 0x00}), ErrMalformed},
		{"varint overflow", cat(hdr(0), []byte{modeSkip, 0}, bytes.Repeat([]byte{0xff}, 10), []byte{1}), ErrMalformed},
		{"record after +inf", cat(hdr(0), []byte{modeSkip, boundInf, modeSkip, 0, 1}), ErrMalformed},
		{"trailing byte after +inf", cat(hdr(0), []byte{modeSkip, boundInf, 0}), ErrMalformed},
		{"truncated fingerprint", cat(hdr(0), []byte{modeFingerprint, boundInf}, uv(3), fp[:7]), ErrMalformed},
		{"strict fingerprint too short", cat(hdr(flagStrict), []byte{modeFingerprint, boundInf}, uv(3), fp), ErrMalformed},
		{"count over limit", cat(hdr(0), []byte{modeFingerprint, boundInf}, uv(maxRangeCount+1), fp), ErrTooLarge},
		{"list over limit", cat(hdr(0), []byte{modeFullList, boundInf}, uv(MaxListLen+1)), ErrTooLarge},
		{"list longer than message", cat(hdr(0), []byte{modeFullList, boundInf}, uv(2), make([]byte, 40)), ErrMalformed},
		{"prefix list truncated", cat(hdr(0), []byte{modePrefixList, boundInf}, uv(1), make([]byte, 7)), ErrMalformed},
		{"unknown index form", cat(hdr(0), []byte{modeFullReply, boundInf, 3}), ErrMalformed},
		{"index list not increasing past limit", cat(hdr(0), []byte{modeFullReply, boundInf, idxList}, uv(2), uv(MaxListLen-1), uv(0)), ErrMalformed},
		{"complement excludes more than universe", cat(hdr(0), []byte{modeFullReply, boundInf, idxComplement}, uv(2), uv(3)), ErrTooLarge},
		{"complement index past universe", cat(hdr(0), []byte{modeFullReply, boundInf, idxComplement}, uv(2), uv(1), uv(2)), ErrMalformed},
		{"bitmap stray bits", cat(hdr(0), []byte{modeFullReply, boundInf, idxBitmap}, uv(3), []byte{0x08}, uv(0)), ErrMalformed},
		{"bitmap over limit", cat(hdr(0), []byte{modeFullReply, boundInf, idxBitmap}, uv(MaxListLen+1)), ErrTooLarge},
		{"reply IDs truncated", cat(hdr(0), []byte{modeFullReply, boundInf, idxList}, uv(0), uv(1), make([]byte, 31)), ErrMalformed},
		{"items truncated", cat(hdr(0), []byte{modeItems, boundInf}, uv(1)), ErrMalformed},
		{"message too large", make([]byte, MaxMessageSize+1), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeMessage(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("decodeMessage = %v, want %v", err, tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
		})
	}
}

func TestDecodeTooManyRecords(t *testing.T) {
	// MaxRecords+1 skip records, each advancing the clock by one.
	msg := []byte{FormatVersion, 0}
	for range MaxRecords + 1 {
		msg = append(msg, modeSkip, 0, 1)
	}
	if _, err := decodeMessage(msg); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("decodeMessage = %v, want ErrTooLarge", err)
	}
	if _, err := decodeMessage(msg[:len(msg)-3]); err != nil {
		t.Fatalf("decodeMessage with MaxRecords records = %v, want nil", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, msg := range sampleMessages(f) {
		if len(msg) < 4096 {
			f.Add(msg)
		}
	}
	f.Add([]byte{FormatVersion, flagRoot | flagFinal, 0})
	f.Add([]byte{FormatVersion, 0, modeFullReply, boundInf, idxBitmap, 9, 0xff, 0x01, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			return
		}
		again, err := decodeMessage(encodeMessage(m))
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("decode(encode(m)) != m")
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzDecode from sample
// sessions when run with MERKLE_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("MERKLE_WRITE_CORPUS") == "" {
		t.Skip("set MERKLE_WRITE_CORPUS=1 to regenerate the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, msg := range sampleMessages(t) {
		if len(msg) > 2048 {
			continue
		}
		body := "go test fuzz v1\n[]byte(" + quoteBytes(msg) + ")\n"
		name := filepath.Join(dir, fmt.Sprintf("session-%02d", i))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func quoteBytes(b []byte) string {
	var sb bytes.Buffer
	sb.WriteByte('"')
	for _, c := range b {
		sb.WriteString("\\x")
		sb.WriteByte("0123456789abcdef"[c>>4])
		sb.WriteByte("0123456789abcdef"[c&15])
	}
	sb.WriteByte('"')
	return sb.String()
}
