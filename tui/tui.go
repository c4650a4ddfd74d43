// Package tui is murmur's terminal user interface: repos, issues, patches,
// reviews and the mesh's state, with changes from peers arriving live. It
// talks to the node only through api.Service, so it works the same against
// a daemon or an embedded node.
//
// The root Model is a state machine (loading, error, first run, ready)
// holding a stack of screens; enter pushes one, esc pops it. Every screen
// has its keymap as data, from which the `?` help view is generated, and
// all I/O runs in tea.Cmd closures.
package tui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"murmur/api"
)

// Options configure the TUI.
type Options struct {
	// Offline shows the offline indicator whatever the node reports: the
	// mesh was not started.
	Offline bool
	// NoColor forces plain styles; the NO_COLOR environment variable does
	// the same.
	NoColor bool
	// StatusEvery is how often the mesh state is polled; 0 means 5s.
	StatusEvery time.Duration
	// Repo, when set, opens that repo (ID, prefix or name) at start.
	Repo string
}

// Minimum area the TUI lays itself out in; a smaller terminal is cropped.
const (
	minWidth  = 20
	minHeight = 6
	// noteFor is how long a notice stays in the status bar.
	noteFor = 6 * time.Second
)

type state int

const (
	stateLoading state = iota
	stateError
	stateFirstRun
	stateReady
)

// common is what every screen shares: the service, the styles and what
// the status bar shows.
type common struct {
	ctx      context.Context
	svc      api.Service
	st       *Styles
	opts     Options
	identity api.Identity
	status   api.Status
	hasSt    bool
	now      func() time.Time
	// blink lets text cursors blink; off when timers are.
	blink bool
	// md renders and caches markdown bodies.
	md *markdown
	// unread is the inbox's unread count (at most api.InboxUnreadCap).
	unread int
}

// screen is one component of the stack.
type screen interface {
	Init() tea.Cmd
	SetSize(w, h int)
	// Update handles a message; for keys, handled reports whether the
	// screen used it, so the root can apply global bindings.
	Update(msg tea.Msg) (cmd tea.Cmd, handled bool)
	View() string
	KeyMap() keyMap
	Title() string
	// Capturing reports whether a text field has the keyboard, in which
	// case global single-letter bindings are off.
	Capturing() bool
}

// Model is the root model.
type Model struct {
	c      *common
	state  state
	fatal  error
	alias  *aliasScreen
	stack  []screen
	help   help.Model
	helpOn bool

	note    string
	noteErr bool
	noteSeq int

	events <-chan api.Event
	// unread coalesces the fetches of the inbox's unread count.
	unread refetch
	width  int
	height int

	// live turns on the event subscription and the timers; tests drive
	// the model without them.
	live  bool
	after func(d time.Duration, msg tea.Msg) tea.Cmd
}

var _ tea.Model = (*Model)(nil)

// New returns the root model for svc.
func New(svc api.Service, opts Options) *Model {
	st := DefaultStyles()
	if opts.NoColor || os.Getenv("NO_COLOR") != "" {
		st = PlainStyles()
	}
	if opts.StatusEvery <= 0 {
		opts.StatusEvery = 5 * time.Second
	}
	h := help.New()
	h.Styles = st.Help
	m := &Model{
		c:      &common{ctx: context.Background(), svc: svc, st: &st, opts: opts, now: time.Now, blink: true, md: newMarkdown(st.Plain)},
		help:   h,
		width:  80,
		height: 24,
		live:   true,
	}
	m.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return tea.Tick(d, func(time.Time) tea.Msg { return msg })
	}
	return m
}

// Run runs the TUI on the terminal until the user quits or ctx ends.
func Run(ctx context.Context, svc api.Service, opts Options) error {
	m := New(svc, opts)
	m.c.ctx = ctx
	p := tea.NewProgram(m, tea.WithContext(ctx))
	_, err := p.Run()
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{fetchIdentity(m.c), fetchStatus(m.c)}
	if m.live {
		cmds = append(cmds, subscribe(m.c), m.after(m.c.opts.StatusEvery, statusTickMsg{}))
	}
	return tea.Batch(cmds...)
}

func (m *Model) top() screen {
	if len(m.stack) == 0 {
		return nil
	}
	return m.stack[len(m.stack)-1]
}

