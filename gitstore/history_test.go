package gitstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestIsAncestorAndMessages(t *testing.T) {
	s := newStore(t)
	ctx := testContext(t)
	w := newWork(t, s.git)
	first := w.commit("a", 10)
	w.git("commit", "--quiet", "--allow-empty", "-m", "Parse the config\n\nFixes 1a2b.")
	second := w.git("rev-parse", "HEAD")
	w.git("checkout", "--quiet", "-b", "side", first)
	side := w.commit("b", 10)
	if err := s.Import(ctx, "r", w.dir, []string{second, side}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		a, d string
		want bool
	}{
		{first, second, true},
		{second, second, true},
		{second, first, false},
		{side, second, false},
	} {
		got, err := s.IsAncestor(ctx, "r", tt.a, tt.d)
		if err != nil || got != tt.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v; want %v", tt.a, tt.d, got, err, tt.want)
		}
	}
	absent := strings.Repeat("ab", 20)
	if _, err := s.IsAncestor(ctx, "r", absent, second); !errors.Is(err, ErrMissing) {
		t.Errorf("IsAncestor of a missing commit = %v, want ErrMissing", err)
	}
	msgs, err := s.Messages(ctx, "r", first, second)
	if err != nil || !slices.Equal(msgs, []string{"Parse the config\n\nFixes 1a2b."}) {
		t.Errorf("Messages(first..second) = %q, %v", msgs, err)
	}
	if msgs, err := s.Messages(ctx, "r", "", side); err != nil || len(msgs) != 2 {
		t.Errorf("Messages(side) = %q, %v; want 2", msgs, err)
	}
}

func TestMessagesAreBounded(t *testing.T) {
	s := newStore(t)
	ctx := testContext(t)
	w := newWork(t, s.git)
	msg := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msg, []byte("Fixes abcd\n\n"+strings.Repeat("long line of text\n", 2*MaxMessageBytes/18)), 0o600); err != nil {
		t.Fatal(err)
	}
	w.git("commit", "--quiet", "--allow-empty", "-F", msg)
	head := w.git("rev-parse", "HEAD")
	if err := s.Import(ctx, "r", w.dir, []string{head}); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Messages(ctx, "r", "", head)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || len(msgs[0]) > MaxMessageBytes || !strings.HasPrefix(msgs[0], "Fixes abcd") {
		t.Errorf("Messages of a %d-byte message: %d messages, first %d bytes; want one, cut at %d", 2*MaxMessageBytes, len(msgs), len(msgs[0]), MaxMessageBytes)
	}
}
