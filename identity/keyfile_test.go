package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// productionKDF is the cost Save uses outside tests.
var productionKDF = saveKDF

func TestMain(m *testing.M) {
	// Keep tests fast: the smallest Argon2id cost the format allows.
	saveKDF = argon2Params{Time: 1, MemoryKiB: 8, Threads: 1}
	os.Exit(m.Run())
}

func TestProductionKDFIsLoadable(t *testing.T) {
	if err := productionKDF.validate(); err != nil {
		t.Errorf("production KDF parameters %+v are rejected by Load: %v", productionKDF, err)
	}
	if productionKDF.MemoryKiB < 19*1024 || productionKDF.Time < 2 {
		t.Errorf("production KDF parameters %+v are below the OWASP minimum (19 MiB, t=2)", productionKDF)
	}
}

// keyPath returns a path for a key file in a fresh temporary directory.
func keyPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "identity.key")
}

// saveFile saves k to a new path and returns the path.
func saveFile(t *testing.T, k *Key, passphrase string) string {
	t.Helper()
	path := keyPath(t)
	if err := Save(path, k, []byte(passphrase)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return path
}

func TestSaveLoad(t *testing.T) {
	k := testKey(t, 0x21)
	for _, tt := range []struct {
		name       string
		passphrase []byte
		encrypted  bool
	}{
		{"plain nil passphrase", nil, false},
		{"plain empty passphrase", []byte{}, false},
		{"encrypted", []byte("correct horse battery staple"), true},
		{"encrypted binary passphrase", []byte{0, 0xff, '\n'}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := keyPath(t)
			if err := Save(path, k, tt.passphrase); err != nil {
				t.Fatalf("Save: %v", err)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
				t.Errorf("saved file mode = %04o, want 0600", info.Mode().Perm())
			}
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries after Save, want 1 (no temporary files left)", len(entries))
			}
			enc, err := IsEncrypted(path)
			if err != nil || enc != tt.encrypted {
				t.Errorf("IsEncrypted = %v, %v; want %v", enc, err, tt.encrypted)
			}
			pub, err := ReadPublicKey(path)
			if err != nil || pub != k.Public() {
				t.Errorf("ReadPublicKey = %s, %v; want %s", pub, err, k.Public())
			}
			got, err := Load(path, tt.passphrase)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got.Public() != k.Public() || !bytes.Equal(got.seed(), k.seed()) {
				t.Errorf("Load returned key %s, want %s", got, k)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte("murmur-key v1\n")) {
				t.Errorf("file does not start with the v1 header: %q", data)
			}
			if tt.encrypted && bytes.Contains(data, []byte(`"seed"`)) {
				t.Errorf("encrypted file contains a clear seed: %s", data)
			}
		})
	}
}

func TestLoadEncryptedErrors(t *testing.T) {
	k := testKey(t, 0x22)
	path := saveFile(t, k, "secret")
	for _, tt := range []struct {
		name       string
		passphrase []byte
		want       error
		hint       string
	}{
		{"wrong passphrase", []byte("Secret"), ErrWrongPassphrase, "check it and try again"},
		{"nil passphrase", nil, ErrPassphraseRequired, "supply its passphrase"},
		{"empty passphrase", []byte{}, ErrPassphraseRequired, "supply its passphrase"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(path, tt.passphrase)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load = %v, %v; want error wrapping %v", got, err, tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tt.hint) {
				t.Errorf("error %q should name %s and say %q", msg, path, tt.hint)
			}
		})
	}
}

func TestPlainFileIgnoresPassphrase(t *testing.T) {
	k := testKey(t, 0x23)
	path := saveFile(t, k, "")
	got, err := Load(path, []byte("unused"))
	if err != nil || got.Public() != k.Public() {
		t.Errorf("Load(plain, passphrase) = %v, %v; want %s", got, err, k)
	}
}

