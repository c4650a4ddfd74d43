package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/google/go-cmp/cmp"

	"murmur/api"
)

// openRepo opens the first repo of the fake from the repos screen.
func openRepo(t *testing.T, f *fakeService) *harness {
	t.Helper()
	h := newHarness(t, f, 80, 24)
	h.press("enter")
	if _, ok := h.m.top().(*repoScreen); !ok {
		t.Fatalf("top = %T, want the repo screen", h.m.top())
	}
	return h
}

func TestNewIssueForm(t *testing.T) {
	f := newFake()
	h := openRepo(t, f)
	h.press("n")
	if _, ok := h.m.top().(*issueForm); !ok {
		t.Fatalf("n: top = %T, want the new-issue form", h.m.top())
	}
	golden(t, "new_issue", h.screen())
	h.typeText("Export fails")
	h.press("tab")
	h.typeText("It fails.")
	h.press("enter")
	h.typeText("Steps below.")
	h.press("tab")
	h.typeText("bug, export")
	h.press("enter")
	h.typeText("bob")
	golden(t, "new_issue_filled", h.screen())
	h.press("ctrl+s")
	want := []api.NewIssue{{Title: "Export fails", Body: "It fails.\nSteps below.", Labels: []string{"bug", "export"}, Assignees: []string{"bob"}}}
	if diff := cmp.Diff(want, f.created); diff != "" {
		t.Fatalf("created (-want +got):\n%s", diff)
	}
	is, ok := h.m.top().(*issueScreen)
	if !ok {
		t.Fatalf("after creating, top = %T, want the new issue", h.m.top())
	}
	if is.id != "n00000000001" || !strings.Contains(h.screen(), "Export fails") {
		t.Errorf("issue screen shows %s:\n%s", is.id, h.screen())
	}
	// The form is gone: esc goes back to the repo.
	h.press("esc")
	if _, ok := h.m.top().(*repoScreen); !ok {
		t.Errorf("esc from the new issue: top = %T, want the repo screen", h.m.top())
	}
}

func TestNewIssueFormChecks(t *testing.T) {
	t.Run("title needed", func(t *testing.T) {
		f := newFake()
		h := openRepo(t, f)
		h.press("n", "ctrl+s")
		if len(f.created) != 0 || !strings.Contains(lastLine(h.screen()), "title cannot be empty") {
			t.Errorf("created %v; bar %q", f.created, lastLine(h.screen()))
		}
	})
	t.Run("labels need a maintainer", func(t *testing.T) {
		f := newFake()
		f.repos[0].Owner = bob
		h := openRepo(t, f)
		h.press("n")
		h.typeText("x")
		h.press("tab", "tab")
		h.typeText("bug")
		h.press("ctrl+s")
		if len(f.created) != 0 || !strings.Contains(lastLine(h.screen()), "only a maintainer can label and assign") {
			t.Errorf("created %v; bar %q", f.created, lastLine(h.screen()))
		}
	})
	t.Run("failure keeps the form", func(t *testing.T) {
		f := newFake()
		f.failWith["CreateIssue"] = errors.New("disk full")
		h := openRepo(t, f)
		h.press("n")
		h.typeText("kept")
		h.press("ctrl+s")
		if _, ok := h.m.top().(*issueForm); !ok || !strings.Contains(h.screen(), "kept") || !strings.Contains(lastLine(h.screen()), "disk full") {
			t.Errorf("after a failure, top %T:\n%s", h.m.top(), h.screen())
		}
	})
	t.Run("editor", func(t *testing.T) {
		f := newFake()
		h := openRepo(t, f)
		h.press("n")
		h.send(editorMsg{text: "from the editor"})
		if !strings.Contains(h.screen(), "from the editor") {
			t.Errorf("body not taken from the editor:\n%s", h.screen())
		}
	})
	t.Run("esc asks before discarding", func(t *testing.T) {
		f := newFake()
		h := openRepo(t, f)
		h.press("n", "esc")
		if _, ok := h.m.top().(*repoScreen); !ok {
			t.Fatalf("esc on an empty form: top = %T, want the repo", h.m.top())
		}
		h.press("n")
		h.typeText("half")
		h.press("esc")
		if !strings.Contains(h.screen(), "discard this issue?") {
			t.Fatalf("no question:\n%s", h.screen())
		}
		h.press("n")
		if _, ok := h.m.top().(*issueForm); !ok || !strings.Contains(h.screen(), "half") {
			t.Fatalf("n: the form should stay with its text:\n%s", h.screen())
		}
		h.press("esc", "y")
		if _, ok := h.m.top().(*repoScreen); !ok {
			t.Errorf("y: top = %T, want the repo", h.m.top())
		}
	})
}

func TestNewPatchExplains(t *testing.T) {
	f := newFake()
	h := openRepo(t, f)
	h.send(tea.WindowSizeMsg{Width: 120, Height: 24})
	h.press("tab", "n")
	if bar := lastLine(h.screen()); !strings.Contains(bar, "murmur patch open") {
		t.Errorf("n on patches: bar %q, want how to open a patch", bar)
	}
}
