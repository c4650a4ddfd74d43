package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

type tab int

const (
	tabIssues tab = iota
	tabPatches
	tabRefs
	tabActivity
	tabCount
)

var tabNames = [tabCount]string{"Issues", "Patches", "Refs", "Activity"}

var (
	issueStates = []string{"open", "closed", "all"}
	patchStates = []string{"open", "draft", "merged", "closed", "all"}
)

// patchFromBranch says how to open a patch while the TUI cannot: a patch
// is a branch's commits, and the TUI does not move code yet.
const patchFromBranch = "for now, open patches from a branch with `murmur patch open`"

// repoScreen is one repo with tabs for issues, patches, refs and activity.
type repoScreen struct {
	c    *common
	repo api.Repo
	tab  tab

	issues   *listView[api.IssueSummary]
	patches  *listView[api.PatchSummary]
	refs     *listView[api.Ref]
	activity *listView[api.Activity]

	issueState, patchState int
	loaded                 [tabCount]bool
	load                   [tabCount]refetch
	w, h                   int
}

func newRepoScreen(c *common, r api.Repo) *repoScreen {
	s := &repoScreen{c: c, repo: r}
	s.issues = newListView(c,
		func(i api.IssueSummary) string { return i.ID },
		func(i api.IssueSummary) string {
			return i.Title + " " + shortID(i.ID) + " " + strings.Join(i.Labels, " ") + " " + displayName(i.Author)
		},
		s.issueRow, "no issues")
	s.patches = newListView(c,
		func(p api.PatchSummary) string { return p.ID },
		func(p api.PatchSummary) string {
			return p.Title + " " + shortID(p.ID) + " " + strings.Join(p.Labels, " ") + " " + displayName(p.Author)
		},
		s.patchRow, "no patches")
	s.refs = newListView(c,
		func(r api.Ref) string { return r.Name },
		func(r api.Ref) string { return r.Name + " " + r.Commit + " " + r.Namespace + " " + refOwner(r) },
		s.refRow, "no refs")
	s.activity = newListView(c,
		func(a api.Activity) string { return a.Op },
		func(a api.Activity) string { return a.Kind + " " + displayName(a.Author) + " " + a.Object },
		s.activityRow, "no activity")
	return s
}

func (s *repoScreen) fetch(t tab) tea.Cmd {
	switch t {
	case tabIssues:
		return fetchIssues(s.c, s.repo.ID, issueStates[s.issueState])
	case tabPatches:
		return fetchPatches(s.c, s.repo.ID, patchStates[s.patchState])
	case tabRefs:
		return fetchRefs(s.c, s.repo.ID)
	default:
		return fetchActivity(s.c, s.repo.ID)
	}
}

func (s *repoScreen) reload(t tab) tea.Cmd { return s.load[t].start(s.fetch(t)) }

func (s *repoScreen) Init() tea.Cmd { return tea.Batch(s.reload(tabIssues), s.reload(tabPatches)) }

func (s *repoScreen) Title() string { return trunc(s.repo.Name, 24) }

func (s *repoScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	lh := max(h-3, 1)
	s.issues.SetSize(w, lh)
	s.patches.SetSize(w, lh)
	s.refs.SetSize(w, lh)
	s.activity.SetSize(w, lh)
}

func (s *repoScreen) Capturing() bool {
	switch s.tab {
	case tabIssues:
		return s.issues.Filtering()
	case tabPatches:
		return s.patches.Filtering()
	case tabRefs:
		return s.refs.Filtering()
	}
	return s.activity.Filtering()
}

func (s *repoScreen) KeyMap() keyMap {
	if s.Capturing() {
		return keyMap{short: []key.Binding{filterKeys.Accept, filterKeys.Clear}, full: [][]key.Binding{{filterKeys.Accept, filterKeys.Clear}}}
	}
	acts := []key.Binding{tabKeys.Next, tabKeys.Prev, lists.Filter}
	short := []key.Binding{tabKeys.Next, lists.Filter}
	if s.tab == tabIssues || s.tab == tabPatches {
		n := repoKeys.New
		if s.tab == tabPatches {
			n = repoKeys.NewPatch
		}
		acts = append(acts[:2], searchKeys.Start, lists.Open, lists.State, n)
		short = append(short[:1], searchKeys.Start, lists.Open, n, lists.State)
	}
	short = append(short, globals.Back, globals.Help)
	return keyMap{short: short, full: [][]key.Binding{lists.moves(), acts, globals.list()}}
}

// update hands msg to the current tab's list.
func (s *repoScreen) listUpdate(msg tea.Msg) (tea.Cmd, bool) {
	switch s.tab {
	case tabIssues:
		return s.issues.Update(msg)
	case tabPatches:
		return s.patches.Update(msg)
	case tabRefs:
		return s.refs.Update(msg)
	}
	return s.activity.Update(msg)
}

