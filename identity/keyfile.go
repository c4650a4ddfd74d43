package identity

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Errors returned by Save, Load, IsEncrypted and ReadPublicKey, always
// wrapped with the file's path and what to do about it. Test for them with
// [errors.Is].
var (
	// ErrWrongPassphrase means the passphrase does not decrypt the key file.
	// Damage to the encrypted fields looks the same and gives this error
	// too: authenticated encryption cannot tell the two apart.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrPassphraseRequired means the key file is encrypted and no
	// passphrase was given.
	ErrPassphraseRequired = errors.New("passphrase required")
	// ErrInsecurePermissions means users other than the owner can access
	// the key file.
	ErrInsecurePermissions = errors.New("insecure permissions")
	// ErrCorruptKeyFile means the key file is truncated, damaged or not a
	// key file at all.
	ErrCorruptKeyFile = errors.New("corrupt key file")
	// ErrExists means Save was asked to write over an existing file.
	ErrExists = errors.New("already exists")
)

const (
	keyFileHeader = "murmur-key v1"

	// maxKeyFileSize bounds what Load reads; a v1 file is under 512 bytes.
	maxKeyFileSize = 4096

	kdfArgon2id       = "argon2id"
	aeadXChaCha20     = "xchacha20-poly1305"
	saltSize          = 16
	maxSaltSize       = 64
	keyFilePerm       = 0o600
	maxArgon2Time     = 64
	maxArgon2MemKiB   = 1 << 20 // 1 GiB
	maxArgon2Threads  = 64
	encryptionKeySize = chacha20poly1305.KeySize
)

// argon2Params are the Argon2id cost parameters of an encrypted key file.
type argon2Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// saveKDF is the cost Save uses for new encrypted key files: the second
// recommended option of RFC 9106 (t=3, 64 MiB, 4 lanes), about 100 ms on a
// laptop. Tests lower it; Load reads the cost from the file.
var saveKDF = argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

func (p argon2Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("argon2id t=%d out of range [1, %d]", p.Time, maxArgon2Time)
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return fmt.Errorf("argon2id p=%d out of range [1, %d]", p.Threads, maxArgon2Threads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxArgon2MemKiB:
		return fmt.Errorf("argon2id m=%d out of range [%d, %d]", p.MemoryKiB, 8*uint32(p.Threads), maxArgon2MemKiB)
	}
	return nil
}

// keyFileV1 is the JSON body of a v1 key file; the layout is documented in
// the package documentation. []byte fields are base64 (RFC 4648, padded).
type keyFileV1 struct {
	DID string `json:"did"`

	// Plain files.
	Seed []byte `json:"seed,omitempty"`

	// Encrypted files.
	KDF        *kdfV1 `json:"kdf,omitempty"`
	AEAD       string `json:"aead,omitempty"`
	Nonce      []byte `json:"nonce,omitempty"`
	Ciphertext []byte `json:"ciphertext,omitempty"`
}

type kdfV1 struct {
	Alg  string `json:"alg"`
	T    uint32 `json:"t"`
	M    uint32 `json:"m"`
	P    uint8  `json:"p"`
	Salt []byte `json:"salt"`
}

func (f *keyFileV1) encrypted() bool { return f.KDF != nil }

