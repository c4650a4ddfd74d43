package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

func TestSearchScreen(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 16)
	h.press("enter", "/")
	if _, ok := h.m.top().(*searchScreen); !ok {
		t.Fatalf("/ on the issues tab opened %T, want the search screen", h.m.top())
	}
	golden(t, "search_empty", h.screen())
	// "reproduce" is only in a comment of the first issue.
	h.typeText("reproduce")
	if got := f.searches[len(f.searches)-1]; got.Query != "reproduce" || got.Repo != "r1aaaaaaaaaa" {
		t.Errorf("last search = %+v, want the query typed, in the repo shown", got)
	}
	golden(t, "search", h.screen())
	// Typing q is text, not quit.
	h.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	h.typeText("q")
	if _, ok := h.m.top().(*searchScreen); !ok || !strings.Contains(h.screen(), "/reproducq") {
		t.Fatalf("q while typing left the query line:\n%s", h.screen())
	}
	h.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	h.typeText("e")
	h.press("enter", "enter")
	is, ok := h.m.top().(*issueScreen)
	if !ok || is.id != "i100000000001" {
		t.Fatalf("enter on the result opened %T, want the issue i100000000001", h.m.top())
	}
	h.press("esc")
	if _, ok := h.m.top().(*searchScreen); !ok {
		t.Fatalf("esc from the issue went to %T, want the search screen", h.m.top())
	}
	// / goes back to the query; esc there leaves the screen.
	h.press("/")
	h.typeText(" nat")
	if !strings.Contains(h.screen(), "0 results") {
		t.Errorf("a query matching nothing shows:\n%s", h.screen())
	}
	f.failWith["Search"] = api.Errorf(api.CodeInvalid, "is:shiny: use one of open, closed, merged, draft, issue or patch")
	h.typeText("x")
	if !strings.Contains(h.screen(), "use one of open") {
		t.Errorf("a refused query shows:\n%s", h.screen())
	}
	f.failWith["Search"] = errors.Join()
	h.press("esc")
	if _, ok := h.m.top().(*repoScreen); !ok {
		t.Fatalf("esc while typing went to %T, want the repo screen", h.m.top())
	}
}

// TestSearchStaleAnswer: an answer to an older query does not replace the
// results of the current one.
func TestSearchStaleAnswer(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, 80, 16)
	h.press("enter", "/")
	h.typeText("nat")
	s := h.m.top().(*searchScreen)
	h.send(searchMsg{seq: s.seq - 1, items: []api.SearchResult{{ID: "stale", Title: "stale"}}})
	if strings.Contains(h.screen(), "stale") {
		t.Errorf("a stale answer was shown:\n%s", h.screen())
	}
}
