package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// peersScreen shows the mesh: peers, per-repo sync state and the ops
// waiting to go in and out. It reads the status the root keeps fresh.
type peersScreen struct {
	c    *common
	vp   viewport.Model
	w, h int
}

func newPeersScreen(c *common) *peersScreen {
	vp := viewport.New()
	vp.MouseWheelEnabled = true
	return &peersScreen{c: c, vp: vp}
}

func (s *peersScreen) Init() tea.Cmd { return fetchStatus(s.c) }

func (s *peersScreen) Title() string { return "peers & sync" }

func (s *peersScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.vp.SetWidth(w)
	s.vp.SetHeight(max(h, 1))
	s.render()
}

func (s *peersScreen) Capturing() bool { return false }

func (s *peersScreen) KeyMap() keyMap {
	return keyMap{
		short: []key.Binding{globals.Refresh, globals.Back, globals.Help, globals.Quit},
		full:  [][]key.Binding{{lists.Up, lists.Down, lists.PageUp, lists.PageDown}, {globals.Back, globals.Refresh, globals.Help, globals.Quit}},
	}
}

func (s *peersScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case statusMsg:
		s.render()
		return nil, false
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return cmd, true
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, globals.Refresh):
			return fetchStatus(s.c), true
		case key.Matches(msg, lists.Up):
			s.vp.ScrollUp(1)
		case key.Matches(msg, lists.Down):
			s.vp.ScrollDown(1)
		case key.Matches(msg, lists.PageUp):
			s.vp.PageUp()
		case key.Matches(msg, lists.PageDown):
			s.vp.PageDown()
		default:
			return nil, false
		}
		return nil, true
	}
	return nil, false
}

func (s *peersScreen) render() {
	st, stat, w, now := s.c.st, s.c.status, max(s.w, 10), s.c.now()
	var lines []string
	add := func(l ...string) {
		for _, x := range l {
			lines = append(lines, ansi.Truncate(x, w, "…"))
		}
	}
	if !s.c.hasSt {
		s.vp.SetContent(st.Subtle.Render("  loading…"))
		return
	}
	mode := "embedded node"
	if stat.Daemon {
		mode = "daemon"
	}
	mesh := st.Offline.Render(" OFFLINE ") + st.Subtle.Render(" the mesh is not running: changes stay local until it is")
	if stat.Online && !s.c.opts.Offline {
		mesh = st.Online.Render(" ONLINE ") + st.Subtle.Render(" listening on "+clean(stat.Listen))
	}
	add(" "+st.Title.Render("Mesh")+"  "+mesh,
		st.Subtle.Render(" "+strings.Join(nonEmpty(mode, trunc(stat.Home, 40), "version "+trunc(stat.Version, 20)), " · ")),
		fmt.Sprintf(" ops pending: %d in, %d out", stat.PendingIn, stat.PendingOut), "",
		st.Header.Render(fmt.Sprintf(" Peers (%d)", len(stat.Peers))))
	if len(stat.Peers) == 0 {
		add(st.Subtle.Render("  no peers known"))
	}
	for _, p := range stat.Peers {
		conn := st.Subtle.Render("○ offline  ")
		if p.Connected {
			conn = st.Open.Render("● connected")
		}
		add(fmt.Sprintf("  %s %-12s %-10s %-22s last sync %s", conn, trunc(clean(p.Alias), 12), shortID(strings.TrimPrefix(p.ID, "did:key:")), trunc(p.Addr, 22), ago(p.LastSync, now)))
	}
	add("", st.Header.Render(fmt.Sprintf(" Repos (%d)", len(stat.Repos))))
	for _, r := range stat.Repos {
		sync := st.Closed.Render("✗ behind or ahead")
		switch {
		case !s.c.online():
			sync = st.Subtle.Render("– not syncing (offline)")
		case r.Peers == 0:
			sync = st.Subtle.Render("– no connected peer follows it")
		case r.InSync:
			sync = st.Open.Render("✓ in sync")
		}
		add(fmt.Sprintf("  %-20s %6d ops  root %s  %s", trunc(r.Name, 20), r.Ops, shortID(r.MerkleRoot), sync))
	}
	s.vp.SetContentLines(lines)
}

func (s *peersScreen) View() string { return s.vp.View() }

func nonEmpty(ss ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
