package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	k := testKey(t, 1)
	other := testKey(t, 2)
	msg := []byte("issue.open: title=crash on start")
	sig := k.Sign("op", msg)
	if len(sig) != SignatureSize {
		t.Fatalf("len(Sign()) = %d, want %d", len(sig), SignatureSize)
	}

	tampered := bytes.Clone(msg)
	tampered[0] ^= 1
	badSig := bytes.Clone(sig)
	badSig[10] ^= 0x80
	// S + L: the same S modulo the group order, which RFC 8032 and ZIP-215
	// reject to prevent malleability.
	malleable := bytes.Clone(sig)
	copy(malleable[32:], addGroupOrder(t, sig[32:]))

	tests := []struct {
		name   string
		pub    PublicKey
		domain string
		msg    []byte
		sig    []byte
		want   bool
	}{
		{"valid", k.Public(), "op", msg, sig, true},
		{"wrong domain", k.Public(), "op2", msg, sig, false},
		{"empty domain", k.Public(), "", msg, sig, false},
		{"domain boundary moved", k.Public(), "o", append([]byte("p"), msg...), sig, false},
		{"tampered msg", k.Public(), "op", tampered, sig, false},
		{"truncated msg", k.Public(), "op", msg[:len(msg)-1], sig, false},
		{"tampered sig", k.Public(), "op", msg, badSig, false},
		{"non-canonical S", k.Public(), "op", msg, malleable, false},
		{"other key", other.Public(), "op", msg, sig, false},
		{"short sig", k.Public(), "op", msg, sig[:63], false},
		{"long sig", k.Public(), "op", msg, append(bytes.Clone(sig), 0), false},
		{"nil sig", k.Public(), "op", msg, nil, false},
		{"zero pub", PublicKey{}, "op", msg, sig, false},
		{"pub not a point", notAPoint(t), "op", msg, sig, false},
		{"domain too long", k.Public(), strings.Repeat("d", 256), msg, sig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.pub, tt.domain, tt.msg, tt.sig); got != tt.want {
				t.Errorf("Verify(%s, %q, %q, %x) = %v, want %v", tt.pub.Short(), tt.domain, tt.msg, tt.sig, got, tt.want)
			}
			b := NewBatchVerifier()
			b.Add(tt.pub, tt.domain, tt.msg, tt.sig)
			if all, valid := b.Verify(); all != tt.want || len(valid) != 1 || valid[0] != tt.want {
				t.Errorf("BatchVerifier.Verify() = %v, %v; want %v, [%v]", all, valid, tt.want, tt.want)
			}
		})
	}
}

