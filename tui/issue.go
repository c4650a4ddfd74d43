package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// maxDepth caps how far replies are indented.
const maxDepth = 4

// entry is one comment of a timeline, at its reply depth.
type entry struct {
	c     api.Comment
	depth int
}

// threaded orders comments as a thread: each reply follows its parent,
// oldest first at every level. Replies to unknown comments are top-level.
func threaded(cs []api.Comment) []entry {
	byID := make(map[string]bool, len(cs))
	for _, c := range cs {
		byID[c.ID] = true
	}
	kids := make(map[string][]api.Comment)
	var roots []api.Comment
	for _, c := range cs {
		if c.ReplyTo != "" && byID[c.ReplyTo] && c.ReplyTo != c.ID {
			kids[c.ReplyTo] = append(kids[c.ReplyTo], c)
		} else {
			roots = append(roots, c)
		}
	}
	out := make([]entry, 0, len(cs))
	seen := make(map[string]bool, len(cs))
	var walk func(c api.Comment, d int)
	walk = func(c api.Comment, d int) {
		if seen[c.ID] {
			return
		}
		seen[c.ID] = true
		out = append(out, entry{c, min(d, maxDepth)})
		for _, k := range kids[c.ID] {
			walk(k, d+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return out
}

// issueScreen shows one issue and its timeline. The selection is the
// issue itself (0) or a comment (1…); it is kept by comment ID across
// refetches.
type issueScreen struct {
	objectView
	issue api.Issue

	timeline []entry
}

func newIssueScreen(c *common, repo api.Repo, id, title string) *issueScreen {
	s := &issueScreen{objectView: newObjectView(c, repo, id, title)}
	s.fetch = func() tea.Cmd { return fetchIssue(s.c, s.repo.ID, s.id) }
	s.draw, s.send = s.render, s.submitComment
	s.kind = "issue"
	s.meta = func() meta {
		is := s.issue
		return meta{author: is.Author.ID, state: is.State, title: is.Title, body: is.Body, labels: is.Labels, assignees: is.Assignees}
	}
	s.edit = func(ctx context.Context, e api.Edit) error {
		_, err := s.c.svc.EditIssue(ctx, s.repo.ID, s.id, e)
		return err
	}
	return s
}

func (s *issueScreen) Title() string { return "issue " + shortID(s.id) }

func (s *issueScreen) KeyMap() keyMap {
	if km, ok := s.overlayKeys(); ok {
		return km
	}
	k, o := issueKeys, objectKeys
	return keyMap{
		short: []key.Binding{k.Comment, k.Reply, o.Edit, o.Close, o.React, globals.Help},
		full: [][]key.Binding{
			{lists.Up, lists.Down, lists.PageUp, lists.PageDown},
			{k.Comment, k.Reply, k.EditComment, o.React, k.Hide, k.Resolve},
			{o.Edit, o.Close, o.Reopen, o.Label, o.Assign, lockKey, o.Copy},
			globals.list(),
		},
	}
}

func (s *issueScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	if msg, ok := msg.(issueMsg); ok {
		if msg.repo != s.repo.ID || msg.id != s.id {
			return nil, false
		}
		cmd := s.fetched()
		if msg.err == nil {
			s.setIssue(msg.issue)
		}
		return cmd, true
	}
	if cmd, consumed, handled := s.update(msg); handled {
		return cmd, consumed
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		return s.key(k)
	}
	return nil, false
}

// listDiff compares the items of a list as the user edited it with the
// current ones, each known by its key and, when shown by another name,
// that name (an assignee's alias): it returns the new entries as typed
// and the keys of the entries the user deleted.
func listDiff(keys, shown, edited []string) (add, remove []string) {
	kept := make(map[int]bool, len(keys))
	for _, e := range edited {
		found := false
		for i, k := range keys {
			if e == k || (i < len(shown) && e == shown[i]) {
				kept[i], found = true, true
				break
			}
		}
		if !found && !slices.Contains(add, e) {
			add = append(add, e)
		}
	}
	for i, k := range keys {
		if !kept[i] {
			remove = append(remove, k)
		}
	}
	return add, remove
}

// changeText says what an edit of a list did, for the status bar.
func changeText(what string, add, remove []string) string {
	switch {
	case len(add)+len(remove) == 0:
		return what + " unchanged"
	case len(remove) == 0:
		return what + " added: " + strings.Join(add, ", ")
	case len(add) == 0:
		return fmt.Sprintf("%s removed: %d", what, len(remove))
	}
	return fmt.Sprintf("%s: %d added, %d removed", what, len(add), len(remove))
}

// splitList splits user input on commas and spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func (s *issueScreen) key(k tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case s.navKey(k):
		return nil, true
	case key.Matches(k, globals.Refresh):
		return s.load.start(s.fetch()), true
	case !s.loaded:
		return nil, false
	}
	if cmd, ok := s.moderationKey(k, s.issue.Locked); ok {
		return cmd, true
	}
	if cmd, ok := s.commentKey(k); ok {
		return cmd, true
	}
	target, rs := s.id, s.issue.Reactions
	if c, ok := s.selectedComment(); ok {
		target, rs = c.ID, c.Reactions
	}
	return s.act(k, target, rs)
}

// splitLabels splits user input on commas: a label may hold spaces.
func splitLabels(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = trunc(s, 100)
	}
	return out
}

