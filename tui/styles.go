package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// Styles holds every lipgloss style the TUI uses, so colours live in one
// place and NO_COLOR can swap them all for plain ones.
type Styles struct {
	Title       lipgloss.Style
	Subtle      lipgloss.Style
	Selected    lipgloss.Style
	Tab         lipgloss.Style
	ActiveTab   lipgloss.Style
	Open        lipgloss.Style
	Closed      lipgloss.Style
	Merged      lipgloss.Style
	Draft       lipgloss.Style
	Label       lipgloss.Style
	Author      lipgloss.Style
	Header      lipgloss.Style
	StatusBar   lipgloss.Style
	StatusError lipgloss.Style
	StatusInfo  lipgloss.Style
	Online      lipgloss.Style
	Offline     lipgloss.Style
	Error       lipgloss.Style
	Approve     lipgloss.Style
	Reject      lipgloss.Style
	// Diffs: added and deleted lines, hunk headers, line numbers, and a
	// pending check.
	DiffAdd  lipgloss.Style
	DiffDel  lipgloss.Style
	DiffHunk lipgloss.Style
	LineNo   lipgloss.Style
	Pending  lipgloss.Style
	Help     help.Styles
	// Plain is set for NO_COLOR: text fields drop their colours too.
	Plain bool
}

// DefaultStyles returns the coloured styles.
func DefaultStyles() Styles {
	var (
		accent = lipgloss.Color("#7D56F4")
		green  = lipgloss.Color("#3FB950")
		red    = lipgloss.Color("#F85149")
		purple = lipgloss.Color("#A371F7")
		grey   = lipgloss.Color("#8B949E")
		yellow = lipgloss.Color("#D29922")
		fg     = lipgloss.Color("#E6EDF3")
		barBg  = lipgloss.Color("#30363D")
	)
	return Styles{
		Title:       lipgloss.NewStyle().Bold(true).Foreground(fg),
		Subtle:      lipgloss.NewStyle().Foreground(grey),
		Selected:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Tab:         lipgloss.NewStyle().Foreground(grey).Padding(0, 1),
		ActiveTab:   lipgloss.NewStyle().Bold(true).Foreground(fg).Background(accent).Padding(0, 1),
		Open:        lipgloss.NewStyle().Foreground(green),
		Closed:      lipgloss.NewStyle().Foreground(red),
		Merged:      lipgloss.NewStyle().Foreground(purple),
		Draft:       lipgloss.NewStyle().Foreground(grey),
		Label:       lipgloss.NewStyle().Foreground(yellow),
		Author:      lipgloss.NewStyle().Bold(true).Foreground(accent),
		Header:      lipgloss.NewStyle().Bold(true).Foreground(accent),
		StatusBar:   lipgloss.NewStyle().Foreground(fg).Background(barBg),
		StatusError: lipgloss.NewStyle().Bold(true).Foreground(red).Background(barBg),
		StatusInfo:  lipgloss.NewStyle().Foreground(green).Background(barBg),
		Online:      lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#0D1117")).Background(green),
		Offline:     lipgloss.NewStyle().Bold(true).Foreground(fg).Background(red),
		Error:       lipgloss.NewStyle().Bold(true).Foreground(red),
		Approve:     lipgloss.NewStyle().Foreground(green),
		Reject:      lipgloss.NewStyle().Foreground(red),
		DiffAdd:     lipgloss.NewStyle().Foreground(green),
		DiffDel:     lipgloss.NewStyle().Foreground(red),
		DiffHunk:    lipgloss.NewStyle().Foreground(lipgloss.Color("#58A6FF")),
		LineNo:      lipgloss.NewStyle().Foreground(grey),
		Pending:     lipgloss.NewStyle().Foreground(yellow),
		Help:        help.DefaultDarkStyles(),
	}
}

// PlainStyles returns styles without colour, for NO_COLOR terminals: only
// bold and reverse video, which NO_COLOR allows.
func PlainStyles() Styles {
	p := lipgloss.NewStyle()
	b := p.Bold(true)
	return Styles{
		Title: b, Subtle: p, Selected: b, Tab: p.Padding(0, 1), ActiveTab: b.Reverse(true).Padding(0, 1),
		Open: p, Closed: p, Merged: p, Draft: p, Label: p, Author: b, Header: b,
		StatusBar: p, StatusError: b, StatusInfo: p, Online: b.Reverse(true), Offline: b.Reverse(true),
		Error: b, Approve: p, Reject: p, Plain: true,
		DiffAdd: p, DiffDel: p, DiffHunk: p, LineNo: p, Pending: p,
		Help: help.Styles{Ellipsis: p, ShortKey: b, ShortDesc: p, ShortSeparator: p, FullKey: b, FullDesc: p, FullSeparator: p},
	}
}

// state returns the style for an issue or patch state.
func (s Styles) state(state string) lipgloss.Style {
	switch state {
	case "open":
		return s.Open
	case "merged":
		return s.Merged
	case "draft":
		return s.Draft
	default:
		return s.Closed
	}
}

// newInput returns a text input styled for c: plain under NO_COLOR, and
// without blinking when timers are off.
func newInput(c *common) textinput.Model {
	ti := textinput.New()
	s := ti.Styles()
	if c.st.Plain {
		plain := textinput.StyleState{}
		s.Focused, s.Blurred = plain, plain
	}
	s.Cursor.Blink = c.blink
	ti.SetStyles(s)
	return ti
}

// newArea returns a textarea styled for c.
func newArea(c *common) textarea.Model {
	ta := textarea.New()
	s := ta.Styles()
	if c.st.Plain {
		plain := textarea.StyleState{}
		s.Focused, s.Blurred = plain, plain
	}
	s.Cursor.Blink = c.blink
	ta.SetStyles(s)
	return ta
}
