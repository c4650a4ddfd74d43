package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// peersKeys act on the mesh from the peers screen.
var peersKeys = struct{ Sync, Add, Follow, Unfollow key.Binding }{
	Sync:     bind([]string{"s"}, "s", "sync now"),
	Add:      bind([]string{"a"}, "a", "add peer"),
	Follow:   bind([]string{"f"}, "f", "follow repo by ID"),
	Unfollow: bind([]string{"u"}, "u", "unfollow repo"),
}

// syncTimeout bounds a sync round started here, below callTimeout.
const syncTimeout = 20 * time.Second

// meshAction is what the peers screen's input line is for.
type meshAction int

const (
	meshNone meshAction = iota
	meshAdd
	meshFollow
	meshUnfollow
)

// Messages answering the peers screen's actions.
type (
	syncedMsg struct {
		result
		res []api.SyncResult
	}
	followedMsg struct {
		result
		res    api.FollowResult
		follow bool
	}
)

// peersScreen shows the mesh: peers, per-repo sync state and the ops
// waiting to go in and out. It reads the status the root keeps fresh.
// From it the user syncs now, joins a peer by address, and follows or
// unfollows a repo.
type peersScreen struct {
	c  *common
	vp viewport.Model
	// input takes an address or a repo for action.
	input  textinput.Model
	action meshAction
	// syncing is set while a sync round runs; last is what the latest
	// one did.
	syncing bool
	last    []api.SyncResult
	w, h    int
}

func newPeersScreen(c *common) *peersScreen {
	vp := viewport.New()
	vp.MouseWheelEnabled = true
	in := newInput(c)
	in.CharLimit = 300
	return &peersScreen{c: c, vp: vp, input: in}
}

func (s *peersScreen) Init() tea.Cmd { return fetchStatus(s.c) }

func (s *peersScreen) Title() string { return "peers & sync" }

func (s *peersScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.vp.SetWidth(w)
	vh := h
	if s.action != meshNone {
		vh -= 2
	}
	s.vp.SetHeight(max(vh, 1))
	s.input.SetWidth(max(w-len(s.input.Prompt)-4, 10))
	s.render()
}

func (s *peersScreen) Capturing() bool { return s.action != meshNone }

func (s *peersScreen) KeyMap() keyMap {
	if s.action != meshNone {
		ks := []key.Binding{formKeys.Submit, formKeys.Cancel}
		return keyMap{short: ks, full: [][]key.Binding{ks}}
	}
	p := peersKeys
	return keyMap{
		short: []key.Binding{p.Sync, p.Add, p.Follow, p.Unfollow, globals.Back, globals.Help},
		full: [][]key.Binding{{lists.Up, lists.Down, lists.PageUp, lists.PageDown},
			{p.Sync, p.Add, p.Follow, p.Unfollow}, {globals.Back, globals.Refresh, globals.Help, globals.Quit}},
	}
}

// ask opens the input line for a.
func (s *peersScreen) ask(a meshAction, prompt, placeholder string) tea.Cmd {
	s.action = a
	s.input.Prompt = prompt
	s.input.Placeholder = placeholder
	s.input.SetValue("")
	s.SetSize(s.w, s.h)
	return s.input.Focus()
}

func (s *peersScreen) closeInput() {
	s.action = meshNone
	s.input.Blur()
	s.SetSize(s.w, s.h)
}

// sync runs a sync round, joining peers first when given.
func (s *peersScreen) sync(peers []string) tea.Cmd {
	if s.syncing {
		return noteCmd("a sync is running already")
	}
	s.syncing = true
	s.render()
	c := s.c
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		res, err := c.svc.Sync(ctx, api.SyncRequest{Peers: peers, Timeout: api.Duration(syncTimeout)})
		return syncedMsg{result: result{err}, res: res}
	})
}

