package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"murmur/api"
)

// unreadRow matches an unread row of the inbox screen.
var unreadRow = regexp.MustCompile(`(?m)^[> ] • `)

func inboxItem(id, object, title, typ, reason string, actor api.Person, at time.Time, unread bool) api.InboxItem {
	return api.InboxItem{ID: id, Repo: "r1aaaaaaaaaa", RepoName: "murmur", Object: object, Type: typ, Title: title,
		Kind: "comment.add", Reason: reason, Actor: actor, At: at, Unread: unread}
}

// TestInbox opens the inbox from the repos screen, opens an item (which
// marks it read), sees an item arrive live and marks everything read.
func TestInbox(t *testing.T) {
	f := newFake()
	f.inbox = []api.InboxItem{
		inboxItem("op3", "i100000000001", "TUI crashes on resize", "issue", api.ReasonMention, bob, t0.Add(-10*time.Minute), true),
		inboxItem("op2", "p1000000000a", "Handle tiny terminals", "patch", api.ReasonReview, bob, t0.Add(-time.Hour), true),
		inboxItem("op1", "i2000000000002", "Sync stalls behind NAT", "issue", api.ReasonSubscribed, bob, t0.Add(-3*time.Hour), false),
	}
	f.inbox[1].Kind, f.inbox[1].Verdict = "review.submit", "approve"
	h := newHarness(t, f, 100, 16)
	if bar := lastLine(h.screen()); !strings.Contains(bar, "✉ 2") {
		t.Errorf("status bar = %q, want the unread count ✉ 2", bar)
	}
	h.press("I")
	if _, ok := h.m.top().(*inboxScreen); !ok {
		t.Fatalf("after I top = %T, want *inboxScreen", h.m.top())
	}
	golden(t, "inbox", h.screen())

	h.press("enter")
	is, ok := h.m.top().(*issueScreen)
	if !ok || is.id != "i1000000000001" && is.id != "i100000000001" {
		t.Fatalf("after enter top = %T, want the issue screen of the item", h.m.top())
	}
	if len(f.marked) != 1 || len(f.marked[0].Objects) != 1 || f.marked[0].Objects[0] != "i100000000001" {
		t.Errorf("MarkRead calls = %+v, want the opened issue", f.marked)
	}
	if bar := lastLine(h.screen()); !strings.Contains(bar, "✉ 1") {
		t.Errorf("status bar after opening = %q, want ✉ 1", bar)
	}
	h.press("esc")
	if n := len(unreadRow.FindAllString(h.screen(), -1)); n != 1 {
		t.Errorf("inbox after opening an item shows %d unread rows, want 1:\n%s", n, h.screen())
	}

	// An op from a peer: the list and the count follow.
	f.mu.Lock()
	f.inbox = append([]api.InboxItem{inboxItem("op4", "i3000000000003", "Document the op format", "issue", api.ReasonNew, bob, t0, true)}, f.inbox...)
	f.mu.Unlock()
	h.send(eventMsg{api.Event{Repo: "r1aaaaaaaaaa", Kind: "issue.open", Object: "i3000000000003"}})
	if s := h.screen(); !strings.Contains(s, "Document the op format") || !strings.Contains(lastLine(s), "✉ 2") {
		t.Errorf("after an event the inbox lacks the new item or the count:\n%s", s)
	}

	h.press("M")
	if s := h.screen(); unreadRow.MatchString(s) || strings.Contains(lastLine(s), "✉") {
		t.Errorf("after M something is still unread:\n%s", s)
	}
	golden(t, "inbox_read", h.screen())
}
