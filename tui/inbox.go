package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// inboxKeys act on the inbox screen.
var inboxKeys = struct{ Read, ReadAll key.Binding }{
	Read:    bind([]string{"m"}, "m", "mark read"),
	ReadAll: bind([]string{"M"}, "M", "mark all read"),
}

// inboxLimit is how many items, read and unread, the inbox screen shows.
const inboxLimit = 200

// Messages of the inbox.
type (
	inboxMsg struct {
		result
		items []api.InboxItem
	}
	// unreadMsg carries the unread count the status bar shows.
	unreadMsg struct {
		result
		n int
	}
	// inboxOpenMsg answers the fetch of the repo of an item being opened.
	inboxOpenMsg struct {
		result
		repo api.Repo
		item api.InboxItem
	}
)

func fetchInbox(c *common) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		items, err := c.svc.Inbox(ctx, api.InboxQuery{All: true, Limit: inboxLimit})
		return inboxMsg{result: result{err}, items: items}
	})
}

// fetchUnread counts unread items up to api.InboxUnreadCap. A failure is
// not news for the status bar (no identity yet has no inbox): the count
// stays as it was.
func fetchUnread(c *common) tea.Cmd {
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		items, err := c.svc.Inbox(ctx, api.InboxQuery{Limit: api.InboxUnreadCap})
		if err != nil {
			return unreadMsg{n: -1}
		}
		return unreadMsg{n: len(items)}
	})
}

func markRead(c *common, m api.MarkRead, what string) tea.Cmd {
	return write(c, "", "", what, false, func(ctx context.Context) error {
		_, err := c.svc.MarkRead(ctx, m)
		return err
	})
}

// unreadText is the status bar's count: "99+" at the cap.
func unreadText(n int) string {
	if n >= api.InboxUnreadCap {
		return fmt.Sprintf("%d+", api.InboxUnreadCap-1)
	}
	return fmt.Sprint(n)
}

// inboxScreen lists what changed in the followed repos, newest first,
// unread items marked. Opening an item marks its issue or patch read and
// shows it; the list follows the event stream.
type inboxScreen struct {
	c      *common
	list   *listView[api.InboxItem]
	loaded bool
	load   refetch
}

func newInboxScreen(c *common) *inboxScreen {
	s := &inboxScreen{c: c}
	s.list = newListView(c,
		func(it api.InboxItem) string { return it.ID },
		func(it api.InboxItem) string {
			return it.RepoName + " " + it.Title + " " + it.Reason + " " + displayName(it.Actor)
		},
		s.row, "nothing yet: what others do in the repos you follow shows up here")
	return s
}

func (s *inboxScreen) Init() tea.Cmd { return s.load.start(fetchInbox(s.c)) }

func (s *inboxScreen) Title() string { return "inbox" }

func (s *inboxScreen) SetSize(w, h int) { s.list.SetSize(w, h-2) }

func (s *inboxScreen) Capturing() bool { return s.list.Filtering() }

func (s *inboxScreen) KeyMap() keyMap {
	if s.list.Filtering() {
		return keyMap{short: []key.Binding{filterKeys.Accept, filterKeys.Clear}, full: [][]key.Binding{{filterKeys.Accept, filterKeys.Clear}}}
	}
	k := inboxKeys
	return keyMap{
		short: []key.Binding{lists.Open, k.Read, k.ReadAll, lists.Filter, globals.Back, globals.Help},
		full:  [][]key.Binding{lists.moves(), {lists.Open, k.Read, k.ReadAll, lists.Filter}, globals.list()},
	}
}

func (s *inboxScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case inboxMsg:
		cmd := s.load.done(fetchInbox(s.c))
		if msg.err == nil {
			s.list.SetItems(msg.items)
			s.loaded = true
		}
		return cmd, true
	case eventMsg:
		return s.load.start(fetchInbox(s.c)), false
	case writtenMsg:
		if msg.err != nil {
			return nil, false
		}
		return s.load.start(fetchInbox(s.c)), false
	case inboxOpenMsg:
		if msg.err != nil {
			return nil, true
		}
		it := msg.item
		var next screen = newIssueScreen(s.c, msg.repo, it.Object, it.Title)
		if it.Type == "patch" {
			next = newPatchScreen(s.c, msg.repo, it.Object, it.Title)
		}
		return push(next), true
	case tea.KeyPressMsg:
		if cmd, ok := s.list.Update(msg); ok {
			return cmd, true
		}
		switch {
		case key.Matches(msg, lists.Open):
			it, ok := s.list.Selected()
			if !ok {
				return nil, true
			}
			open := call(s.c.ctx, func(ctx context.Context) tea.Msg {
				r, err := s.c.svc.Repo(ctx, it.Repo)
				return inboxOpenMsg{result: result{err}, repo: r, item: it}
			})
			if !it.Unread {
				return open, true
			}
			return tea.Batch(markRead(s.c, api.MarkRead{Objects: []string{it.Object}}, ""), open), true
		case key.Matches(msg, inboxKeys.Read):
			if it, ok := s.list.Selected(); ok {
				return markRead(s.c, api.MarkRead{Objects: []string{it.Object}}, "marked "+shortID(it.Object)+" read"), true
			}
			return nil, true
		case key.Matches(msg, inboxKeys.ReadAll):
			return markRead(s.c, api.MarkRead{All: true}, "marked everything read"), true
		case key.Matches(msg, globals.Refresh):
			return s.load.start(fetchInbox(s.c)), true
		}
	case tea.MouseWheelMsg:
		return s.list.Update(msg)
	}
	return nil, false
}

func (s *inboxScreen) row(it api.InboxItem, w int) string {
	st := s.c.st
	mark, style := " ", st.Subtle
	if it.Unread {
		mark, style = "•", st.Title
	}
	reason := it.Reason
	switch {
	case it.State != "":
		reason += " → " + it.State
	case it.Verdict != "":
		reason += ": " + it.Verdict
	}
	head := fmt.Sprintf("%s %-12s %-5s ", mark, trunc(it.RepoName, 12), it.Type)
	tail := fmt.Sprintf(" %-18s %-10s %8s", trunc(reason, 18), trunc(displayName(it.Actor), 10), ago(it.At, s.c.now()))
	title := trunc(it.Title, max(w-len([]rune(head))-len([]rune(tail)), 1))
	title += strings.Repeat(" ", max(w-len([]rune(head))-len([]rune(tail))-len([]rune(title)), 0))
	return style.Render(head+title) + st.Subtle.Render(tail)
}

func (s *inboxScreen) View() string {
	st := s.c.st
	unread := 0
	for _, it := range s.list.items {
		if it.Unread {
			unread++
		}
	}
	var b strings.Builder
	b.WriteString(st.Header.Render(fmt.Sprintf("  Inbox (%d unread)", unread)) + "\n\n")
	if !s.loaded {
		b.WriteString(st.Subtle.Render("  loading…"))
	} else {
		b.WriteString(s.list.View())
	}
	return b.String()
}