// Save writes k to a new key file at path with mode 0600. With a nil or
// empty passphrase the seed is stored in clear; otherwise it is encrypted
// (Argon2id and XChaCha20-Poly1305, see the package documentation). The
// passphrase bytes are used as given.
//
// Save never replaces an existing file: if path exists it returns an error
// wrapping [ErrExists]. The file appears complete or not at all: it is
// written to a temporary file in the same directory, synced, and then linked
// (or, where hard links are unsupported, renamed) into place, and the
// directory is synced. The directory must exist.
func Save(path string, k *Key, passphrase []byte) error {
	if k == nil || len(k.priv) != 2*SeedSize {
		return fmt.Errorf("identity: save key file %s: no key to save", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return existsError(path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}
	data, err := encodeKeyFile(k, passphrase, saveKDF, rand.Reader)
	if err != nil {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}
	defer clear(data) // it may hold the seed in clear
	return writeNewFile(path, data)
}

func existsError(path string) error {
	return fmt.Errorf("identity: will not overwrite key file %s; move it away first to replace it: %w", path, ErrExists)
}

// encodeKeyFile returns the complete v1 file for k.
func encodeKeyFile(k *Key, passphrase []byte, kdf argon2Params, random io.Reader) ([]byte, error) {
	f := keyFileV1{DID: k.pub.DID()}
	if len(passphrase) == 0 {
		f.Seed = k.seed()
	} else {
		if err := kdf.validate(); err != nil {
			return nil, err
		}
		salt := make([]byte, saltSize)
		nonce := make([]byte, chacha20poly1305.NonceSizeX)
		if _, err := io.ReadFull(random, salt); err != nil {
			return nil, fmt.Errorf("read random salt: %w", err)
		}
		if _, err := io.ReadFull(random, nonce); err != nil {
			return nil, fmt.Errorf("read random nonce: %w", err)
		}
		key := argon2.IDKey(passphrase, salt, kdf.Time, kdf.MemoryKiB, kdf.Threads, encryptionKeySize)
		aead, err := chacha20poly1305.NewX(key)
		clear(key)
		if err != nil {
			return nil, err
		}
		f.KDF = &kdfV1{Alg: kdfArgon2id, T: kdf.Time, M: kdf.MemoryKiB, P: kdf.Threads, Salt: salt}
		f.AEAD = aeadXChaCha20
		f.Nonce = nonce
		f.Ciphertext = aead.Seal(nil, nonce, k.seed(), keyFileAAD(f.DID))
	}
	body, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(keyFileHeader)+len(body)+2)
	out = append(out, keyFileHeader+"\n"...)
	out = append(out, body...)
	return append(out, '\n'), nil
}

// keyFileAAD is the AEAD additional data of an encrypted v1 key file.
func keyFileAAD(did string) []byte {
	return []byte(keyFileHeader + "\x00" + did)
}

// writeNewFile atomically creates path with data and mode 0600, failing
// with ErrExists if path already exists.
func writeNewFile(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}
	tmpName := tmp.Name()
	closed := false
	defer func() {
		if !closed {
			_ = tmp.Close()
		}
		// After a successful link the name is redundant; after a rename it
		// no longer exists; after a failure it must go.
		if rmErr := os.Remove(tmpName); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("identity: save key file %s: %w", path, rmErr)
		}
	}()

	// CreateTemp already uses 0600; be explicit about the contract.
	if err := tmp.Chmod(keyFilePerm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("identity: save key file %s: %w", path, err)
	}

	// A hard link fails if path exists, so no concurrent writer is ever
	// overwritten. Some file systems lack hard links; there, fall back to
	// rename after checking for an existing file.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return existsError(path)
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			return existsError(path)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("identity: save key file %s: %w", path, err)
		}
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("identity: save key file %s: sync directory: %w", path, err)
	}
	return nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Directories cannot be opened for syncing on Windows; renames are
		// durable once the call returns.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	return err
}

// Load reads the key file at path. An encrypted file needs its passphrase;
// a plain file ignores the passphrase.
//
// Errors wrap [ErrInsecurePermissions] if users other than the owner can
// access the file (not checked on Windows), [ErrCorruptKeyFile] if it is
// truncated or damaged, [ErrPassphraseRequired] if it is encrypted and
// passphrase is empty, and [ErrWrongPassphrase] if the passphrase does not
// decrypt it. A missing file gives an error wrapping [fs.ErrNotExist].
func Load(path string, passphrase []byte) (*Key, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return decodeKeyFile(path, data, passphrase)
}

// decodeKeyFile parses and decrypts the contents of the key file at path.
func decodeKeyFile(path string, data, passphrase []byte) (*Key, error) {
	f, err := parseKeyFile(path, data)
	if err != nil {
		return nil, err
	}
	var seed []byte
	if f.encrypted() {
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("identity: key file %s is encrypted; supply its passphrase: %w", path, ErrPassphraseRequired)
		}
		key := argon2.IDKey(passphrase, f.KDF.Salt, f.KDF.T, f.KDF.M, f.KDF.P, encryptionKeySize)
		aead, err := chacha20poly1305.NewX(key)
		clear(key)
		if err != nil {
			return nil, fmt.Errorf("identity: load key file %s: %w", path, err)
		}
		seed, err = aead.Open(nil, f.Nonce, f.Ciphertext, keyFileAAD(f.DID))
		if err != nil {
			return nil, fmt.Errorf("identity: key file %s cannot be decrypted with this passphrase; check it and try again: %w", path, ErrWrongPassphrase)
		}
	} else {
		seed = f.Seed
	}
	defer clear(seed)
	k, err := NewKeyFromSeed(seed)
	if err != nil {
		return nil, corruptError(path, "bad seed length")
	}
	if want, _ := ParseDID(f.DID); k.pub != want {
		return nil, corruptError(path, "the key does not match the DID recorded with it")
	}
	return k, nil
}

// IsEncrypted reports whether the key file at path is passphrase-protected,
// so a caller knows whether to prompt before calling [Load]. It checks the
// file's permissions and structure as Load does, with the same errors, but
// neither decrypts it nor derives the key.
func IsEncrypted(path string) (bool, error) {
	f, err := readAndParseKeyFile(path)
	if err != nil {
		return false, err
	}
	return f.encrypted(), nil
}

