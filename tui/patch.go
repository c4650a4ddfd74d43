package tui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// patchScreen shows a patch: revisions, reviews, the discussion and the
// inline comments grouped by file and line.
type patchScreen struct {
	objectView
	patch api.Patch
	// general is the discussion as a thread, inline the comments on
	// lines by file and line; the selection runs through both in order.
	general []entry
	inline  []api.Comment
}

func newPatchScreen(c *common, repo api.Repo, id, title string) *patchScreen {
	s := &patchScreen{objectView: newObjectView(c, repo, id, title)}
	s.fetch = func() tea.Cmd { return fetchPatch(s.c, s.repo.ID, s.id) }
	s.draw, s.send = s.render, s.submit
	s.kind = "patch"
	s.meta = func() meta {
		p := s.patch
		return meta{author: p.Author.ID, state: p.State, title: p.Title, body: p.Description, labels: p.Labels, assignees: p.Assignees}
	}
	s.edit = func(ctx context.Context, e api.Edit) error {
		_, err := s.c.svc.EditPatch(ctx, s.repo.ID, s.id, e)
		return err
	}
	return s
}

func (s *patchScreen) Title() string { return "patch " + shortID(s.id) }

func (s *patchScreen) KeyMap() keyMap {
	if km, ok := s.overlayKeys(); ok {
		return km
	}
	k, o := patchKeys, objectKeys
	return keyMap{
		short: []key.Binding{k.Diff, k.Approve, k.Reject, k.Comment, o.Edit, o.Close, globals.Help},
		full: [][]key.Binding{
			{lists.Up, lists.Down, lists.PageUp, lists.PageDown},
			{k.Diff, k.Approve, k.Reject, k.Comment, k.Inline},
			{issueKeys.Reply, issueKeys.EditComment, issueKeys.Hide, issueKeys.Resolve},
			{o.Edit, o.Close, k.Merge, k.Draft, o.Label, o.Assign, lockKey, o.React, o.Copy},
			globals.list(),
		},
	}
}

func (s *patchScreen) latest() int {
	n := 0
	for _, r := range s.patch.Revisions {
		n = max(n, r.Number)
	}
	return n
}

func (s *patchScreen) compose(p purpose, prompt string, multi bool, target string) tea.Cmd {
	cmd := s.openComposer(p, prompt, multi, "", target)
	s.comp.allowEmpty = target == "approve"
	return cmd
}

