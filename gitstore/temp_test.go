package gitstore

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRemoveTempKeepsTheRepository(t *testing.T) {
	s := newStore(t)
	dir, err := s.Init(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	left := []string{"objects/pack/tmp_pack_a1b2c3", "objects/pack/tmp_idx_a1b2c3", "objects/incoming-x1/pack/p",
		"objects/ab/tmp_obj_q9", "objects/tmp_objdir-incoming-z/f"}
	kept := []string{"objects/pack/pack-1.pack", "objects/ab/cdef0123", "HEAD", "config"}
	for _, p := range append(slices.Clone(left), kept...) {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); err == nil {
			continue // made by git init
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := s.RemoveTemp()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != len(left) {
		t.Errorf("RemoveTemp removed %q, want the %d temporary paths", removed, len(left))
	}
	for _, p := range left {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}