func reacted(rs []api.Reaction, emoji, who string) bool {
	for _, r := range rs {
		if r.Emoji != emoji {
			continue
		}
		for _, a := range r.Authors {
			if a.ID == who && who != "" {
				return true
			}
		}
	}
	return false
}

func (s *issueScreen) setIssue(is api.Issue) {
	s.issue, s.loaded, s.title = is, true, is.Title
	s.timeline = threaded(is.Comments)
	cs := make([]api.Comment, len(s.timeline))
	for i, e := range s.timeline {
		cs[i] = e.c
	}
	s.setComments(cs)
	s.render()
}

// render rebuilds the viewport's content at the current width.
func (s *issueScreen) render() {
	if !s.loaded {
		s.vp.SetContent(s.c.st.Subtle.Render("  loading " + shortID(s.id) + "…"))
		return
	}
	st, is, w := s.c.st, s.issue, max(s.w, 10)
	now := s.c.now()
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	add(ansi.Truncate(" "+st.Title.Render(trunc(is.Title, w))+"  "+st.Subtle.Render(shortID(is.ID)), w, "…"))
	state := is.State
	if is.Reason != "" {
		state += " (" + is.Reason + ")"
	}
	state += lockedMark(is.Locked)
	add(ansi.Truncate(" "+stateMarker(st, is.State)+" "+st.state(is.State).Render(state)+
		st.Subtle.Render(fmt.Sprintf(" · opened by %s %s · %s", displayName(is.Author), agoPhrase(is.Created, now), plural(len(is.Comments), "comment"))), w, "…"))
	meta := " labels: " + trunc(orNone(is.Labels), w) + " · assignees: " + orNone(names(is.Assignees))
	add(ansi.Truncate(st.Label.Render(meta), w, "…"))
	for _, c := range is.Conflicts {
		add(st.Error.Render(ansi.Truncate(" also set concurrently by "+displayName(c.Author)+": "+trunc(c.Value, 40), w, "…")))
	}
	add("")
	s.starts = s.starts[:0]
	block := func(i int, depth int, body []string) {
		s.starts = append(s.starts, len(lines))
		mark := s.selMark(i)
		pad := strings.Repeat("  ", depth)
		for _, l := range body {
			add(ansi.Truncate(mark+pad+l, w, "…"))
		}
		add("")
	}
	body := s.c.md.Lines(is.ID, is.Body, w-4)
	if strings.TrimSpace(is.Body) == "" {
		body = []string{st.Subtle.Render("no description")}
	}
	if r := reactionLine(is.Reactions); r != "" {
		body = append(body, r)
	}
	block(0, 0, body)
	for i, e := range s.timeline {
		c := e.c
		head := st.Author.Render(displayName(c.Author)) + st.Subtle.Render(" · "+agoPhrase(c.Created, now))
		if e.depth > 0 {
			head = "↳ " + head
		}
		if c.Edited {
			head += st.Subtle.Render(" (edited)")
		}
		if c.Resolved {
			head += st.Subtle.Render(" (resolved)")
		}
		b := []string{head}
		if c.Hidden {
			b = append(b, st.Subtle.Render("comment hidden"))
		} else {
			b = append(b, s.c.md.Lines(c.ID, c.Body, w-4-2*e.depth)...)
		}
		if r := reactionLine(c.Reactions); r != "" {
			b = append(b, r)
		}
		block(i+1, e.depth, b)
	}
	s.vp.SetContentLines(lines)
}

// wrap word-wraps text to w cells, breaking words longer than a line.
func wrap(text string, w int) []string {
	text = strings.TrimRight(clean(strings.ReplaceAll(text, "\r\n", "\n")), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(ansi.Wrap(text, max(w, 10), ""), "\n")
}

func reactionLine(rs []api.Reaction) string {
	var parts []string
	for _, r := range rs {
		if len(r.Authors) > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", trunc(r.Emoji, 4), len(r.Authors)))
		}
	}
	return strings.Join(parts, "  ")
}

func names(ps []api.Person) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = displayName(p)
	}
	return out
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
