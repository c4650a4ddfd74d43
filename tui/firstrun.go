package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// maxAlias bounds the alias typed on the first run.
const maxAlias = 64

// aliasScreen is the first-run screen: no identity yet, or one without an
// alias (a node that joined the mesh before the user chose one makes its
// key on its own), so pick an alias.
type aliasScreen struct {
	c     *common
	input textinput.Model
	busy  bool
	// exists is set when the identity exists without an alias: submitting
	// sets the alias, and esc goes on without one.
	exists bool
	w, h   int
}

func newAliasScreen(c *common, exists bool) *aliasScreen {
	ti := newInput(c)
	ti.Prompt = "alias: "
	ti.Placeholder = "how peers will see you"
	ti.CharLimit = maxAlias
	return &aliasScreen{c: c, input: ti, exists: exists}
}

func (s *aliasScreen) Init() tea.Cmd { return s.input.Focus() }

func (s *aliasScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.input.SetWidth(max(w-12, 10))
}

func (s *aliasScreen) KeyMap() keyMap {
	ks := []key.Binding{formKeys.Submit, globals.Quit}
	if s.exists {
		ks = []key.Binding{formKeys.Submit, aliasSkip, globals.Quit}
	}
	return keyMap{short: ks, full: [][]key.Binding{ks}}
}

// aliasSkip leaves the alias unset for now when the identity exists.
var aliasSkip = bind([]string{"esc"}, "esc", "skip for now")

func (s *aliasScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	if s.busy {
		return nil, true
	}
	switch {
	case s.exists && key.Matches(k, aliasSkip):
		return func() tea.Msg { return aliasSkippedMsg{} }, true
	case key.Matches(k, formKeys.Submit):
		alias := strings.TrimSpace(s.input.Value())
		if alias == "" {
			return nil, true
		}
		s.busy = true
		if s.exists {
			return setAlias(s.c, alias), true
		}
		return initIdentity(s.c, alias), true
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(k)
	return cmd, true
}

func (s *aliasScreen) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString("\n  " + st.Title.Render("Welcome to murmur") + "\n\n")
	b.WriteString("  murmur is a peer-to-peer forge: your repos, issues and patches live on\n")
	if s.exists {
		b.WriteString("  your machine and sync with peers. Your key pair is made (" + shortID(s.c.identity.Short) + ");\n")
		b.WriteString("  choose the alias peers will see, and can assign you by.\n\n")
	} else {
		b.WriteString("  your machine and sync with peers. First, create your identity: a key\n")
		b.WriteString("  pair stored locally, and the alias peers will see.\n\n")
	}
	b.WriteString("  " + s.input.View() + "\n\n")
	switch {
	case s.busy && s.exists:
		b.WriteString(st.Subtle.Render("  setting alias…"))
	case s.busy:
		b.WriteString(st.Subtle.Render("  creating identity…"))
	case s.exists:
		b.WriteString(st.Subtle.Render("  enter to set · esc to skip for now · ctrl+c to quit"))
	default:
		b.WriteString(st.Subtle.Render("  enter to create · ctrl+c to quit"))
	}
	return b.String()
}

// repoForm creates a repo: name and description.
type repoForm struct {
	c      *common
	fields [2]textinput.Model
	focus  int
	busy   bool
}

func newRepoForm(c *common) *repoForm {
	f := &repoForm{c: c}
	f.fields[0] = newInput(c)
	f.fields[0].Prompt = "name:        "
	f.fields[0].Placeholder = "my-project"
	f.fields[0].CharLimit = 100
	f.fields[1] = newInput(c)
	f.fields[1].Prompt = "description: "
	f.fields[1].Placeholder = "what it is about"
	f.fields[1].CharLimit = 500
	return f
}

func (f *repoForm) focusCmd() tea.Cmd {
	for i := range f.fields {
		f.fields[i].Blur()
	}
	return f.fields[f.focus].Focus()
}

func (f *repoForm) SetSize(w int) {
	for i := range f.fields {
		f.fields[i].SetWidth(max(w-20, 10))
	}
}

// Update handles a key; done reports that the form was cancelled.
func (f *repoForm) Update(k tea.KeyPressMsg) (cmd tea.Cmd, cancelled bool) {
	if f.busy {
		return nil, false
	}
	switch {
	case key.Matches(k, formKeys.Cancel):
		return nil, true
	case key.Matches(k, formKeys.Next):
		f.focus = (f.focus + 1) % len(f.fields)
		return f.focusCmd(), false
	case key.Matches(k, formKeys.Submit):
		if f.focus == 0 {
			f.focus = 1
			return f.focusCmd(), false
		}
		name := strings.TrimSpace(f.fields[0].Value())
		if name == "" {
			f.focus = 0
			return f.focusCmd(), false
		}
		f.busy = true
		return createRepo(f.c, api.NewRepo{Name: name, Description: strings.TrimSpace(f.fields[1].Value())}), false
	}
	f.fields[f.focus], cmd = f.fields[f.focus].Update(k)
	return cmd, false
}

func (f *repoForm) View() string {
	var b strings.Builder
	b.WriteString("  " + f.c.st.Header.Render("New repo") + "\n\n")
	for i := range f.fields {
		b.WriteString("  " + f.fields[i].View() + "\n")
	}
	if f.busy {
		b.WriteString("\n" + f.c.st.Subtle.Render("  creating…"))
	} else {
		b.WriteString("\n" + f.c.st.Subtle.Render("  tab next field · enter create · esc cancel"))
	}
	return b.String()
}
