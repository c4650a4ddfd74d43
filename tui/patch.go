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
		short: []key.Binding{k.Approve, k.Reject, k.Comment, o.Edit, o.Close, globals.Help},
		full: [][]key.Binding{
			{lists.Up, lists.Down, lists.PageUp, lists.PageDown},
			{k.Approve, k.Reject, k.Comment, k.Inline},
			{o.Edit, o.Close, k.Merge, k.Draft, o.Label, o.Assign, o.React, o.Copy},
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
			s.patch, s.loaded, s.title = msg.patch, true, msg.patch.Title
			s.render()
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
	switch {
	case key.Matches(k, lists.Up):
		s.vp.ScrollUp(1)
	case key.Matches(k, lists.Down):
		s.vp.ScrollDown(1)
	case key.Matches(k, lists.PageUp):
		s.vp.PageUp()
	case key.Matches(k, lists.PageDown):
		s.vp.PageDown()
	case key.Matches(k, lists.Top):
		s.vp.GotoTop()
	case key.Matches(k, lists.Bottom):
		s.vp.GotoBottom()
	case key.Matches(k, globals.Refresh):
		return s.load.start(fetchPatch(s.c, s.repo.ID, s.id)), true
	case !s.loaded:
		return nil, false
	case key.Matches(k, patchKeys.Approve):
		return s.compose(forReview, "Approve revision "+rev+" (summary optional)", true, "approve"), true
	case key.Matches(k, patchKeys.Reject):
		return s.compose(forReview, "Request changes on revision "+rev, true, "request-changes"), true
	case key.Matches(k, patchKeys.Comment):
		return s.compose(forComment, "Comment on "+shortID(s.id), true, ""), true
	case key.Matches(k, patchKeys.Inline):
		return s.compose(forInline, "Comment on revision "+rev+" as: path:line[-end] text", false, ""), true
	case key.Matches(k, patchKeys.Merge):
		return s.merge(), true
	case key.Matches(k, patchKeys.Draft):
		return s.draft(), true
	default:
		return s.act(k, s.id, s.patch.Reactions)
	}
	return nil, true
}

// merge marks the patch merged, after asking; maintainers only.
func (s *patchScreen) merge() tea.Cmd {
	switch p := s.patch; {
	case !s.c.maintains(s.repo):
		return noteCmd(notAllowed("merging", "a maintainer", s.repo))
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
		return noteCmd(notAllowed("marking draft or ready", "its author or a maintainer", s.repo))
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
	case forComment:
		return write(s.c, repo, id, "comment posted", true, func(ctx context.Context) error {
			_, err := svc.Comment(ctx, repo, id, api.NewComment{Body: text})
			return err
		})
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
	case forLabel, forAssign:
		return s.submitList(comp)
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
	return nil
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
		" "+stateMarker(st, p.State)+" "+st.state(p.State).Render(p.State)+
			st.Subtle.Render(fmt.Sprintf(" · %s wants to merge into %s · %s", displayName(p.Author), trunc(p.Base, 30), agoPhrase(p.Created, now))),
		st.Label.Render(" labels: "+trunc(orNone(p.Labels), w)+" · assignees: "+orNone(names(p.Assignees))), "")
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
	var general, inline []api.Comment
	for _, c := range p.Comments {
		if c.Anchor != nil {
			inline = append(inline, c)
		} else {
			general = append(general, c)
		}
	}
	add("", st.Header.Render(fmt.Sprintf(" Discussion (%d)", len(general))))
	for _, e := range threaded(general) {
		pad := "  " + strings.Repeat("  ", e.depth)
		add(pad + st.Author.Render(displayName(e.c.Author)) + st.Subtle.Render(" · "+agoPhrase(e.c.Created, now)))
		if e.c.Hidden {
			add(pad + st.Subtle.Render("comment hidden"))
			continue
		}
		for _, l := range s.c.md.Lines(e.c.ID, e.c.Body, w-len(pad)-2) {
			add(pad + l)
		}
	}
	add("", st.Header.Render(fmt.Sprintf(" Inline comments (%d)", len(inline))))
	slices.SortStableFunc(inline, func(a, b api.Comment) int {
		return cmp.Or(strings.Compare(a.Anchor.Path, b.Anchor.Path), cmp.Compare(a.Anchor.Start, b.Anchor.Start), a.Created.Compare(b.Created))
	})
	last := ""
	for _, c := range inline {
		a := c.Anchor
		loc := fmt.Sprintf("%s:%d", trunc(a.Path, w-20), a.Start)
		if a.End > a.Start {
			loc += fmt.Sprintf("-%d", a.End)
		}
		if loc != last {
			add("  " + st.Title.Render(loc) + st.Subtle.Render(fmt.Sprintf(" (r%d)", a.RevNumber)))
			last = loc
		}
		head := "    " + st.Author.Render(displayName(c.Author)) + st.Subtle.Render(" · "+agoPhrase(c.Created, now))
		if c.Resolved {
			head += st.Subtle.Render(" (resolved)")
		}
		add(head)
		for _, l := range s.c.md.Lines(c.ID, c.Body, w-8) {
			add("      " + l)
		}
	}
	s.vp.SetContentLines(lines)
}