// addGroupOrder returns the little-endian 32-byte encoding of s + L, where L
// is the order of the Ed25519 base point.
func addGroupOrder(t *testing.T, s []byte) []byte {
	t.Helper()
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	be := make([]byte, len(s))
	for i := range s {
		be[len(s)-1-i] = s[i]
	}
	sum := new(big.Int).Add(new(big.Int).SetBytes(be), l)
	out := make([]byte, 32)
	sum.FillBytes(out)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func TestSignMaxDomain(t *testing.T) {
	k := testKey(t, 1)
	domain := strings.Repeat("d", MaxDomainLen)
	sig := k.Sign(domain, []byte("m"))
	if !Verify(k.Public(), domain, []byte("m"), sig) {
		t.Errorf("Verify with a %d-byte domain = false, want true", MaxDomainLen)
	}
	if sig := k.Sign(domain+"d", []byte("m")); sig != nil {
		t.Errorf("Sign with a %d-byte domain = %x, want nil", MaxDomainLen+1, sig)
	}
	var zero Key
	if sig := zero.Sign("op", nil); sig != nil {
		t.Errorf("zero Key.Sign = %x, want nil", sig)
	}
}

// TestSignatureWireFormat pins the signed message layout, which is a stable
// wire format: a change here breaks every stored signature.
func TestSignatureWireFormat(t *testing.T) {
	k := testKey(t, 1)
	msg := []byte("hello")
	sig := k.Sign("op", msg)

	// The layout, spelled out independently of the implementation.
	signed := []byte("murmur-sig-v1\x00\x02ophello")
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	if want := ed25519.Sign(priv, signed); !bytes.Equal(sig, want) {
		t.Errorf("Sign(%q, %q) = %x, want the plain Ed25519 signature of %q: %x", "op", msg, sig, signed, want)
	}
	// Computed with an independent Ed25519 implementation (OpenSSL).
	const golden = "3d0ac607001de1130de530c0ca9775622ec1ecbd0803bbabd17be11f8a3c5e86" +
		"1bfac3077c3627a1d148539f7fa0947252915937cb93f6144c66fc49f03bcc0c"
	if got := hex.EncodeToString(sig); got != golden {
		t.Errorf("Sign(%q, %q) = %s, want %s", "op", msg, got, golden)
	}
}

// smallOrderEncodings are the 14 encodings (8 canonical, 6 non-canonical) of
// the 8 small-order points of edwards25519. With S = 0 and any small-order
// A and R, a signature is valid for every message under ZIP-215 and invalid
// under stricter rules: the cases where verifiers disagree in practice.
var smallOrderEncodings = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

type sigCase struct {
	pub PublicKey
	msg []byte
	sig []byte
}

// TestZIP215EdgeCases checks that single and batch verification accept all
// 196 small-order ZIP-215 cases, alone and mixed with ordinary signatures.
func TestZIP215EdgeCases(t *testing.T) {
	var cases []sigCase
	for _, a := range smallOrderEncodings {
		for _, r := range smallOrderEncodings {
			var c sigCase
			copy(c.pub[:], mustHex(t, a))
			c.sig = append(mustHex(t, r), make([]byte, 32)...)
			c.msg = []byte("Zcash")
			cases = append(cases, c)
		}
	}
	for i, c := range cases {
		if !Verify(c.pub, "zip215", c.msg, c.sig) {
			t.Errorf("Verify(case %d: A=%x sig=%x) = false, want true under ZIP-215", i, c.pub, c.sig)
		}
	}
	// Batches below and above the size where the underlying verifier
	// switches algorithms.
	k := testKey(t, 9)
	for _, size := range []int{1, 7, 64, 2 * len(cases)} {
		b := NewBatchVerifier()
		for start := 0; start < len(cases); start += size {
			b.Reset()
			n := 0
			for i := start; i < len(cases) && i < start+size; i++ {
				c := cases[i]
				b.Add(c.pub, "zip215", c.msg, c.sig)
				msg := fmt.Appendf(nil, "ordinary %d", i)
				b.Add(k.Public(), "zip215", msg, k.Sign("zip215", msg))
				n += 2
			}
			all, valid := b.Verify()
			if !all || len(valid) != n || slices.Contains(valid, false) {
				t.Errorf("batch size %d from case %d: Verify() = %v, %v; want all %d valid", size, start, all, valid, n)
			}
		}
	}
}

// TestSingleBatchAgree mutates valid signatures, keys and messages at random
// and checks that Verify and BatchVerifier always reach the same verdict.
func TestSingleBatchAgree(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	keys := []*Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	small := make([][]byte, len(smallOrderEncodings))
	for i, s := range smallOrderEncodings {
		small[i] = mustHex(t, s)
	}
	const n = 300
	var cases []sigCase
	for i := range n {
		k := keys[rng.IntN(len(keys))]
		msg := fmt.Appendf(nil, "msg %d", i)
		c := sigCase{pub: k.Public(), msg: msg, sig: k.Sign("agree", msg)}
		switch rng.IntN(7) {
		case 0: // unchanged
		case 1:
			c.sig[rng.IntN(len(c.sig))] ^= byte(1 << rng.IntN(8))
		case 2:
			c.pub[rng.IntN(len(c.pub))] ^= byte(1 << rng.IntN(8))
		case 3:
			c.msg[rng.IntN(len(c.msg))] ^= byte(1 << rng.IntN(8))
		case 4:
			copy(c.pub[:], small[rng.IntN(len(small))])
		case 5:
			copy(c.sig[:32], small[rng.IntN(len(small))])
			if rng.IntN(2) == 0 {
				clear(c.sig[32:])
			}
		case 6: // small-order A and R, S = 0: valid under ZIP-215 only
			copy(c.pub[:], small[rng.IntN(len(small))])
			copy(c.sig[:32], small[rng.IntN(len(small))])
			clear(c.sig[32:])
		}
		cases = append(cases, c)
	}
	want := make([]bool, len(cases))
	for i, c := range cases {
		want[i] = Verify(c.pub, "agree", c.msg, c.sig)
	}
	b := NewBatchVerifier()
	for _, size := range []int{5, 50, len(cases)} {
		for start := 0; start < len(cases); start += size {
			end := min(start+size, len(cases))
			b.Reset()
			for _, c := range cases[start:end] {
				b.Add(c.pub, "agree", c.msg, c.sig)
			}
			all, valid := b.Verify()
			if !slices.Equal(valid, want[start:end]) {
				t.Errorf("batch size %d from case %d: valid = %v, Verify says %v", size, start, valid, want[start:end])
			}
			if wantAll := !slices.Contains(want[start:end], false); all != wantAll {
				t.Errorf("batch size %d from case %d: all = %v, want %v", size, start, all, wantAll)
			}
		}
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a.Public() == b.Public() {
		t.Errorf("Generate returned the same key twice: %s", a.Public())
	}
	sig := a.Sign("op", []byte("x"))
	if !Verify(a.Public(), "op", []byte("x"), sig) {
		t.Errorf("Verify of a generated key's signature = false")
	}
	if _, err := generate(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Errorf("generate from a short random source succeeded, want error")
	}
}

func TestNewKeyFromSeedLength(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := NewKeyFromSeed(make([]byte, n)); err == nil {
			t.Errorf("NewKeyFromSeed(%d bytes) succeeded, want error", n)
		}
	}
}

func TestKeyFormatHidesPrivateKey(t *testing.T) {
	k := testKey(t, 0x5a)
	seedHex := strings.Repeat("5a", 8)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		for _, v := range []any{k, *k} {
			got := fmt.Sprintf(verb, v)
			if strings.Contains(got, seedHex) || strings.Contains(got, "90 90 90") || !strings.Contains(got, k.Public().DID()) {
				t.Errorf("Sprintf(%q, key) = %q, want only the DID", verb, got)
			}
		}
	}
}
