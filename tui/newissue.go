package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// newIssueKeys apply on the new-issue form.
var newIssueKeys = struct{ Submit, Next, Prev, Editor, Cancel key.Binding }{
	Submit: bind([]string{"ctrl+s"}, "ctrl+s", "create the issue"),
	Next:   bind([]string{"tab"}, "tab", "next field"),
	Prev:   bind([]string{"shift+tab"}, "shift+tab", "previous field"),
	Editor: bind([]string{"ctrl+e"}, "ctrl+e", "body in $EDITOR"),
	Cancel: bind([]string{"esc"}, "esc", "cancel"),
}

// editSave saves the edit form.
var editSave = bind([]string{"ctrl+s"}, "ctrl+s", "save")

// Fields of the new-issue form, in tab order.
const (
	fieldTitle = iota
	fieldBody
	fieldLabels
	fieldAssignees
	fieldCount
)

// issueCreatedMsg answers CreateIssue.
type issueCreatedMsg struct {
	result
	repo  string
	issue api.Issue
}

// issueForm is the form that opens an issue: title, a markdown body
// (typed, or written in $EDITOR), labels and assignees as comma lists.
// Once created, the issue replaces the form on the stack. With edit set,
// it edits the title and body of an issue or patch instead.
type issueForm struct {
	c      *common
	repo   api.Repo
	edit   *editTarget
	title  textinput.Model
	body   textarea.Model
	labels textinput.Model
	assign textinput.Model
	focus  int
	busy   bool
	ask    *choice
	w, h   int
}

func newIssueForm(c *common, r api.Repo) *issueForm {
	s := &issueForm{c: c, repo: r}
	s.title = newInput(c)
	s.title.Prompt = "title:     "
	s.title.Placeholder = "what is wrong, or wanted"
	s.title.CharLimit = 500
	s.body = newArea(c)
	s.body.CharLimit = maxBody
	s.body.MaxHeight = 0
	s.body.ShowLineNumbers = false
	s.body.Placeholder = "describe it in markdown… (ctrl+e opens $EDITOR)"
	s.labels = newInput(c)
	s.labels.Prompt = "labels:    "
	s.labels.Placeholder = "bug, ui (comma separated)"
	s.labels.CharLimit = 500
	s.assign = newInput(c)
	s.assign.Prompt = "assignees: "
	s.assign.Placeholder = "aliases or did:key IDs (comma separated)"
	s.assign.CharLimit = 500
	return s
}

// editTarget is the object an issueForm edits.
type editTarget struct {
	kind, id    string // kind: issue | patch
	title, body string // as they were
	send        func(ctx context.Context, e api.Edit) error
}

// newEditForm edits the title and body of an issue or patch.
func newEditForm(c *common, r api.Repo, t *editTarget) *issueForm {
	s := newIssueForm(c, r)
	s.edit = t
	s.title.SetValue(t.title)
	s.body.SetValue(t.body)
	return s
}

func (s *issueForm) Init() tea.Cmd { return s.setFocus(fieldTitle) }

func (s *issueForm) Title() string {
	if s.edit != nil {
		return "edit " + s.edit.kind
	}
	return "new issue"
}

// fields is how many fields the form has: editing has no lists.
func (s *issueForm) fields() int {
	if s.edit != nil {
		return fieldLabels
	}
	return fieldCount
}

func (s *issueForm) Capturing() bool { return true }

func (s *issueForm) SetSize(w, h int) {
	s.w, s.h = w, h
	fw := max(w-16, 10)
	s.title.SetWidth(fw)
	s.labels.SetWidth(fw)
	s.assign.SetWidth(fw)
	s.body.SetWidth(max(w-4, 10))
	// Header, title, labels, assignees, their gaps and the hint line.
	s.body.SetHeight(max(h-10, 3))
	if s.edit != nil {
		s.body.SetHeight(max(h-7, 3))
	}
}

func (s *issueForm) KeyMap() keyMap {
	if s.ask != nil {
		return s.ask.keyMap()
	}
	k := newIssueKeys
	submit := k.Submit
	if s.edit != nil {
		submit = editSave
	}
	return keyMap{
		short: []key.Binding{submit, k.Next, k.Editor, k.Cancel},
		full:  [][]key.Binding{{submit, k.Next, k.Prev, k.Editor, k.Cancel}},
	}
}

func (s *issueForm) setFocus(f int) tea.Cmd {
	s.focus = (f + s.fields()) % s.fields()
	s.title.Blur()
	s.body.Blur()
	s.labels.Blur()
	s.assign.Blur()
	switch s.focus {
	case fieldTitle:
		return s.title.Focus()
	case fieldBody:
		return s.body.Focus()
	case fieldLabels:
		return s.labels.Focus()
	}
	return s.assign.Focus()
}

