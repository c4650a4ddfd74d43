package tui

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

// openIssue opens the first issue of the first repo.
func openIssue(t *testing.T, f *fakeService) *harness {
	t.Helper()
	h := newHarness(t, f, 80, 30)
	h.press("enter", "enter")
	if _, ok := h.m.top().(*issueScreen); !ok {
		t.Fatalf("top = %T, want the issue screen", h.m.top())
	}
	return h
}

func TestEditIssueTitleAndBody(t *testing.T) {
	f := newFake()
	h := openIssue(t, f)
	h.press("e")
	if _, ok := h.m.top().(*issueForm); !ok {
		t.Fatalf("e: top = %T, want the edit form", h.m.top())
	}
	golden(t, "edit_issue", h.screen())
	h.press("tab", "ctrl+a", "ctrl+k")
	h.typeText("Only on resize.")
	h.press("ctrl+s")
	body := "Resizing the terminal to 20 columns panics.\nOnly on resize."
	if diff := cmp.Diff([]api.Edit{{Body: &body}}, f.edits); diff != "" {
		t.Fatalf("edits (-want +got):\n%s", diff)
	}
	if _, ok := h.m.top().(*issueScreen); !ok {
		t.Fatalf("after saving, top = %T, want the issue", h.m.top())
	}
	if s := h.screen(); !strings.Contains(s, "Only on resize.") || !strings.Contains(s, "issue edited") {
		t.Errorf("issue not refetched or no note:\n%s", s)
	}
	// Nothing changed: saving writes nothing.
	h.press("e", "ctrl+s")
	if len(f.edits) != 1 {
		t.Errorf("an unchanged edit wrote %+v", f.edits[1:])
	}
	// A change asks before esc drops it.
	h.press("e")
	h.typeText("!")
	h.press("esc")
	if !strings.Contains(h.screen(), "discard your changes?") {
		t.Fatalf("no question:\n%s", h.screen())
	}
	h.press("y")
	if _, ok := h.m.top().(*issueScreen); !ok || len(f.edits) != 1 {
		t.Errorf("y: top = %T, edits %d", h.m.top(), len(f.edits))
	}
}

func TestCloseWithReasonAndReopen(t *testing.T) {
	f := newFake()
	h := openIssue(t, f)
	h.press("x")
	golden(t, "close_issue", h.screen())
	h.press("esc")
	if len(f.edits) != 0 || strings.Contains(h.screen(), "close this issue?") {
		t.Fatalf("esc: edits %+v, screen:\n%s", f.edits, h.screen())
	}
	h.press("x", "p")
	if len(f.edits) != 1 || f.edits[0].State != "closed" || f.edits[0].Reason != "not-planned" {
		t.Fatalf("edits = %+v, want a close as not planned", f.edits)
	}
	if s := h.screen(); !strings.Contains(s, "closed (not-planned)") {
		t.Errorf("screen lacks the closed state:\n%s", s)
	}
	h.press("X")
	if len(f.edits) != 2 || f.edits[1].State != "open" {
		t.Fatalf("X: edits = %+v, want a reopen", f.edits)
	}
	h.press("X")
	if len(f.edits) != 2 || !strings.Contains(lastLine(h.screen()), "this issue is open") {
		t.Errorf("X on an open issue: edits %+v, bar %q", f.edits, lastLine(h.screen()))
	}
}

func TestRoleNotAllowed(t *testing.T) {
	f := newFake()
	f.repos[0].Owner = bob
	f.issues["r1aaaaaaaaaa"][0].Author = bob
	h := openIssue(t, f)
	for _, tt := range []struct{ key, want string }{
		{"l", "only a maintainer can label"},
		{"a", "only a maintainer can assign"},
		{"e", "only the author or a maintainer can edit it"},
		{"x", "only the author or a maintainer can close/reopen"},
	} {
		h.send(keyMsg(tt.key))
		if bar := lastLine(h.screen()); !strings.Contains(bar, tt.want) {
			t.Errorf("%s: bar %q, want %q", tt.key, bar, tt.want)
		}
	}
	if len(f.edits) != 0 || h.m.top().Capturing() {
		t.Errorf("a refused key acted: edits %+v", f.edits)
	}
}