func (s *patchScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	if msg, ok := msg.(patchMsg); ok {
		if msg.repo != s.repo.ID || msg.id != s.id {
			return nil, false
		}
		cmd := s.fetched()
		if msg.err == nil {
			s.setPatch(msg.patch)
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

func (s *patchScreen) key(k tea.KeyPressMsg) (tea.Cmd, bool) {
	rev := strconv.Itoa(s.latest())
	if s.loaded {
		if cmd, ok := s.moderationKey(k, s.patch.Locked); ok {
			return cmd, true
		}
	}
	switch {
	case s.navKey(k):
	case key.Matches(k, globals.Refresh):
		return s.load.start(fetchPatch(s.c, s.repo.ID, s.id)), true
	case !s.loaded:
		return nil, false
	case key.Matches(k, patchKeys.Diff):
		return push(newDiffScreen(s.c, s.repo, s.patch)), true
	case key.Matches(k, patchKeys.Approve):
		return s.compose(forReview, "Approve revision "+rev+" (summary optional)", true, "approve"), true
	case key.Matches(k, patchKeys.Reject):
		return s.compose(forReview, "Request changes on revision "+rev, true, "request-changes"), true
	case key.Matches(k, patchKeys.Inline):
		return s.compose(forInline, "Comment on revision "+rev+" as: path:line[-end] text", false, ""), true
	case key.Matches(k, patchKeys.Merge):
		return s.merge(), true
	case key.Matches(k, patchKeys.Draft):
		return s.draft(), true
	default:
		if cmd, ok := s.commentKey(k); ok {
			return cmd, true
		}
		target, rs := s.id, s.patch.Reactions
		if c, ok := s.selectedComment(); ok {
			target, rs = c.ID, c.Reactions
		}
		return s.act(k, target, rs)
	}
	return nil, true
}

// merge marks the patch merged, after asking; maintainers only.
func (s *patchScreen) merge() tea.Cmd {
	switch p := s.patch; {
	case !s.c.maintains(s.repo):
		return noteCmd(notAllowed("a maintainer", "merge"))
	case p.State == "merged":
		return noteCmd("this patch is merged already")
	case p.State == "closed":
		return noteCmd("this patch is closed; reopen it (x) to merge it")
	}
	s.setAsk(yesNo("mark this patch merged into "+trunc(s.patch.Base, 30)+"?", s.setState("merged", "", "patch marked merged")))
	return nil
}

// draft turns an open patch into a draft and a draft ready for review.
func (s *patchScreen) draft() tea.Cmd {
	m := s.meta()
	switch {
	case !s.mine(m):
		return noteCmd(notAllowed("the author or a maintainer", "mark it draft/ready"))
	case m.state == "open":
		return s.setState("draft", "", "patch marked draft")()
	case m.state == "draft":
		return s.setState("open", "", "patch marked ready for review")()
	}
	return noteCmd("a " + m.state + " patch is neither draft nor ready")
}

// parseInline reads "path:start[-end] text".
func parseInline(s string) (path string, start, end int, text string, err error) {
	loc, text, ok := strings.Cut(strings.TrimSpace(s), " ")
	i := strings.LastIndexByte(loc, ':')
	if !ok || i <= 0 || strings.TrimSpace(text) == "" {
		return "", 0, 0, "", fmt.Errorf("write path:line text, e.g. main.go:12 looks wrong")
	}
	path, lines := loc[:i], loc[i+1:]
	a, b, ranged := strings.Cut(lines, "-")
	if start, err = strconv.Atoi(a); err != nil || start < 1 {
		return "", 0, 0, "", fmt.Errorf("bad line %q", a)
	}
	end = start
	if ranged {
		if end, err = strconv.Atoi(b); err != nil || end < start {
			return "", 0, 0, "", fmt.Errorf("bad line range %q", lines)
		}
	}
	return path, start, end, strings.TrimSpace(text), nil
}

func (s *patchScreen) submit(comp *composer) tea.Cmd {
	repo, id, svc := s.repo.ID, s.id, s.c.svc
	text := strings.TrimSpace(comp.Value())
	switch comp.purpose {
	case forReview:
		verdict := comp.target
		what := "approved"
		if verdict == "request-changes" {
			what = "changes requested"
		}
		return write(s.c, repo, id, what, true, func(ctx context.Context) error {
			_, err := svc.Review(ctx, repo, id, api.NewReview{Verdict: verdict, Summary: text})
			return err
		})
	case forInline:
		path, start, end, body, err := parseInline(text)
		if err != nil {
			return func() tea.Msg {
				return writtenMsg{result: result{api.Errorf(api.CodeInvalid, "%v", err)}, repo: repo, object: id, composed: true}
			}
		}
		return write(s.c, repo, id, fmt.Sprintf("commented on %s:%d", path, start), true, func(ctx context.Context) error {
			_, err := svc.Review(ctx, repo, id, api.NewReview{Verdict: "comment", Path: path, Start: start, End: end, Comment: body})
			return err
		})
	}
	return s.submitComment(comp)
}

// sortedChecks orders checks by revision, newest first, then by name
// and reporter.
func sortedChecks(cs []api.Check) []api.Check {
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b api.Check) int {
		return cmp.Or(cmp.Compare(b.RevNumber, a.RevNumber), strings.Compare(a.Name, b.Name), strings.Compare(a.Reporter.ID, b.Reporter.ID))
	})
	return cs
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// setPatch takes a fetched patch and orders its comments as drawn.
func (s *patchScreen) setPatch(p api.Patch) {
	s.patch, s.loaded, s.title = p, true, p.Title
	var general, inline []api.Comment
	for _, c := range p.Comments {
		if c.Anchor != nil {
			inline = append(inline, c)
		} else {
			general = append(general, c)
		}
	}
	slices.SortStableFunc(inline, func(a, b api.Comment) int {
		return cmp.Or(strings.Compare(a.Anchor.Path, b.Anchor.Path), cmp.Compare(a.Anchor.Start, b.Anchor.Start), a.Created.Compare(b.Created))
	})
	s.general, s.inline = threaded(general), inline
	cs := make([]api.Comment, 0, len(p.Comments))
	for _, e := range s.general {
		cs = append(cs, e.c)
	}
	s.setComments(append(cs, inline...))
	s.render()
}

func (s *patchScreen) render() {
	if !s.loaded {
		s.vp.SetContent(s.c.st.Subtle.Render("  loading " + shortID(s.id) + "…"))
		return
	}
	st, p, w, now := s.c.st, s.patch, max(s.w, 10), s.c.now()
	var lines []string
	add := func(l ...string) {
		for _, x := range l {
			lines = append(lines, ansi.Truncate(x, w, "…"))
		}
	}
	add(" "+st.Title.Render(trunc(p.Title, w))+"  "+st.Subtle.Render(shortID(p.ID)),
		" "+stateMarker(st, p.State)+" "+st.state(p.State).Render(p.State+lockedMark(p.Locked))+
			st.Subtle.Render(fmt.Sprintf(" · %s wants to merge into %s · %s", displayName(p.Author), trunc(p.Base, 30), agoPhrase(p.Created, now))),
		st.Label.Render(" labels: "+trunc(orNone(p.Labels), w)+" · assignees: "+orNone(names(p.Assignees))+reviewRequested(p.Reviewers)), "")
	for _, l := range s.c.md.Lines(p.ID, p.Description, w-4) {
		add("  " + l)
	}
	add("", st.Header.Render(fmt.Sprintf(" Revisions (%d)", len(p.Revisions))))
	for _, r := range p.Revisions {
		add(fmt.Sprintf("  r%-2d %s  %s %s  %s", r.Number, shortID(r.Commit), displayName(r.Author), agoPhrase(r.Created, now), trunc(r.Note, 40)))
	}
	add("", st.Header.Render(fmt.Sprintf(" Reviews (%d)", len(p.Reviews))))
	if len(p.Reviews) == 0 {
		add(st.Subtle.Render("  none yet"))
	}
	for _, r := range p.Reviews {
		add(fmt.Sprintf("  %-12s %s on r%d  %s", trunc(displayName(r.Reviewer), 12), verdictText(st, r.Verdict), r.RevNumber, trunc(r.Summary, 60)))
	}
	if len(p.Checks) > 0 {
		add("", st.Header.Render(fmt.Sprintf(" Checks (%d)", len(p.Checks))))
	}
	for _, c := range sortedChecks(p.Checks) {
		l := fmt.Sprintf("  r%-2d %s %-16s %-12s %s", c.RevNumber, checkGlyph(st, c.State), trunc(orDefault(c.Name, "check"), 16),
			trunc(displayName(c.Reporter), 12), st.Subtle.Render(trunc(c.State, 10)+" · "+agoPhrase(c.At, now)))
		if c.Summary != "" {
			l += "  " + trunc(c.Summary, 60)
		}
		if c.URL != "" {
			l += "  " + st.Subtle.Render(trunc(c.URL, 80))
		}
		add(l)
	}
	s.starts = append(s.starts[:0], 0)
	n := 0
	// mark starts comment n's block and says whether it is selected.
	mark := func() string {
		n++
		s.starts = append(s.starts, len(lines))
		return s.selMark(n)
	}
	add("", st.Header.Render(fmt.Sprintf(" Discussion (%d)", len(s.general))))
	for _, e := range s.general {
		m := mark()
		pad := m + strings.Repeat("  ", e.depth)
		head := pad + st.Author.Render(displayName(e.c.Author)) + st.Subtle.Render(" · "+agoPhrase(e.c.Created, now))
		if e.c.Edited {
			head += st.Subtle.Render(" (edited)")
		}
		add(head)
		if e.c.Hidden {
			add(pad + st.Subtle.Render("comment hidden"))
			continue
		}
		for _, l := range s.c.md.Lines(e.c.ID, e.c.Body, w-2*e.depth-4) {
			add(pad + l)
		}
		if r := reactionLine(e.c.Reactions); r != "" {
			add(pad + r)
		}
	}
	add("", st.Header.Render(fmt.Sprintf(" Inline comments (%d)", len(s.inline))))
	last := ""
	for _, c := range s.inline {
		a := c.Anchor
		loc := fmt.Sprintf("%s:%d", trunc(a.Path, w-20), a.Start)
		if a.End > a.Start {
			loc += fmt.Sprintf("-%d", a.End)
		}
		if loc != last {
			add("  " + st.Title.Render(loc) + st.Subtle.Render(fmt.Sprintf(" (r%d)", a.RevNumber)))
			last = loc
		}
		m := mark()
		head := m + "  " + st.Author.Render(displayName(c.Author)) + st.Subtle.Render(" · "+agoPhrase(c.Created, now))
		if c.Resolved {
			head += st.Subtle.Render(" (resolved)")
		}
		add(head)
		if c.Hidden {
			add(m + "    " + st.Subtle.Render("comment hidden"))
			continue
		}
		for _, l := range s.c.md.Lines(c.ID, c.Body, w-8) {
			add(m + "    " + l)
		}
	}
	s.vp.SetContentLines(lines)
}

// reviewRequested names the reviewers a patch asks for, after the
// assignees; nothing when it asks for none.
func reviewRequested(ps []api.Person) string {
	if len(ps) == 0 {
		return ""
	}
	return " · review requested: " + orNone(names(ps))
}
