package tui

import (
	"strings"
	"testing"

	"murmur/api"
)

// TestLockFromIssue: a maintainer locks and unlocks the issue with L; the
// state line says locked.
func TestLockFromIssue(t *testing.T) {
	f := newFake()
	h := openIssue(t, f)
	h.press("L")
	if len(f.edits) != 1 || f.edits[0].Locked == nil || !*f.edits[0].Locked {
		t.Fatalf("L: edits = %+v, want one lock", f.edits)
	}
	if s := h.screen(); !strings.Contains(s, "open · locked") || !strings.Contains(s, "issue locked") {
		t.Errorf("screen lacks the locked state or the note:\n%s", s)
	}
	// A maintainer may still comment on a locked thread.
	h.press("c")
	if h.m.top().(*issueScreen).comp == nil {
		t.Errorf("c on a locked issue opened no composer for a maintainer")
	}
	h.press("esc", "L")
	if len(f.edits) != 2 || *f.edits[1].Locked {
		t.Fatalf("second L: edits = %+v, want an unlock", f.edits)
	}
	if strings.Contains(h.screen(), "· locked") {
		t.Errorf("still shown locked after the unlock:\n%s", h.screen())
	}
}

// TestLockedRefusesComposer: on a locked issue a non-maintainer's comment,
// reply and reaction keys open nothing and say why; L says who may.
func TestLockedRefusesComposer(t *testing.T) {
	f := newFake()
	f.identity = &api.Identity{Person: bob}
	f.issues["r1aaaaaaaaaa"][0].Locked = true
	h := openIssue(t, f)
	for _, k := range []string{"c", "R", "+"} {
		h.press(k)
		s := h.m.top().(*issueScreen)
		if s.comp != nil || s.ask != nil {
			t.Fatalf("%s on a locked issue opened a composer or picker", k)
		}
		if !strings.Contains(h.screen(), "this issue is locked") {
			t.Errorf("%s: no note that the issue is locked:\n%s", k, h.screen())
		}
	}
	h.press("L")
	if len(f.edits) != 0 || !strings.Contains(h.screen(), "only a maintainer can lock or unlock") {
		t.Errorf("L by a non-maintainer: edits %+v, screen:\n%s", f.edits, h.screen())
	}
}
