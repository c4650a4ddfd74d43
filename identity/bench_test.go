package identity

import (
	"fmt"
	"path/filepath"
	"testing"
)

// benchMsgSize is roughly the size of an encoded op.
const benchMsgSize = 256

type benchEntry struct {
	pub PublicKey
	msg []byte
	sig []byte
}

// benchEntries returns n signed entries by the given number of authors.
func benchEntries(b *testing.B, n, authors int) []benchEntry {
	b.Helper()
	keys := make([]*Key, authors)
	for i := range keys {
		keys[i] = testKey(b, byte(i))
	}
	entries := make([]benchEntry, n)
	for i := range entries {
		k := keys[i%authors]
		msg := make([]byte, benchMsgSize)
		copy(msg, fmt.Sprintf("op %d", i))
		entries[i] = benchEntry{pub: k.Public(), msg: msg, sig: k.Sign("op", msg)}
	}
	return entries
}

// reportPerSig reports the cost per signature and signatures per second on
// one core.
func reportPerSig(b *testing.B, sigsPerOp int) {
	b.Helper()
	perSig := float64(b.Elapsed().Nanoseconds()) / float64(b.N*sigsPerOp)
	b.ReportMetric(perSig, "ns/sig")
	b.ReportMetric(1e9/perSig, "sigs/s")
}

func BenchmarkSign(b *testing.B) {
	k := testKey(b, 1)
	msg := make([]byte, benchMsgSize)
	b.ReportAllocs()
	for b.Loop() {
		k.Sign("op", msg)
	}
	reportPerSig(b, 1)
}

func BenchmarkVerify(b *testing.B) {
	e := benchEntries(b, 1, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(e.pub, "op", e.msg, e.sig) {
			b.Fatal("invalid signature")
		}
	}
	reportPerSig(b, 1)
}

// BenchmarkBatchVerify measures batches by one author, by n recurring
// authors (whose expanded keys the verifier keeps between batches), and by
// n authors it has never seen (a new verifier per batch).
func BenchmarkBatchVerify(b *testing.B) {
	for _, n := range []int{64, 256} {
		for _, tc := range []struct {
			name    string
			authors int
			cold    bool
		}{
			{"authors=1", 1, false},
			{fmt.Sprintf("authors=%d", n), n, false},
			{fmt.Sprintf("authors=%d/cold", n), n, true},
		} {
			b.Run(fmt.Sprintf("n=%d/%s", n, tc.name), func(b *testing.B) {
				entries := benchEntries(b, n, tc.authors)
				v := NewBatchVerifier()
				b.ReportAllocs()
				for b.Loop() {
					if tc.cold {
						v = NewBatchVerifier()
					}
					v.Reset()
					for _, e := range entries {
						v.Add(e.pub, "op", e.msg, e.sig)
					}
					if ok, _ := v.Verify(); !ok {
						b.Fatal("invalid batch")
					}
				}
				reportPerSig(b, n)
			})
		}
	}
}

// BenchmarkBatchVerifyOneInvalid measures the fallback: one bad signature
// makes the batch check every entry on its own.
func BenchmarkBatchVerifyOneInvalid(b *testing.B) {
	const n = 64
	entries := benchEntries(b, n, n)
	entries[n/2].msg = append([]byte(nil), "forged"...)
	v := NewBatchVerifier()
	for b.Loop() {
		v.Reset()
		for _, e := range entries {
			v.Add(e.pub, "op", e.msg, e.sig)
		}
		if ok, _ := v.Verify(); ok {
			b.Fatal("forged entry accepted")
		}
	}
	reportPerSig(b, n)
}

// BenchmarkLoadEncrypted measures unlocking a key file at the production
// KDF cost: the delay a user sees after typing the passphrase.
func BenchmarkLoadEncrypted(b *testing.B) {
	old := saveKDF
	saveKDF = productionKDF
	defer func() { saveKDF = old }()
	path := filepath.Join(b.TempDir(), "identity.key")
	if err := Save(path, testKey(b, 1), []byte("pw")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(path, []byte("pw")); err != nil {
			b.Fatal(err)
		}
	}
}