func TestSaveRefusesExisting(t *testing.T) {
	k := testKey(t, 0x24)
	path := saveFile(t, k, "")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = Save(path, testKey(t, 0x25), nil)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), path) {
		t.Errorf("Save over an existing file: %v, want ErrExists naming %s", err, path)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("existing file changed by a refused Save")
	}

	// Also for something that is not a key file, and for a dangling
	// symlink, which a plain existence check could miss.
	other := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(other, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Save(other, k, nil); !errors.Is(err, ErrExists) {
		t.Errorf("Save over a non-key file: %v, want ErrExists", err)
	}
	if runtime.GOOS != "windows" {
		link := filepath.Join(t.TempDir(), "dangling")
		if err := os.Symlink(filepath.Join(t.TempDir(), "missing"), link); err != nil {
			t.Fatal(err)
		}
		if err := Save(link, k, nil); !errors.Is(err, ErrExists) {
			t.Errorf("Save over a dangling symlink: %v, want ErrExists", err)
		}
	}
}

func TestSaveConcurrentOneWins(t *testing.T) {
	path := keyPath(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = Save(path, testKey(t, byte(i)), nil) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrExists):
			t.Errorf("concurrent Save: %v, want nil or ErrExists", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent Saves succeeded, want exactly 1", wins)
	}
	if _, err := Load(path, nil); err != nil {
		t.Errorf("Load after concurrent Saves: %v", err)
	}
}

func TestSaveErrors(t *testing.T) {
	if err := Save(keyPath(t), nil, nil); err == nil {
		t.Errorf("Save(nil key) succeeded, want error")
	}
	if err := Save(keyPath(t), &Key{}, nil); err == nil {
		t.Errorf("Save(zero key) succeeded, want error")
	}
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "key")
	if err := Save(missingDir, testKey(t, 1), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Save into a missing directory: %v, want fs.ErrNotExist", err)
	}
}

func TestLoadInsecurePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	path := saveFile(t, testKey(t, 0x26), "")
	for _, tt := range []struct {
		mode fs.FileMode
		want string
	}{
		{0o644, "is readable by other users (mode 0644); run chmod 600 " + path},
		{0o640, "is readable by other users (mode 0640)"},
		{0o604, "is readable by other users (mode 0604)"},
		{0o620, "is accessible by other users (mode 0620)"},
		{0o601, "is accessible by other users (mode 0601)"},
	} {
		if err := os.Chmod(path, tt.mode); err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func() error{
			"Load":          func() error { _, err := Load(path, nil); return err },
			"IsEncrypted":   func() error { _, err := IsEncrypted(path); return err },
			"ReadPublicKey": func() error { _, err := ReadPublicKey(path); return err },
		} {
			err := f()
			if !errors.Is(err, ErrInsecurePermissions) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s with mode %04o: %v, want ErrInsecurePermissions saying %q", name, tt.mode, err, tt.want)
			}
		}
	}
	for _, mode := range []fs.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, nil); err != nil {
			t.Errorf("Load with mode %04o: %v, want success", mode, err)
		}
	}
}

func TestLoadMissingAndNotRegular(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Load(missing, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(directory) = %v, want 'not a regular file'", err)
	}
}

