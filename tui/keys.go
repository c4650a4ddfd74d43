package tui

import "charm.land/bubbles/v2/key"

// keyMap is a screen's bindings as data: the short help line of the status
// area and the full `?` view are both generated from it.
type keyMap struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (k keyMap) ShortHelp() []key.Binding { return k.short }

// FullHelp implements help.KeyMap.
func (k keyMap) FullHelp() [][]key.Binding { return k.full }

func bind(keys []string, helpKey, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}

// globalKeys work on every screen that is not capturing text.
type globalKeys struct {
	Quit, Help, Back, Refresh, Peers, Inbox key.Binding
}

var globals = globalKeys{
	Quit:    bind([]string{"q", "ctrl+c"}, "q", "quit"),
	Help:    bind([]string{"?"}, "?", "toggle help"),
	Back:    bind([]string{"esc"}, "esc", "back"),
	Refresh: bind([]string{"r"}, "r", "refresh"),
	Peers:   bind([]string{"p"}, "p", "peers & sync"),
	Inbox:   bind([]string{"I"}, "I", "inbox"),
}

func (g globalKeys) list() []key.Binding {
	return []key.Binding{g.Back, g.Refresh, g.Peers, g.Inbox, g.Help, g.Quit}
}

// listKeys move a cursor through a list.
type listKeys struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Open, Filter, State key.Binding
}

var lists = listKeys{
	Up:       bind([]string{"k", "up"}, "↑/k", "up"),
	Down:     bind([]string{"j", "down"}, "↓/j", "down"),
	PageUp:   bind([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
	PageDown: bind([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
	Top:      bind([]string{"g", "home"}, "g", "top"),
	Bottom:   bind([]string{"G", "end"}, "G", "bottom"),
	Open:     bind([]string{"enter"}, "enter", "open"),
	Filter:   bind([]string{"/"}, "/", "filter"),
	State:    bind([]string{"s"}, "s", "state: open/closed/all"),
}

func (l listKeys) moves() []key.Binding {
	return []key.Binding{l.Up, l.Down, l.PageUp, l.PageDown, l.Top, l.Bottom}
}

// filterKeys apply while typing a `/` filter.
var filterKeys = struct{ Accept, Clear key.Binding }{
	Accept: bind([]string{"enter"}, "enter", "apply filter"),
	Clear:  bind([]string{"esc"}, "esc", "clear filter"),
}

// tabKeys switch the repo screen's tabs.
var tabKeys = struct{ Next, Prev key.Binding }{
	Next: bind([]string{"tab"}, "tab", "next tab"),
	Prev: bind([]string{"shift+tab"}, "shift+tab", "previous tab"),
}

// reposKeys are the repos screen's own bindings.
var reposKeys = struct{ New key.Binding }{
	New: bind([]string{"n"}, "n", "new repo"),
}

// repoKeys are the repo screen's own bindings.
var repoKeys = struct{ New, NewPatch key.Binding }{
	New:      bind([]string{"n"}, "n", "new issue"),
	NewPatch: bind([]string{"n"}, "n", "new patch (says how)"),
}

// issueKeys act on the issue shown.
type issueKeyMap struct {
	Comment, Reply, EditComment, Hide, Resolve key.Binding
}

var issueKeys = issueKeyMap{
	Comment:     bind([]string{"c"}, "c", "comment"),
	Reply:       bind([]string{"R"}, "R", "reply to selected"),
	EditComment: bind([]string{"E"}, "E", "edit own comment"),
	Hide:        bind([]string{"H"}, "H", "hide/unhide comment (maintainers)"),
	Resolve:     bind([]string{"v"}, "v", "resolve/unresolve comment"),
}

// patchKeys act on the patch shown.
var patchKeys = struct{ Approve, Reject, Comment, Inline, Merge, Draft, Diff key.Binding }{
	Diff:    bind([]string{"f"}, "f", "files & diff"),
	Approve: bind([]string{"A"}, "A", "approve"),
	Reject:  bind([]string{"X"}, "X", "request changes"),
	Comment: bind([]string{"c"}, "c", "comment"),
	Inline:  bind([]string{"i"}, "i", "comment on file:line"),
	Merge:   bind([]string{"m"}, "m", "mark merged (maintainers)"),
	Draft:   bind([]string{"d"}, "d", "draft/ready"),
}

// diffKeys act on the files & diff screen of a patch.
var diffKeys = struct{ Focus, Open, Comment, PrevRev, NextRev, FromDown, FromUp key.Binding }{
	Focus:    bind([]string{"tab", "shift+tab"}, "tab", "files ⇄ diff"),
	Open:     bind([]string{"enter"}, "enter", "show the file's diff"),
	Comment:  bind([]string{"c", "i"}, "c", "comment on the line"),
	PrevRev:  bind([]string{"["}, "[", "previous revision"),
	NextRev:  bind([]string{"]"}, "]", "next revision"),
	FromDown: bind([]string{"{"}, "{", "compare from the revision before (or the base)"),
	FromUp:   bind([]string{"}"}, "}", "compare from the revision after"),
}

// composeKeys apply while writing text.
var composeKeys = struct{ Submit, Cancel, Editor key.Binding }{
	Submit: bind([]string{"ctrl+s"}, "ctrl+s", "submit"),
	Cancel: bind([]string{"esc"}, "esc", "cancel"),
	Editor: bind([]string{"ctrl+e"}, "ctrl+e", "open $EDITOR"),
}

// formKeys apply on single-line forms (alias, new repo).
var formKeys = struct{ Submit, Next, Cancel key.Binding }{
	Submit: bind([]string{"enter"}, "enter", "submit"),
	Next:   bind([]string{"tab", "shift+tab"}, "tab", "next field"),
	Cancel: bind([]string{"esc"}, "esc", "cancel"),
}