// contentSize is the area screens get: all but the help line and the
// status bar.
func (m *Model) contentSize() (int, int) {
	return max(m.width, minWidth), max(m.height, minHeight) - 2
}

func (m *Model) resize() {
	w, h := m.contentSize()
	m.help.SetWidth(w)
	for _, s := range m.stack {
		s.SetSize(w, h)
	}
	if m.alias != nil {
		m.alias.SetSize(w, h)
	}
}

func (m *Model) setNote(text string, isErr bool) tea.Cmd {
	m.noteSeq++
	m.note, m.noteErr = text, isErr
	if !m.live {
		return nil
	}
	return m.after(noteFor, clearNoteMsg{m.noteSeq})
}

func (m *Model) pushScreen(s screen) tea.Cmd {
	w, h := m.contentSize()
	s.SetSize(w, h)
	m.stack = append(m.stack, s)
	m.helpOn = false
	return s.Init()
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if r, ok := msg.(mdRenderedMsg); ok {
		m.c.md.Rendered(r)
	}
	cmd := m.update(msg)
	// Bodies too long to render on the spot were queued while screens
	// drew; they are rendered off the UI goroutine.
	if md := m.c.md.Flush(); md != nil {
		cmd = tea.Batch(cmd, md)
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	if f, ok := msg.(failer); ok && f.failed() != nil {
		if _, ok := msg.(identityMsg); !ok || m.state == stateReady {
			cmds = append(cmds, m.setNote(errText(f.failed()), true))
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		if t := m.top(); t != nil && m.state == stateReady && !m.helpOn {
			cmd, _ := t.Update(msg)
			return cmd
		}
		return nil
	case identityMsg:
		cmds = append(cmds, m.identity(msg))
		return tea.Batch(cmds...)
	case statusMsg:
		if msg.err == nil {
			m.c.status, m.c.hasSt = msg.st, true
			// The status names the identity: an alias set from another
			// process (`murmur id alias`) shows in the status bar.
			if p := msg.st.Identity; p.ID != "" && p.ID == m.c.identity.ID {
				m.c.identity.Person = p
			}
		}
	case aliasSkippedMsg:
		if m.state == stateFirstRun {
			return m.ready(false)
		}
		return nil
	case statusTickMsg:
		cmds = append(cmds, fetchStatus(m.c))
		if m.live {
			cmds = append(cmds, m.after(m.c.opts.StatusEvery, statusTickMsg{}))
		}
		return tea.Batch(cmds...)
	case noteMsg:
		return m.setNote(msg.text, true)
	case infoMsg:
		return m.setNote(msg.text, false)
	case clearNoteMsg:
		if msg.seq == m.noteSeq {
			m.note = ""
		}
		return nil
	case eventsMsg:
		if msg.err == nil {
			m.events = msg.ch
			cmds = append(cmds, waitEvent(msg.ch))
		}
		return tea.Batch(cmds...)
	case eventsEndMsg:
		m.events = nil
		if m.live && m.c.ctx.Err() == nil {
			cmds = append(cmds, m.after(time.Second, resubscribeMsg{}))
		}
		return tea.Batch(cmds...)
	case resubscribeMsg:
		return subscribe(m.c)
	case eventMsg:
		if m.events != nil {
			cmds = append(cmds, waitEvent(m.events))
		}
		if !msg.ev.Local {
			cmds = append(cmds, fetchStatus(m.c))
		}
		if !msg.ev.Local || msg.ev.Kind == api.EventInboxRead {
			cmds = append(cmds, m.unread.start(fetchUnread(m.c)))
		}
	case unreadMsg:
		cmds = append(cmds, m.unread.done(fetchUnread(m.c)))
		if msg.n >= 0 {
			m.c.unread = msg.n
		}
		return tea.Batch(cmds...)
	case repoMsg:
		if msg.err == nil && m.state == stateReady {
			cmds = append(cmds, m.pushScreen(newRepoScreen(m.c, msg.repo)))
		}
		return tea.Batch(cmds...)
	case pushMsg:
		cmds = append(cmds, m.pushScreen(msg.s))
		return tea.Batch(cmds...)
	case popMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
		return tea.Batch(cmds...)
	case replaceMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
		cmds = append(cmds, m.pushScreen(msg.s))
		return tea.Batch(cmds...)
	case writtenMsg:
		if msg.err == nil && msg.what != "" {
			cmds = append(cmds, m.setNote(msg.what, false))
		}
		if msg.err == nil {
			cmds = append(cmds, m.unread.start(fetchUnread(m.c)))
		}
	case editorMsg:
		if t := m.top(); t != nil {
			cmd, _ := t.Update(msg)
			cmds = append(cmds, cmd)
		}
		return tea.Batch(cmds...)
	}
	if m.alias != nil && m.state == stateFirstRun {
		cmd, _ := m.alias.Update(msg)
		cmds = append(cmds, cmd)
	}
	// Everything else is data: every screen on the stack sees it and
	// takes what concerns it, so a screen below the top stays current.
	for _, s := range m.stack {
		cmd, _ := s.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

type resubscribeMsg struct{}

func (m *Model) firstRun(exists bool) tea.Cmd {
	m.state = stateFirstRun
	m.alias = newAliasScreen(m.c, exists)
	w, h := m.contentSize()
	m.alias.SetSize(w, h)
	return m.alias.Init()
}

// ready leaves the first run (or loading) for the repos screen.
func (m *Model) ready(created bool) tea.Cmd {
	m.state = stateReady
	exists := m.alias != nil && m.alias.exists
	m.alias = nil
	cmds := []tea.Cmd{m.pushScreen(newReposScreen(m.c)), m.unread.start(fetchUnread(m.c))}
	if m.c.opts.Repo != "" {
		cmds = append(cmds, fetchRepo(m.c, m.c.opts.Repo))
	}
	switch {
	case created && exists:
		cmds = append(cmds, m.setNote("alias set: "+displayName(m.c.identity.Person), false))
	case created:
		cmds = append(cmds, m.setNote("identity created: "+displayName(m.c.identity.Person), false))
	}
	return tea.Batch(cmds...)
}

func (m *Model) identity(msg identityMsg) tea.Cmd {
	switch {
	case msg.err == nil:
		m.c.identity = msg.id
		if m.state == stateReady {
			return nil
		}
		// An identity without an alias (made by the node when it joined
		// the mesh) asks for one too, once a session.
		if msg.id.Alias == "" && m.state != stateFirstRun {
			return m.firstRun(true)
		}
		return m.ready(msg.created)
	case api.ErrorCode(msg.err) == api.CodeNoIdentity:
		return m.firstRun(false)
	case m.state == stateFirstRun:
		m.alias.busy = false
		return m.setNote(errText(msg.err), true)
	default:
		m.state = stateError
		m.fatal = msg.err
		return nil
	}
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "ctrl+c" {
		return tea.Quit
	}
	if !m.noteErr {
		m.note = ""
	}
	switch m.state {
	case stateLoading:
		if key.Matches(k, globals.Quit) {
			return tea.Quit
		}
		return nil
	case stateError:
		switch {
		case key.Matches(k, globals.Quit):
			return tea.Quit
		case key.Matches(k, globals.Refresh):
			m.state, m.fatal = stateLoading, nil
			return fetchIdentity(m.c)
		}
		return nil
	case stateFirstRun:
		cmd, _ := m.alias.Update(k)
		return cmd
	}
	t := m.top()
	if t == nil {
		return nil
	}
	if m.helpOn {
		if key.Matches(k, globals.Help, globals.Back) {
			m.helpOn = false
		} else if key.Matches(k, globals.Quit) {
			return tea.Quit
		}
		return nil
	}
	capturing := t.Capturing()
	if !capturing {
		switch {
		case key.Matches(k, globals.Quit):
			return tea.Quit
		case key.Matches(k, globals.Help):
			m.helpOn = true
			return nil
		}
	}
	m.noteErr = false
	cmd, handled := t.Update(k)
	if handled || capturing {
		return cmd
	}
	switch {
	case key.Matches(k, globals.Back):
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
	case key.Matches(k, globals.Peers):
		if _, ok := t.(*peersScreen); !ok {
			return m.pushScreen(newPeersScreen(m.c))
		}
	case key.Matches(k, globals.Inbox):
		if _, ok := t.(*inboxScreen); !ok {
			return m.pushScreen(newInboxScreen(m.c))
		}
	}
	return cmd
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "murmur"
	return v
}

// render draws the frame: content, help line and status bar, every line
// cut to the terminal's width and the whole to its height.
func (m *Model) render() string {
	w, h := m.contentSize()
	var body, helpLine string
	switch m.state {
	case stateLoading:
		body = m.c.st.Subtle.Render("  loading…")
		helpLine = m.help.ShortHelpView([]key.Binding{globals.Quit})
	case stateError:
		body = m.c.st.Error.Render("  cannot reach the node") + "\n\n  " + errText(m.fatal) +
			"\n\n" + m.c.st.Subtle.Render("  r retry · q quit")
		helpLine = m.help.ShortHelpView([]key.Binding{globals.Refresh, globals.Quit})
	case stateFirstRun:
		body = m.alias.View()
		helpLine = m.help.ShortHelpView(m.alias.KeyMap().short)
	default:
		t := m.top()
		km := t.KeyMap()
		if m.helpOn {
			hm := m.help
			hm.ShowAll = true
			body = m.c.st.Header.Render("Keys: "+t.Title()) + "\n\n" + hm.View(km)
			helpLine = m.help.ShortHelpView([]key.Binding{globals.Help, globals.Quit})
		} else {
			body = t.View()
			helpLine = m.help.ShortHelpView(km.short)
		}
	}
	lines := strings.Split(body, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	lines = append(lines, helpLine, m.statusBar(w))
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) statusBar(w int) string {
	st := m.c.st
	online := m.c.online()
	ind := st.Offline.Render(" OFFLINE ")
	if online {
		peers := 0
		for _, p := range m.c.status.Peers {
			if p.Connected {
				peers++
			}
		}
		ind = st.Online.Render(fmt.Sprintf(" ONLINE %d peers ", peers))
	} else if !m.c.hasSt && !m.c.opts.Offline {
		ind = st.StatusBar.Render(" … ")
	}
	who := displayName(m.c.identity.Person)
	if who == "" {
		who = "no identity"
	}
	left := " " + who
	if m.state == stateReady {
		var crumbs []string
		for _, s := range m.stack {
			crumbs = append(crumbs, s.Title())
		}
		left += " │ " + strings.Join(crumbs, " › ")
	}
	right := ind
	if m.c.unread > 0 {
		right = st.StatusInfo.Render(" ✉ "+unreadText(m.c.unread)+" ") + " " + right
	}
	if m.note != "" {
		ns := st.StatusInfo
		if m.noteErr {
			ns = st.StatusError
		}
		// The note outranks the breadcrumb: it keeps all but a few cells
		// of the line.
		room := w - lipgloss.Width(right) - 1 - min(lipgloss.Width(left), 12)
		right = ns.Render(ansi.Truncate(" "+m.note+" ", max(room, 1), "…")) + " " + right
	}
	left = ansi.Truncate(left, max(w-lipgloss.Width(right)-1, 0), "…")
	gap := max(w-lipgloss.Width(left)-lipgloss.Width(right), 0)
	return st.StatusBar.Render(left+strings.Repeat(" ", gap)) + right
}

// errText is an error as the status bar shows it.
func errText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if c := api.ErrorCode(err); c != "" && !strings.Contains(s, c) {
		s = c + ": " + s
	}
	return strings.Join(strings.Fields(s), " ")
}

// displayName is a person's alias, or their short key.
func displayName(p api.Person) string {
	switch {
	case p.Alias != "":
		return clean(p.Alias)
	case p.Short != "":
		return clean(p.Short)
	}
	return shortID(p.ID)
}

// clean makes text from peers safe to print: escape sequences and control
// characters other than newline are removed, tabs become spaces.
func clean(s string) string {
	s = ansi.Strip(s)
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case r == '\n':
			b.WriteRune(r)
		case isControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0))
}

// shortID shortens an object ID for display.
func shortID(id string) string {
	id = clean(id)
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// ago is a compact relative time.
// agoPhrase is ago as a phrase: "just now", "5m ago".
func agoPhrase(t, now time.Time) string {
	switch a := ago(t, now); a {
	case "now":
		return "just now"
	case "never":
		return a
	default:
		return a + " ago"
	}
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%dy", int(d/(365*24*time.Hour)))
}

// plural formats a count with its noun: "1 comment", "3 comments",
// "2 open patches".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// online reports whether the mesh runs, as far as the TUI knows.
func (c *common) online() bool { return c.hasSt && c.status.Online && !c.opts.Offline }