func (s *peersScreen) follow(repo string, follow bool) tea.Cmd {
	c := s.c
	return call(c.ctx, func(ctx context.Context) tea.Msg {
		var res api.FollowResult
		var err error
		if follow {
			res, err = c.svc.Follow(ctx, repo, nil)
		} else {
			res, err = c.svc.Unfollow(ctx, repo)
		}
		return followedMsg{result: result{err}, res: res, follow: follow}
	})
}

func (s *peersScreen) submit() tea.Cmd {
	v := strings.TrimSpace(s.input.Value())
	if v == "" {
		return nil
	}
	a := s.action
	s.closeInput()
	switch a {
	case meshAdd:
		return s.sync(splitList(v))
	case meshFollow:
		return s.follow(v, true)
	}
	return s.follow(v, false)
}

func (s *peersScreen) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case statusMsg:
		s.render()
		return nil, false
	case syncedMsg:
		s.syncing = false
		if msg.err == nil {
			s.last = msg.res
		}
		s.render()
		if msg.err != nil {
			return nil, true
		}
		return tea.Batch(fetchStatus(s.c), fetchRepos(s.c), func() tea.Msg { return infoMsg{syncSummary(msg.res)} }), true
	case followedMsg:
		if msg.err != nil {
			return nil, true
		}
		name := shortID(msg.res.Repo)
		if msg.res.Name != "" {
			name = trunc(msg.res.Name, 30)
		}
		what := "no longer following " + name
		if msg.follow {
			what = fmt.Sprintf("following %s (%s here)", name, plural(msg.res.Ops, "op"))
		}
		return tea.Batch(fetchStatus(s.c), fetchRepos(s.c), func() tea.Msg { return infoMsg{what} }), true
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return cmd, true
	case tea.KeyPressMsg:
		if s.action != meshNone {
			switch {
			case key.Matches(msg, formKeys.Cancel):
				s.closeInput()
				return nil, true
			case key.Matches(msg, formKeys.Submit):
				return s.submit(), true
			}
			var cmd tea.Cmd
			s.input, cmd = s.input.Update(msg)
			return cmd, true
		}
		switch {
		case key.Matches(msg, peersKeys.Sync):
			return s.sync(nil), true
		case key.Matches(msg, peersKeys.Add):
			return s.ask(meshAdd, "peer: ", "host:port (joined, then synced)"), true
		case key.Matches(msg, peersKeys.Follow):
			return s.ask(meshFollow, "follow: ", "the repo's full ID (64 hex digits)"), true
		case key.Matches(msg, peersKeys.Unfollow):
			return s.ask(meshUnfollow, "unfollow: ", "a repo's name or ID"), true
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
	switch {
	case s.syncing:
		add("", st.Header.Render(" Sync")+st.Subtle.Render("  syncing with peers…"))
	case s.last != nil:
		add("", st.Header.Render(" Last sync"))
		if len(s.last) == 0 {
			add(st.Subtle.Render("  no followed repos"))
		}
		for _, r := range s.last {
			line := fmt.Sprintf("  %-20s sent %d, received %d, %s", trunc(r.Name, 20), r.Sent, r.Received, plural(r.Peers, "peer"))
			if !r.InSync {
				line += st.Error.Render("  not synced: " + trunc(r.Err, 60))
			}
			add(line)
		}
	}
	s.vp.SetContentLines(lines)
}

func (s *peersScreen) View() string {
	if s.action == meshNone {
		return s.vp.View()
	}
	return s.vp.View() + "\n\n  " + s.input.View()
}

// syncSummary is a sync round in a few words, for the status bar.
func syncSummary(res []api.SyncResult) string {
	var sent, recv, ok int
	for _, r := range res {
		sent, recv = sent+r.Sent, recv+r.Received
		if r.InSync {
			ok++
		}
	}
	return fmt.Sprintf("synced %d of %s: sent %d, received %d", ok, plural(len(res), "repo"), sent, recv)
}

func nonEmpty(ss ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
