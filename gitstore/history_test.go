package gitstore

import (
	"errors"
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