func (s *repoScreen) switchTab(t tab) tea.Cmd {
	s.tab = (t + tabCount) % tabCount
	if !s.loaded[s.tab] {
		return s.reload(s.tab)
	}
	return nil
}

func (s *repoScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case issuesMsg:
		if msg.repo != s.repo.ID {
			return nil, false
		}
		cmd := s.load[tabIssues].done(s.fetch(tabIssues))
		if msg.err == nil && msg.state == issueStates[s.issueState] {
			items := slices.Clone(msg.items)
			slices.SortStableFunc(items, func(a, b api.IssueSummary) int {
				return cmp.Or(b.Updated.Compare(a.Updated), strings.Compare(a.ID, b.ID))
			})
			s.issues.SetItems(items)
			s.loaded[tabIssues] = true
		}
		return cmd, true
	case patchesMsg:
		if msg.repo != s.repo.ID {
			return nil, false
		}
		cmd := s.load[tabPatches].done(s.fetch(tabPatches))
		if msg.err == nil && msg.state == patchStates[s.patchState] {
			items := slices.Clone(msg.items)
			slices.SortStableFunc(items, func(a, b api.PatchSummary) int {
				return cmp.Or(b.Updated.Compare(a.Updated), strings.Compare(a.ID, b.ID))
			})
			s.patches.SetItems(items)
			s.loaded[tabPatches] = true
		}
		return cmd, true
	case refsMsg:
		if msg.repo != s.repo.ID {
			return nil, false
		}
		cmd := s.load[tabRefs].done(s.fetch(tabRefs))
		if msg.err == nil {
			s.refs.SetItems(msg.refs)
			s.loaded[tabRefs] = true
		}
		return cmd, true
	case activityMsg:
		if msg.repo != s.repo.ID {
			return nil, false
		}
		cmd := s.load[tabActivity].done(s.fetch(tabActivity))
		if msg.err == nil {
			s.activity.SetItems(msg.items)
			s.loaded[tabActivity] = true
		}
		return cmd, true
	case reposMsg:
		if msg.err == nil {
			for _, r := range msg.repos {
				if r.ID == s.repo.ID {
					s.repo = r
				}
			}
		}
		return nil, false
	case eventMsg:
		if msg.ev.Repo != s.repo.ID {
			return nil, false
		}
		var cmds []tea.Cmd
		for t := range tabCount {
			if s.loaded[t] || t == s.tab {
				cmds = append(cmds, s.reload(t))
			}
		}
		return tea.Batch(cmds...), false
	case tea.MouseWheelMsg:
		return s.listUpdate(msg)
	case tea.KeyPressMsg:
		if (s.tab == tabIssues || s.tab == tabPatches) && !s.Capturing() && key.Matches(msg, searchKeys.Start) {
			return push(newSearchScreen(s.c, s.repo)), true
		}
		if cmd, ok := s.listUpdate(msg); ok {
			return cmd, true
		}
		switch {
		case key.Matches(msg, tabKeys.Next):
			return s.switchTab(s.tab + 1), true
		case key.Matches(msg, tabKeys.Prev):
			return s.switchTab(s.tab - 1), true
		case key.Matches(msg, globals.Refresh):
			return s.reload(s.tab), true
		case key.Matches(msg, lists.State):
			switch s.tab {
			case tabIssues:
				s.issueState = (s.issueState + 1) % len(issueStates)
				s.loaded[tabIssues] = false
				s.load[tabIssues].inflight = false
				return s.reload(tabIssues), true
			case tabPatches:
				s.patchState = (s.patchState + 1) % len(patchStates)
				s.loaded[tabPatches] = false
				s.load[tabPatches].inflight = false
				return s.reload(tabPatches), true
			}
		case key.Matches(msg, repoKeys.New):
			switch s.tab {
			case tabIssues:
				return push(newIssueForm(s.c, s.repo)), true
			case tabPatches:
				return noteCmd(patchFromBranch), true
			}
		case key.Matches(msg, lists.Open):
			switch s.tab {
			case tabIssues:
				if it, ok := s.issues.Selected(); ok {
					return push(newIssueScreen(s.c, s.repo, it.ID, it.Title)), true
				}
				return nil, true
			case tabPatches:
				if p, ok := s.patches.Selected(); ok {
					return push(newPatchScreen(s.c, s.repo, p.ID, p.Title)), true
				}
				return nil, true
			}
		}
	}
	return nil, false
}

