package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// selection is the comment selected on an issue or patch screen: 0 is
// the object itself, i ≥ 1 the i-th comment in the order drawn. It is
// kept by comment ID across refetches.
type selection struct {
	comments []api.Comment
	sel      int
	starts   []int // first content line of each selectable block
}

func (s *selection) selectedComment() (api.Comment, bool) {
	if s.sel <= 0 || s.sel > len(s.comments) {
		return api.Comment{}, false
	}
	return s.comments[s.sel-1], true
}

// setComments replaces the comments, keeping the selected one.
func (s *selection) setComments(cs []api.Comment) {
	var selID string
	if c, ok := s.selectedComment(); ok {
		selID = c.ID
	}
	s.comments, s.sel = cs, 0
	for i, c := range cs {
		if selID != "" && c.ID == selID {
			s.sel = i + 1
		}
	}
}

// moveSel moves the selection by d and scrolls v to show it.
func (v *objectView) moveSel(d int) {
	v.sel = min(max(v.sel+d, 0), len(v.comments))
	v.draw()
	if v.sel < len(v.starts) {
		start := v.starts[v.sel]
		end := v.vp.TotalLineCount()
		if v.sel+1 < len(v.starts) {
			end = v.starts[v.sel+1]
		}
		top := v.vp.YOffset()
		switch {
		case start < top:
			v.vp.SetYOffset(start)
		case end > top+v.vp.Height():
			v.vp.SetYOffset(min(start, end-v.vp.Height()))
		}
	}
}

// navKey moves the selection or scrolls.
func (v *objectView) navKey(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, lists.Up):
		v.moveSel(-1)
	case key.Matches(k, lists.Down):
		v.moveSel(1)
	case key.Matches(k, lists.PageUp):
		v.vp.PageUp()
	case key.Matches(k, lists.PageDown):
		v.vp.PageDown()
	case key.Matches(k, lists.Top):
		v.sel = 0
		v.draw()
		v.vp.GotoTop()
	case key.Matches(k, lists.Bottom):
		v.sel = len(v.comments)
		v.draw()
		v.vp.GotoBottom()
	default:
		return false
	}
	return true
}

// commentKey handles the keys on comments: comment, reply, edit one's
// own, hide, resolve.
func (v *objectView) commentKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	repo, id, svc := v.repo.ID, v.id, v.c.svc
	switch {
	case key.Matches(k, issueKeys.Comment):
		return v.openComposer(forComment, "Comment on "+shortID(id), true, "", ""), true
	case key.Matches(k, issueKeys.Reply):
		if c, ok := v.selectedComment(); ok {
			return v.openComposer(forReply, "Reply to "+displayName(c.Author), true, "", c.ID), true
		}
		return v.openComposer(forComment, "Comment on "+shortID(id), true, "", ""), true
	case key.Matches(k, issueKeys.EditComment):
		c, ok := v.selectedComment()
		switch {
		case !ok:
			return noteCmd("select a comment first (j/k)"), true
		case c.Author.ID != v.c.identity.ID:
			return noteCmd("only its author can edit a comment"), true
		}
		return v.openComposer(forEditComment, "Edit comment", true, c.Body, c.ID), true
	case key.Matches(k, issueKeys.Hide):
		c, ok := v.selectedComment()
		if !ok {
			return noteCmd("select a comment first (j/k)"), true
		}
		what := "comment hidden"
		if c.Hidden {
			what = "comment shown again"
		}
		return write(v.c, repo, id, what, false, func(ctx context.Context) error {
			_, err := svc.HideComment(ctx, repo, c.ID, !c.Hidden)
			return err
		}), true
	case key.Matches(k, issueKeys.Resolve):
		c, ok := v.selectedComment()
		if !ok {
			return noteCmd("select a comment first (j/k)"), true
		}
		what := "comment resolved"
		if c.Resolved {
			what = "comment unresolved"
		}
		return write(v.c, repo, id, what, false, func(ctx context.Context) error {
			_, err := svc.ResolveComment(ctx, repo, c.ID, !c.Resolved)
			return err
		}), true
	}
	return nil, false
}

// submitComment writes a comment, a reply or a comment's new text.
func (v *objectView) submitComment(comp *composer) tea.Cmd {
	repo, id, svc := v.repo.ID, v.id, v.c.svc
	text := strings.TrimSpace(comp.Value())
	switch comp.purpose {
	case forComment, forReply:
		reply := comp.target
		what := "comment posted"
		if reply != "" {
			what = "reply posted"
		}
		return write(v.c, repo, id, what, true, func(ctx context.Context) error {
			_, err := svc.Comment(ctx, repo, id, api.NewComment{Body: text, ReplyTo: reply})
			return err
		})
	case forEditComment:
		target := comp.target
		return write(v.c, repo, id, "comment edited", true, func(ctx context.Context) error {
			_, err := svc.EditComment(ctx, repo, target, text)
			return err
		})
	case forLabel, forAssign:
		return v.submitList(comp)
	}
	return nil
}

// selMark is the margin of a block: a bar when it is selected.
func (v *objectView) selMark(i int) string {
	if i == v.sel {
		return v.c.st.Selected.Render("▌ ")
	}
	return "  "
}
