package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// choiceCancel closes a question without an answer; confirmYes, the
// answer to a y/n question, is here for the README's key table (a
// question's own keys are shown with it).
var (
	choiceCancel = bind([]string{"esc"}, "esc", "cancel")
	confirmYes   = bind([]string{"y"}, "y", "yes")
)

// option is one answer to a question: its key, what it says, and what it
// does (nil: nothing, as "no").
type option struct {
	key, label string
	do         func() tea.Cmd
}

// choice is a question a screen asks before something that is not taken
// back lightly (discarding a text, closing an issue), or a small picker
// (a reaction); while it is open it has the keyboard. esc, and n when no
// option takes n, close it without an answer.
type choice struct {
	question string
	opts     []option
}

// yesNo asks a y/n question; y runs yes.
func yesNo(question string, yes func() tea.Cmd) *choice {
	return &choice{question: question, opts: []option{{"y", "yes", yes}, {"n", "no", nil}}}
}

// update answers the question with k; done reports that it is closed.
func (q *choice) update(k tea.KeyPressMsg) (cmd tea.Cmd, done bool) {
	s := k.String()
	for _, o := range q.opts {
		if s == o.key {
			if o.do == nil {
				return nil, true
			}
			return o.do(), true
		}
	}
	if key.Matches(k, choiceCancel) || s == "n" {
		return nil, true
	}
	return nil, false
}

func (q *choice) view(st *Styles) string {
	parts := make([]string, len(q.opts))
	for i, o := range q.opts {
		parts[i] = o.key + " " + o.label
	}
	return st.Error.Render(" "+q.question) + st.Subtle.Render("  "+strings.Join(parts, " · ")+" · esc cancel")
}

func (q *choice) keyMap() keyMap {
	ks := make([]key.Binding, 0, len(q.opts)+1)
	for _, o := range q.opts {
		ks = append(ks, bind([]string{o.key}, o.key, o.label))
	}
	ks = append(ks, choiceCancel)
	return keyMap{short: ks, full: [][]key.Binding{ks}}
}

// maintains reports whether the user is a maintainer of r (the owner is
// one): labels, assignees and merges need it.
func (c *common) maintains(r api.Repo) bool {
	me := c.identity.ID
	if me == "" {
		return false
	}
	if r.Owner.ID == me {
		return true
	}
	for _, p := range r.Maintainers {
		if p.ID == me {
			return true
		}
	}
	return false
}

// notAllowed is the status-bar text for a key the user's role does not
// allow: "only a maintainer can label". It is short, so that it fits a
// narrow status bar.
func notAllowed(who, what string) string {
	return "only " + who + " can " + what
}
