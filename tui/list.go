package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// listView is a scrolling, fuzzy-filterable list of T. It renders only the
// rows on screen, so a list of many thousand items costs the same per frame
// as a short one, and it keeps the cursor on the same item (by ID) when the
// items are replaced.
type listView[T any] struct {
	st     *Styles
	id     func(T) string
	text   func(T) string
	render func(item T, width int) string
	empty  string

	items   []T
	hay     []string // lower-cased filter text per item
	visible []int    // indexes into items that pass the filter
	cursor  int      // index into visible
	offset  int      // first visible row on screen

	filter    textinput.Model
	filtering bool

	width, height int
}

func newListView[T any](c *common, id, text func(T) string, render func(T, int) string, empty string) *listView[T] {
	st := c.st
	ti := newInput(c)
	ti.Prompt = "/"
	ti.Placeholder = "filter"
	ti.CharLimit = 200
	return &listView[T]{st: st, id: id, text: text, render: render, empty: empty, filter: ti}
}

// SetSize sets the list's area; the filter line, when shown, takes a row.
func (l *listView[T]) SetSize(w, h int) {
	l.width, l.height = max(w, 1), max(h, 1)
	l.filter.SetWidth(max(w-2, 1))
	l.scroll()
}

// SetItems replaces the items, keeping the cursor on the selected item's ID
// when it is still there.
func (l *listView[T]) SetItems(items []T) {
	sel, had := l.SelectedID()
	l.items = items
	l.hay = make([]string, len(items))
	for i, it := range items {
		l.hay[i] = strings.ToLower(l.text(it))
	}
	l.applyFilter()
	if had {
		l.Select(sel)
	}
}

// Select moves the cursor to the item with id, if visible.
func (l *listView[T]) Select(id string) bool {
	for vi, i := range l.visible {
		if l.id(l.items[i]) == id {
			l.cursor = vi
			l.scroll()
			return true
		}
	}
	return false
}

// Selected returns the item under the cursor.
func (l *listView[T]) Selected() (T, bool) {
	var zero T
	if l.cursor < 0 || l.cursor >= len(l.visible) {
		return zero, false
	}
	return l.items[l.visible[l.cursor]], true
}

// SelectedID returns the ID of the item under the cursor.
func (l *listView[T]) SelectedID() (string, bool) {
	it, ok := l.Selected()
	if !ok {
		return "", false
	}
	return l.id(it), true
}

// Len is the number of items that pass the filter.
func (l *listView[T]) Len() int { return len(l.visible) }

// Filtering reports whether the filter line has the keyboard.
func (l *listView[T]) Filtering() bool { return l.filtering }

func (l *listView[T]) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(l.filter.Value()))
	l.visible = l.visible[:0]
	for i := range l.items {
		if q == "" || fuzzyMatch(l.hay[i], q) {
			l.visible = append(l.visible, i)
		}
	}
	l.cursor = min(max(l.cursor, 0), max(len(l.visible)-1, 0))
	l.scroll()
}

// fuzzyMatch reports whether the runes of q appear in s in order.
func fuzzyMatch(s, q string) bool {
	for _, r := range q {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(string(r)):]
	}
	return true
}

func (l *listView[T]) rows() int {
	if l.filtering || l.filter.Value() != "" {
		return max(l.height-1, 1)
	}
	return l.height
}

func (l *listView[T]) scroll() {
	h := l.rows()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+h {
		l.offset = l.cursor - h + 1
	}
	l.offset = min(max(l.offset, 0), max(len(l.visible)-h, 0))
}

func (l *listView[T]) move(d int) {
	l.cursor = min(max(l.cursor+d, 0), max(len(l.visible)-1, 0))
	l.scroll()
}

// Update handles list keys and the mouse wheel; handled is false when the
// message is not the list's, so the screen can act on it.
func (l *listView[T]) Update(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	if l.filtering {
		if k, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(k, filterKeys.Accept):
				l.filtering = false
				l.filter.Blur()
				l.scroll()
				return nil, true
			case key.Matches(k, filterKeys.Clear):
				l.filtering = false
				l.filter.Blur()
				l.filter.SetValue("")
				l.applyFilter()
				return nil, true
			}
		}
		var c tea.Cmd
		l.filter, c = l.filter.Update(msg)
		l.applyFilter()
		return c, true
	}
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			l.move(-3)
		case tea.MouseWheelDown:
			l.move(3)
		}
		return nil, true
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, lists.Up):
			l.move(-1)
		case key.Matches(msg, lists.Down):
			l.move(1)
		case key.Matches(msg, lists.PageUp):
			l.move(-l.rows())
		case key.Matches(msg, lists.PageDown):
			l.move(l.rows())
		case key.Matches(msg, lists.Top):
			l.move(-len(l.visible))
		case key.Matches(msg, lists.Bottom):
			l.move(len(l.visible))
		case key.Matches(msg, lists.Filter):
			l.filtering = true
			return l.filter.Focus(), true
		case key.Matches(msg, filterKeys.Clear) && l.filter.Value() != "":
			l.filter.SetValue("")
			l.applyFilter()
		default:
			return nil, false
		}
		return nil, true
	}
	return nil, false
}

// View renders the visible rows, each cut to the list's width.
func (l *listView[T]) View() string {
	var b strings.Builder
	if l.filtering || l.filter.Value() != "" {
		b.WriteString(ansi.Truncate(l.filter.View(), l.width, "…"))
		b.WriteByte('\n')
	}
	if len(l.visible) == 0 {
		msg := l.empty
		if len(l.items) > 0 {
			msg = "nothing matches the filter"
		}
		b.WriteString(l.st.Subtle.Render(ansi.Truncate("  "+msg, l.width, "…")))
		return b.String()
	}
	end := min(l.offset+l.rows(), len(l.visible))
	for vi := l.offset; vi < end; vi++ {
		row := l.render(l.items[l.visible[vi]], max(l.width-2, 1))
		if vi == l.cursor {
			row = l.st.Selected.Render("> ") + row
		} else {
			row = "  " + row
		}
		b.WriteString(ansi.Truncate(row, l.width, "…"))
		if vi < end-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