// dirty reports whether anything was typed.
func (s *issueForm) dirty() bool {
	if s.edit != nil {
		return s.title.Value() != s.edit.title || s.body.Value() != s.edit.body
	}
	for _, v := range []string{s.title.Value(), s.body.Value(), s.labels.Value(), s.assign.Value()} {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

func (s *issueForm) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case issueCreatedMsg:
		if msg.repo != s.repo.ID || !s.busy {
			return nil, false
		}
		s.busy = false
		if msg.err != nil {
			return nil, true
		}
		return replace(newIssueScreen(s.c, s.repo, msg.issue.ID, msg.issue.Title)), true
	case writtenMsg:
		if s.edit == nil || msg.repo != s.repo.ID || msg.object != s.edit.id || !s.busy {
			return nil, false
		}
		s.busy = false
		if msg.err != nil {
			return nil, false
		}
		return pop, false
	case editorMsg:
		if msg.err == nil {
			s.body.SetValue(trimBody(msg.text))
		}
		return s.setFocus(fieldBody), true
	case tea.KeyPressMsg:
		return s.key(msg), true
	}
	return nil, false
}

func (s *issueForm) key(k tea.KeyPressMsg) tea.Cmd {
	if s.ask != nil {
		cmd, done := s.ask.update(k)
		if done {
			s.ask = nil
		}
		return cmd
	}
	if s.busy {
		return nil
	}
	switch {
	case key.Matches(k, newIssueKeys.Cancel):
		if !s.dirty() {
			return pop
		}
		q := "discard this issue?"
		if s.edit != nil {
			q = "discard your changes?"
		}
		s.ask = yesNo(q, func() tea.Cmd { return pop })
		return nil
	case key.Matches(k, newIssueKeys.Next), s.focus != fieldBody && key.Matches(k, formKeys.Submit):
		return s.setFocus(s.focus + 1)
	case key.Matches(k, newIssueKeys.Prev):
		return s.setFocus(s.focus - 1)
	case key.Matches(k, newIssueKeys.Editor):
		return openEditor(s.body.Value())
	case key.Matches(k, newIssueKeys.Submit):
		return s.submit()
	}
	var cmd tea.Cmd
	switch s.focus {
	case fieldTitle:
		s.title, cmd = s.title.Update(k)
	case fieldBody:
		s.body, cmd = s.body.Update(k)
	case fieldLabels:
		s.labels, cmd = s.labels.Update(k)
	default:
		s.assign, cmd = s.assign.Update(k)
	}
	return cmd
}

func (s *issueForm) submit() tea.Cmd {
	title := strings.TrimSpace(s.title.Value())
	if title == "" {
		return tea.Batch(s.setFocus(fieldTitle), noteCmd("a title cannot be empty"))
	}
	if s.edit != nil {
		return s.submitEdit(title)
	}
	n := api.NewIssue{Title: title, Body: strings.TrimSpace(s.body.Value()),
		Labels: splitLabels(s.labels.Value()), Assignees: splitList(s.assign.Value())}
	if len(n.Labels)+len(n.Assignees) > 0 && !s.c.maintains(s.repo) {
		return noteCmd(notAllowed("a maintainer", "label and assign") + ": leave them empty")
	}
	s.busy = true
	c, repo := s.c, s.repo.ID
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		is, err := c.svc.CreateIssue(ctx, repo, n)
		return issueCreatedMsg{result: result{err}, repo: repo, issue: is}
	})
}

func (s *issueForm) submitEdit(title string) tea.Cmd {
	t := s.edit
	var e api.Edit
	if title != t.title {
		e.Title = &title
	}
	if body := strings.TrimSpace(s.body.Value()); body != strings.TrimSpace(t.body) {
		e.Body = &body
	}
	if e.Title == nil && e.Body == nil {
		return pop
	}
	s.busy = true
	return write(s.c, s.repo.ID, t.id, t.kind+" edited", false, func(ctx context.Context) error { return t.send(ctx, e) })
}

func (s *issueForm) View() string {
	st := s.c.st
	var b strings.Builder
	head := "New issue in " + trunc(s.repo.Name, 40)
	if s.edit != nil {
		head = "Edit " + s.edit.kind + " " + shortID(s.edit.id)
	}
	b.WriteString("  " + st.Header.Render(head) + "\n\n")
	b.WriteString("  " + s.title.View() + "\n\n")
	b.WriteString(indent(s.body.View(), "  ") + "\n\n")
	if s.edit == nil {
		b.WriteString("  " + s.labels.View() + "\n")
		b.WriteString("  " + s.assign.View() + "\n\n")
	}
	switch {
	case s.ask != nil:
		b.WriteString(s.ask.view(st))
	case s.busy:
		b.WriteString(st.Subtle.Render("  sending…"))
	case s.edit != nil:
		b.WriteString(st.Subtle.Render("  tab next field · ctrl+s save · ctrl+e body in $EDITOR · esc cancel"))
	default:
		b.WriteString(st.Subtle.Render("  tab next field · ctrl+s create · ctrl+e body in $EDITOR · esc cancel"))
	}
	return b.String()
}

// trimBody bounds text read back from the editor.
func trimBody(t string) string {
	if len(t) > maxBody {
		t = t[:maxBody]
	}
	return t
}

// noteCmd puts a hint in the status bar.
func noteCmd(text string) tea.Cmd { return func() tea.Msg { return noteMsg{text} } }

func pop() tea.Msg { return popMsg{} }

// replace swaps the top screen for s (a form for what it created).
func replace(s screen) tea.Cmd { return func() tea.Msg { return replaceMsg{s} } }