func TestPatchActions(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 30)
	h.press("enter", "tab", "enter")
	if _, ok := h.m.top().(*patchScreen); !ok {
		t.Fatalf("top = %T, want the patch", h.m.top())
	}
	h.press("l")
	h.typeText("ui")
	h.press("enter")
	h.press("x", "y")
	h.press("+", "3")
	want := []api.Edit{{AddLabels: []string{"ui"}}, {State: "closed"}}
	if diff := cmp.Diff(want, f.edits); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"p1000000000a 😄 remove=false"}, f.reactions); diff != "" {
		t.Errorf("reactions (-want +got):\n%s", diff)
	}
	h.press("x")
	if len(f.edits) != 3 || f.edits[2].State != "open" {
		t.Errorf("x on a closed patch: edits %+v, want a reopen", f.edits)
	}
}

func TestComposerAsksBeforeDiscarding(t *testing.T) {
	f := newFake()
	h := openIssue(t, f)
	h.press("c", "esc")
	if h.m.top().Capturing() {
		t.Fatal("esc on an empty composer should close it")
	}
	h.press("c")
	h.typeText("half a thought")
	h.press("esc")
	golden(t, "discard_comment", h.screen())
	h.press("n")
	if s := h.screen(); !strings.Contains(s, "half a thought") || strings.Contains(s, "discard what you wrote?") {
		t.Fatalf("n should keep the text:\n%s", s)
	}
	h.press("esc", "y")
	if s := h.screen(); strings.Contains(s, "half a thought") || h.m.top().Capturing() {
		t.Errorf("y should drop the text:\n%s", s)
	}
	if len(f.comments) != 0 {
		t.Errorf("comments posted: %+v", f.comments)
	}
}

func TestPatchMergeDraftAndCopy(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 100, 30)
	h.press("enter", "tab", "enter")
	h.press("d")
	h.press("d")
	h.press("m")
	if !strings.Contains(h.screen(), "mark this patch merged into main?") {
		t.Fatalf("m did not ask:\n%s", h.screen())
	}
	h.press("y")
	want := []api.Edit{{State: "draft"}, {State: "open"}, {State: "merged"}}
	if diff := cmp.Diff(want, f.edits); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	h.press("m")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "merged already") {
		t.Errorf("m on a merged patch: bar %q", bar)
	}
	h.press("y")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "copied p1000000000a") {
		t.Errorf("y: bar %q, want the copied ID", bar)
	}

	t.Run("merge needs a maintainer", func(t *testing.T) {
		f := newFake()
		f.repos[0].Owner = bob
		h := newHarness(t, f, 120, 30)
		h.press("enter", "tab", "enter", "m")
		if bar := lastLine(h.screen()); !strings.Contains(bar, "only a maintainer can merge") || len(f.edits) != 0 {
			t.Errorf("bar %q, edits %+v", bar, f.edits)
		}
	})
}

func TestPatchCommentActions(t *testing.T) {
	f := newFake()
	f.patches["r1aaaaaaaaaa"][0].Comments[1].Author = bob
	h := newHarness(t, f, 80, 40)
	h.press("enter", "tab", "enter")
	h.press("j")
	golden(t, "patch_selected", h.screen())
	// pc1 (alice's, in the discussion): edit it, reply to it.
	h.press("E", "ctrl+a", "ctrl+k")
	h.typeText("Nice work.")
	h.press("ctrl+s")
	h.press("R")
	h.typeText("And thanks.")
	h.press("ctrl+s")
	if len(f.comments) != 1 || f.comments[0].c.ReplyTo != "pc1" || f.comments[0].id != "p1000000000a" {
		t.Fatalf("comments = %+v, want a reply to pc1 on the patch", f.comments)
	}
	// Down past the reply to pc2, bob's inline comment: resolve it, hide
	// it, and edit is refused.
	h.press("j", "j", "v", "H", "E")
	if diff := cmp.Diff([]string{"edit pc1", "resolve=true pc2", "hide=true pc2"}, commentOps(f)); diff != "" {
		t.Errorf("comment calls (-want +got):\n%s", diff)
	}
	if bar := lastLine(h.screen()); !strings.Contains(bar, "only its author can edit") {
		t.Errorf("E on another's comment: bar %q", bar)
	}
	if s := h.screen(); !strings.Contains(s, "Nice work.") || !strings.Contains(s, "(resolved)") || !strings.Contains(s, "comment hidden") {
		t.Errorf("screen after the actions:\n%s", s)
	}
}