// writeKeyFile writes data to a new 0600 file and returns its path.
func writeKeyFile(t *testing.T, data []byte) string {
	t.Helper()
	path := keyPath(t)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadTruncated cuts valid files at every length; each prefix must be
// reported as corrupt, never accepted or misreported.
func TestLoadTruncated(t *testing.T) {
	k := testKey(t, 0x27)
	for _, passphrase := range []string{"", "pw"} {
		path := saveFile(t, k, passphrase)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The final newline is optional; anything shorter is damaged. The
		// sweep decodes in memory; a few cuts go through real files.
		for n := range len(data) - 1 {
			if _, err := decodeKeyFile(path, data[:n], []byte(passphrase)); !errors.Is(err, ErrCorruptKeyFile) {
				t.Fatalf("decoding the first %d of %d bytes (passphrase %q) = %v, want ErrCorruptKeyFile", n, len(data), passphrase, err)
			}
		}
		for _, n := range []int{0, len("murmur-key v1\n"), len(data) / 2, len(data) - 2} {
			if _, err := Load(writeKeyFile(t, data[:n]), []byte(passphrase)); !errors.Is(err, ErrCorruptKeyFile) {
				t.Errorf("Load(first %d of %d bytes, passphrase %q) = %v, want ErrCorruptKeyFile", n, len(data), passphrase, err)
			}
		}
		if _, err := Load(writeKeyFile(t, data[:len(data)-1]), []byte(passphrase)); err != nil {
			t.Errorf("Load without the final newline: %v", err)
		}
	}
}

func TestLoadCorrupt(t *testing.T) {
	k := testKey(t, 0x28)
	other := testKey(t, 0x29)
	plain, err := os.ReadFile(saveFile(t, k, ""))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := os.ReadFile(saveFile(t, k, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	// edit decodes a file's JSON body, applies fn and re-encodes it.
	edit := func(data []byte, fn func(m map[string]any)) []byte {
		t.Helper()
		_, body, _ := bytes.Cut(data, []byte("\n"))
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		fn(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte("murmur-key v1\n"), out...)
	}
	kdf := func(field string, v any) func(m map[string]any) {
		return func(m map[string]any) { m["kdf"].(map[string]any)[field] = v }
	}
	tests := []struct {
		name   string
		data   []byte
		detail string
	}{
		{"empty", nil, "empty file"},
		{"no header", []byte(`{"did":"x"}`), "header"},
		{"pem", []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n"), "header"},
		{"header only", []byte("murmur-key v1\n"), "truncated"},
		{"not json", []byte("murmur-key v1\nseed=abc\n"), "bad JSON"},
		{"trailing data", append(bytes.Clone(plain), "{}"...), "after the key"},
		{"unknown field", edit(plain, func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		{"bad did", edit(plain, func(m map[string]any) { m["did"] = "did:key:zzz" }), "bad did"},
		{"did of another key", edit(plain, func(m map[string]any) { m["did"] = other.Public().DID() }), "does not match"},
		{"flipped seed", edit(plain, func(m map[string]any) { m["seed"] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }), "does not match"},
		{"short seed", edit(plain, func(m map[string]any) { m["seed"] = "AQEB" }), "seed is 3 bytes"},
		{"bad base64", edit(plain, func(m map[string]any) { m["seed"] = "!!!" }), "bad JSON"},
		{"seed and kdf", edit(enc, func(m map[string]any) { m["seed"] = "AQEB" }), "both"},
		{"aead without kdf", edit(enc, func(m map[string]any) { delete(m, "kdf") }), "without kdf"},
		{"unknown kdf", edit(enc, kdf("alg", "pbkdf2")), "unsupported kdf"},
		{"kdf t zero", edit(enc, kdf("t", 0)), "t=0"},
		{"kdf m huge", edit(enc, kdf("m", 1<<30)), "m=1073741824"},
		{"kdf p zero", edit(enc, kdf("p", 0)), "p=0"},
		{"kdf p overflow", edit(enc, kdf("p", 300)), "bad JSON"},
		{"kdf m negative", edit(enc, kdf("m", -1)), "bad JSON"},
		{"short salt", edit(enc, kdf("salt", "AQEB")), "salt is 3 bytes"},
		{"unknown aead", edit(enc, func(m map[string]any) { m["aead"] = "aes-gcm" }), "unsupported aead"},
		{"short nonce", edit(enc, func(m map[string]any) { m["nonce"] = "AQEB" }), "nonce is 3 bytes"},
		{"short ciphertext", edit(enc, func(m map[string]any) { m["ciphertext"] = "AQEB" }), "ciphertext is 3 bytes"},
		{"too big", append(bytes.Clone(plain), bytes.Repeat([]byte(" "), maxKeyFileSize)...), "at most 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeyFile(t, tt.data)
			got, err := Load(path, []byte("pw"))
			if !errors.Is(err, ErrCorruptKeyFile) {
				t.Fatalf("Load = %v, %v; want ErrCorruptKeyFile", got, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.detail) || !strings.Contains(msg, path) || !strings.Contains(msg, "restore it from a backup") {
				t.Errorf("error %q should name the file, say %q and suggest a backup", msg, tt.detail)
			}
			if _, err := IsEncrypted(path); !errors.Is(err, ErrCorruptKeyFile) && !strings.Contains(tt.detail, "does not match") {
				t.Errorf("IsEncrypted = %v, want ErrCorruptKeyFile", err)
			}
		})
	}
}

// TestLoadTamperedEncrypted checks that the AEAD covers the ciphertext, the
// nonce, the KDF parameters and the recorded DID.
func TestLoadTamperedEncrypted(t *testing.T) {
	k := testKey(t, 0x2a)
	data, err := os.ReadFile(saveFile(t, k, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := bytes.Cut(data, []byte("\n"))
	var f keyFileV1
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(f *keyFileV1){
		"ciphertext": func(f *keyFileV1) { f.Ciphertext[0] ^= 1 },
		"tag":        func(f *keyFileV1) { f.Ciphertext[len(f.Ciphertext)-1] ^= 1 },
		"nonce":      func(f *keyFileV1) { f.Nonce[0] ^= 1 },
		"salt":       func(f *keyFileV1) { f.KDF.Salt[0] ^= 1 },
		"kdf cost":   func(f *keyFileV1) { f.KDF.T++ },
		"did":        func(f *keyFileV1) { f.DID = testKey(t, 0x2b).Public().DID() },
	} {
		t.Run(name, func(t *testing.T) {
			g := f
			kdf := *f.KDF
			g.KDF = &kdf
			g.KDF.Salt = bytes.Clone(f.KDF.Salt)
			g.Nonce = bytes.Clone(f.Nonce)
			g.Ciphertext = bytes.Clone(f.Ciphertext)
			mutate(&g)
			out, err := json.Marshal(&g)
			if err != nil {
				t.Fatal(err)
			}
			path := writeKeyFile(t, append([]byte("murmur-key v1\n"), out...))
			if _, err := Load(path, []byte("pw")); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("Load after changing the %s: %v, want ErrWrongPassphrase", name, err)
			}
		})
	}
}

func TestLoadNewerVersion(t *testing.T) {
	path := writeKeyFile(t, []byte("murmur-key v2\n{}\n"))
	_, err := Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), "upgrade murmur") || errors.Is(err, ErrCorruptKeyFile) {
		t.Errorf("Load(v2 file) = %v, want an 'upgrade murmur' error that is not ErrCorruptKeyFile", err)
	}
}

// TestKeyFileFormat pins the documented v1 layout of a plain file.
func TestKeyFileFormat(t *testing.T) {
	k := testKey(t, 1)
	data, err := os.ReadFile(saveFile(t, k, ""))
	if err != nil {
		t.Fatal(err)
	}
	want := "murmur-key v1\n{\n" +
		`  "did": "` + k.Public().DID() + `",` + "\n" +
		`  "seed": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="` + "\n}\n"
	if string(data) != want {
		t.Errorf("plain key file =\n%s\nwant\n%s", data, want)
	}
	// A hand-written file in the documented layout loads.
	hand := "murmur-key v1\r\n" + `{"seed":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=","did":"` + k.Public().DID() + `"}`
	got, err := Load(writeKeyFile(t, []byte(hand)), nil)
	if err != nil || got.Public() != k.Public() {
		t.Errorf("Load(hand-written file) = %v, %v; want %s", got, err, k)
	}
}

// FuzzParseKeyFile reads arbitrary key files: every refusal is an error
// for the user (damaged or newer format), never a panic.
func FuzzParseKeyFile(f *testing.F) {
	k, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "key")
	if err := Save(path, k, nil); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("murmur-key v2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseKeyFile("key", data); err != nil && !strings.Contains(err.Error(), "key file key") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
