package storage_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"murmur/crdt"
	"murmur/forge"
	"murmur/op"
	"murmur/storage"
)

// storeOnDisk makes a store in a temporary directory with a repo and some
// issues flushed to table files, closes it, and returns its directory and
// the repo.
func storeOnDisk(t *testing.T) (string, op.ID) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := testKey(t, 1)
	repo := mustCreate(t, s, op.ID{}, owner, forge.KindRepoCreate, op.ID{}, forge.RepoCreate{Name: "r", DefaultBranch: "main"})
	for i := range 20 {
		mustCreate(t, s, repo, owner, forge.KindIssueOpen, op.ID{}, forge.IssueOpen{Title: fmt.Sprintf("issue %d", i)})
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, repo
}

func filesLike(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOpenRefusesPartialStore: a store directory that lost the file naming
// its MANIFEST, or the MANIFEST itself, is refused with an error naming the
// file, and its table files are left on disk.
func TestOpenRefusesPartialStore(t *testing.T) {
	for _, tc := range []struct {
		name, remove, want string
	}{
		{"marker", "marker.manifest.*", "marker.manifest"},
		{"manifest", "MANIFEST-*", "MANIFEST-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := storeOnDisk(t)
			tables := filesLike(t, dir, "*.sst")
			if len(tables) == 0 {
				t.Fatal("no table files after a flush")
			}
			for _, f := range filesLike(t, dir, tc.remove) {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
			s, err := storage.Open(dir, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open of a store without its " + tc.name + " succeeded")
			}
			var de *storage.DamageError
			if !errors.Is(err, storage.ErrDamaged) || !errors.As(err, &de) {
				t.Fatalf("Open = %v, want a DamageError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %q, want it to name %s", err, tc.want)
			}
			for _, f := range tables {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("table file gone after the refused open: %v", err)
				}
			}
		})
	}
}

// TestOpenNewStore: an empty or missing directory is a new store.
func TestOpenNewStore(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Join(dir, "new")} {
		s, err := storage.Open(d, nil)
		if err != nil {
			t.Fatalf("Open(%s) = %v", d, err)
		}
		s.Close()
		s, err = storage.Open(d, nil)
		if err != nil {
			t.Fatalf("reopen %s = %v", d, err)
		}
		s.Close()
	}
}

// TestCorruptTableIsAnError: flipped bytes in a table file make reads fail
// with a DamageError naming the file, never a panic.
func TestCorruptTableIsAnError(t *testing.T) {
	dir, repo := storeOnDisk(t)
	for _, f := range filesLike(t, dir, "*.sst") {
		flipBytes(t, f)
	}
	s, err := storage.Open(dir, nil)
	if err == nil {
		_, err = s.Repos()
		if err == nil {
			_, err = s.OpCount(repo)
		}
		s.Close()
	}
	if !errors.Is(err, storage.ErrDamaged) {
		t.Fatalf("reading a store with flipped bytes = %v, want ErrDamaged", err)
	}
	if !strings.Contains(err.Error(), ".sst") {
		t.Errorf("error %q does not name the table file", err)
	}
}

// flipBytes inverts bytes all through a file but its last 256 bytes (the
// footer), so that every data block fails its checksum.
func flipBytes(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 16; i < len(b)-256; i += 64 {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCheck: a sound store checks clean.
func TestCheck(t *testing.T) {
	dir, _ := storeOnDisk(t)
	s, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Check(filepath.Join(t.TempDir(), "scratch"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.Ops != 21 {
		t.Fatalf("Check = %+v, want 21 ops and no findings", rep)
	}
}

// TestCheckFindsStaleIndex: a derived entry that a rebuild would not make
// is reported.
func TestCheckFindsStaleIndex(t *testing.T) {
	dir, _ := storeOnDisk(t)
	s, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := storage.SetRawForTest(s, []byte{'h', 1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(filepath.Join(t.TempDir(), "scratch"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != "index" || rep.Findings[0].Table != "heads" {
		t.Fatalf("Check = %+v, want one stale heads entry", rep)
	}
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if rep, err = s.Check(filepath.Join(t.TempDir(), "scratch")); err != nil || len(rep.Findings) != 0 {
		t.Fatalf("Check after Rebuild = %+v, %v; want clean", rep, err)
	}
}

// TestCorruptionWhileOpen: bytes flipped under an open store make the reads
// that meet them fail with ErrDamaged, and the process goes on.
func TestCorruptionWhileOpen(t *testing.T) {
	dir, repo := storeOnDisk(t)
	s, err := storage.Open(dir, &storage.Options{CacheSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []op.ID
	if err := s.ForEachOp(repo, func(_ crdt.Timestamp, id op.ID) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, f := range filesLike(t, dir, "*.sst") {
		flipBytes(t, f)
	}
	if _, err := s.OpsRaw(repo, ids); !errors.Is(err, storage.ErrDamaged) {
		t.Fatalf("OpsRaw over flipped tables = %v, want ErrDamaged", err)
	}
	if _, err := s.Summaries(repo, forge.TypeIssue, ""); !errors.Is(err, storage.ErrDamaged) {
		t.Fatalf("Summaries over flipped tables = %v, want ErrDamaged", err)
	}
}