// ReadPublicKey returns the public key recorded in the key file at path
// without decrypting it, so a node can show its identity before asking for
// the passphrase. It checks the file's permissions and structure as Load
// does, with the same errors; Load later confirms that the private key
// matches.
func ReadPublicKey(path string) (PublicKey, error) {
	f, err := readAndParseKeyFile(path)
	if err != nil {
		return PublicKey{}, err
	}
	return ParseDID(f.DID)
}

func readAndParseKeyFile(path string) (*keyFileV1, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeyFile(path, data)
}

// readKeyFile opens the key file at path, checks its type, permissions and
// size, and returns its contents. Its errors are ready for the user.
func readKeyFile(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: open key file: %w", err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity: open key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("identity: key file %s is not a regular file (mode %s)", path, info.Mode())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		what := "accessible by"
		if perm&0o044 != 0 {
			what = "readable by"
		}
		return nil, fmt.Errorf("identity: key file %s is %s other users (mode %04o); run chmod 600 %s: %w",
			path, what, perm, path, ErrInsecurePermissions)
	}
	if info.Size() > maxKeyFileSize {
		return nil, corruptError(path, fmt.Sprintf("%d bytes, a key file is at most %d", info.Size(), maxKeyFileSize))
	}
	data, err := io.ReadAll(io.LimitReader(file, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("identity: read key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, corruptError(path, fmt.Sprintf("more than %d bytes", maxKeyFileSize))
	}
	return data, nil
}

// parseKeyFile parses and validates the contents of the key file at path.
// Its errors are ready for the user.
func parseKeyFile(path string, data []byte) (*keyFileV1, error) {
	f, err := parseKeyFileV1(data)
	if err != nil {
		var ve *versionError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("identity: key file %s has format %q, which this version of murmur cannot read; upgrade murmur", path, ve.header)
		}
		return nil, corruptError(path, err.Error())
	}
	return f, nil
}

func corruptError(path, detail string) error {
	return fmt.Errorf("identity: key file %s is damaged (%s); restore it from a backup: %w", path, detail, ErrCorruptKeyFile)
}

// versionError reports a key file written in a format newer than v1.
type versionError struct{ header string }

func (e *versionError) Error() string { return "unsupported format " + e.header }

// parseKeyFileV1 parses and validates a v1 key file. Its errors describe
// what is wrong in a few words.
func parseKeyFileV1(data []byte) (*keyFileV1, error) {
	line, body, found := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if string(line) != keyFileHeader {
		if !found && len(line) == 0 {
			return nil, errors.New("empty file")
		}
		if v, ok := bytes.CutPrefix(line, []byte("murmur-key v")); ok && found && isDigits(v) && len(v) <= 9 {
			return nil, &versionError{header: string(line)}
		}
		return nil, errors.New("no \"" + keyFileHeader + "\" header")
	}
	var f keyFileV1
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("truncated")
		}
		return nil, fmt.Errorf("bad JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the key")
	}
	if _, err := ParseDID(f.DID); err != nil {
		return nil, errors.New("bad did")
	}
	if !f.encrypted() {
		switch {
		case f.AEAD != "" || f.Nonce != nil || f.Ciphertext != nil:
			return nil, errors.New("encryption fields without kdf")
		case len(f.Seed) != SeedSize:
			return nil, fmt.Errorf("seed is %d bytes, want %d", len(f.Seed), SeedSize)
		}
		return &f, nil
	}
	kdfErr := argon2Params{Time: f.KDF.T, MemoryKiB: f.KDF.M, Threads: f.KDF.P}.validate()
	switch {
	case f.Seed != nil:
		return nil, errors.New("both seed and ciphertext")
	case f.KDF.Alg != kdfArgon2id:
		return nil, fmt.Errorf("unsupported kdf %q", f.KDF.Alg)
	case kdfErr != nil:
		return nil, kdfErr
	case len(f.KDF.Salt) < saltSize || len(f.KDF.Salt) > maxSaltSize:
		return nil, fmt.Errorf("salt is %d bytes, want %d to %d", len(f.KDF.Salt), saltSize, maxSaltSize)
	case f.AEAD != aeadXChaCha20:
		return nil, fmt.Errorf("unsupported aead %q", f.AEAD)
	case len(f.Nonce) != chacha20poly1305.NonceSizeX:
		return nil, fmt.Errorf("nonce is %d bytes, want %d", len(f.Nonce), chacha20poly1305.NonceSizeX)
	case len(f.Ciphertext) != SeedSize+chacha20poly1305.Overhead:
		return nil, fmt.Errorf("ciphertext is %d bytes, want %d", len(f.Ciphertext), SeedSize+chacha20poly1305.Overhead)
	}
	return &f, nil
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
