package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// maxBody bounds what a user can compose (and read back from $EDITOR).
const maxBody = 64 << 10

// purpose is what a composer's text is for.
type purpose int

const (
	forComment purpose = iota
	forReply
	forLabel
	forAssign
	forReview
	forInline
	forEditComment
)

// composer is the text field of a screen: a textarea for comments and
// reviews, a single line for titles, labels and assignees. Its text
// survives refetches of the object under it; a failed submit keeps it.
type composer struct {
	st      *Styles
	purpose purpose
	prompt  string
	multi   bool
	area    textarea.Model
	line    textinput.Model
	busy    bool
	// allowEmpty lets an empty text be submitted (an approval).
	allowEmpty bool
	// target is the comment replied to, or the review verdict.
	target string
	// initial is the text the composer opened with.
	initial string
	w       int
}

// changed reports whether the text differs from what it opened with.
func (c *composer) changed() bool {
	return strings.TrimSpace(c.Value()) != "" && c.Value() != c.initial
}

func newComposer(cm *common, p purpose, prompt string, multi bool, initial string, w int) (*composer, tea.Cmd) {
	c := &composer{st: cm.st, purpose: p, prompt: prompt, multi: multi, initial: initial}
	if multi {
		c.area = newArea(cm)
		c.area.CharLimit = maxBody
		c.area.MaxHeight = 0
		c.area.Placeholder = "write markdown…"
		c.area.ShowLineNumbers = false
		c.area.SetValue(initial)
	} else {
		c.line = newInput(cm)
		c.line.CharLimit = 500
		c.line.Prompt = "> "
		c.line.SetValue(initial)
	}
	c.SetSize(w, 8)
	return c, c.focus()
}

func (c *composer) focus() tea.Cmd {
	if c.multi {
		return c.area.Focus()
	}
	return c.line.Focus()
}

// SetSize sets the composer's width and, for a textarea, its height.
func (c *composer) SetSize(w, h int) {
	c.w = w
	if c.multi {
		c.area.SetWidth(max(w-4, 10))
		c.area.SetHeight(max(h-2, 2))
	} else {
		c.line.SetWidth(max(w-6, 10))
	}
}

// Height is the number of rows View takes.
func (c *composer) Height() int {
	if c.multi {
		return c.area.Height() + 2
	}
	return 2
}

// Value is the text written so far.
func (c *composer) Value() string {
	if c.multi {
		return c.area.Value()
	}
	return c.line.Value()
}

func (c *composer) KeyMap() keyMap {
	ks := []key.Binding{composeKeys.Submit, composeKeys.Cancel}
	if c.multi {
		ks = append(ks, composeKeys.Editor)
	} else {
		ks = append([]key.Binding{formKeys.Submit}, ks...)
	}
	return keyMap{short: ks, full: [][]key.Binding{ks}}
}

type composeAction int

const (
	composeNone composeAction = iota
	composeSubmit
	composeCancel
)

// Update handles a key or the editor's answer.
func (c *composer) Update(msg tea.Msg) (tea.Cmd, composeAction) {
	switch msg := msg.(type) {
	case editorMsg:
		if msg.err == nil && c.multi {
			t := msg.text
			if len(t) > maxBody {
				t = t[:maxBody]
			}
			c.area.SetValue(t)
		}
		return c.focus(), composeNone
	case tea.KeyPressMsg:
		if c.busy {
			return nil, composeNone
		}
		switch {
		case key.Matches(msg, composeKeys.Cancel):
			return nil, composeCancel
		case key.Matches(msg, composeKeys.Submit), !c.multi && key.Matches(msg, formKeys.Submit):
			if strings.TrimSpace(c.Value()) == "" && !c.allowEmpty {
				return nil, composeNone
			}
			return nil, composeSubmit
		case c.multi && key.Matches(msg, composeKeys.Editor):
			return openEditor(c.area.Value()), composeNone
		}
	}
	var cmd tea.Cmd
	if c.multi {
		c.area, cmd = c.area.Update(msg)
	} else {
		c.line, cmd = c.line.Update(msg)
	}
	return cmd, composeNone
}

func (c *composer) View() string {
	head := c.st.Header.Render(" " + c.prompt)
	if c.busy {
		head += c.st.Subtle.Render("  sending…")
	} else {
		head += c.st.Subtle.Render("  ctrl+s submit · esc cancel")
		if c.multi {
			head += c.st.Subtle.Render(" · ctrl+e $EDITOR")
		}
	}
	body := c.line.View()
	if c.multi {
		body = c.area.View()
	}
	return lipgloss.JoinVertical(lipgloss.Left, head, indent(body, "  "))
}

func indent(s, pre string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

// verdictText renders a verdict for the patch view.
func verdictText(st *Styles, v string) string {
	switch v {
	case "approve":
		return st.Approve.Render("✔ approved")
	case "request-changes":
		return st.Reject.Render("✘ changes requested")
	}
	return st.Subtle.Render("💬 commented")
}
