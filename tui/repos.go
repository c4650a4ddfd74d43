package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"murmur/api"
)

// reposScreen lists the repos; with none, it explains how to get one and
// offers the new-repo form.
type reposScreen struct {
	c      *common
	list   *listView[api.Repo]
	form   *repoForm
	loaded bool
	load   refetch
	w, h   int
}

func newReposScreen(c *common) *reposScreen {
	s := &reposScreen{c: c}
	s.list = newListView(c,
		func(r api.Repo) string { return r.ID },
		func(r api.Repo) string { return r.Name + " " + r.Description },
		s.row, "no repos")
	return s
}

func (s *reposScreen) Init() tea.Cmd { return s.load.start(fetchRepos(s.c)) }

func (s *reposScreen) Title() string { return "repos" }

func (s *reposScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetSize(w, h-2)
	if s.form != nil {
		s.form.SetSize(w)
	}
}

func (s *reposScreen) Capturing() bool { return s.form != nil || s.list.Filtering() }

func (s *reposScreen) KeyMap() keyMap {
	if s.form != nil {
		return keyMap{short: []key.Binding{formKeys.Submit, formKeys.Next, formKeys.Cancel},
			full: [][]key.Binding{{formKeys.Submit, formKeys.Next, formKeys.Cancel}}}
	}
	if s.list.Filtering() {
		return keyMap{short: []key.Binding{filterKeys.Accept, filterKeys.Clear}, full: [][]key.Binding{{filterKeys.Accept, filterKeys.Clear}}}
	}
	return keyMap{
		short: []key.Binding{lists.Open, lists.Filter, reposKeys.New, globals.Peers, globals.Help, globals.Quit},
		full:  [][]key.Binding{lists.moves(), {lists.Open, lists.Filter, reposKeys.New}, globals.list()},
	}
}

func (s *reposScreen) openForm() tea.Cmd {
	s.form = newRepoForm(s.c)
	s.form.SetSize(s.w)
	return s.form.focusCmd()
}

func (s *reposScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case reposMsg:
		cmd := s.load.done(fetchRepos(s.c))
		if msg.err != nil {
			return cmd, true
		}
		rs := slices.Clone(msg.repos)
		slices.SortStableFunc(rs, func(a, b api.Repo) int { return cmp.Or(b.Updated.Compare(a.Updated), strings.Compare(a.Name, b.Name)) })
		s.list.SetItems(rs)
		first := !s.loaded
		s.loaded = true
		if first && len(rs) == 0 && s.form == nil {
			return tea.Batch(cmd, s.openForm()), true
		}
		return cmd, true
	case repoCreatedMsg:
		if s.form == nil {
			return nil, false
		}
		if msg.err != nil {
			s.form.busy = false
			return nil, true
		}
		s.form = nil
		s.list.SetItems(append([]api.Repo{msg.repo}, s.list.items...))
		s.list.Select(msg.repo.ID)
		return tea.Batch(s.load.start(fetchRepos(s.c)), push(newRepoScreen(s.c, msg.repo))), true
	case eventMsg:
		return s.load.start(fetchRepos(s.c)), false
	case tea.KeyPressMsg:
		if s.form != nil {
			cmd, cancelled := s.form.Update(msg)
			if cancelled {
				s.form = nil
			}
			return cmd, true
		}
		if cmd, ok := s.list.Update(msg); ok {
			return cmd, true
		}
		switch {
		case key.Matches(msg, lists.Open):
			if r, ok := s.list.Selected(); ok {
				return push(newRepoScreen(s.c, r)), true
			}
			return nil, true
		case key.Matches(msg, reposKeys.New):
			return s.openForm(), true
		case key.Matches(msg, globals.Refresh):
			return s.load.start(fetchRepos(s.c)), true
		}
	case tea.MouseWheelMsg:
		return s.list.Update(msg)
	}
	return nil, false
}

func (s *reposScreen) syncState(id string) string {
	if !s.c.hasSt {
		return ""
	}
	if !s.c.online() {
		return "local"
	}
	for _, r := range s.c.status.Repos {
		if r.Repo == id {
			switch {
			case r.Peers == 0:
				return "local"
			case r.InSync:
				return "synced"
			}
			return "syncing"
		}
	}
	return ""
}

func (s *reposScreen) row(r api.Repo, w int) string {
	st := s.c.st
	follow := " "
	if r.Following {
		follow = "★"
	}
	counts := fmt.Sprintf("%10s %11s", plural(r.OpenIssues, "issue"), plural(r.OpenPatches, "patch"))
	line := fmt.Sprintf("%s %-20s %s %-7s ", follow, trunc(r.Name, 20), counts, s.syncState(r.ID))
	return st.Title.Render(line) + st.Subtle.Render(trunc(r.Description, max(w-len([]rune(line)), 0)))
}

func (s *reposScreen) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString(st.Header.Render(fmt.Sprintf("  Repos (%d)", s.list.Len())) + "\n\n")
	switch {
	case s.form != nil && len(s.list.items) == 0:
		b.WriteString("  You have no repos yet. Create one below (or `murmur repo create` in a\n")
		b.WriteString("  shell); repos you follow from peers show up here once they sync.\n\n")
		b.WriteString(s.form.View())
	case s.form != nil:
		b.WriteString(s.form.View())
	case !s.loaded:
		b.WriteString(st.Subtle.Render("  loading…"))
	default:
		b.WriteString(s.list.View())
	}
	return b.String()
}

// trunc cuts s to n runes with an ellipsis.
func trunc(s string, n int) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-1]) + "…"
}