func (s *repoScreen) tabsLine() string {
	st := s.c.st
	var parts []string
	for t := range tabCount {
		name := tabNames[t]
		switch t {
		case tabIssues:
			name = fmt.Sprintf("%s %d", name, s.repo.OpenIssues)
		case tabPatches:
			name = fmt.Sprintf("%s %d", name, s.repo.OpenPatches)
		}
		if t == s.tab {
			parts = append(parts, st.ActiveTab.Render(name))
		} else {
			parts = append(parts, st.Tab.Render(name))
		}
	}
	return " " + st.Title.Render(trunc(s.repo.Name, 24)) + "  " + strings.Join(parts, " ")
}

func (s *repoScreen) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString(s.tabsLine() + "\n")
	var info, body, missing string
	switch s.tab {
	case tabIssues:
		info = plural(s.issues.Len(), issueStates[s.issueState]+" issue") + ", newest activity first"
		body = s.issues.View()
	case tabPatches:
		info = plural(s.patches.Len(), patchStates[s.patchState]+" patch") + ", newest activity first"
		body = s.patches.View()
	case tabRefs:
		info, missing = refsInfo(s.refs.items, s.repo.DefaultBranch)
		body = s.refs.View()
	default:
		info = fmt.Sprintf("last %d ops", s.activity.Len())
		body = s.activity.View()
	}
	if desc := strings.TrimSpace(s.repo.Description); desc != "" {
		info = trunc(desc, 50) + " · " + info
	}
	b.WriteString(st.Subtle.Render(ansi.Truncate(" "+info, s.w, "…")) + "\n")
	// The line under the info tells of concurrent writes to the repo's
	// name or description, which the CRDT keeps rather than drops.
	if cs := s.repo.Conflicts; len(cs) > 0 {
		line := " also set concurrently by " + displayName(cs[0].Author) + ": " + trunc(cs[0].Value, 40)
		if len(cs) > 1 {
			line += fmt.Sprintf(" (and %d more)", len(cs)-1)
		}
		b.WriteString(st.Error.Render(ansi.Truncate(line, s.w, "…")))
	} else if missing != "" {
		b.WriteString(st.Pending.Render(ansi.Truncate(" objects missing: "+missing, s.w, "…")))
	}
	b.WriteString("\n")
	if !s.loaded[s.tab] {
		b.WriteString(st.Subtle.Render("  loading…"))
	} else {
		b.WriteString(body)
	}
	return b.String()
}

// rowLine lays out a list row: marker, id, title filling the space, and
// a right-hand column that is dropped first when the row is narrow.
func rowLine(st *Styles, marker, id, title, right string, w int) string {
	fixed := 2 + 9
	rw := ansi.StringWidth(right)
	if w-fixed-rw < 20 {
		right, rw = "", 0
	}
	tw := max(w-fixed-rw-1, 1)
	t := trunc(title, tw)
	pad := max(tw-ansi.StringWidth(t), 0)
	return marker + " " + st.Subtle.Render(fmt.Sprintf("%-8s ", id)) + st.Title.Render(t) + strings.Repeat(" ", pad) + " " + right
}

func stateMarker(st *Styles, state string) string {
	m := "●"
	switch state {
	case "closed":
		m = "✓"
	case "merged":
		m = "⇄"
	case "draft":
		m = "○"
	}
	return st.state(state).Render(m)
}

func (s *repoScreen) issueRow(i api.IssueSummary, w int) string {
	st := s.c.st
	right := st.Subtle.Render(fmt.Sprintf("%-10s %3d💬 %4s", trunc(displayName(i.Author), 10), i.Comments, ago(i.Updated, s.c.now())))
	if len(i.Labels) > 0 {
		right = st.Label.Render(trunc(strings.Join(i.Labels, ","), 16)) + " " + right
	}
	return rowLine(st, stateMarker(st, i.State), shortID(i.ID), i.Title, right, w)
}

func (s *repoScreen) patchRow(p api.PatchSummary, w int) string {
	st := s.c.st
	right := st.Subtle.Render(fmt.Sprintf("%-10s r%-2d %3d💬 %4s", trunc(displayName(p.Author), 10), p.Revisions, p.Comments, ago(p.Updated, s.c.now())))
	return rowLine(st, stateMarker(st, p.State), shortID(p.ID), p.Title, right, w)
}

func (s *repoScreen) refRow(r api.Ref, w int) string { return refLine(s.c.st, r) }

func (s *repoScreen) activityRow(a api.Activity, w int) string {
	st := s.c.st
	line := fmt.Sprintf("%4s %-12s %-18s %s", ago(a.At, s.c.now()), trunc(displayName(a.Author), 12), trunc(a.Kind, 18), shortID(a.Object))
	if !a.Accepted {
		return line + st.Error.Render(" rejected: "+trunc(a.Reason, 40))
	}
	return line
}
