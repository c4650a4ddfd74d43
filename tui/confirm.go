package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// confirmKeys answer a y/n question.
var confirmKeys = struct{ Yes, No key.Binding }{
	Yes: bind([]string{"y"}, "y", "yes"),
	No:  bind([]string{"n", "esc"}, "n/esc", "no"),
}

// confirm is a y/n question a screen asks before something it cannot
// take back (discarding a text, closing an issue); while it is open it
// has the keyboard.
type confirm struct {
	question string
	yes      func() tea.Cmd
}

// update answers the question with k; done reports that it is answered.
func (q *confirm) update(k tea.KeyPressMsg) (cmd tea.Cmd, done bool) {
	switch {
	case key.Matches(k, confirmKeys.Yes):
		return q.yes(), true
	case key.Matches(k, confirmKeys.No):
		return nil, true
	}
	return nil, false
}

func (q *confirm) view(st *Styles) string {
	return st.Error.Render(" "+q.question) + st.Subtle.Render("  y yes · n no")
}

func (q *confirm) keyMap() keyMap {
	ks := []key.Binding{confirmKeys.Yes, confirmKeys.No}
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
// allow.
func notAllowed(what, who string, r api.Repo) string {
	return what + " needs " + who + " of " + trunc(r.Name, 24) + "; you are not one"
}
