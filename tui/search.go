package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// searchKeys are the search screen's own bindings.
var searchKeys = struct{ Start, Results, Query, Open key.Binding }{
	Start:   bind([]string{"/"}, "/", "search"),
	Results: bind([]string{"enter", "down"}, "enter", "go to the results"),
	Query:   bind([]string{"/"}, "/", "change the query"),
	Open:    bind([]string{"enter"}, "enter", "open"),
}

// searchMsg answers one query of the search screen; seq tells a stale
// answer from the current one.
type searchMsg struct {
	result
	seq   int
	items []api.SearchResult
}

// searchScreen searches a repo's issues and patches by the words of
// their titles, bodies and comments as the user types, through
// api.Service.Search, and opens the one picked.
type searchScreen struct {
	c       *common
	repo    api.Repo
	input   textinput.Model
	typing  bool // the query line has the keyboard
	results *listView[api.SearchResult]
	seq     int  // of the last query sent
	got     bool // an answer to the current query has come
	err     error
	w, h    int
}

func newSearchScreen(c *common, repo api.Repo) *searchScreen {
	s := &searchScreen{c: c, repo: repo, typing: true}
	s.input = newInput(c)
	s.input.Prompt = "/"
	s.input.Placeholder = "words of titles, bodies and comments; is:open label:bug author:alias"
	s.input.CharLimit = 200
	s.results = newListView(c, func(r api.SearchResult) string { return r.ID }, func(r api.SearchResult) string { return "" },
		s.row, "nothing matches")
	return s
}

func (s *searchScreen) Init() tea.Cmd { return s.input.Focus() }

func (s *searchScreen) Title() string { return "search" }

func (s *searchScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.input.SetWidth(max(w-2, 1))
	s.results.SetSize(w, max(h-3, 1))
}

func (s *searchScreen) Capturing() bool { return s.typing }

func (s *searchScreen) KeyMap() keyMap {
	if s.typing {
		short := []key.Binding{searchKeys.Results, globals.Back}
		return keyMap{short: short, full: [][]key.Binding{short}}
	}
	acts := []key.Binding{searchKeys.Open, searchKeys.Query}
	return keyMap{short: []key.Binding{searchKeys.Open, searchKeys.Query, globals.Back, globals.Help},
		full: [][]key.Binding{lists.moves(), acts, globals.list()}}
}

// query sends the current query, or clears the results when it is empty.
func (s *searchScreen) query() tea.Cmd {
	s.seq++
	q := strings.TrimSpace(s.input.Value())
	s.got, s.err = false, nil
	if q == "" {
		s.results.SetItems(nil)
		return nil
	}
	// The query goes as typed: a trailing space keeps the last word exact.
	seq, text, repo, c := s.seq, s.input.Value(), s.repo.ID, s.c
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		items, err := c.svc.Search(ctx, api.SearchQuery{Query: text, Repo: repo})
		return searchMsg{result: result{err}, seq: seq, items: items}
	})
}

func (s *searchScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case searchMsg:
		if msg.seq != s.seq {
			return nil, true // an answer to an older query
		}
		s.got, s.err = true, msg.err
		if msg.err == nil {
			s.results.SetItems(msg.items)
			s.results.move(-s.results.Len())
		} else {
			s.results.SetItems(nil)
		}
		return nil, true
	case tea.KeyPressMsg:
		if s.typing {
			switch {
			case key.Matches(msg, globals.Back):
				return pop, true
			case key.Matches(msg, searchKeys.Results):
				if s.results.Len() > 0 {
					s.typing = false
					s.input.Blur()
				}
				return nil, true
			}
			before := s.input.Value()
			var cmd tea.Cmd
			s.input, cmd = s.input.Update(msg)
			if s.input.Value() != before {
				return tea.Batch(cmd, s.query()), true
			}
			return cmd, true
		}
		switch {
		case key.Matches(msg, searchKeys.Query):
			s.typing = true
			return s.input.Focus(), true
		case key.Matches(msg, searchKeys.Open):
			r, ok := s.results.Selected()
			if !ok {
				return nil, true
			}
			if r.Type == "patch" {
				return push(newPatchScreen(s.c, s.repo, r.ID, r.Title)), true
			}
			return push(newIssueScreen(s.c, s.repo, r.ID, r.Title)), true
		}
		return s.results.Update(msg)
	case tea.MouseWheelMsg:
		return s.results.Update(msg)
	}
	return nil, false
}

func (s *searchScreen) row(r api.SearchResult, w int) string {
	st := s.c.st
	where := r.Match
	if r.Match != "title" || !strings.EqualFold(r.Snippet, r.Title) {
		where += ": " + r.Snippet
	}
	title := r.Title
	if r.Type == "patch" {
		title = "patch · " + title
	}
	right := st.Subtle.Render(trunc(where, max(w/2-4, 10)))
	return rowLine(st, stateMarker(st, r.State), shortID(r.ID), title, right, w)
}

func (s *searchScreen) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString(" " + st.Title.Render(trunc(s.repo.Name, 24)) + st.Subtle.Render("  search titles, bodies and comments") + "\n")
	b.WriteString(ansi.Truncate(s.input.View(), s.w, "…") + "\n")
	var info string
	switch {
	case s.err != nil:
		b.WriteString(st.Error.Render(ansi.Truncate(" "+errText(s.err), s.w, "…")) + "\n")
	case strings.TrimSpace(s.input.Value()) == "":
		info = "type words to find; the last one also matches longer words it begins"
	case !s.got:
		info = "searching…"
	default:
		info = plural(s.results.Len(), "result") + ", title hits first, then newest activity"
	}
	if s.err == nil {
		b.WriteString(st.Subtle.Render(ansi.Truncate(" "+info, s.w, "…")) + "\n")
	}
	if s.got && s.err == nil {
		b.WriteString(s.results.View())
	}
	return b.String()
}
